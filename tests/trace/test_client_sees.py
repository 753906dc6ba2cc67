"""What a real client sees when kube-proxy's rules stop it (errno per protocol and path), and the result worded per kind of address."""

from __future__ import annotations

import pytest

from kproxy_tutor.i18n import set_language
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.sandbox.packet import OutcomeKind, Trace
from kproxy_tutor.sandbox.trace.request import AddressKind
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.sandbox.trace.socket_errors import ECONNREFUSED, EPERM, socket_errors
from kproxy_tutor.ui.trace_words import outcome_lines
from tests.netns import network_namespace, unavailable_reason

GHOST = """
apiVersion: v1
kind: Service
metadata: {name: ghost, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.50.50
  externalIPs: [192.168.0.250]
  selector: {app: ghost}
  ports: [{name: http, port: 80, nodePort: 30999}, {name: dns, port: 53, protocol: UDP, nodePort: 30998}]
status:
  loadBalancer: {ingress: [{ip: 198.51.100.99}, {ip: 198.51.100.98, ipMode: Proxy}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default}
spec: {nodeName: worker-1}
status: {podIP: 10.244.1.200}
"""


def _curl(mode: str, source: str, target: str, protocol: str | None = None) -> Trace:
    cluster = load_texts([(GHOST, "ghost.yaml")]).cluster
    return TraceSession.from_cluster(cluster, seed=1, mode=mode).curl(source, target, protocol)


def _words(trace: Trace) -> str:
    set_language("en")
    return " ".join(text for text, _ in outcome_lines(trace))


@pytest.mark.parametrize("mode", MODES)
def test_udp_from_the_node_fails_on_send_then_on_receive(mode: str) -> None:
    trace = _curl(mode, "worker-1", "10.96.50.50:53", "udp")
    assert trace.outcome.kind == OutcomeKind.REJECTED
    assert socket_errors(trace) == (EPERM, ECONNREFUSED)
    words = _words(trace)
    assert "send() itself fails with EPERM" in words and "ECONNREFUSED" in words
    assert "connection refused) by" not in words


@pytest.mark.parametrize("mode", MODES)
def test_udp_from_a_pod_is_refused_on_receive_only_and_tcp_on_connect(mode: str) -> None:
    udp = _curl(mode, "client", "10.96.50.50:53", "udp")
    assert socket_errors(udp) == (ECONNREFUSED,)
    assert "send() succeeds" in _words(udp)
    tcp = _curl(mode, "worker-1", "10.96.50.50:80")
    assert socket_errors(tcp) == (ECONNREFUSED,)
    assert "connect() fails at once with ECONNREFUSED" in _words(tcp)


def test_an_external_ip_without_endpoints_is_worded_as_one_in_iptables_mode() -> None:
    for target, kind, name in (
        ("192.168.0.250:80", AddressKind.EXTERNAL_IP, "an external IP"),
        ("198.51.100.99:80", AddressKind.LOAD_BALANCER_IP, "a load-balancer IP"),
    ):
        trace = _curl("iptables", "worker-1", target)
        assert trace.outcome.kind == OutcomeKind.NOT_SERVICE
        assert (trace.address_kind, trace.address_owner) == (kind, "default/ghost")
        words = _words(trace)
        assert f"is {name} of Service default/ghost" in words
        assert "ClusterIP" not in words and "filter INPUT and FORWARD" in words


@pytest.mark.parametrize("mode", MODES)
def test_a_proxy_mode_load_balancer_ip_is_worded_as_one(mode: str) -> None:
    trace = _curl(mode, "worker-1", "198.51.100.98:80")
    assert trace.outcome.kind == OutcomeKind.NOT_SERVICE
    assert trace.address_kind == AddressKind.PROXY_LOAD_BALANCER_IP
    words = _words(trace)
    assert "ipMode: Proxy" in words and "ClusterIP" not in words


_SOCKET = """
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("10.96.50.50", 53))
seen = []
for call in (lambda: s.send(b"q"), lambda: s.recv(64)):
    try:
        call()
    except OSError as error:
        if error.errno:
            seen.append(errno.errorcode[error.errno])
print(" ".join(seen))
"""


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_the_kernel_gives_a_udp_client_on_the_node_what_the_trace_says() -> None:
    trace = _curl("iptables", "worker-1", "10.96.50.50:53", "udp")
    assert trace.outcome.rule is not None and trace.outcome.chain == "KUBE-SERVICES"
    payload = "\n".join(
        [
            "*filter",
            ":KUBE-SERVICES - [0:0]",
            "-A OUTPUT -j KUBE-SERVICES",
            save_line(trace.outcome.rule),
            "COMMIT",
            "",
        ]
    )
    with network_namespace("kpt-udp") as ns:
        ns.run(["ip", "link", "set", "lo", "up"])
        ns.run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"])
        ns.run(["ip", "addr", "add", "192.168.0.11/24", "dev", "eth0"])
        ns.run(["ip", "link", "set", "eth0", "up"])
        ns.run(["ip", "link", "set", "peer0", "up"])
        ns.run(["ip", "route", "add", "default", "via", "192.168.0.1", "dev", "eth0", "onlink"])
        ns.run(["iptables-restore"], stdin=payload)
        seen = ns.run(["python3", "-c", _SOCKET]).stdout.split()
    assert tuple(seen) == socket_errors(trace) == (EPERM, ECONNREFUSED)
