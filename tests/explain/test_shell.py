"""The sandbox shell's ``explain``: the current node in the current mode, read back through the same reader."""

from __future__ import annotations

from kproxy_tutor.explain import explain_text
from kproxy_tutor.shell.explain_command import node_dump
from kproxy_tutor.shell.parser import parse_line
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session


def _run(session: Session, line: str):  # type: ignore[no-untyped-def]
    return session.execute(parse_line(line))


def test_each_mode_is_explained_without_problems() -> None:
    session = Session(find_scenario("db-service"))
    for mode, fmt in (
        ("iptables", "iptables-save"),
        ("nftables", "nft list"),
    ):
        if session.mode != mode:
            _run(session, f"mode {mode}")
        (report,) = _run(session, "explain --service db-service")
        explanation = report.explanation
        assert explanation.mode == mode and explanation.format == fmt
        assert [v.name for v in explanation.service_ports] == ["default/db-service"]
        assert [str(e.share) for e in explanation.service_ports[0].endpoints] == ["1/3"] * 3
        assert explanation.findings == []


def test_switch_from_iptables_to_ipvs_shows_the_leftovers() -> None:
    session = Session(find_scenario("db-service"))
    _run(session, "mode ipvs")
    explanation = explain_text(node_dump(session), "node")
    assert explanation.mode == "ipvs"
    assert [f.code for f in explanation.findings] == ["leftovers"]
    assert explanation.findings[0].param("mode") == "iptables"
    assert "hook-leftover" in {n.code for n in explanation.fixed}
    assert explanation.foreign_hook_rules == {}


def test_shell_prints_the_explanation() -> None:
    import io

    from rich.console import Console

    from kproxy_tutor import i18n
    from kproxy_tutor.ui.shell_repl import run_script
    from kproxy_tutor.ui.shell_view import ShellView

    before = i18n.current_language()
    i18n.set_language("en")
    try:
        buffer = io.StringIO()
        console = Console(file=buffer, width=80, color_system=None, no_color=True, force_terminal=False)
        code = run_script(
            Session(find_scenario("db-service")),
            ["explain --service db-service"],
            ShellView(console, console),
            False,
        )
    finally:
        i18n.set_language(before)
    out = buffer.getvalue()
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Service port default/db-service (TCP)" in out
    assert "kproxy-tutor explain --rules DUMP -f" not in out  # no "next" hint inside the sandbox
