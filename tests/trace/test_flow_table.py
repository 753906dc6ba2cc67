"""Packet-flow table over the sandbox scenarios: (source, destination) → possible endpoints or REJECT/DROP/not a Service, and masquerade.

Expected endpoints are read off the scenario YAML (Pod IPs and target ports), not off the
tracer's output; each row is sent many times with one seed, so every endpoint of a
multi-endpoint Service shows up.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kproxy_tutor.sandbox.packet import MasqueradeReason, OutcomeKind

from .conftest import CLIENT_IP, make_lab

REJECT, DROP, NOT_SERVICE = OutcomeKind.REJECTED, OutcomeKind.DROPPED, OutcomeKind.NOT_SERVICE
WEB = "clusterip-multi"  # Deployment web (3 replicas, app=web, containerPort http=8080) behind Service web:80
SENDS = 40


@dataclass(frozen=True)
class Row:
    name: str
    scenario: str
    source: str
    target: str
    #: Endpoints (ip:port) the packet may reach, or one of REJECT/DROP/NOT_SERVICE.
    expected: frozenset[str] | str
    masquerade: bool
    node: str | None = None


ROWS = [
    Row("pod to ClusterIP: no SNAT", WEB, "client", "web", frozenset({"web"}), False),
    Row("pod on another node to ClusterIP", WEB, "client-2", "web:80", frozenset({"web"}), False),
    Row(
        "node process to ClusterIP: SNAT (off-cluster source)",
        WEB,
        "worker-1",
        "web",
        frozenset({"web"}),
        True,
    ),
    Row(
        "external client to NodePort, eTP Cluster: SNAT",
        "nodeport",
        "203.0.113.9",
        "192.168.0.12:30080",
        frozenset({"10.244.1.7:8080", "10.244.2.9:8080"}),
        True,
    ),
    Row(
        "pod to NodePort Service by name",
        "nodeport",
        "client",
        "shop/shop:web",
        frozenset({"10.244.1.7:8080", "10.244.2.9:8080"}),
        False,
    ),
    Row(
        "eTP Local, node with a local endpoint: only it, no SNAT",
        "etp-local",
        "203.0.113.9",
        "worker-1:30081",
        frozenset({"10.244.1.40:8080"}),
        False,
    ),
    Row(
        "eTP Local, the other node's local endpoint",
        "etp-local",
        "203.0.113.9",
        "192.168.0.12:30081",
        frozenset({"10.244.2.40:8080"}),
        False,
    ),
    Row(
        "eTP Local, node without local endpoints: DROP",
        "etp-local",
        "203.0.113.9",
        "control-plane:30081",
        DROP,
        False,
    ),
    Row(
        "eTP Local, LB IP arriving at worker-1",
        "etp-local",
        "203.0.113.9",
        "203.0.113.50:80",
        frozenset({"10.244.1.40:8080"}),
        False,
        node="worker-1",
    ),
    Row(
        "eTP Local, pod traffic to the ClusterIP uses all endpoints",
        "etp-local",
        "client",
        "edge/ingress",
        frozenset({"10.244.1.40:8080", "10.244.2.40:8080"}),
        False,
    ),
    Row(
        "LB IP from an allowed source range: SNAT",
        "loadbalancer-source-ranges",
        "203.0.113.9",
        "198.51.100.10:443",
        frozenset({"10.244.2.20:8443"}),
        True,
        node="worker-1",
    ),
    Row(
        "LB IP from outside the source ranges: DROP",
        "loadbalancer-source-ranges",
        "8.8.8.8",
        "198.51.100.10:443",
        DROP,
        False,
        node="worker-1",
    ),
    Row("no endpoints, pod to ClusterIP: REJECT", "no-endpoints", "client", "ghost", REJECT, False),
    Row(
        "no endpoints, external to NodePort: REJECT",
        "no-endpoints",
        "8.8.8.8",
        "worker-2:30999",
        REJECT,
        False,
    ),
    Row(
        "no endpoints, external IP: REJECT",
        "no-endpoints",
        "8.8.8.8",
        "192.168.0.250:80",
        REJECT,
        False,
        node="worker-1",
    ),
    Row(
        "wrong port on a ClusterIP: not a Service", "nodeport", "client", "10.101.7.25:81", NOT_SERVICE, False
    ),
    Row("Pod IP directly: not a Service", "nodeport", "client", "10.244.2.9:8080", NOT_SERVICE, False),
    Row(
        "iTP Local with a local endpoint: only it",
        "itp-local",
        "client",
        "kube-system/node-cache",
        frozenset({"10.244.1.53:53"}),
        False,
    ),
    Row(
        "iTP Local without a local endpoint: DROP", "itp-local", "client", "kube-system/metrics", DROP, False
    ),
    Row(
        "masqueradeAll: even pod traffic is masqueraded",
        "masquerade-all",
        "client",
        "web",
        frozenset({"10.244.2.10:80"}),
        True,
    ),
    Row(
        "externalIP from outside: SNAT",
        "external-ips",
        "203.0.113.9",
        "192.168.0.200:8000",
        frozenset({"10.244.2.30:8000"}),
        True,
        node="worker-1",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_flow_table(row: Row) -> None:
    lab = make_lab(row.scenario, seed=11)
    expected = row.expected
    if isinstance(expected, frozenset) and "web" in expected:
        expected = frozenset(lab.endpoints({"app": "web"}, 8080))
        assert len(expected) == 3
    traces = lab.curls(row.source, row.target, SENDS, node=row.node)
    kinds = {t.outcome.kind for t in traces}
    if isinstance(expected, str):
        assert kinds == {expected}
        if expected in (REJECT, DROP):
            assert all(t.outcome.rule is not None for t in traces), "a REJECT/DROP outcome names its rule"
    else:
        assert kinds == {OutcomeKind.DELIVERED}
        assert {t.outcome.endpoint for t in traces} == expected
    assert {t.outcome.masquerade for t in traces} == {row.masquerade}


def test_pod_traffic_keeps_the_client_address() -> None:
    lab = make_lab(WEB, seed=3)
    trace = lab.session.curl("client", "web")
    deliver = [s for s in trace.steps if s.kind == "deliver" and s.direction == "request"]
    assert deliver[-1].packet is not None and deliver[-1].packet.src_ip == CLIENT_IP


def test_hairpin_lands_on_itself_only_with_masquerade() -> None:
    lab = make_lab(WEB, seed=5)
    own = lab.pod_ip("default", next(n for (_, n) in lab.cluster.pods if n.startswith("web-")))
    pod = next(p for p in lab.cluster.pods.values() if p.pod_ip == own)
    traces = lab.curls(f"default/{pod.name}", "web", SENDS)
    to_self = [t for t in traces if t.outcome.endpoint == f"{own}:8080"]
    elsewhere = [t for t in traces if t.outcome.endpoint != f"{own}:8080"]
    assert to_self and elsewhere
    node = lab.cluster.nodes[pod.node_name]
    bridge = (
        node.pod_cidr().rsplit(".", 1)[0] + ".1"
    )  # the bridge holds the first address of the node's Pod CIDR
    for trace in to_self:
        assert trace.outcome.masquerade
        assert [m.reason for m in trace.outcome.mark_setters] == [MasqueradeReason.HAIRPIN]
        assert trace.outcome.snat_source == bridge
    assert not any(t.outcome.masquerade for t in elsewhere)


def test_off_cluster_masquerade_names_the_rule() -> None:
    lab = make_lab(WEB, seed=1)
    trace = lab.session.curl("worker-2", "web")
    (setter,) = trace.outcome.mark_setters
    assert setter.reason == MasqueradeReason.OFF_CLUSTER
    assert (
        setter.chain.startswith("KUBE-SVC-") and setter.rule.source is not None and setter.rule.source.negated
    )
    # MASQUERADE picks the address of the interface the packet leaves by.
    endpoint_node = trace.outcome.endpoint_node
    expected = "192.168.0.12" if endpoint_node != "worker-2" else "10.244.2.1"
    assert trace.outcome.snat_source == expected


def test_external_nodeport_masquerade_reason_is_external() -> None:
    lab = make_lab("nodeport", seed=2)
    trace = lab.session.curl("203.0.113.9", "worker-1:30080")
    assert [m.reason for m in trace.outcome.mark_setters] == [MasqueradeReason.EXTERNAL]
    assert trace.outcome.mark_setters[0].chain.startswith("KUBE-EXT-")
