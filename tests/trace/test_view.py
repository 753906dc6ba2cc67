"""The trace view: rule text is exactly iptables-save's, and traces render in both languages at any width."""

from __future__ import annotations

import io

import pytest

from kproxy_tutor.i18n import set_language
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.ui.console import detect
from kproxy_tutor.ui.trace_view import print_trace, rule_segments, rule_text

from .conftest import SCENARIOS as SCENARIO_DIR
from .conftest import make_lab

SCENARIOS = [
    "clusterip-multi",
    "nodeport",
    "etp-local",
    "loadbalancer-source-ranges",
    "no-endpoints",
    "session-affinity",
    "itp-local",
    "masquerade-all",
    "upstream-overall",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_segments_join_into_the_save_line(scenario: str) -> None:
    lab = make_lab(scenario)
    node = (SCENARIO_DIR / f"{scenario}.yaml").read_text().splitlines()[0].split(":", 1)[1].strip()
    rules = lab.session.tracer.network.node(node).rules()
    count = 0
    for table in rules.tables.values():
        for chain in table.chains.values():
            for rule in chain.rules:
                assert " ".join(piece for piece, _, _ in rule_segments(rule)) == save_line(rule)
                assert rule_text(rule).plain == save_line(rule)
                count += 1
    assert count > 10


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("width", [40, 80, 120])
def test_trace_renders_without_colour(lang: str, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    detect(plain=True)
    set_language(lang)
    try:
        lab = make_lab("nodeport", seed=1)
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, no_color=True, color_system=None)
        for source, target in (("203.0.113.9", "worker-1:30080"), ("client", "10.101.7.25:81")):
            print_trace(console, lab.session.curl(source, target), animate=False)
        text = buffer.getvalue()
    finally:
        set_language("ru")
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    assert ("Итог" if lang == "ru" else "Result") in text
