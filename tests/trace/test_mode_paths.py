"""nftables and IPVS traces follow the packet to the endpoint's node and back, as iptables traces do; ``route`` means the same in every mode."""

from __future__ import annotations

import pytest

from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.sandbox.packet import Direction, OutcomeKind, RouteKind, StepKind
from kproxy_tutor.sandbox.trace.session import TraceSession

from .conftest import CLIENT_IP, make_lab

WORKER_1_IP, WORKER_2_IP = "192.168.0.11", "192.168.0.12"


def _session(mode: str, seed: int = 4) -> TraceSession:
    lab = make_lab("clusterip-multi")
    return TraceSession.from_cluster(lab.cluster, seed=seed, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_pod_on_another_node_is_reached_there_and_answers_back(mode: str) -> None:
    session = _session(mode)
    traces = [session.curl("client", "web:80") for _ in range(12)]
    remote = next(t for t in traces if t.outcome.endpoint_node == "worker-2")
    assert remote.outcome.kind == OutcomeKind.DELIVERED
    assert remote.outcome.route == RouteKind.POD
    assert remote.outcome.endpoint_pod is not None
    nodes = [
        (s.kind, s.node, s.direction) for s in remote.steps if s.kind in (StepKind.LEAVE, StepKind.DELIVER)
    ]
    assert nodes == [
        (StepKind.LEAVE, "worker-1", Direction.REQUEST),
        (StepKind.DELIVER, "worker-2", Direction.REQUEST),
        (StepKind.LEAVE, "worker-2", Direction.REPLY),
        (StepKind.DELIVER, "worker-1", Direction.REPLY),
    ]
    # The reply reaches the client from the ClusterIP it connected to (conntrack, or IPVS, undid the DNAT).
    assert remote.reply is not None
    assert remote.reply.destination == remote.packet.source
    assert remote.reply.source == remote.packet.destination
    assert remote.service == "default/web:http"
    assert sum(remote.examined_by_table.values()) == remote.rules_examined > 0


@pytest.mark.parametrize("mode", MODES)
def test_route_local_is_only_the_first_nodes_own_address(mode: str) -> None:
    session = _session(mode)
    own = session.curl("worker-1", f"{WORKER_1_IP}:22")
    other = session.curl("worker-1", f"{WORKER_2_IP}:22")
    assert (own.outcome.kind, own.outcome.route) == (OutcomeKind.NOT_SERVICE, RouteKind.LOCAL)
    assert (other.outcome.kind, other.outcome.route) == (OutcomeKind.NOT_SERVICE, RouteKind.NODE)
    assert other.outcome.endpoint_node == "worker-2"


@pytest.mark.parametrize("mode", MODES)
def test_a_later_packet_is_translated_by_conntrack_on_every_node(mode: str) -> None:
    session = _session(mode)
    client, destination = session.resolve("client", "web:80")
    first = session.connect(client, destination)
    again = session.resend(client, first)
    assert again.established
    assert again.outcome.endpoint == first.outcome.endpoint
    dnat = [s for s in again.steps if s.kind == StepKind.DNAT]
    assert dnat and all(s.detail["by"] == "conntrack" for s in dnat)
    assert CLIENT_IP in first.packet.source
