"""Interval sets as nft prints them: overlapping and adjacent ranges merged, each shown as an address, a prefix or a range.

kube-proxy writes anonymous sets of CIDRs (``ip saddr != { 203.0.113.0/25 , 198.51.100.1/32 }``
for loadBalancerSourceRanges, ``ip daddr { 10.96.0.0/12 }`` for the Service CIDRs). A set with
prefixes is an interval set, and nft 1.0.6 merges its elements before it hands them to the
kernel, so ``nft list`` prints the merged intervals (checked with the real nft in a network
namespace):

* ``198.51.100.1/32`` + ``198.51.100.2/32`` -> ``198.51.100.1-198.51.100.2``
* ``10.0.0.0/9`` + ``10.128.0.0/9`` -> ``10.0.0.0/8``; a /24 inside a listed /12 disappears
* an interval of one address prints as the address, one that is exactly a prefix as ``addr/len``,
  anything else as ``first-last``; intervals in address order, ``, `` between them
* a set written with one element loses its braces (nft turns it into a plain comparison); a set
  of several elements that merge into one keeps them (``{ 10.0.0.0/8 }``)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kproxy_tutor.sandbox.ipaddr import IPNetwork

Interval = tuple[int, int]


def merged_intervals(networks: Iterable[IPNetwork]) -> list[Interval]:
    """The networks as sorted, merged ``(first, last)`` address numbers (adjacent ranges join)."""
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
    out: list[list[int]] = []
    for first, last in spans:
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return [(first, last) for first, last in out]


def interval_text(first: int, last: int, version: int) -> str:
    """``10.0.0.1``, ``10.0.0.0/8`` or ``1.2.3.0-1.2.3.2``, as nft prints one interval."""
    address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    if first == last:
        return str(address(first))
    size = last - first + 1
    bits = 32 if version == 4 else 128
    if size & (size - 1) == 0 and first % size == 0:
        return f"{address(first)}/{bits - size.bit_length() + 1}"
    return f"{address(first)}-{address(last)}"


def interval_set_listing(networks: tuple[IPNetwork, ...]) -> str:
    """An anonymous set of CIDRs as ``nft list`` prints it (see the module's notes)."""
    if not networks:
        return "{ }"
    version = networks[0].version
    parts = [interval_text(first, last, version) for first, last in merged_intervals(networks)]
    if len(networks) == 1:
        return parts[0]
    return "{ " + ", ".join(parts) + " }"


def parse_interval(text: str) -> list[IPNetwork]:
    """``a-b``, ``a/len`` or ``a`` back to networks (a range becomes the CIDRs that cover it exactly)."""
    if "-" in text:
        first, _, last = text.partition("-")
        return list(
            ipaddress.summarize_address_range(ipaddress.ip_address(first), ipaddress.ip_address(last))
        )
    return [ipaddress.ip_network(text, strict=False)]


def canonical_networks(networks: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    """The smallest list of CIDRs covering the same addresses: equal for a set as written and as listed."""
    items = list(networks)
    v4 = [n for n in items if n.version == 4]
    v6 = [n for n in items if n.version == 6]
    return tuple(ipaddress.collapse_addresses(v4)) + tuple(ipaddress.collapse_addresses(v6))  # type: ignore[arg-type]
