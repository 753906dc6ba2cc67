"""The rules of one service port, in the order upstream's ``syncProxyRules`` writes them (reference §5).

Each rule carries its typed parts and its spelling: the exact argument text kube-proxy puts in
the restore payload (comment quoting, token order, 10-digit probabilities).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType

from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.iptables.names import (
    endpoint_chain_name,
    port_proto_hash,
    probability_text,
    probability_value,
)
from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    AddrTypeMatch,
    CommentMatch,
    Dnat,
    InterfaceMatch,
    Jump,
    ModuleMatch,
    NfacctMatch,
    PortMatch,
    PortRange,
    ProtocolMatch,
    RecentMatch,
    Reject,
    Rule,
    StatisticMatch,
    Target,
    Verdict,
    make_rule,
)
from kproxy_tutor.sandbox.serviceport import ServicePortInfo
from kproxy_tutor.sandbox.topology import categorize_endpoints

MARK_MASQ = Jump("KUBE-MARK-MASQ")
DROP = Verdict("DROP")
ACCEPT = Verdict("ACCEPT")
REJECT = Reject()
LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts"
INVALID_DROP_COUNTER = "ct_state_invalid_dropped_pkts"
_DST_LOCAL = AddrTypeMatch(dst_type="LOCAL")
_SRC_LOCAL = AddrTypeMatch(src_type="LOCAL")
_LOCALHOST_NPS = NfacctMatch(LOCALHOST_NODEPORT_COUNTER)
# A full sync makes a few of these per endpoint (see ``fastinit``).
_jump = fast_constructor(Jump)
_comment = fast_constructor(CommentMatch)
_dnat = fast_constructor(Dnat)


def address(text: str, negated: bool = False) -> AddressMatch:
    """A host IP (canonical already) or a CIDR, as the compiler writes them."""
    if "/" not in text:
        return AddressMatch.host(text, negated)
    return _cidr(text, negated)


@lru_cache(maxsize=4096)
def _cidr(text: str, negated: bool) -> AddressMatch:
    return AddressMatch.parse(text, negated)


@cache
def protocol_match(protocol: str) -> ProtocolMatch:
    return ProtocolMatch(protocol)


@cache
def port_match(protocol: str, port: int | None) -> PortMatch:
    return PortMatch(protocol, PortRange(port, port) if port is not None else None)


@cache
def _statistic(n: int) -> tuple[StatisticMatch, str]:
    """The match and spelling of the jump to the first of ``n`` remaining endpoints (shared: values are immutable)."""
    return (
        StatisticMatch("random", probability_value(n)),
        f"-m statistic --mode random --probability {probability_text(n)} ",
    )


@lru_cache(maxsize=64)
def _node_labels(labels: tuple[tuple[str, str], ...]) -> MappingProxyType[str, str]:
    return MappingProxyType(dict(labels))


@dataclass(frozen=True, slots=True)
class LocalDetector:
    """How kube-proxy tells pod traffic from the rest (``--detect-local-mode``)."""

    local_spelling: str
    not_local_spelling: str
    source: AddressMatch | None = None
    interface: InterfaceMatch | None = None

    @staticmethod
    def by_cidr(cidr: str) -> LocalDetector:
        return LocalDetector(f"-s {cidr}", f"! -s {cidr}", source=address(cidr))

    @staticmethod
    def by_interface(name: str) -> LocalDetector:
        return LocalDetector(f"-i {name}", f"! -i {name}", interface=InterfaceMatch(name))

    def rule(
        self,
        chain: str,
        negated: bool,
        spelling_head: str,
        matches: tuple[ModuleMatch, ...],
        target: Target,
        protocol: ProtocolMatch | None = None,
        destination: AddressMatch | None = None,
    ) -> Rule:
        detector = self.not_local_spelling if negated else self.local_spelling
        source = AddressMatch(self.source.cidr, negated) if self.source is not None else None
        interface = InterfaceMatch(self.interface.name, negated) if self.interface is not None else None
        return make_rule(
            chain,
            source,
            destination,
            interface,
            None,
            protocol,
            matches,
            target,
            f"{spelling_head} {detector} -j {_target_text(target)}",
        )


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
    #: ``-j REJECT`` as the family's kernel holds it (icmp6-port-unreachable for IPv6).
    reject: Reject = REJECT
    #: ``-m recent --mask`` as the family's kernel prints it (all ones: the whole address).
    recent_mask: str = "255.255.255.255"


@dataclass(slots=True)
class ServicePortRules:
    """One service port's share of the payload."""

    filter_rules: list[Rule] = field(default_factory=list)
    nat_rules: list[Rule] = field(default_factory=list)
    #: Per-service chains (EXT, FW, SVC, SVL, SEP) and their rules: skipped in a partial sync
    #: when the Service did not change.
    chains: list[str] = field(default_factory=list)
    chain_rules: list[Rule] = field(default_factory=list)


def _target_text(target: Target) -> str:
    return (
        target.chain
        if isinstance(target, Jump)
        else ("REJECT" if isinstance(target, Reject) else target.verdict)
    )  # type: ignore[union-attr]


def _quoted(text: str) -> str:
    return f'"{text}"'


def build_service_port_rules(
    ctx: SyncContext, svc: ServicePortInfo, endpoints: Sequence[EndpointInfo]
) -> ServicePortRules:
    out = ServicePortRules()
    spn = svc.name_string
    p = svc.protocol.lower()
    token = port_proto_hash(spn, p)
    svc_chain, svl_chain, ext_chain, fw_chain = (
        f"KUBE-{kind}-{token}" for kind in ("SVC", "SVL", "EXT", "FW")
    )
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
        internal_filter: Target = ctx.reject
        internal_comment = external_comment = f"{spn} has no endpoints"
        external_filter: Target = ctx.reject
    else:
        internal_filter = external_filter = DROP
        internal_comment = external_comment = f"{spn} has no local endpoints"

    proto = protocol_match(p)
    dport = port_match(p, svc.port)
    m_p = f"-m {p} -p {p}"
    cluster_ip_comment = _comment(f"{spn} cluster IP")
    cip_spell = f'-m comment --comment "{spn} cluster IP" {m_p} -d {svc.cluster_ip} --dport {svc.port}'
    cip = address(svc.cluster_ip)

    def address_rule(chain: str, comment: str, target: Target, dst: str) -> Rule:
        """A rule for ``dst``:PORT of this Service port (capture in nat, REJECT/DROP in filter)."""
        return make_rule(
            chain,
            None,
            address(dst),
            None,
            None,
            proto,
            (CommentMatch(comment), dport),
            target,
            f'-m comment --comment "{comment}" {m_p} -d {dst} --dport {svc.port} -j {_target_text(target)}',
        )

    # 5.1 ClusterIP
    if has_internal:
        out.nat_rules.append(
            make_rule(
                "KUBE-SERVICES",
                None,
                cip,
                None,
                None,
                proto,
                (cluster_ip_comment, dport),
                _jump(internal_chain),
                f"{cip_spell} -j {internal_chain}",
            )
        )
    else:
        out.filter_rules.append(
            address_rule("KUBE-SERVICES", internal_comment, internal_filter, svc.cluster_ip)
        )
    # 5.2 externalIPs
    for ip in svc.external_ips:
        if has_any:
            out.nat_rules.append(address_rule("KUBE-SERVICES", f"{spn} external IP", Jump(ext_chain), ip))
        if not has_external:
            out.filter_rules.append(
                address_rule("KUBE-EXTERNAL-SERVICES", external_comment, external_filter, ip)
            )
    # 5.3 LoadBalancer VIPs
    for ip in vips:
        if has_any:
            out.nat_rules.append(address_rule("KUBE-SERVICES", f"{spn} loadbalancer IP", Jump(lb_chain), ip))
        if uses_fw:
            out.filter_rules.append(
                address_rule("KUBE-PROXY-FIREWALL", f"{spn} traffic not accepted by {fw_chain}", DROP, ip)
            )
    if not has_external:
        for ip in vips:
            out.filter_rules.append(
                address_rule("KUBE-EXTERNAL-SERVICES", external_comment, external_filter, ip)
            )
    # 5.4 NodePort
    if svc.node_port:
        node_port = port_match(p, svc.node_port)
        if has_any:
            comment = CommentMatch(spn)
            if ctx.localhost_node_ports and ctx.nfacct:
                out.nat_rules.append(
                    make_rule(
                        "KUBE-NODEPORTS",
                        None,
                        address("127.0.0.0/8"),
                        None,
                        None,
                        proto,
                        (comment, node_port, _LOCALHOST_NPS),
                        Jump(ext_chain),
                        f"-m comment --comment {spn} {m_p} -d 127.0.0.0/8 --dport {svc.node_port} "
                        f"-m nfacct --nfacct-name {LOCALHOST_NODEPORT_COUNTER} -j {ext_chain}",
                    )
                )
            out.nat_rules.append(
                make_rule(
                    "KUBE-NODEPORTS",
                    None,
                    None,
                    None,
                    None,
                    proto,
                    (comment, node_port),
                    Jump(ext_chain),
                    f"-m comment --comment {spn} {m_p} --dport {svc.node_port} -j {ext_chain}",
                )
            )
        if not has_external:
            out.filter_rules.append(
                make_rule(
                    "KUBE-EXTERNAL-SERVICES",
                    None,
                    None,
                    None,
                    None,
                    proto,
                    (CommentMatch(external_comment), _DST_LOCAL, node_port),
                    external_filter,
                    f'-m comment --comment "{external_comment}" -m addrtype --dst-type LOCAL {m_p} '
                    f"--dport {svc.node_port} -j {_target_text(external_filter)}",
                )
            )
    # 5.5 health check node port
    if svc.health_check_node_port:
        comment = f"{spn} health check node port"
        out.filter_rules.append(
            make_rule(
                "KUBE-NODEPORTS",
                None,
                None,
                None,
                None,
                protocol_match("tcp"),
                (CommentMatch(comment), port_match("tcp", svc.health_check_node_port)),
                ACCEPT,
                f'-m comment --comment "{comment}" -m tcp -p tcp --dport {svc.health_check_node_port} -j ACCEPT',
            )
        )

    rules = out.chain_rules
    # 5.6 masquerade off-cluster traffic to the ClusterIP
    if has_internal:
        if ctx.masquerade_all:
            rules.append(
                make_rule(
                    internal_chain,
                    None,
                    cip,
                    None,
                    None,
                    proto,
                    (cluster_ip_comment, dport),
                    MARK_MASQ,
                    f"{cip_spell} -j KUBE-MARK-MASQ",
                )
            )
        elif ctx.detector is not None:
            rules.append(
                ctx.detector.rule(
                    internal_chain,
                    True,
                    cip_spell,
                    (cluster_ip_comment, dport),
                    MARK_MASQ,
                    protocol=proto,
                    destination=cip,
                )
            )
    # 5.7 EXT
    if uses_ext:
        out.chains.append(ext_chain)
        if not svc.external_policy_local:
            comment = f"masquerade traffic for {spn} external destinations"
            rules.append(
                make_rule(
                    ext_chain,
                    matches=(CommentMatch(comment),),
                    target=MARK_MASQ,
                    spelling=f'-m comment --comment "{comment}" -j KUBE-MARK-MASQ',
                )
            )
        else:
            if ctx.detector is not None:
                comment = f"pod traffic for {spn} external destinations"
                rules.append(
                    ctx.detector.rule(
                        ext_chain,
                        False,
                        f'-m comment --comment "{comment}"',
                        (CommentMatch(comment),),
                        Jump(svc_chain),
                    )
                )
            comment = f"masquerade LOCAL traffic for {spn} external destinations"
            rules.append(
                make_rule(
                    ext_chain,
                    matches=(CommentMatch(comment), _SRC_LOCAL),
                    target=MARK_MASQ,
                    spelling=f'-m comment --comment "{comment}" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
                )
            )
            comment = f"route LOCAL traffic for {spn} external destinations"
            rules.append(
                make_rule(
                    ext_chain,
                    matches=(CommentMatch(comment), _SRC_LOCAL),
                    target=Jump(svc_chain),
                    spelling=f'-m comment --comment "{comment}" -m addrtype --src-type LOCAL -j {svc_chain}',
                )
            )
        if has_external:
            rules.append(
                make_rule(
                    ext_chain, target=Jump(external_policy_chain), spelling=f"-j {external_policy_chain}"
                )
            )
    # 5.8 FW
    if uses_fw:
        out.chains.append(fw_chain)
        comment = CommentMatch(f"{spn} loadbalancer IP")
        head = f'-m comment --comment "{spn} loadbalancer IP"'
        allow_from_node = False
        node_ip = ipaddress.ip_address(ctx.node_ip) if ctx.node_ip else None
        for network in svc.load_balancer_source_ranges:
            rules.append(
                make_rule(
                    fw_chain,
                    address(str(network)),
                    matches=(comment,),
                    target=Jump(ext_chain),
                    spelling=f"{head} -s {network} -j {ext_chain}",
                )
            )
            if node_ip is not None and node_ip in network:
                allow_from_node = True
        if allow_from_node:
            for ip in vips:
                rules.append(
                    make_rule(
                        fw_chain,
                        address(ip),
                        matches=(comment,),
                        target=Jump(ext_chain),
                        spelling=f"{head} -s {ip} -j {ext_chain}",
                    )
                )
        comment_text = f"other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL"
        rules.append(
            make_rule(
                fw_chain,
                matches=(CommentMatch(comment_text),),
                spelling=f'-m comment --comment "{comment_text}"',
            )
        )
    # 5.9 SVC / SVL
    # One chain name and one jump per endpoint, shared by the SVC and SVL rules that use them.
    seps = {e.endpoint: endpoint_chain_name(spn, p, e.endpoint) for e in cat.all_reachable}
    jumps = {endpoint: _jump(sep) for endpoint, sep in seps.items()}
    for uses, chain, eps in (
        (bool(cat.cluster) and svc.uses_cluster_endpoints(), svc_chain, cat.cluster),
        (bool(cat.local) and svc.uses_local_endpoints(), svl_chain, cat.local),
    ):
        if uses:
            out.chains.append(chain)
            _endpoint_jumps(ctx, svc, spn, chain, eps, seps, jumps, rules)
    # 5.10 SEP
    dnat_matches: tuple[ModuleMatch, ...]
    if ctx.large_cluster_mode:
        matches: tuple[ModuleMatch, ...] = ()
        head = ""
    else:
        matches = (_comment(spn),)
        head = f"-m comment --comment {spn} "
    dnat_matches = (*matches, port_match(p, None))
    for ep in cat.all_reachable:
        endpoint = ep.endpoint
        sep = seps[endpoint]
        out.chains.append(sep)
        rules.append(
            make_rule(
                sep,
                address(ep.ip),
                None,
                None,
                None,
                None,
                matches,
                MARK_MASQ,
                f"{head}-s {ep.ip} -j KUBE-MARK-MASQ",
            )
        )
        if svc.client_ip_affinity:
            rules.append(
                make_rule(
                    sep,
                    None,
                    None,
                    None,
                    None,
                    proto,
                    (*matches, RecentMatch(name=sep, command="set", mask=ctx.recent_mask), dnat_matches[-1]),
                    _dnat(endpoint, ()),
                    f"{head}-m recent --name {sep} --set {m_p} -j DNAT --to-destination {endpoint}",
                )
            )
        else:
            rules.append(
                make_rule(
                    sep,
                    None,
                    None,
                    None,
                    None,
                    proto,
                    dnat_matches,
                    _dnat(endpoint, ()),
                    f"{head}{m_p} -j DNAT --to-destination {endpoint}",
                )
            )
    return out


def _endpoint_jumps(
    ctx: SyncContext,
    svc: ServicePortInfo,
    spn: str,
    chain: str,
    endpoints: Sequence[EndpointInfo],
    seps: dict[str, str],
    jumps: dict[str, Jump],
    rules: list[Rule],
) -> None:
    """Affinity checks first, then one statistic rule per endpoint; the last jump is unconditional."""
    large = ctx.large_cluster_mode
    if svc.client_ip_affinity:
        seconds = svc.sticky_max_age_seconds
        for ep in endpoints:
            sep = seps[ep.endpoint]
            check = RecentMatch(name=sep, command="rcheck", seconds=seconds, reap=True, mask=ctx.recent_mask)
            tail = f"-m recent --name {sep} --rcheck --seconds {seconds} --reap -j {sep}"
            if large:
                rules.append(
                    make_rule(chain, None, None, None, None, None, (check,), jumps[ep.endpoint], tail)
                )
            else:
                text = f"{spn} -> {ep.endpoint}"
                rules.append(
                    make_rule(
                        chain,
                        None,
                        None,
                        None,
                        None,
                        None,
                        (_comment(text), check),
                        jumps[ep.endpoint],
                        f'-m comment --comment "{text}" {tail}',
                    )
                )
    last = len(endpoints) - 1
    for i, ep in enumerate(endpoints):
        endpoint = ep.endpoint
        sep = seps[endpoint]
        if i < last:
            statistic, statistic_text = _statistic(last + 1 - i)
            if large:
                matches: tuple[ModuleMatch, ...] = (statistic,)
                spelling = f"{statistic_text}-j {sep}"
            else:
                text = f"{spn} -> {endpoint}"
                matches = (_comment(text), statistic)
                spelling = f'-m comment --comment "{text}" {statistic_text}-j {sep}'
        elif large:
            matches, spelling = (), f"-j {sep}"
        else:
            text = f"{spn} -> {endpoint}"
            matches, spelling = (_comment(text),), f'-m comment --comment "{text}" -j {sep}'
        rules.append(make_rule(chain, None, None, None, None, None, matches, jumps[endpoint], spelling))
