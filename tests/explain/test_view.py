"""The explanation as a learner reads it: goldens in both languages at 80 columns, and never wider than the terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kproxy_tutor import i18n
from kproxy_tutor.explain import compare_with, explain_text
from kproxy_tutor.ui.explain_view import explanation_lines
from tests.explain.helpers import (
    GOLDEN,
    SCENARIO_PATHS,
    real_or_rendered_iptables,
    real_or_rendered_nft,
    scenario,
)


@pytest.fixture(params=["ru", "en"])
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    before = i18n.current_language()
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(before)


def _text(lines: list[tuple[str, str]]) -> str:
    return "\n".join(text for text, _style in lines) + "\n"


def _check_golden(path: Path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path} (run pytest --update-goldens and review it)"
    assert actual == path.read_text(encoding="utf-8")


CASES = {
    "db-service.iptables": lambda: real_or_rendered_iptables("db-service"),
    "etp-local.nftables": lambda: real_or_rendered_nft("etp-local"),
    "no-endpoints.iptables": lambda: real_or_rendered_iptables("no-endpoints"),
    "db-service-drift.iptables": lambda: real_or_rendered_iptables("db-service").replace(
        "--probability 0.33333333349", "--probability 0.25000000000"
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_explanations_at_80_columns(case: str, lang: str, update_goldens: bool) -> None:
    explanation = explain_text(CASES[case](), "node")
    differences = None
    if case.startswith("db-service-drift"):
        cluster, node = scenario("db-service")
        differences = compare_with(explanation, cluster, node)
    text = _text(explanation_lines(explanation, 80, differences))
    _check_golden(GOLDEN / f"{case}.{lang}.txt", text, update_goldens)


@pytest.mark.parametrize("width", [40, 80, 120])
@pytest.mark.parametrize("mode", ["iptables", "nftables"])
@pytest.mark.parametrize("name", sorted(SCENARIO_PATHS))
def test_never_wider_than_the_terminal_and_identifiers_whole(
    name: str, mode: str, width: int, lang: str
) -> None:
    dump = real_or_rendered_iptables(name) if mode == "iptables" else real_or_rendered_nft(name)
    explanation = explain_text(dump, "node")
    lines = [text for text, _style in explanation_lines(explanation, width)]
    assert max(len(line) for line in lines) <= width
    words = {word for line in lines for word in line.split()}
    for view in explanation.service_ports:
        for chain in view.chains:
            if len(chain) <= width - 12:  # an identifier longer than the line is the only one ever cut
                assert any(chain in word for word in words), chain
        for endpoint in view.endpoints:
            assert any(endpoint.address in w for w in words)


def test_stale_chains_are_explained_as_synced_but_not_yet_cleaned_up() -> None:
    from kproxy_tutor.explain.samples import sample_text

    before = i18n.current_language()
    i18n.set_language("en")
    try:
        text = " ".join(
            t for t, _s in explanation_lines(explain_text(sample_text("stale-node"), "node"), 200)
        )
    finally:
        i18n.set_language(before)
    # kube-proxy removed the Service's entry rules (it synced); only the chains' deletion lags behind.
    assert "kube-proxy has synced since, but has not deleted these chains yet" in text
    assert "at most once per syncPeriod" in text
    assert "has not synced" not in text
