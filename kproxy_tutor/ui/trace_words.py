"""Words for the tracer's codes: who sent the packet, why it was masqueraded, and the outcome summary."""

from __future__ import annotations

from kproxy_tutor.i18n import _, format_number, ngettext
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.packet import (
    Direction,
    MasqueradeReason,
    OutcomeKind,
    RouteKind,
    SourceKind,
    StepKind,
    Trace,
)
from kproxy_tutor.sandbox.trace.request import AddressKind
from kproxy_tutor.sandbox.trace.socket_errors import ECONNREFUSED, EPERM, ETIMEDOUT, socket_errors

GOOD = "bold green"
BAD = "bold red"
PLAIN = ""
NOTE = "dim italic"


def source_text(kind: str, name: object, node: str | None, ip: str) -> str:
    if kind == SourceKind.POD:
        return _("Pod {name} on node {node}").format(name=name, node=node)
    if kind == SourceKind.NODE:
        return _("A process on node {node}").format(node=node)
    return _("Client {ip} outside the cluster").format(ip=ip)


def masquerade_reason_text(reason: str, source_kind: str | None = None, service_source: bool = False) -> str:
    """Why the mark was set; ``service_source``: a node process sent from the Service address itself (IPVS)."""
    if reason == MasqueradeReason.OFF_CLUSTER and source_kind == SourceKind.NODE and service_source:
        return _(
            "a process on the node that connects to a Service address gets that address as its source: IPVS "
            "mode binds every Service IP to kube-ipvs0, and the kernel's local route to it names the address "
            "itself as the source. That is not a Pod address, so the rule masquerades it; the endpoint's reply "
            "to the Service address would stay on the endpoint's own node, which holds the same address"
        )
    if reason == MasqueradeReason.OFF_CLUSTER and source_kind == SourceKind.NODE:
        return _(
            "the rule masquerades every source outside the cluster's Pods (by kube-proxy's local-traffic "
            "detector, e.g. the Pod CIDR), and that covers the node's own processes too: the node's address "
            "is not a Pod address"
        )
    return {
        MasqueradeReason.OFF_CLUSTER: _(
            "the source is not a Pod of the cluster: such traffic to a ClusterIP may have been routed to this node "
            "from elsewhere (e.g. from another host), and SNAT makes the endpoint's reply come back through this "
            "node, where conntrack undoes the DNAT"
        ),
        MasqueradeReason.HAIRPIN: _(
            "hairpin: the Pod reached itself through its Service; without SNAT it would answer itself directly "
            "and the reply would skip the reverse NAT"
        ),
        MasqueradeReason.EXTERNAL: _(
            "traffic from outside to a NodePort, external IP or load-balancer IP with externalTrafficPolicy: Cluster; "
            "the endpoint may be on another node, so the reply must come back through this one"
        ),
        MasqueradeReason.LOCAL_SOURCE: _("the node itself sends to its own NodePort or load-balancer IP"),
        MasqueradeReason.MASQUERADE_ALL: _("masqueradeAll is on: every packet to a ClusterIP is masqueraded"),
        MasqueradeReason.SERVICE_SOURCE: _(
            "without a local-traffic detector kube-proxy's IPVS rules masquerade packets whose source is a Service "
            "address: a process on the node that connects to a Service gets that address as its source "
            "(every Service IP is bound to kube-ipvs0, and the local route names it as the source), and the "
            "endpoint's reply to it would stay on the endpoint's own node, which holds the same address"
        ),
        MasqueradeReason.OTHER: _("a rule set the masquerade mark"),
    }.get(reason, reason)


def _examined_text(trace: Trace) -> str:
    n = trace.rules_examined
    tables = ", ".join(f"{table} {format_number(count)}" for table, count in trace.examined_by_table.items())
    text = ngettext(
        "The kernel examined {n} rule for this packet", "The kernel examined {n} rules for this packet", n
    ).format(n=format_number(n))
    return f"{text} ({tables})." if tables else f"{text}."


def _stopping_rule(trace: Trace) -> str | None:
    """The rule that rejected or dropped the request: iptables-save's line, or nft list's."""
    if trace.outcome.rule is not None:
        return save_line(trace.outcome.rule)
    for step in reversed(trace.steps):
        if step.kind == StepKind.VERDICT and step.direction == Direction.REQUEST:
            rule = step.detail.get("nft_rule")
            return rule if isinstance(rule, str) else None
    return None


def icmp_name(address: str) -> str:
    """The protocol a REJECT answers in: ICMPv6 for an IPv6 packet (ip6tables' icmp6-port-unreachable)."""
    return "ICMPv6" if ":" in address else "ICMP"


def client_sees_text(trace: Trace) -> str:
    """What the client's socket calls return (``socket_errors``), in words."""
    errors = socket_errors(trace)
    udp = trace.packet.protocol == "udp"
    icmp = icmp_name(trace.packet.dst_ip)
    if errors == (EPERM, ECONNREFUSED):
        return _(
            "What the client sees: send() itself fails with EPERM (“Operation not permitted”): the REJECT runs "
            "in the OUTPUT path, inside the sender's own kernel, so the datagram never leaves the node; the {icmp} "
            "port unreachable it answers with then makes the next receive on the socket fail with ECONNREFUSED "
            "(“Connection refused”)."
        ).format(icmp=icmp)
    if errors == (EPERM,):
        return _(
            "What the client sees: send() itself fails with EPERM (“Operation not permitted”): the DROP runs in "
            "the OUTPUT path, inside the sender's own kernel; nothing ever comes back."
        )
    if errors == (ECONNREFUSED,) and udp:
        return _(
            "What the client sees: send() succeeds; the {icmp} port unreachable the REJECT answers with makes the "
            "next receive on a connected socket fail with ECONNREFUSED (“Connection refused”); an unconnected "
            "socket is not told and waits."
        ).format(icmp=icmp)
    if errors == (ECONNREFUSED,):
        return _(
            "What the client sees: connect() fails at once with ECONNREFUSED (“Connection refused”): the REJECT "
            "answers with {icmp} port unreachable."
        ).format(icmp=icmp)
    if errors == (ETIMEDOUT,):
        return _("What the client sees: connect() hears nothing, tries again and times out (ETIMEDOUT).")
    return _(
        "What the client sees: send() succeeds and no answer ever comes; a receive waits until it gives up."
    )


def _not_service_text(trace: Trace, where: str) -> str | None:
    """The result for a Service's own address that no rule translated, worded for that kind of address."""
    kind, service, ip = trace.address_kind, trace.address_owner, trace.packet.dst_ip
    if ip == "::1":
        return _(
            "Result: ::1 is the node's IPv6 loopback address. kube-proxy's IPv6 rules leave it alone: localhost "
            "NodePorts exist only for IPv4 (they need the route_localnet sysctl, which IPv6 does not have), so no "
            "rule translated the packet and it went on as addressed, {where}: only a process listening on [::1] "
            "there answers; with none, the connection is refused."
        ).format(where=where)
    if kind == AddressKind.PROXY_LOAD_BALANCER_IP:
        return _(
            "Result: {ip} is a load-balancer IP of Service {service} with ipMode: Proxy. kube-proxy writes no "
            "rules for such an address (the load balancer itself proxies connections to the nodes), so the packet "
            "went on as addressed, {where}."
        ).format(ip=ip, service=service, where=where)
    if kind not in (AddressKind.EXTERNAL_IP, AddressKind.LOAD_BALANCER_IP):
        return None
    if trace.source_kind == SourceKind.NODE and trace.outcome.route == RouteKind.OUTSIDE:
        if kind == AddressKind.EXTERNAL_IP:
            return _(
                "Result: {ip} is an external IP of Service {service}, and no rule translated it. When the Service "
                "has no endpoints, kube-proxy rejects packets to its external IPs only as they come in to a node "
                "(filter INPUT and FORWARD); a process on the node sends past those chains, so the packet left by "
                "the default route toward {ip}: whoever holds that address outside the cluster answers, if anyone "
                "does."
            ).format(ip=ip, service=service)
        return _(
            "Result: {ip} is a load-balancer IP of Service {service}, and no rule translated it. When the Service "
            "has no endpoints, kube-proxy rejects packets to its load-balancer IPs only as they come in to a node "
            "(filter INPUT and FORWARD); a process on the node sends past those chains, so the packet left by the "
            "default route toward {ip}, to the load balancer."
        ).format(ip=ip, service=service)
    text = (
        _(
            "Result: {ip} is an external IP of Service {service}, but no kube-proxy rule translated it, so the packet went on as addressed, {where}."
        )
        if kind == AddressKind.EXTERNAL_IP
        else _(
            "Result: {ip} is a load-balancer IP of Service {service}, but no kube-proxy rule translated it, so the packet went on as addressed, {where}."
        )
    )
    return text.format(ip=ip, service=service, where=where)


def _leaves_cluster_text(trace: Trace) -> str:
    """The source a packet that left the cluster carries: there is no endpoint to see it."""
    o, source = trace.outcome, trace.packet.src_ip
    if o.masquerade:
        return _(
            "Source NAT: yes. The packet leaves the node from {source} (the address of {interface})."
        ).format(source=o.snat_source, interface=o.snat_interface)
    if trace.source_kind == SourceKind.POD:
        return _(
            "Source NAT: none by kube-proxy. The packet leaves the node with the Pod's own address {source}; "
            "whether the outside sees that address or the node's is up to the network plugin (many masquerade "
            "what leaves the Pod network), not kube-proxy's rules."
        ).format(source=source)
    if trace.source_kind == SourceKind.NODE:
        return _(
            "Source NAT: none. The packet leaves with the node's own address {source}, as every connection a "
            "process on the node opens does."
        ).format(source=source)
    return _("Source NAT: none. The packet goes back out with the client's own address {source}.").format(
        source=source
    )


def outcome_lines(trace: Trace) -> list[tuple[str, str]]:
    """The summary after the steps: result, source NAT and why, rules examined, what the client sees."""
    o = trace.outcome
    lines: list[tuple[str, str]] = []
    if o.kind == OutcomeKind.DELIVERED:
        where = (
            _("Pod {pod}, node {node}").format(pod=o.endpoint_pod, node=o.endpoint_node)
            if o.endpoint_pod
            else (
                _("node {node}").format(node=o.endpoint_node) if o.endpoint_node else _("outside this node")
            )
        )
        lines.append(
            (_("Result: delivered to {endpoint} ({where}).").format(endpoint=o.endpoint, where=where), GOOD)
        )
    elif o.kind == OutcomeKind.REJECTED:
        header = (
            _("Result: rejected by {table} {chain}:")
            if trace.packet.protocol == "udp"
            else _("Result: rejected (connection refused) by {table} {chain}:")
        )
        lines.append((header.format(table=o.table, chain=o.chain), BAD))
        rule = _stopping_rule(trace)
        if rule is not None:
            lines.append(("  " + rule, PLAIN))
        lines.append((client_sees_text(trace), "bold"))
        if trace.wrong_port_of is not None:
            lines.append(
                (
                    _(
                        "{ip} is a ClusterIP (of Service {service}), but not on port {port}: this mode rejects "
                        "packets to the ports a ClusterIP does not serve."
                    ).format(ip=trace.packet.dst_ip, service=trace.wrong_port_of, port=trace.packet.dst_port),
                    PLAIN,
                )
            )
    elif o.kind == OutcomeKind.DROPPED:
        if o.rule is not None:
            lines.append((_("Result: dropped by {table} {chain}:").format(table=o.table, chain=o.chain), BAD))
            lines.append(("  " + save_line(o.rule), PLAIN))
        else:
            lines.append(
                (
                    _("Result: dropped by the policy of {table} {chain}.").format(
                        table=o.table, chain=o.chain
                    ),
                    BAD,
                )
            )
        lines.append((client_sees_text(trace), "bold"))
    else:
        where = {
            RouteKind.POD: _("to the Pod at that address"),
            RouteKind.LOCAL: _("to the node itself"),
            RouteKind.NODE: _("to another node"),
            RouteKind.OUTSIDE: _("out of the node by the default route"),
        }.get(o.route or "", "")
        if o.route == RouteKind.OUTSIDE and trace.address_kind == AddressKind.CLUSTER_IP:
            where = _("out of the node by the default route, where nobody answers for a ClusterIP")
        special = _not_service_text(trace, where)
        if special is not None:
            lines.append((special, PLAIN))
        elif trace.wrong_port_of is not None:
            lines.append(
                (
                    _(
                        "Result: {ip} is a ClusterIP (of Service {service}), but not on port {port}; in iptables "
                        "mode no rule catches it (nftables mode rejects it), so the packet went on as addressed, "
                        "{where}."
                    ).format(
                        ip=trace.packet.dst_ip,
                        service=trace.wrong_port_of,
                        port=trace.packet.dst_port,
                        where=where,
                    ),
                    PLAIN,
                )
            )
        else:
            lines.append(
                (
                    _(
                        "Result: not a Service. No kube-proxy rule matched, so the packet went on as addressed, "
                        "{where}."
                    ).format(where=where),
                    PLAIN,
                )
            )
    if o.kind == OutcomeKind.NOT_SERVICE and o.route == RouteKind.OUTSIDE:
        lines.append((_leaves_cluster_text(trace), "bold"))
    elif o.kind in (OutcomeKind.DELIVERED, OutcomeKind.NOT_SERVICE):
        if o.masquerade:
            lines.append(
                (
                    _(
                        "Source NAT: yes. The endpoint sees the connection coming from {source} "
                        "(the address of {interface})."
                    ).format(source=o.snat_source, interface=o.snat_interface),
                    "bold",
                )
            )
        else:
            lines.append(
                (
                    _("Source NAT: no. The endpoint sees the client's own address {source}.").format(
                        source=trace.packet.src_ip
                    ),
                    "bold",
                )
            )
        for setter in o.mark_setters:
            lines.append(
                (
                    "  "
                    + _("Why: {reason}.").format(
                        reason=masquerade_reason_text(
                            setter.reason, trace.source_kind, trace.packet.src_ip == trace.packet.dst_ip
                        )
                    ),
                    PLAIN,
                )
            )
            if setter.rule is not None:  # nftables and IPVS name the chain only
                lines.append(
                    ("  " + _("The mark 0x4000 was set by: {rule}").format(rule=save_line(setter.rule)), NOTE)
                )
            else:
                lines.append(
                    ("  " + _("Set in: {table} {chain}").format(table=setter.table, chain=setter.chain), NOTE)
                )
    lines.append((_examined_text(trace), PLAIN))
    if trace.established:
        lines.append(
            (
                _(
                    "This packet belongs to a known connection: conntrack translated it, the nat rules were not walked."
                ),
                NOTE,
            )
        )
    if trace.reply is not None:
        lines.append(
            (
                _(
                    "The reply reaches the client from {source}: conntrack restored the address the client "
                    "connected to."
                ).format(source=trace.reply.source),
                PLAIN,
            )
        )
    return lines
