"""The shell's curl and kubectl exec to IPv6 destinations: literal [addr]:port, -6/-4 with a Service name, every mode, edits reaching the IPv6 rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.shell.session import Session

from .test_modes import section

DUAL = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "dual-stack.yaml"
#: The dual-stack cluster's web Pods: one per node (worker-1: fd00:10:244::2, worker-2: fd00:10:244:1::2).
WEB6 = r"\[fd00:10:244(?::1)?::[23]\]:8080"


def _session() -> Session:
    session = Session()
    session.restart(session.load_start(DUAL.read_text(encoding="utf-8"), "dual-stack.yaml"))
    return session


def _client(session: Session) -> str:
    return next(p.name for p in session.cluster.pods.values() if p.node_name == "worker-2")


@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_curl_reaches_ipv6_addresses_and_names_with_dash_6(run_shell: Callable, mode: str) -> None:
    session = _session()
    pod = _client(session)
    script = (
        f"mode {mode}\n"
        f"curl [fd00:10:96::ecf2]:80 --from {pod} --brief\n"
        f"curl -6 lb:443 --from {pod} --brief\n"
        "curl -4 lb:443 --brief\n"
        "curl -6 web:80 --from external --brief\n"
        "kubectl scale deployment web --replicas 4\n"
        "curl -6 lb:443 -n 12 --brief\n"
    )
    code, text, _shell = run_shell(script, session=session, keep_going=True)
    assert code == 0, text
    assert re.search(
        rf"delivered to {WEB6}", section(text, f"curl [fd00:10:96::ecf2]:80 --from {pod} --brief")
    )
    assert re.search(rf"delivered to {WEB6}", section(text, f"curl -6 lb:443 --from {pod} --brief"))
    assert re.search(r"delivered to 10\.244\.[01]\.2:8080", section(text, "curl -4 lb:443 --brief"))
    # "external" is a client of the destination's family.
    assert re.search(rf"delivered to {WEB6}", section(text, "curl -6 web:80 --from external --brief"))
    # The IPv6 proxiers saw the scale-up: the new Pods (fd00:10:244::3, fd00:10:244:1::3) get connections.
    spread = section(text, "curl -6 lb:443 -n 12 --brief")
    assert {"[fd00:10:244::3]:8080", "[fd00:10:244:1::3]:8080"} <= set(
        re.findall(r"\[[0-9a-f:]+\]:8080", spread)
    )


def test_exec_clients_take_ipv6_urls_and_dash_6_and_conntrack_lists_both_families(
    run_shell: Callable,
) -> None:
    session = _session()
    pod = _client(session)
    script = (
        f"kubectl exec {pod} -- curl -s http://[fd00:10:96::af54]:443/\n"
        f"kubectl exec {pod} -- curl -6 http://lb:443/\n"
        f"kubectl exec {pod} -- nc -6zv only6 8080\n"
        f"kubectl exec {pod} -- curl -4 http://web/\n"
        "node worker-2\n"
        "conntrack -L\n"
        "iptables -t nat -L KUBE-SERVICES -v -n\n"
    )
    code, text, _shell = run_shell(script, session=session, keep_going=True)
    assert code == 0, text
    assert "TCP [fd00:10:244:1::2]:40000 → [fd00:10:96::af54]:443" in text
    assert "DNS: lb.default.svc.cluster.local → fd00:10:96::af54" in text
    assert "UDP [fd00:10:244:1::2]:40002 → [fd00:10:96::7549]:8080" in text
    listing = section(text, "conntrack -L")
    # Both families' entries, IPv4 first, as one conntrack table.
    lines = [line for line in listing.splitlines() if line.startswith(("tcp", "udp"))]
    assert len(lines) == 4 and re.search(
        r"src=10\.244\.1\.2 dst=10\.\d+\.\d+\.\d+ sport=40003 dport=80 ", lines[0]
    )
    assert "dst=fd00:10:96::af54" in lines[1]
    # The IPv6 connections went through the IPv6 proxier's rules: iptables -L (IPv4) counted only one.
    counters = section(text, "iptables -t nat -L KUBE-SERVICES -v -n")
    packets = [int(m) for m in re.findall(r"^\s*(\d+)\s+\d+\s+KUBE-SVC-", counters, re.M)]
    assert sum(packets) == 1, counters


def test_curl_refuses_what_a_family_cannot_do(run_shell: Callable) -> None:
    session = _session()
    script = (
        "curl -4 -6 web:80\ncurl -4 [fd00:10:96::ecf2]:80\ncurl -4 only6:8080\ncurl fd00:10:96::ecf2:80\n"
    )
    _code, text, _shell = run_shell(script, session=session, keep_going=True)
    assert "-4 and -6 exclude each other" in text
    assert "fd00:10:96::ecf2 is an IPv6 address, not IPv4." in text
    assert "Service default/only6 has no IPv4 ClusterIP (its families: IPv6)." in text
    assert "needs a port: write [ADDRESS]:PORT" in text
    assert "Traceback" not in text
