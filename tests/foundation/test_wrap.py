"""The shared line-fitting rules: nothing wider than the width, no word split unless it alone is wider."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from kproxy_tutor.ui.wrap import ASCII_CONTINUATION, CONTINUATION, fits, keeps_tokens, wrap_rule, wrap_words

RULE = (
    '-A KUBE-SVC-PKJNZ2BPYAP7WCVG -m comment --comment "default/db-service:postgres -> 10.244.0.3:5432"'
    " -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-K2CEEONT2Q3EUX5L"
)

words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдежзийклмнопрст-./:0123456789", min_size=1, max_size=30),
    min_size=1,
    max_size=30,
)


def _unmark(line: str) -> str:
    for mark in (CONTINUATION, ASCII_CONTINUATION):
        if line.lstrip().startswith(mark):
            return line.lstrip()[len(mark) :]
    return line.strip()


@given(words, st.integers(min_value=8, max_value=120), st.integers(min_value=0, max_value=4))
def test_prose_fits_and_keeps_every_word_whole(tokens: list[str], width: int, indent: int) -> None:
    lines = [t.plain for t in wrap_words(" ".join(tokens), width, indent=indent)]
    assert fits(lines, width)
    room = width - indent
    if all(len(t) <= room for t in tokens):
        assert " ".join(line.strip() for line in lines).split() == tokens


@given(words, st.integers(min_value=12, max_value=120))
def test_rule_lines_fit_and_keep_their_tokens(tokens: list[str], width: int) -> None:
    line = "-A " + " ".join(tokens)
    lines = [t.plain for t in wrap_rule(line, width, prefix="+ ")]
    assert fits(lines, width)
    assert all(x.startswith("+ ") for x in lines)
    if all(len(t) <= width - 6 for t in tokens):
        assert " ".join(_unmark(x[2:]) for x in lines).split() == line.split()


def test_rule_breaks_before_arguments_and_marks_continuations() -> None:
    lines = [t.plain for t in wrap_rule(RULE, 100)]
    assert lines == [
        '-A KUBE-SVC-PKJNZ2BPYAP7WCVG -m comment --comment "default/db-service:postgres -> 10.244.0.3:5432"',
        "  ↪ -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-K2CEEONT2Q3EUX5L",
    ]


def test_quoted_comment_is_not_an_argument_boundary() -> None:
    lines = [t.plain for t in wrap_rule(RULE, 80)]
    assert not any(_unmark(x).startswith("->") for x in lines[1:])
    assert fits(lines, 80)


def test_a_line_that_fits_is_left_alone() -> None:
    assert [t.plain for t in wrap_rule("-A KUBE-SERVICES -j RETURN", 80)] == ["-A KUBE-SERVICES -j RETURN"]
    assert [t.plain for t in wrap_words("одна строка", 80, indent=2)] == ["  одна строка"]


def test_a_tab_indented_nft_line_is_measured_as_the_terminal_shows_it() -> None:
    line = "\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports"
    pieces = wrap_rule(line, 80)
    assert len(pieces) == 2 and fits(pieces, 80)
    assert pieces[1].plain.split()[-1] == "@service-nodeports"


def test_a_word_wider_than_a_line_is_cut_inside_itself_not_at_an_earlier_hyphen() -> None:
    line = "(bool: the node-local list of externalTrafficPolicy/internalTrafficPolicy Local)"
    for pieces in (wrap_words(line, 36), wrap_rule(line, 40)):
        words = [word for piece in pieces for word in _unmark(piece.plain).split()]
        assert "node-local" in words and fits(pieces, 40), [p.plain for p in pieces]


def test_a_match_module_keeps_its_first_option_and_a_negation_its_argument() -> None:
    rule = (
        '-A KUBE-SVC-PKJNZ2BPYAP7WCVG -m comment --comment "default/db-service cluster IP" -m tcp -p tcp'
        " -d 10.96.0.12 --dport 5432 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"
    )
    assert [t.plain for t in wrap_rule(rule, 78)] == [
        "-A KUBE-SVC-PKJNZ2BPYAP7WCVG",
        '  ↪ -m comment --comment "default/db-service cluster IP" -m tcp -p tcp',
        "  ↪ -d 10.96.0.12 --dport 5432 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
    ]
    lines = [t.plain for t in wrap_rule(rule, 40)]
    assert fits(lines, 40) and not any(line.rstrip().endswith("!") for line in lines)


MASK = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"  # 39 characters: fits 40 columns, not after "  ↪ "
AFFINITY = (
    "-A KUBE-SEP-XYZ -m recent --name KUBE-SEP-XYZ --set --mask " + MASK + " --rsource -m tcp -p tcp"
    " -j DNAT --to-destination [fd00::1]:80"
)


def test_a_token_too_wide_for_the_indent_gets_its_own_line_with_less_indent() -> None:
    lines = [t.plain for t in wrap_rule(AFFINITY, 40)]
    assert MASK in lines  # whole, on a line of its own, without the mark it has no room for
    assert fits(lines, 40) and keeps_tokens(AFFINITY, wrap_rule(AFFINITY, 40))
    after = lines[lines.index(MASK) + 1]
    assert after.startswith("  ↪ --rsource")  # the lines after it are marked as usual
    # Too wide for the mark's whole indent: the mark loses indent first, keeping the arrow.
    shorter = [t.plain for t in wrap_rule(AFFINITY.replace(MASK, MASK[:37]), 40)]
    assert " ↪ " + MASK[:37] in shorter
    prose = [t.plain for t in wrap_words("the mask " + MASK + " is long", 40, indent=2, hanging=4)]
    assert " " + MASK in prose and fits(prose, 40)


def test_only_a_token_wider_than_the_whole_width_is_cut() -> None:
    lines = [t.plain for t in wrap_rule(AFFINITY, 40, prefix="+ ")]  # 38 columns after the gutter
    assert fits(lines, 40) and not any(MASK in x for x in lines)
    assert MASK in "".join(_unmark(x[2:]).replace(" ", "") for x in lines)  # cut, nothing lost


def test_a_cut_name_is_not_cut_inside_a_run_of_one_separator() -> None:
    # nftables endpoint chains join the service part and the address with "__".
    name = "endpoint-ECVELFNZ-default/lb/tcp/__fd00.10.244..2/8080"
    lines = [t.plain for t in wrap_words(name, 40, indent=6, hanging=6)]
    assert [x.strip() for x in lines] == ["endpoint-ECVELFNZ-default/lb/tcp/", "__fd00.10.244..2/8080"], lines


def test_a_panel_footer_cuts_a_long_url_after_a_slash_at_the_panel_width() -> None:
    """A lesson's sources box at 40 columns: the URL breaks where it still reads as a path."""
    from rich import box
    from rich.console import Console
    from rich.panel import Panel

    from kproxy_tutor.ui.wrap import Wrapped

    url = "https://github.com/kubernetes/kubernetes/blob/v1.35.0/pkg/proxy/iptables/proxier.go"
    console = Console(width=40, record=True, color_system=None, file=io.StringIO())
    console.print(Panel(Wrapped("Source: proxier.go:\n" + url), box=box.ASCII, padding=(0, 1)))
    inside = [line[2:-2].rstrip() for line in console.export_text().splitlines()[1:-1]]
    assert inside == [
        "Source: proxier.go:",
        "https://github.com/kubernetes/",
        "kubernetes/blob/v1.35.0/pkg/proxy/",
        "iptables/proxier.go",
    ]


rule_words = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "-m",
                "comment",
                "--comment",
                '"default/db-service',
                'IP"',
                "-j",
                "KUBE-SEP-K2CEEONT2Q3EUX5L",
                "!",
                "-s",
                "10.244.0.0/16",
                "--dport",
                "5432",
                "-5",
                '"a -b"',
                "--probability",
                "0.33333333349",
                "-m",
                "statistic",
                "--mode",
                "random",
                '"',
                "x",
            ]
        ),
        st.text(alphabet='abcdefghijklmnop-_./:0123456789!"\tё', min_size=1, max_size=40),
    ),
    min_size=1,
    max_size=25,
)


@given(rule_words, st.integers(min_value=8, max_value=120), st.sampled_from([" ", "  "]))
def test_the_fast_rule_wrapper_gives_the_lines_wrap_rule_gives(
    tokens: list[str], width: int, gap: str
) -> None:
    from kproxy_tutor.ui.wrap import wrap_rule_plain

    text = gap.join(tokens)
    assert wrap_rule_plain(text, width) == [piece.plain for piece in wrap_rule(text, width)]
