"""The nftables evaluator against upstream's packet-flow expectations, plus numgen, affinity and step details."""

from __future__ import annotations

from functools import cache

import pytest

from kproxy_tutor.sandbox.nftables import NftProxier
from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator, node_view
from kproxy_tutor.sandbox.packet import OutcomeKind, Packet, SourceKind
from tests.modes.flows import FLOWS
from tests.modes.helpers import DATA, load_scenario


@cache
def evaluator(fixture: str) -> NftEvaluator:
    cluster, node = load_scenario(DATA / f"upstream-{fixture}.yaml")
    table = NftProxier(cluster, node).sync().table
    return NftEvaluator(table, node_view(cluster, node), seed=1)


def source_kind(view_ips: frozenset[str], ip: str) -> str:
    """As upstream's flow tests decide: node IPs are the node, 10.0.0.0/8 are Pods, the rest external."""
    if ip in view_ips:
        return SourceKind.NODE
    return SourceKind.POD if ip.startswith("10.") else SourceKind.EXTERNAL


def summarize(outcomes: list) -> tuple[str, bool]:
    kinds = {o.kind for o in outcomes}
    if kinds == {OutcomeKind.REJECTED}:
        return "REJECT", False
    if kinds == {OutcomeKind.DROPPED}:
        return "DROP", False
    if kinds == {OutcomeKind.NOT_SERVICE}:
        return "", False
    assert kinds == {OutcomeKind.DELIVERED}, kinds
    masq = {o.masquerade for o in outcomes}
    assert len(masq) == 1
    return ", ".join(sorted({o.endpoint for o in outcomes})), masq.pop()


@pytest.mark.parametrize(
    ("fixture", "name", "proto", "src", "dst", "port", "output", "masq"),
    FLOWS,
    ids=[f"{f[0]}: {f[1]}" for f in FLOWS],
)
def test_upstream_packet_flows(
    fixture: str, name: str, proto: str, src: str, dst: str, port: int, output: str, masq: bool
) -> None:
    ev = evaluator(fixture)
    packet = Packet(proto, src, 40000, dst, port)
    outcomes = ev.possible_outcomes(packet, source_kind(ev.node.local_ips, src))
    assert summarize(outcomes) == (output, masq)


def test_numgen_is_seeded_and_spreads() -> None:
    cluster, node = load_scenario(DATA / "upstream-nodeports.yaml")
    table = NftProxier(cluster, node).sync().table
    hits = [
        NftEvaluator(table, node_view(cluster, node), seed=7)
        .evaluate(Packet("tcp", "10.0.0.2", 1000 + i, "172.30.0.41", 80), SourceKind.POD)
        .outcome.endpoint
        for i in range(1)
    ]
    again = (
        NftEvaluator(table, node_view(cluster, node), seed=7)
        .evaluate(Packet("tcp", "10.0.0.2", 1000, "172.30.0.41", 80), SourceKind.POD)
        .outcome.endpoint
    )
    assert hits[0] == again
    ev = NftEvaluator(table, node_view(cluster, node), seed=3)
    seen = {
        ev.evaluate(Packet("tcp", "10.0.0.2", 1000 + i, "172.30.0.41", 80), SourceKind.POD).outcome.endpoint
        for i in range(40)
    }
    assert seen == {"10.180.0.1:80", "10.180.2.1:80"}


def test_affinity_keeps_the_client_on_one_endpoint() -> None:
    from tests.modes.helpers import TESTS

    cluster, node = load_scenario(TESTS / "scenarios" / "session-affinity.yaml")
    table = NftProxier(cluster, node).sync().table
    clock = [0.0]
    ev = NftEvaluator(table, node_view(cluster, node), seed=5, clock=lambda: clock[0])
    first = ev.evaluate(Packet("tcp", "10.244.2.99", 1000, "10.102.3.4", 80), SourceKind.POD).outcome.endpoint
    for i in range(10):
        assert (
            ev.evaluate(
                Packet("tcp", "10.244.2.99", 2000 + i, "10.102.3.4", 80), SourceKind.POD
            ).outcome.endpoint
            == first
        )
    clock[0] = 601.0  # past timeoutSeconds: 600, the choice is random again
    seen = {
        ev.evaluate(Packet("tcp", "10.244.2.99", 3000 + i, "10.102.3.4", 80), SourceKind.POD).outcome.endpoint
        for i in range(1)
    }
    assert seen <= {"10.244.1.11:8080", "10.244.1.9:8080"}


def test_trace_names_the_masquerade_reason_and_counts_rules() -> None:
    ev = evaluator("cluster-ip-general")
    trace = ev.evaluate(Packet("tcp", "10.180.0.1", 1000, "172.30.0.41", 80), SourceKind.POD)
    assert trace.outcome.masquerade and trace.outcome.mark_setters[0].reason == "hairpin"
    assert trace.rules_examined > 0
    assert any(step.kind == "dnat" for step in trace.steps)
