"""Interval sets in ``nft list``: merged the way nft 1.0.6 prints them (checked against the real nft)."""

from __future__ import annotations

import ipaddress
import random

import pytest

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.nftables import render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.intervals import interval_set_listing
from kproxy_tutor.sandbox.nftables.parse import parse_listing, parse_transaction
from kproxy_tutor.sandbox.nftables.proxier import NftProxier
from tests.modes.helpers import NODE_N1, endpoint_slice
from tests.netns import network_namespace, unavailable_reason

_KERNEL = unavailable_reason(("ip", "nft"))


def _listing(*cidrs: str) -> str:
    return interval_set_listing(tuple(ipaddress.ip_network(c) for c in cidrs))


@pytest.mark.parametrize(
    ("cidrs", "listed"),
    [
        # Values printed by nft 1.0.6 after nft -f of `ip saddr != { … } drop`.
        (("198.51.100.1/32", "198.51.100.2/32"), "{ 198.51.100.1-198.51.100.2 }"),
        (("10.0.0.0/9", "10.128.0.0/9"), "{ 10.0.0.0/8 }"),
        (("10.96.0.0/12", "10.96.5.0/24"), "{ 10.96.0.0/12 }"),
        (("10.96.5.0/24", "10.96.0.0/12"), "{ 10.96.0.0/12 }"),
        (("1.2.3.0/31", "1.2.3.2/32"), "{ 1.2.3.0-1.2.3.2 }"),
        (("1.2.3.0/24", "1.2.4.0/23"), "{ 1.2.3.0-1.2.5.255 }"),
        (("0.0.0.0/1", "128.0.0.0/1"), "{ 0.0.0.0/0 }"),
        (("255.255.255.255/32", "255.255.255.254/32"), "{ 255.255.255.254/31 }"),
        (("10.0.0.1/32", "10.0.0.1/32"), "{ 10.0.0.1 }"),
        (("10.0.0.1/32", "10.0.0.3/32"), "{ 10.0.0.1, 10.0.0.3 }"),
        (("10.0.0.0/25", "10.0.0.128/26"), "{ 10.0.0.0-10.0.0.191 }"),
        (("192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12"), "{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }"),
        (("203.0.113.0/25",), "203.0.113.0/25"),
        (("10.0.0.1/32",), "10.0.0.1"),
        (("0.0.0.0/0",), "0.0.0.0/0"),
        # ip6 tables, as nft 1.0.6 printed them too.
        (("2001:db8::1/128", "2001:db8::2/128"), "{ 2001:db8::1-2001:db8::2 }"),
        (("2001:db8::/33", "2001:db8:8000::/33"), "{ 2001:db8::/32 }"),
        (("fd00::/8", "fd00:10::/64"), "{ fd00::/8 }"),
        (("2001:db8::/127", "2001:db8::2/128"), "{ 2001:db8::-2001:db8::2 }"),
    ],
)
def test_interval_sets_list_as_nft_prints_them(cidrs: tuple[str, ...], listed: str) -> None:
    assert _listing(*cidrs) == listed


NODE = (
    NODE_N1
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.20
  loadBalancerSourceRanges: [198.51.100.1/32, 198.51.100.2/32, 10.0.0.0/9, 10.128.0.0/9, 172.16.5.0/24, 172.16.0.0/12]
  ports: [{name: http, port: 80, protocol: TCP, nodePort: 30080}]
status:
  loadBalancer:
    ingress: [{ip: 5.6.7.8}]
"""
    + endpoint_slice("web", ["10.244.0.5"], 8080)
)
_MERGED = "ip saddr != { 10.0.0.0/8, 172.16.0.0/12, 198.51.100.1-198.51.100.2 } drop"


def _table():  # type: ignore[no-untyped-def]
    return NftProxier(load_texts([(NODE, "cluster.yaml")]).cluster, "n1").sync().table


def test_source_ranges_are_written_as_cidrs_and_listed_merged() -> None:
    table = _table()
    transaction = render_transaction(table)
    assert (
        "ip saddr != { 198.51.100.1/32 , 198.51.100.2/32 , 10.0.0.0/9 , 10.128.0.0/9 , 172.16.5.0/24 ,"
        " 172.16.0.0/12 } drop" in transaction
    )
    listing = render_listing(table)
    assert f"\t\t{_MERGED}\n" in listing
    # Both readings describe the same table.
    assert parse_listing(listing).canonical() == parse_transaction(transaction).canonical()


@pytest.mark.kernel
@pytest.mark.skipif(_KERNEL is not None, reason=_KERNEL or "")
def test_real_nft_lists_random_interval_sets_as_we_do() -> None:
    rng = random.Random(16)
    sets = []
    for _ in range(60):
        cidrs = []
        for _ in range(rng.randint(2, 6)):
            prefix = rng.choice((8, 12, 16, 22, 24, 25, 26, 30, 31, 32))
            base = rng.choice((0x0A000000, 0x0A600000, 0xC0A80000, 0xCB007100))
            offset = rng.randrange(0, 1 << 12) << (32 - prefix) if prefix > 12 else 0
            cidrs.append(ipaddress.ip_network(((base + offset) & 0xFFFFFFFF, prefix), strict=False))
        sets.append(tuple(cidrs))
    lines = ["add table ip t", "add chain ip t c"]
    lines += ["add rule ip t c ip saddr { " + " , ".join(map(str, cidrs)) + " } drop" for cidrs in sets]
    with network_namespace("kpt-intv") as ns:
        ns.run(["nft", "-f", "-"], stdin="\n".join(lines) + "\n")
        listed = ns.run(["nft", "list", "table", "ip", "t"]).stdout
        whole = "".join(NftProxier(load_texts([(NODE, "cluster.yaml")]).cluster, "n1").sync().transactions())
        ns.run(["nft", "-f", "-"], stdin=whole)
        kube_proxy = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
    rules = [line.strip() for line in listed.splitlines() if line.strip().startswith("ip saddr")]
    assert rules == [f"ip saddr {interval_set_listing(cidrs)} drop" for cidrs in sets]
    assert kube_proxy == render_listing(_table())
    assert _MERGED in kube_proxy
