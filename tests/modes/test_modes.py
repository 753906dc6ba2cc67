"""The mode switch, and packet-flow agreement between modes on the same scenarios."""

from __future__ import annotations

import importlib.util

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.modes import MODES, compile_mode
from kproxy_tutor.sandbox.packet import Packet, SourceKind
from tests.modes.flows import FLOWS
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


def _iptables_tracer_ready() -> bool:
    """The agreement check needs ``possible_outcomes`` on the iptables side (an adapter in netfilter.py)."""
    if importlib.util.find_spec("kproxy_tutor.sandbox.netfilter") is None:
        return False
    cluster, node = load_scenario(DATA / "upstream-nodeports.yaml")
    return compile_mode(cluster, node, "iptables").evaluator is not None


@pytest.mark.skipif(not _iptables_tracer_ready(),
                    reason="the iptables tracer has no evaluator_for()/possible_outcomes adapter yet")
@pytest.mark.parametrize(("fixture", "name", "proto", "src", "dst", "port", "output", "masq"), FLOWS,
                         ids=[f"{f[0]}: {f[1]}" for f in FLOWS])
def test_iptables_and_nftables_agree(fixture: str, name: str, proto: str, src: str, dst: str, port: int,
                                     output: str, masq: bool) -> None:
    from tests.modes.test_nftables_evaluate import source_kind, summarize

    results = {}
    for mode in ("iptables", "nftables"):
        cluster, node = load_scenario(DATA / f"upstream-{fixture}.yaml")
        evaluator = compile_mode(cluster, node, mode).evaluator
        assert evaluator is not None
        kind = source_kind(frozenset(("192.168.0.2", "192.168.1.2", "192.168.99.11", "127.0.0.1")), src)
        results[mode] = summarize(evaluator.possible_outcomes(Packet(proto, src, 40000, dst, port), kind))  # type: ignore[attr-defined]
    assert results["nftables"] == (output, masq)
    if output in ("DROP",) and "unallocated" in name:
        # nftables drops packets to unallocated ClusterIPs; iptables mode has no such rule and
        # lets them be routed as addressed (a documented difference, kube-proxy-facts.md §2.8).
        assert results["iptables"][0] in ("", "DROP")
    elif "does not" in name or "TCP-only" in name:
        # nftables rejects other ports of a live ClusterIP; iptables mode routes them as addressed.
        assert results["iptables"][0] in ("", "REJECT")
    else:
        assert results["iptables"] == results["nftables"]


def test_nftables_flows_over_sandbox_scenarios() -> None:
    """Scenario-level smoke check: a Pod on worker-1 reaches db-service's three endpoints."""
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    evaluator = compile_mode(cluster, node, "nftables").evaluator
    outcomes = evaluator.possible_outcomes(Packet("tcp", "10.244.1.50", 40000, "10.96.0.12", 5432), SourceKind.POD)  # type: ignore[union-attr]
    assert sorted(o.endpoint for o in outcomes) == ["10.244.1.2:5432", "10.244.1.3:5432", "10.244.2.2:5432"]
    assert not any(o.masquerade for o in outcomes)
