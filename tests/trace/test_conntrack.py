"""Conntrack: the first packet walks the nat rules; later packets and the reply are translated from the entry."""

from __future__ import annotations

from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.packet import Direction, StepKind

from .conftest import CLIENT_IP, make_lab


def test_second_packet_does_not_walk_the_nat_rules() -> None:
    lab = make_lab("clusterip-multi", seed=3)
    client, destination = lab.session.resolve("client", "web")
    first = lab.session.connect(client, destination)
    second = lab.session.resend(client, first)
    assert not first.established and second.established
    assert first.examined_by_table.get("nat", 0) > 0
    assert second.examined_by_table.get("nat", 0) == 0
    assert not [s for s in second.steps if s.table == "nat" and s.kind in (StepKind.RULE, StepKind.MISS)]
    assert second.outcome.endpoint == first.outcome.endpoint
    dnat = [s for s in second.steps if s.kind == StepKind.DNAT]
    assert dnat and all(s.detail["by"] == "conntrack" for s in dnat)
    # The filter table still sees every packet; the conntrack rule accepts it as ESTABLISHED.
    assert any(
        s.kind == StepKind.RULE
        and s.chain == "KUBE-FORWARD"
        and s.rule is not None
        and "--ctstate RELATED,ESTABLISHED" in save_line(s.rule)
        for s in second.steps
    )


def test_reply_is_un_natted_by_conntrack() -> None:
    lab = make_lab("clusterip-multi", seed=6)
    trace = lab.session.curl("client", "web")
    cluster_ip = lab.cluster.services[("default", "web")].cluster_ip
    assert trace.reply is not None
    assert (trace.reply.src_ip, trace.reply.src_port) == (cluster_ip, 80)
    assert (trace.reply.dst_ip, trace.reply.dst_port) == (CLIENT_IP, trace.packet.src_port)
    reply_rules = [
        s
        for s in trace.steps
        if s.direction == Direction.REPLY and s.table == "nat" and s.kind == StepKind.RULE
    ]
    assert reply_rules == []
    undo = [s for s in trace.steps if s.direction == Direction.REPLY and s.kind == StepKind.SNAT]
    assert undo and undo[-1].detail["by"] == "conntrack" and undo[-1].detail["to"] == f"{cluster_ip}:80"


def test_masqueraded_reply_is_un_snatted_too() -> None:
    lab = make_lab("nodeport", seed=2)
    trace = lab.session.curl("203.0.113.9", "worker-1:30080")
    assert trace.outcome.masquerade
    assert trace.reply is not None
    assert trace.reply.destination == trace.packet.source
    assert trace.reply.source == "192.168.0.11:30080"


def test_a_new_connection_is_a_new_entry() -> None:
    lab = make_lab("clusterip-multi", seed=3)
    kernel = lab.session.tracer.kernel("worker-1")
    for _ in range(5):
        lab.session.curl("client", "web")
    assert len(kernel.conntrack) == 5


def test_dropped_packets_leave_no_entry() -> None:
    lab = make_lab("etp-local", seed=1)
    trace = lab.session.curl("203.0.113.9", "control-plane:30081")
    assert trace.outcome.kind == "dropped"
    assert len(lab.session.tracer.kernel("control-plane").conntrack) == 0
