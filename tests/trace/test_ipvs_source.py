"""A node process's source address in IPVS mode (the Service IP bound on kube-ipvs0, as the kernel picks it), and the words for it and for packets that leave the cluster."""

from __future__ import annotations

import pytest

from kproxy_tutor.i18n import set_language
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.sandbox.packet import Direction, MasqueradeReason, OutcomeKind, RouteKind, StepKind, Trace
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.ui.trace_view import trace_lines
from kproxy_tutor.ui.trace_words import outcome_lines
from tests.netns import network_namespace, unavailable_reason

CLUSTER_IP, NODE_IP = "10.96.0.12", "192.168.1.11"


def _curl(mode: str, source: str, target: str, text: str | None = None) -> Trace:
    manifests = text if text is not None else find_scenario("db-service").manifests
    cluster = load_texts([(manifests, "cluster.yaml")]).cluster
    return TraceSession.from_cluster(cluster, seed=1, mode=mode).curl(source, target)


def _words(trace: Trace, lang: str = "en") -> str:
    set_language(lang)
    try:
        return " ".join(text for text, _ in outcome_lines(trace))
    finally:
        set_language("en")


def test_a_node_process_gets_the_cluster_ip_as_source_in_ipvs_mode_only() -> None:
    ipvs = _curl("ipvs", "worker-1", f"{CLUSTER_IP}:5432")
    assert ipvs.packet.src_ip == CLUSTER_IP
    # Not a Pod address: masqueraded to the node's address on the way to worker-2, and the reply
    # comes back to the Service address the socket is bound to, from the virtual server.
    assert ipvs.outcome.kind == OutcomeKind.DELIVERED and ipvs.outcome.endpoint_node == "worker-2"
    assert (ipvs.outcome.snat_source, ipvs.outcome.snat_interface) == (NODE_IP, "eth0")
    assert ipvs.reply is not None
    assert (ipvs.reply.source, ipvs.reply.destination) == (f"{CLUSTER_IP}:5432", ipvs.packet.source)
    words = _words(ipvs)
    assert "IPVS mode binds every Service IP to kube-ipvs0" in words
    assert "the node's address is not a Pod address" not in words
    assert "режим IPVS привязывает каждый IP Service'а к kube-ipvs0" in _words(ipvs, "ru")
    for mode in ("iptables", "nftables"):
        assert _curl(mode, "worker-1", f"{CLUSTER_IP}:5432").packet.src_ip == NODE_IP
    # Elsewhere than a bound Service address, the uplink's address as before.
    assert _curl("ipvs", "worker-1", "10.244.0.3:5432").packet.src_ip == NODE_IP


def test_the_reply_rewritten_by_ipvs_is_worded_as_ipvs_not_as_masquerade() -> None:
    trace = _curl("ipvs", "web", f"{CLUSTER_IP}:5432")
    back = [s for s in trace.steps if s.direction == Direction.REPLY and s.kind == StepKind.SNAT]
    assert [s.detail.get("by") for s in back] == ["ipvs"]
    set_language("en")
    text = " ".join(line.plain for line in trace_lines(trace))
    assert "IPVS rewrites the source 10.244.0." in text and "the address of None" not in text


NO_DETECTOR = """
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
detectLocalMode: ClusterCIDR
clusterCIDR: ""
"""


def test_without_a_local_traffic_detector_the_src_dst_rule_is_named_for_what_it_does() -> None:
    text = find_scenario("db-service").manifests + "\n---\n" + NO_DETECTOR
    trace = _curl("ipvs", "worker-1", f"{CLUSTER_IP}:5432", text)
    assert [s.reason for s in trace.outcome.mark_setters] == [MasqueradeReason.SERVICE_SOURCE]
    assert trace.outcome.snat_source == NODE_IP
    words = _words(trace)
    assert "masqueradeAll is on" not in words and "without a local-traffic detector" in words


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("source", "en", "ru"),
    [
        (
            "web",
            "The packet leaves the node with the Pod's own address 10.244.1.5",
            "собственным адресом Pod'а",
        ),
        (
            "worker-1",
            "The packet leaves with the node's own address 192.168.1.11",
            "собственным адресом ноды",
        ),
        (
            "203.0.113.9",
            "The packet goes back out with the client's own address 203.0.113.9",
            "адресом клиента",
        ),
    ],
)
def test_a_packet_that_leaves_the_cluster_has_no_endpoint_to_see_it(
    mode: str, source: str, en: str, ru: str
) -> None:
    trace = _curl(mode, source, "8.8.8.8:53")
    assert (trace.outcome.kind, trace.outcome.route) == (OutcomeKind.NOT_SERVICE, RouteKind.OUTSIDE)
    assert en in _words(trace) and "endpoint" not in _words(trace).lower()
    assert ru in _words(trace, "ru") and "Endpoint видит" not in _words(trace, "ru")


# connect() on a non-blocking socket sends the SYN (or nothing, for UDP) and fixes the source address.
_SOCKET = """
import socket
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.setblocking(False)
    try:
        s.connect(("10.96.0.12", 5432))
    except BlockingIOError:
        pass
    print(s.getsockname()[0])
"""


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_the_kernel_picks_the_address_on_kube_ipvs0_as_the_trace_says() -> None:
    trace = _curl("ipvs", "worker-1", f"{CLUSTER_IP}:5432")
    with network_namespace("kpt-vip") as ns:
        ns.run(["ip", "link", "set", "lo", "up"])
        ns.run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"])
        ns.run(["ip", "addr", "add", f"{NODE_IP}/24", "dev", "eth0"])
        ns.run(["ip", "link", "set", "eth0", "up"])
        ns.run(["ip", "link", "set", "peer0", "up"])
        ns.run(["ip", "route", "add", "default", "via", "192.168.1.1", "dev", "eth0", "onlink"])
        # kube-proxy's kube-ipvs0 is a dummy interface, left down; a bridge stands in where the
        # dummy driver is missing: an address on any interface gets the same local route.
        if ns.run(["ip", "link", "add", "kube-ipvs0", "type", "dummy"], check=False).returncode != 0:
            ns.run(["ip", "link", "add", "kube-ipvs0", "type", "bridge"])
        ns.run(["ip", "addr", "add", f"{CLUSTER_IP}/32", "dev", "kube-ipvs0"])
        seen = ns.run(["python3", "-c", _SOCKET]).stdout.split()
    assert seen == [CLUSTER_IP, CLUSTER_IP] == [trace.packet.src_ip] * 2
