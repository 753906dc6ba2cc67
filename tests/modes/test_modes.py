"""The mode switch, and packet-flow agreement between modes on the same scenarios."""

from __future__ import annotations

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.modes import MODES, compile_mode
from kproxy_tutor.sandbox.packet import Packet, SourceKind
from tests.modes.flows import DIFFERENCES, FLOWS
from tests.modes.helpers import DATA, TESTS, load_scenario


@pytest.mark.parametrize("mode", MODES)
def test_compile_mode_renders_each_mode(mode: str) -> None:
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    compiled = compile_mode(cluster, node, mode)
    assert compiled.node == node
    assert "10.96.0.12" in compiled.text


def test_unknown_mode_is_a_learner_error() -> None:
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    with pytest.raises(SandboxInputError):
        compile_mode(cluster, node, "userspace")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fixture", "name", "proto", "src", "dst", "port", "output", "masq"),
    FLOWS,
    ids=[f"{f[0]}: {f[1]}" for f in FLOWS],
)
def test_modes_agree_on_upstream_flows(
    mode: str, fixture: str, name: str, proto: str, src: str, dst: str, port: int, output: str, masq: bool
) -> None:
    """Every mode gives upstream's nftables answer, except where DIFFERENCES says the mode's kube-proxy differs."""
    from tests.modes.test_nftables_evaluate import source_kind, summarize

    cluster, node = load_scenario(DATA / f"upstream-{fixture}.yaml")
    evaluator = compile_mode(cluster, node, mode).evaluator
    assert evaluator is not None
    kind = source_kind(frozenset(("192.168.0.2", "192.168.1.2", "192.168.99.11", "127.0.0.1")), src)
    outcomes = evaluator.possible_outcomes(Packet(proto, src, 40000, dst, port), kind)  # type: ignore[attr-defined]
    differs = DIFFERENCES.get(mode, {})
    expected = (differs[(fixture, name)], False) if (fixture, name) in differs else (output, masq)
    assert summarize(outcomes) == expected


def test_differences_name_real_rows() -> None:
    """A typo in DIFFERENCES would silently exempt nothing; every key must be a row of FLOWS."""
    rows = {(f[0], f[1]) for f in FLOWS}
    for mode, differs in DIFFERENCES.items():
        assert mode in MODES
        assert set(differs) <= rows


def test_iptables_possible_outcomes_cover_every_endpoint() -> None:
    """Four endpoints are three statistic draws: every endpoint is reachable, each by one draw sequence."""
    cluster, node = load_scenario(TESTS / "scenarios" / "clusterip-multi.yaml")
    evaluator = compile_mode(cluster, node, "iptables").evaluator
    service = next(s for s in cluster.services.values() if s.cluster_ip and s.ports)
    port = service.ports[0]
    outcomes = evaluator.possible_outcomes(  # type: ignore[union-attr]
        Packet(port.protocol.lower(), "10.244.1.50", 40000, service.cluster_ip, port.port), SourceKind.POD
    )
    endpoints = [o.endpoint for o in outcomes]
    slices = [
        s
        for s in cluster.endpoint_slices.values()
        if s.service_name == service.name and s.namespace == service.namespace
    ]
    ready = {e.addresses[0] for s in slices for e in s.endpoints if e.conditions.ready is not False}
    assert len(endpoints) == len(set(endpoints)) == len(ready) >= 2
    assert {e.rsplit(":", 1)[0] for e in endpoints} == ready


def test_nftables_flows_over_sandbox_scenarios() -> None:
    """Scenario-level smoke check: a Pod on another node reaches db-service's three endpoints."""
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    evaluator = compile_mode(cluster, node, "nftables").evaluator
    outcomes = evaluator.possible_outcomes(
        Packet("tcp", "10.244.1.50", 40000, "10.96.0.12", 5432), SourceKind.POD
    )  # type: ignore[union-attr]
    assert sorted(o.endpoint for o in outcomes) == ["10.244.0.3:5432", "10.244.0.4:5432", "10.244.0.5:5432"]
    assert not any(o.masquerade for o in outcomes)
