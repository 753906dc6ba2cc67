"""One service port's share of kube-proxy's nftables table: map elements, service/external/local/firewall chains, endpoint chains, affinity sets.

Follows upstream ``syncProxyRules`` (v1.34–v1.35): the off-cluster masquerade rule matches the
ClusterIP and the source only (k/k PR #131492 dropped the port match, since the chain is only
reached through the map element for that port).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.nftables.family import NFT_IPV4, NftFamily
from kproxy_tutor.sandbox.nftables.names import (
    AFFINITY_PREFIX,
    ENDPOINT_PREFIX,
    EXTERNAL_PREFIX,
    FIREWALL_PREFIX,
    LOCAL_PREFIX,
    SERVICE_PREFIX,
    endpoint_chain_base,
    service_chain_base,
)
from kproxy_tutor.sandbox.nftables.ruleset import Element, NftChain, NftRule, NftSet
from kproxy_tutor.sandbox.nftables.statements import (
    Address,
    AnonSet,
    Dnat,
    FibLocal,
    Match,
    NumgenVmap,
    SetRef,
    SetUpdate,
    Statement,
    Verdict,
    Word,
    address_text,
    to_network,
)
from kproxy_tutor.sandbox.serviceport import ServicePortInfo
from kproxy_tutor.sandbox.topology import categorize_endpoints

MARK_MASQ = Verdict("jump", "mark-for-masquerade")


@dataclass(frozen=True, slots=True)
class NftContext:
    """Node-wide inputs of a sync."""

    node_name: str
    node_labels: tuple[tuple[str, str], ...]
    node_ip: str | None
    masquerade_all: bool
    #: (statement matching pod traffic, statement matching the rest), or None without a detector.
    detector: tuple[Match, Match] | None
    #: The proxier's family: ``ip``/``ip6`` in matches, ``ipv4_addr``/``ipv6_addr`` in set types.
    family: NftFamily = NFT_IPV4


@dataclass(slots=True)
class ServicePortObjects:
    """What one service port adds: map/set elements (by set name), chains and affinity sets."""

    elements: list[tuple[str, Element]] = field(default_factory=list)
    chains: list[NftChain] = field(default_factory=list)
    sets: list[NftSet] = field(default_factory=list)


def build_service_port(
    ctx: NftContext, svc: ServicePortInfo, endpoints: Sequence[EndpointInfo]
) -> ServicePortObjects:
    out = ServicePortObjects()
    spn = svc.name_string
    proto = svc.protocol.lower()
    port = str(svc.port)
    base = service_chain_base(svc.name)
    cluster_chain, local_chain = SERVICE_PREFIX + base, LOCAL_PREFIX + base
    external_chain, fw_chain = EXTERNAL_PREFIX + base, FIREWALL_PREFIX + base
    cat = categorize_endpoints(endpoints, svc, ctx.node_name, dict(ctx.node_labels))
    has_any = cat.has_any
    ep_base = {e.endpoint: endpoint_chain_base(svc.name, e.ip, e.port) for e in cat.all_reachable}
    chains: dict[str, NftChain] = {
        ENDPOINT_PREFIX + ep_base[e.endpoint]: NftChain(ENDPOINT_PREFIX + ep_base[e.endpoint])
        for e in cat.all_reachable
    }

    def chain(name: str) -> NftChain:
        return chains.setdefault(name, NftChain(name))

    uses_cluster = bool(cat.cluster) and svc.uses_cluster_endpoints()
    uses_local = bool(cat.local) and svc.uses_local_endpoints()
    if uses_cluster:
        chain(cluster_chain)
    if uses_local:
        chain(local_chain)
    internal_chain, has_internal = cluster_chain, has_any
    if svc.internal_policy_local:
        internal_chain, has_internal = local_chain, bool(cat.local)
    external_policy_chain, has_external = cluster_chain, has_any
    if svc.external_policy_local:
        external_policy_chain, has_external = local_chain, bool(cat.local)
    uses_external = has_any and svc.externally_accessible()
    if uses_external:
        chain(external_chain)

    if not has_any:
        internal_verdict = external_verdict = "goto reject-chain"
    else:
        internal_verdict = external_verdict = "drop"

    def key(ip: str) -> tuple[str, ...]:
        return (ip, proto, port)

    add = out.elements.append
    # ClusterIP
    if has_internal:
        add(("service-ips", Element(key(svc.cluster_ip), f"goto {internal_chain}")))
    else:
        add(("no-endpoint-services", Element(key(svc.cluster_ip), internal_verdict, spn)))
    # externalIPs
    for ip in svc.external_ips:
        if has_any:
            add(("service-ips", Element(key(ip), f"goto {external_chain}")))
        if not has_external:
            add(("no-endpoint-services", Element(key(ip), external_verdict, spn)))
    # loadBalancerSourceRanges
    vips = svc.load_balancer_vips
    uses_fw = bool(vips) and bool(svc.load_balancer_source_ranges)
    if uses_fw:
        sources = list(svc.load_balancer_source_ranges)
        node_ip = to_network(ctx.node_ip).network_address if ctx.node_ip else None
        if node_ip is not None and any(node_ip in cidr for cidr in sources):
            # A request from this node to a VIP bound locally loops back with the VIP as source.
            sources += [to_network(ip) for ip in vips]
        chain(fw_chain).rules.append(
            NftRule((Match(ctx.family.saddr, AnonSet(tuple(sources)), True), Verdict("drop")))
        )
    # LoadBalancer VIPs
    for ip in vips:
        if has_any:
            add(("service-ips", Element(key(ip), f"goto {external_chain}")))
        if uses_fw:
            # Unlike the no-endpoint maps, upstream gives firewall-ips elements no comment.
            add(("firewall-ips", Element(key(ip), f"goto {fw_chain}")))
    if not has_external:
        for ip in vips:
            add(("no-endpoint-services", Element(key(ip), external_verdict, spn)))
    # NodePort (not subject to loadBalancerSourceRanges, as upstream notes)
    if svc.node_port:
        node_port_key = (proto, str(svc.node_port))
        if has_any:
            add(("service-nodeports", Element(node_port_key, f"goto {external_chain}")))
        if not has_external:
            add(("no-endpoint-nodeports", Element(node_port_key, external_verdict, spn)))
    # Every live ClusterIP, so that other ports of it are rejected rather than dropped.
    add(("cluster-ips", Element((svc.cluster_ip,))))

    # Internal traffic: masquerade what does not come from a Pod.
    if has_internal:
        cip = Match(ctx.family.daddr, Address(address_text(svc.cluster_ip)))
        if ctx.masquerade_all:
            chain(internal_chain).rules.append(NftRule((cip, MARK_MASQ)))
        elif ctx.detector is not None:
            chain(internal_chain).rules.append(NftRule((cip, ctx.detector[1], MARK_MASQ)))
    # External traffic.
    if uses_external:
        rules = chain(external_chain).rules
        if not svc.external_policy_local:
            rules.append(NftRule((MARK_MASQ,)))
        else:
            if ctx.detector is not None:
                rules.append(
                    NftRule((ctx.detector[0], Verdict("goto", cluster_chain)), "short-circuit pod traffic")
                )
            rules.append(NftRule((FibLocal("saddr"), MARK_MASQ), "masquerade local traffic"))
            rules.append(
                NftRule((FibLocal("saddr"), Verdict("goto", cluster_chain)), "short-circuit local traffic")
            )
        if has_external:
            rules.append(NftRule((Verdict("goto", external_policy_chain),)))
    # Session affinity sets.
    if svc.client_ip_affinity:
        for ep in cat.all_reachable:
            out.sets.append(
                NftSet(
                    AFFINITY_PREFIX + ep_base[ep.endpoint],
                    ctx.family.addr_type,
                    flags=("dynamic", "timeout"),
                    timeout=svc.sticky_max_age_seconds,
                )
            )
    if uses_cluster:
        _endpoint_dispatch(chain(cluster_chain), svc, cat.cluster, ep_base, ctx.family)
    if uses_local:
        _endpoint_dispatch(chain(local_chain), svc, cat.local, ep_base, ctx.family)
    for ep in cat.all_reachable:
        rules = chains[ENDPOINT_PREFIX + ep_base[ep.endpoint]].rules
        # Hairpin: a Pod reaching itself through its Service must be masqueraded.
        rules.append(NftRule((Match(ctx.family.saddr, Address(address_text(ep.ip))), MARK_MASQ)))
        if svc.client_ip_affinity:
            rules.append(NftRule((SetUpdate(AFFINITY_PREFIX + ep_base[ep.endpoint], ctx.family.saddr),)))
        statements: tuple[Statement, ...] = (Match("meta l4proto", Word(proto)), Dnat(ep.ip, ep.port))
        rules.append(NftRule(statements))
    out.chains = list(chains.values())
    return out


def _endpoint_dispatch(
    chain: NftChain,
    svc: ServicePortInfo,
    endpoints: Sequence[EndpointInfo],
    ep_base: dict[str, str],
    family: NftFamily = NFT_IPV4,
) -> None:
    """Affinity checks first (one per endpoint), then one random choice among all endpoints."""
    if svc.client_ip_affinity:
        for ep in endpoints:
            base = ep_base[ep.endpoint]
            chain.rules.append(
                NftRule(
                    (
                        Match(family.saddr, SetRef(AFFINITY_PREFIX + base)),
                        Verdict("goto", ENDPOINT_PREFIX + base),
                    )
                )
            )
    targets = tuple(ENDPOINT_PREFIX + ep_base[ep.endpoint] for ep in endpoints)
    chain.rules.append(NftRule((NumgenVmap(len(targets), targets),)))
