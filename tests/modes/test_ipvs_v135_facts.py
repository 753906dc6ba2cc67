"""IPVS mode details checked against kube-proxy v1.35's source and the real tools.

* ``EnsureAddressBind`` (pkg/proxy/ipvs netlink_linux.go) binds each Service IP with
  ``AddrAdd(dev, &netlink.Addr{IPNet: netlink.NewIPNet(addr)})``: a bare /32 or /128, no
  ``IFA_F_NODAD``. kube-ipvs0 is never set up, so an IPv6 address stays ``tentative``.
* ``writeIptablesRules`` still writes ``-A KUBE-IPVS-OUT-FILTER -s IP -m ipvs --vaddr IP
  --vproto PROTO --vport PORT -j DROP`` (no mask) for LoadBalancer IPs the node must not reach;
  ``iptables-save`` prints libxt_ipvs's save form: ``--vproto 6 --vaddr IP --vport PORT``.
"""

from __future__ import annotations

import re

import pytest

from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import render_save
from kproxy_tutor.sandbox.iptables.rules import OpaqueMatch
from kproxy_tutor.sandbox.ipvs import IpvsProxier, render_ip_addr
from kproxy_tutor.sandbox.ipvs.iptables import saved_ipvs_match
from kproxy_tutor.sandbox.manifests import load_paths
from tests.modes.helpers import TESTS
from tests.netns import network_namespace, unavailable_reason

_KERNEL = unavailable_reason(("ip",))
DUAL = TESTS / "sandbox" / "data" / "dual-stack.yaml"
NODE = "worker-1"


def _ipvs(family: str):  # type: ignore[no-untyped-def]
    return IpvsProxier(load_paths([str(DUAL)]).cluster, NODE, family=family).sync()


def _addresses(text: str) -> list[str]:
    """The address lines of an ``ip addr show`` output (inet/inet6 and their lifetimes)."""
    return [line for line in text.splitlines() if line.lstrip().startswith(("inet", "valid_lft"))]


def test_ipv6_addresses_are_tentative_without_nodad() -> None:
    state = _ipvs(IPV6)
    lines = [line for line in render_ip_addr(state).splitlines() if "inet6" in line]
    assert len(lines) == len(state.bound_addresses) > 1
    assert all(line.endswith("/128 scope global tentative ") and "nodad" not in line for line in lines)


def test_ipv6_addresses_listed_newest_first_ipv4_in_order() -> None:
    six, four = _ipvs(IPV6), _ipvs(IPV4)
    listed6 = re.findall(r"inet6 (\S+)/128", render_ip_addr(six))
    listed4 = re.findall(r"inet (\S+)/32", render_ip_addr(four))
    assert listed6 == list(reversed(six.bound_addresses))
    assert listed4 == list(four.bound_addresses)


@pytest.mark.kernel
@pytest.mark.skipif(_KERNEL is not None, reason=_KERNEL or "")
@pytest.mark.parametrize("family", [IPV4, IPV6])
def test_ip_addr_lists_what_ensure_address_bind_leaves(family: str) -> None:
    state = _ipvs(family)
    with network_namespace("kpt-ipvs0") as ns:
        # No dummy driver needed: any interface left down behaves the same for its addresses.
        ns.run(["ip", "link", "add", "kube-ipvs0", "type", "veth", "peer", "name", "kpt-peer"])
        for ip in state.bound_addresses:
            ns.run(["ip", "addr", "add", f"{ip}/{128 if ':' in ip else 32}", "dev", "kube-ipvs0"])
        listed = ns.run(["ip", "addr", "show", "kube-ipvs0"]).stdout
    assert _addresses(listed) == _addresses(render_ip_addr(state))


@pytest.mark.parametrize("family", [IPV4, IPV6])
def test_out_filter_rule_written_as_upstream_and_saved_as_libxt_ipvs_prints(family: str) -> None:
    state = _ipvs(family)
    lb = "198.51.100.50" if family == IPV4 else "2001:db8:100::50"
    written = [line for line in state.iptables.restore.splitlines() if "KUBE-IPVS-OUT-FILTER -s" in line]
    assert written == [
        f"-A KUBE-IPVS-OUT-FILTER -s {lb} -m ipvs --vaddr {lb} --vproto tcp --vport 443 -j DROP"
    ]
    saved = [line for line in render_save(state.iptables.ruleset).splitlines() if "-m ipvs" in line]
    mask = 32 if family == IPV4 else 128
    assert saved == [
        f"-A KUBE-IPVS-OUT-FILTER -s {lb}/{mask} -m ipvs --vproto 6 --vaddr {lb} --vport 443 -j DROP"
    ]


def test_saved_ipvs_match_keeps_a_partial_mask_and_leaves_other_shapes() -> None:
    match = OpaqueMatch("ipvs", ("--vport", "53", "--vaddr", "10.0.0.0/8", "--vproto", "udp"))
    assert saved_ipvs_match(match) == OpaqueMatch(
        "ipvs", ("--vproto", "17", "--vaddr", "10.0.0.0/8", "--vport", "53")
    )
    assert saved_ipvs_match(OpaqueMatch("ipvs", ("--vaddr", "fd00::1/128"))) == OpaqueMatch(
        "ipvs", ("--vaddr", "fd00::1")
    )
    odd = OpaqueMatch("ipvs", ("--ipvs",))
    assert saved_ipvs_match(odd) is odd
    other = OpaqueMatch("physdev", ("!", "--physdev-is-in"))
    assert saved_ipvs_match(other) is other
