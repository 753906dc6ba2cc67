"""The fixed part of kube-proxy's nftables table (v1.34–v1.35 layout): base chains, dispatch chains, sets and maps.

Mirrors upstream ``setupNFTables`` after k/k PR #132456: filter chains before DNAT at priority
-110 for the firewall check, no-endpoint and ClusterIP checks at priority 0 after DNAT.
"""

from __future__ import annotations

from kproxy_tutor.sandbox.ipaddr import IPNetwork
from kproxy_tutor.sandbox.nftables.family import NFT_IPV4, NftFamily
from kproxy_tutor.sandbox.nftables.ruleset import BaseChain, NftChain, NftRule, NftSet, NftTable
from kproxy_tutor.sandbox.nftables.statements import (
    Address,
    AnonSet,
    CtState,
    FibLocal,
    MarkSet,
    MarkTest,
    Masquerade,
    Match,
    SetRef,
    Verdict,
    VmapLookup,
)

IP_KEY = "ipv4_addr . inet_proto . inet_service : verdict"
PORT_KEY = "inet_proto . inet_service : verdict"
DADDR_KEYS = ("ip daddr", "meta l4proto", "th dport")
PORT_KEYS = ("meta l4proto", "th dport")

#: (name, type, hook, priority) in upstream's order.
BASE_CHAINS = (
    ("filter-prerouting-pre-dnat", "filter", "prerouting", -110),
    ("filter-output-pre-dnat", "filter", "output", -110),
    ("filter-input", "filter", "input", 0),
    ("filter-forward", "filter", "forward", 0),
    ("filter-output", "filter", "output", 0),
    ("nat-prerouting", "nat", "prerouting", -100),
    ("nat-output", "nat", "output", -100),
    ("nat-postrouting", "nat", "postrouting", 100),
)
#: (destination chain, base chain, only new connections), in the order of upstream's
#: ``nftablesJumpChains``: setupNFTables creates each destination chain before its first jump,
#: so this is also the order the kernel holds (and ``nft list`` prints) these chains. Each base
#: chain's own rules keep the same order either way.
JUMP_CHAINS = (
    ("nodeport-endpoints-check", "filter-input", True),
    ("service-endpoints-check", "filter-input", True),
    ("service-endpoints-check", "filter-forward", True),
    ("service-endpoints-check", "filter-output", True),
    ("firewall-check", "filter-prerouting-pre-dnat", True),
    ("firewall-check", "filter-output-pre-dnat", True),
    ("services", "nat-output", False),
    ("services", "nat-prerouting", False),
    ("masquerading", "nat-postrouting", False),
    ("cluster-ips-check", "filter-forward", True),
    ("cluster-ips-check", "filter-output", True),
)
SETS = (
    ("cluster-ips", "ipv4_addr", "", "Active ClusterIPs"),
    ("nodeport-ips", "ipv4_addr", "", "IPs that accept NodePort traffic"),
    (
        "firewall-ips",
        "ipv4_addr . inet_proto . inet_service",
        "verdict",
        "destinations that are subject to LoadBalancerSourceRanges",
    ),
    (
        "no-endpoint-nodeports",
        "inet_proto . inet_service",
        "verdict",
        "vmap to drop or reject packets to service nodeports with no endpoints",
    ),
    (
        "no-endpoint-services",
        "ipv4_addr . inet_proto . inet_service",
        "verdict",
        "vmap to drop or reject packets to services with no endpoints",
    ),
    (
        "service-ips",
        "ipv4_addr . inet_proto . inet_service",
        "verdict",
        "ClusterIP, ExternalIP and LoadBalancer IP traffic",
    ),
    ("service-nodeports", "inet_proto . inet_service", "verdict", "NodePort traffic"),
)
REJECT_CHAIN_COMMENT = "helper for @no-endpoint-services / @no-endpoint-nodeports"


def _rule(*statements: object, comment: str | None = None) -> NftRule:
    return NftRule(tuple(statements), comment)  # type: ignore[arg-type]


def nodeport_match(match_all: bool, family: NftFamily = NFT_IPV4) -> tuple[object, ...]:
    """How a packet to a NodePort is recognised: ``@nodeport-ips``, or every local address but localhost."""
    if match_all:
        return (FibLocal("daddr"), Match(family.daddr, Address(family.loopback), True))
    return (Match(family.daddr, SetRef("nodeport-ips")),)


def base_table(
    mark: int,
    service_cidrs: tuple[IPNetwork, ...],
    node_port_ips: list[str] | None,
    fully_random: bool = True,
    family: NftFamily = NFT_IPV4,
) -> NftTable:
    """The table with everything that does not depend on Services; ``node_port_ips`` None = all local IPs.

    ``family`` gives ``table ip6 kube-proxy`` for the IPv6 proxier (``ip6 daddr``, ``ipv6_addr``, ``::1``).
    """
    table = NftTable(family.ip, "kube-proxy", "rules for kube-proxy")
    match_all = node_port_ips is None
    daddr_keys = (family.daddr, *DADDR_KEYS[1:])
    for name, key, value, comment in SETS:
        if name == "nodeport-ips" and match_all:
            continue
        table.sets[name] = NftSet(name, family.typed(key), value, comment=comment)
    for name, type_, hook, priority in BASE_CHAINS:
        table.chains[name] = NftChain(name, BaseChain(type_, hook, priority))
    for name in (
        "cluster-ips-check",
        "firewall-check",
        "mark-for-masquerade",
        "masquerading",
        "nodeport-endpoints-check",
        "services",
        "service-endpoints-check",
    ):
        table.chains[name] = NftChain(name)
    table.chains["reject-chain"] = NftChain("reject-chain", comment=REJECT_CHAIN_COMMENT)
    for target, source, new_only in JUMP_CHAINS:
        statements = (CtState(("new",)), Verdict("jump", target)) if new_only else (Verdict("jump", target),)
        table.chains[source].rules.append(_rule(*statements))
    chains = table.chains
    chains["cluster-ips-check"].rules.append(
        _rule(
            Match(family.daddr, SetRef("cluster-ips")),
            Verdict("reject"),
            comment="Reject traffic to invalid ports of ClusterIPs",
        )
    )
    if service_cidrs:
        # Upstream writes this rule only when the family has a ServiceCIDR.
        chains["cluster-ips-check"].rules.append(
            _rule(
                Match(family.daddr, AnonSet(service_cidrs)),
                Verdict("drop"),
                comment="Drop traffic to unallocated ClusterIPs",
            )
        )
    chains["firewall-check"].rules.append(_rule(VmapLookup(daddr_keys, "firewall-ips")))
    chains["mark-for-masquerade"].rules.append(_rule(MarkSet("or", mark)))
    chains["masquerading"].rules += [
        _rule(MarkTest(mark, 0), Verdict("return")),
        _rule(MarkSet("xor", mark)),
        _rule(Masquerade(fully_random)),
    ]
    # Only filter-input jumps here, so every packet is for a local address already: with all
    # addresses accepting NodePorts, upstream writes no "fib daddr type local" in this chain.
    endpoints_check = (
        nodeport_match(match_all, family)[1:] if match_all else nodeport_match(match_all, family)
    )
    chains["nodeport-endpoints-check"].rules.append(
        _rule(*endpoints_check, VmapLookup(PORT_KEYS, "no-endpoint-nodeports"))
    )
    chains["reject-chain"].rules.append(_rule(Verdict("reject")))
    chains["services"].rules += [
        _rule(VmapLookup(daddr_keys, "service-ips")),
        _rule(*nodeport_match(match_all, family), VmapLookup(PORT_KEYS, "service-nodeports")),
    ]
    chains["service-endpoints-check"].rules.append(_rule(VmapLookup(daddr_keys, "no-endpoint-services")))
    if node_port_ips:
        from kproxy_tutor.sandbox.nftables.ruleset import Element

        table.sets["nodeport-ips"].elements.extend(Element((ip,)) for ip in node_port_ips)
    return table
