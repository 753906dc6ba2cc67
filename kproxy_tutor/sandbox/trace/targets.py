"""What kube-proxy's NAT targets mean for a trace: why a rule set the masquerade mark, and the address a DNAT/SNAT names."""

from __future__ import annotations

import ipaddress

from kproxy_tutor.sandbox.iptables.rules import AddrTypeMatch, Rule
from kproxy_tutor.sandbox.packet import MasqueradeReason
from kproxy_tutor.sandbox.trace.matching import ip_int


def masquerade_reason(chain: str, rule: Rule) -> str:
    """Which of kube-proxy's reasons a rule that jumps to KUBE-MARK-MASQ stands for."""
    if chain.startswith("KUBE-SEP-"):
        return MasqueradeReason.HAIRPIN
    if chain.startswith("KUBE-EXT-"):
        if any(isinstance(m, AddrTypeMatch) and m.src_type == "LOCAL" for m in rule.matches):
            return MasqueradeReason.LOCAL_SOURCE
        return MasqueradeReason.EXTERNAL
    if chain.startswith(("KUBE-SVC-", "KUBE-SVL-")):
        negated_source = rule.source is not None and rule.source.negated
        negated_iface = rule.in_interface is not None and rule.in_interface.negated
        return (
            MasqueradeReason.OFF_CLUSTER
            if negated_source or negated_iface
            else MasqueradeReason.MASQUERADE_ALL
        )
    return MasqueradeReason.OTHER


def nat_address(text: str, default_port: int) -> tuple[str | None, int]:
    """``ip``, ``ip:port``, ``[ipv6]`` or ``[ipv6]:port`` of a DNAT/SNAT target, the address canonical
    (compressed, as Kubernetes and iproute2 write IPv6); (None, 0) for ranges the tracer does not model."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None, 0
        port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""  # an IPv4 address alone, or a bare IPv6 address
    if "-" in host or "-" in port or not host or (port and not port.isdigit()):
        return None, 0
    try:
        ip_int(host)
    except ValueError:
        return None, 0
    if ":" in host:
        host = str(ipaddress.IPv6Address(host))
    return host, int(port) if port else default_port
