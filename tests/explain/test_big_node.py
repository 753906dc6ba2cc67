"""A big node's dump: the fast line wrapping is textwrap's, and the long work reports its progress."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.explain import explain_text
from kproxy_tutor.ui.explain_view import explanation_lines, wrap

WORDS = st.lists(st.sampled_from(["a", "b", "-", "ё", "\xa0", " ", "  ", "x" * 14, "\t"]), max_size=12).map(
    "".join
)


@settings(max_examples=150, deadline=None)
@given(text=WORDS, width=st.integers(10, 30), hang=st.integers(0, 4))
def test_wrap_gives_textwraps_lines(text: str, width: int, hang: int) -> None:
    expected = textwrap.wrap(
        text, width=width, subsequent_indent=" " * hang, break_long_words=True, break_on_hyphens=False
    )
    assert wrap(text, width, hang) == expected


def test_long_words_and_single_spaces_wrap_like_textwrap() -> None:
    text = "-A KUBE-SVC-X2WZ2G7EWZYHSNYF -m statistic --mode random --probability 0.20000000019 -j KUBE-SEP-FNAKCREFNSZ5W3PG"
    for width in range(10, 60):
        for hang in (0, 2):
            expected = textwrap.wrap(
                text, width=width, subsequent_indent=" " * hang, break_long_words=True, break_on_hyphens=False
            )
            assert wrap(text, width, hang) == expected, (width, hang)


def test_the_reading_explaining_and_rendering_report_progress() -> None:
    from kproxy_tutor.sandbox.modes import compile_mode
    from kproxy_tutor.sandbox.scaling import build_cluster

    dump = compile_mode(build_cluster(520, 1), None, "iptables").texts["iptables-save"]
    heard: list[tuple[str, int, int]] = []
    explanation = explain_text(dump, "node", lambda *call: heard.append(call))
    explanation_lines(explanation, 80, progress=lambda *call: heard.append(call))
    phases = [phase for phase, _done, _total in heard]
    assert heard[0] == ("read-rules", 0, len(dump)) and ("read-rules", len(dump), len(dump)) in heard
    assert "explain" in phases  # every 512 chains: 520 ports have 1,040 chains and more
    assert ("render", 512, 520) in heard
    assert all(done <= total for _phase, done, total in heard)


def test_reading_a_big_dump_reports_progress_while_it_reads() -> None:
    """The bar moves while the dump is read (a 10,000-Service node takes seconds), in both formats."""
    from kproxy_tutor.sandbox.modes import compile_mode
    from kproxy_tutor.sandbox.scaling import build_cluster

    cluster = build_cluster(1300, 1)
    for mode, view in (("iptables", "iptables-save"), ("nftables", "nft list")):
        dump = compile_mode(cluster, None, mode).texts[view]
        heard: list[tuple[int, int]] = []

        def hear(phase: str, done: int, total: int, heard: list[tuple[int, int]] = heard) -> None:
            if phase == "read-rules":
                heard.append((done, total))

        explain_text(dump, "node", hear)
        between = [done for done, total in heard if 0 < done < total]
        assert between, (mode, heard)  # not only "nothing read" and "all read"
        assert all(total == len(dump) for _done, total in heard)
        assert [done for done, _total in heard] == sorted(done for done, _total in heard)


def test_a_big_explanation_is_written_while_it_is_put_in_words() -> None:
    """The first lines reach the reader (| less, | head) long before the last Service is worded,
    and the pieces add up to exactly the whole text."""
    import io

    from rich.console import Console

    from kproxy_tutor.sandbox.modes import compile_mode
    from kproxy_tutor.sandbox.scaling import build_cluster
    from kproxy_tutor.ui.explain_view import print_explanation

    dump = compile_mode(build_cluster(1300, 1), None, "iptables").texts["iptables-save"]
    explanation = explain_text(dump, "node")
    events: list[str] = []

    class Recording(io.StringIO):
        def write(self, text: str) -> int:
            events.append("write")
            return super().write(text)

    class Display:
        def __call__(self, phase: str, done: int, total: int) -> None:
            events.append(phase)

        def close(self) -> None:
            events.append("close")

    out = Recording()
    console = Console(file=out, width=80, color_system=None, force_terminal=False)
    print_explanation(console, explanation, None, plain=False, progress=Display())  # type: ignore[arg-type]
    assert events.index("write") < len(events) - 1 - events[::-1].index("render")  # written before the last
    assert events[-1] == "close"  # a file: the display stays to the end
    assert out.getvalue() == "\n".join(text for text, _style in explanation_lines(explanation, 80)) + "\n"
