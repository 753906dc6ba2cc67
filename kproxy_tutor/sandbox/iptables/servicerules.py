"""The rules of one service port, in the order upstream's ``syncProxyRules`` writes them (reference §5).

Each rule is two strings: the restore line exactly as kube-proxy writes it (comment quoting,
token order, 10-digit probabilities) and the line ``iptables-save`` prints for the rule the
kernel then holds (canonical order, /32 hosts, the kernel's 11-digit probabilities). Both
come from templates filled once per service port; structured ``Rule`` objects are only
built from the lines when something inspects a chain (``Chain.rules``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType

from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.iptables.names import (
    endpoint_chain_names,
    port_proto_hash,
    probability_text,
    probability_value,
)
from kproxy_tutor.sandbox.iptables.spelling import PROBABILITY_SCALE, save_string
from kproxy_tutor.sandbox.serviceport import ServicePortInfo
from kproxy_tutor.sandbox.topology import categorize_endpoints

LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts"
INVALID_DROP_COUNTER = "ct_state_invalid_dropped_pkts"
#: The target text of a rule in each spelling: (restore, save).
REJECT = ("REJECT", "REJECT --reject-with icmp-port-unreachable")
DROP = ("DROP", "DROP")
ACCEPT = ("ACCEPT", "ACCEPT")
MARK_MASQ = "KUBE-MARK-MASQ"


# The bits that depend on the IP family, in one place ----------------------------------------
def host_cidr(ip: str) -> str:
    """A host address as iptables-save prints it (``10.0.0.1/32``, ``fd00::1/128``)."""
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


def address(text: str) -> str:
    """A host IP (canonical already) or a CIDR as iptables-save prints it."""
    if "/" not in text:
        return host_cidr(text)
    return _cidr(text)


@lru_cache(maxsize=4096)
def _cidr(text: str) -> str:
    return str(ipaddress.ip_network(text, strict=False))


# --------------------------------------------------------------------------------------------
def quoted(text: str) -> str:
    """A comment as kube-proxy quotes it in the restore payload."""
    return f'"{text}"'


@cache
def _statistic(n: int) -> tuple[str, str]:
    """The statistic match of the jump to the first of ``n`` remaining endpoints: (restore, save)."""
    return (
        f"-m statistic --mode random --probability {probability_text(n)} ",
        f"-m statistic --mode random --probability {probability_value(n) / PROBABILITY_SCALE:.11f} ",
    )


@lru_cache(maxsize=64)
def _node_labels(labels: tuple[tuple[str, str], ...]) -> MappingProxyType[str, str]:
    return MappingProxyType(dict(labels))


@dataclass(frozen=True, slots=True)
class LocalDetector:
    """How kube-proxy tells pod traffic from the rest (``--detect-local-mode``): the rule text it adds.

    ``local``/``not_local`` are the restore spellings; ``save_local``/``save_not_local`` the
    iptables-save ones, which go before ``-d`` for a source CIDR and after it for an interface.
    """

    local: str
    not_local: str
    save_local: str
    save_not_local: str
    by_source: bool

    @staticmethod
    def by_cidr(cidr: str) -> LocalDetector:
        canonical = _cidr(cidr)
        return LocalDetector(f"-s {cidr}", f"! -s {cidr}", f"-s {canonical}", f"! -s {canonical}", True)

    @staticmethod
    def by_interface(name: str) -> LocalDetector:
        return LocalDetector(f"-i {name}", f"! -i {name}", f"-i {name}", f"! -i {name}", False)


@dataclass(frozen=True, slots=True)
class SyncContext:
    """Node-wide inputs of a sync; any change to them forces a full sync."""

    node_name: str
    node_labels: tuple[tuple[str, str], ...]
    node_ip: str | None
    masquerade_all: bool
    detector: LocalDetector | None
    localhost_node_ports: bool
    nfacct: bool
    large_cluster_mode: bool = False
    #: ``-j REJECT`` as (kube-proxy's spelling, what the family's kernel holds: icmp6-port-unreachable for IPv6).
    reject: tuple[str, str] = REJECT
    #: ``-m recent --mask`` as the family's kernel prints it (all ones: the whole address).
    recent_mask: str = "255.255.255.255"


@dataclass(slots=True)
class ServicePortRules:
    """One service port's share of the payload: restore lines and, at the same positions, save lines."""

    filter_lines: list[str] = field(default_factory=list)
    filter_saves: list[str] = field(default_factory=list)
    nat_lines: list[str] = field(default_factory=list)
    nat_saves: list[str] = field(default_factory=list)
    #: Per-service chains (EXT, FW, SVC, SVL, SEP) and their rules: skipped in a partial sync
    #: when the Service did not change.
    chains: list[str] = field(default_factory=list)
    chain_lines: list[str] = field(default_factory=list)
    chain_saves: list[str] = field(default_factory=list)


def build_service_port_rules(
    ctx: SyncContext, svc: ServicePortInfo, endpoints: Sequence[EndpointInfo]
) -> ServicePortRules:
    out = ServicePortRules()
    spn = svc.name_string
    p = svc.protocol.lower()
    token = port_proto_hash(spn, p)
    svc_chain = f"KUBE-SVC-{token}"
    svl_chain = f"KUBE-SVL-{token}"
    ext_chain = f"KUBE-EXT-{token}"
    fw_chain = f"KUBE-FW-{token}"
    cat = categorize_endpoints(endpoints, svc, ctx.node_name, _node_labels(ctx.node_labels))
    has_any = cat.has_any
    internal_chain, has_internal = svc_chain, has_any
    if svc.internal_policy_local:
        internal_chain, has_internal = svl_chain, has_any and bool(cat.local)
    external_policy_chain, has_external = svc_chain, has_any
    if svc.external_policy_local:
        external_policy_chain, has_external = svl_chain, has_any and bool(cat.local)
    uses_ext = has_any and svc.externally_accessible()
    vips = svc.load_balancer_vips
    uses_fw = has_any and bool(vips) and bool(svc.load_balancer_source_ranges)
    lb_chain = fw_chain if uses_fw else ext_chain

    if not has_any:
        internal_filter = external_filter = ctx.reject
        internal_comment = external_comment = f"{spn} has no endpoints"
    else:
        internal_filter = external_filter = DROP
        internal_comment = external_comment = f"{spn} has no local endpoints"

    # Comments: quoted as iptables-save does only when needed (names never hold quotes).
    plain = not any(c in spn for c in "\\\"'")
    q = (lambda text: f'"{text}"') if plain else save_string
    q_spn = save_string(spn)
    port = svc.port
    m_p = f"-m {p} -p {p}"
    cip = svc.cluster_ip
    cip_comment = f"{spn} cluster IP"
    cip_spell = f'-m comment --comment "{cip_comment}" {m_p} -d {cip} --dport {port}'
    cip_save_tail = f"-p {p} -m comment --comment {q(cip_comment)} -m {p} --dport {port}"
    cip_host = host_cidr(cip)
    filter_lines, filter_saves = out.filter_lines, out.filter_saves
    nat_lines, nat_saves = out.nat_lines, out.nat_saves

    def address_rule(
        lines: list[str], saves: list[str], chain: str, comment: str, target: tuple[str, str], dst: str
    ) -> None:
        """A rule for ``dst``:PORT of this Service port (capture in nat, REJECT/DROP in filter)."""
        lines.append(
            f'-A {chain} -m comment --comment "{comment}" {m_p} -d {dst} --dport {port} -j {target[0]}'
        )
        saves.append(
            f"-A {chain} -d {address(dst)} -p {p} -m comment --comment {q(comment)} -m {p} --dport {port} "
            f"-j {target[1]}"
        )

    # 5.1 ClusterIP
    if has_internal:
        nat_lines.append(f"-A KUBE-SERVICES {cip_spell} -j {internal_chain}")
        nat_saves.append(f"-A KUBE-SERVICES -d {cip_host} {cip_save_tail} -j {internal_chain}")
    else:
        address_rule(filter_lines, filter_saves, "KUBE-SERVICES", internal_comment, internal_filter, cip)
    # 5.2 externalIPs
    for ip in svc.external_ips:
        if has_any:
            address_rule(
                nat_lines, nat_saves, "KUBE-SERVICES", f"{spn} external IP", (ext_chain, ext_chain), ip
            )
        if not has_external:
            address_rule(
                filter_lines, filter_saves, "KUBE-EXTERNAL-SERVICES", external_comment, external_filter, ip
            )
    # 5.3 LoadBalancer VIPs
    for ip in vips:
        if has_any:
            address_rule(
                nat_lines, nat_saves, "KUBE-SERVICES", f"{spn} loadbalancer IP", (lb_chain, lb_chain), ip
            )
        if uses_fw:
            address_rule(
                filter_lines,
                filter_saves,
                "KUBE-PROXY-FIREWALL",
                f"{spn} traffic not accepted by {fw_chain}",
                DROP,
                ip,
            )
    if not has_external:
        for ip in vips:
            address_rule(
                filter_lines, filter_saves, "KUBE-EXTERNAL-SERVICES", external_comment, external_filter, ip
            )
    # 5.4 NodePort
    node_port = svc.node_port
    if node_port:
        if has_any:
            if ctx.localhost_node_ports and ctx.nfacct:
                nat_lines.append(
                    f"-A KUBE-NODEPORTS -m comment --comment {spn} {m_p} -d 127.0.0.0/8 --dport {node_port} "
                    f"-m nfacct --nfacct-name {LOCALHOST_NODEPORT_COUNTER} -j {ext_chain}"
                )
                nat_saves.append(
                    f"-A KUBE-NODEPORTS -d 127.0.0.0/8 -p {p} -m comment --comment {q_spn} -m {p} "
                    f"--dport {node_port} -m nfacct --nfacct-name  {LOCALHOST_NODEPORT_COUNTER} -j {ext_chain}"
                )
            nat_lines.append(
                f"-A KUBE-NODEPORTS -m comment --comment {spn} {m_p} --dport {node_port} -j {ext_chain}"
            )
            nat_saves.append(
                f"-A KUBE-NODEPORTS -p {p} -m comment --comment {q_spn} -m {p} --dport {node_port} -j {ext_chain}"
            )
        if not has_external:
            filter_lines.append(
                f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{external_comment}" -m addrtype --dst-type LOCAL '
                f"{m_p} --dport {node_port} -j {external_filter[0]}"
            )
            filter_saves.append(
                f"-A KUBE-EXTERNAL-SERVICES -p {p} -m comment --comment {q(external_comment)} "
                f"-m addrtype --dst-type LOCAL -m {p} --dport {node_port} -j {external_filter[1]}"
            )
    # 5.5 health check node port
    hc = svc.health_check_node_port
    if hc:
        comment = f"{spn} health check node port"
        filter_lines.append(
            f'-A KUBE-NODEPORTS -m comment --comment "{comment}" -m tcp -p tcp --dport {hc} -j ACCEPT'
        )
        filter_saves.append(
            f"-A KUBE-NODEPORTS -p tcp -m comment --comment {q(comment)} -m tcp --dport {hc} -j ACCEPT"
        )

    lines, saves = out.chain_lines, out.chain_saves
    detector = ctx.detector
    # 5.6 masquerade off-cluster traffic to the ClusterIP
    if has_internal:
        if ctx.masquerade_all:
            lines.append(f"-A {internal_chain} {cip_spell} -j {MARK_MASQ}")
            saves.append(f"-A {internal_chain} -d {cip_host} {cip_save_tail} -j {MARK_MASQ}")
        elif detector is not None:
            lines.append(f"-A {internal_chain} {cip_spell} {detector.not_local} -j {MARK_MASQ}")
            if detector.by_source:
                saves.append(
                    f"-A {internal_chain} {detector.save_not_local} -d {cip_host} {cip_save_tail} -j {MARK_MASQ}"
                )
            else:
                saves.append(
                    f"-A {internal_chain} -d {cip_host} {detector.save_not_local} {cip_save_tail} -j {MARK_MASQ}"
                )
    # 5.7 EXT
    if uses_ext:
        out.chains.append(ext_chain)
        if not svc.external_policy_local:
            comment = f"masquerade traffic for {spn} external destinations"
            lines.append(f'-A {ext_chain} -m comment --comment "{comment}" -j {MARK_MASQ}')
            saves.append(f"-A {ext_chain} -m comment --comment {q(comment)} -j {MARK_MASQ}")
        else:
            if detector is not None:
                comment = f"pod traffic for {spn} external destinations"
                lines.append(
                    f'-A {ext_chain} -m comment --comment "{comment}" {detector.local} -j {svc_chain}'
                )
                saves.append(
                    f"-A {ext_chain} {detector.save_local} -m comment --comment {q(comment)} -j {svc_chain}"
                )
            comment = f"masquerade LOCAL traffic for {spn} external destinations"
            lines.append(
                f'-A {ext_chain} -m comment --comment "{comment}" -m addrtype --src-type LOCAL -j {MARK_MASQ}'
            )
            saves.append(
                f"-A {ext_chain} -m comment --comment {q(comment)} -m addrtype --src-type LOCAL -j {MARK_MASQ}"
            )
            comment = f"route LOCAL traffic for {spn} external destinations"
            lines.append(
                f'-A {ext_chain} -m comment --comment "{comment}" -m addrtype --src-type LOCAL -j {svc_chain}'
            )
            saves.append(
                f"-A {ext_chain} -m comment --comment {q(comment)} -m addrtype --src-type LOCAL -j {svc_chain}"
            )
        if has_external:
            lines.append(f"-A {ext_chain} -j {external_policy_chain}")
            saves.append(f"-A {ext_chain} -j {external_policy_chain}")
    # 5.8 FW
    if uses_fw:
        out.chains.append(fw_chain)
        comment = f"{spn} loadbalancer IP"
        head = f'-A {fw_chain} -m comment --comment "{comment}"'
        save_comment = f"-m comment --comment {q(comment)}"
        allow_from_node = False
        node_ip = ipaddress.ip_address(ctx.node_ip) if ctx.node_ip else None
        for network in svc.load_balancer_source_ranges:
            lines.append(f"{head} -s {network} -j {ext_chain}")
            saves.append(f"-A {fw_chain} -s {address(str(network))} {save_comment} -j {ext_chain}")
            if node_ip is not None and node_ip in network:
                allow_from_node = True
        if allow_from_node:
            for ip in vips:
                lines.append(f"{head} -s {ip} -j {ext_chain}")
                saves.append(f"-A {fw_chain} -s {address(ip)} {save_comment} -j {ext_chain}")
        comment = f"other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL"
        lines.append(f'-A {fw_chain} -m comment --comment "{comment}"')
        saves.append(f"-A {fw_chain} -m comment --comment {q(comment)}")
    # 5.9 SVC / SVL
    # One chain name per endpoint, shared by the SVC and SVL rules that use it.
    seps = endpoint_chain_names(spn + p, [e.endpoint for e in cat.all_reachable])
    for uses, chain, eps in (
        (bool(cat.cluster) and svc.uses_cluster_endpoints(), svc_chain, cat.cluster),
        (bool(cat.local) and svc.uses_local_endpoints(), svl_chain, cat.local),
    ):
        if uses:
            out.chains.append(chain)
            _endpoint_jumps(ctx, svc, spn, q, chain, eps, seps, lines, saves)
    # 5.10 SEP
    if ctx.large_cluster_mode:
        head = save_head = ""
    else:
        head = f"-m comment --comment {spn} "
        save_head = f"-m comment --comment {q_spn} "
    affinity = svc.client_ip_affinity
    for ep in cat.all_reachable:
        endpoint = ep.endpoint
        sep = seps[endpoint]
        out.chains.append(sep)
        ip = ep.ip
        lines.append(f"-A {sep} {head}-s {ip} -j {MARK_MASQ}")
        saves.append(f"-A {sep} -s {host_cidr(ip)} {save_head}-j {MARK_MASQ}")
        if affinity:
            lines.append(
                f"-A {sep} {head}-m recent --name {sep} --set {m_p} -j DNAT --to-destination {endpoint}"
            )
            saves.append(
                f"-A {sep} -p {p} {save_head}-m recent --set --name {sep} --mask {ctx.recent_mask} --rsource "
                f"-m {p} -j DNAT --to-destination {endpoint}"
            )
        else:
            lines.append(f"-A {sep} {head}{m_p} -j DNAT --to-destination {endpoint}")
            saves.append(f"-A {sep} -p {p} {save_head}-m {p} -j DNAT --to-destination {endpoint}")
    return out


def _endpoint_jumps(
    ctx: SyncContext,
    svc: ServicePortInfo,
    spn: str,
    q,  # type: ignore[no-untyped-def]
    chain: str,
    endpoints: Sequence[EndpointInfo],
    seps: dict[str, str],
    lines: list[str],
    saves: list[str],
) -> None:
    """Affinity checks first, then one statistic rule per endpoint; the last jump is unconditional."""
    large = ctx.large_cluster_mode
    if svc.client_ip_affinity:
        seconds = svc.sticky_max_age_seconds
        for ep in endpoints:
            sep = seps[ep.endpoint]
            tail = f"-m recent --name {sep} --rcheck --seconds {seconds} --reap -j {sep}"
            save_tail = (
                f"-m recent --rcheck --seconds {seconds} --reap --name {sep} --mask {ctx.recent_mask} "
                f"--rsource -j {sep}"
            )
            if large:
                lines.append(f"-A {chain} {tail}")
                saves.append(f"-A {chain} {save_tail}")
            else:
                text = f"{spn} -> {ep.endpoint}"
                lines.append(f'-A {chain} -m comment --comment "{text}" {tail}')
                saves.append(f"-A {chain} -m comment --comment {q(text)} {save_tail}")
    last = len(endpoints) - 1
    for i, ep in enumerate(endpoints):
        endpoint = ep.endpoint
        sep = seps[endpoint]
        if i < last:
            statistic, save_statistic = _statistic(last + 1 - i)
        else:
            statistic = save_statistic = ""
        if large:
            lines.append(f"-A {chain} {statistic}-j {sep}")
            saves.append(f"-A {chain} {save_statistic}-j {sep}")
        else:
            text = f"{spn} -> {endpoint}"
            lines.append(f'-A {chain} -m comment --comment "{text}" {statistic}-j {sep}')
            saves.append(f"-A {chain} -m comment --comment {q(text)} {save_statistic}-j {sep}")
