"""Values of a packet trace: the packet, each step the kernel takes, and the outcome.

DROP and REJECT are outcomes, not exceptions. Everything here is a code or data: the UI turns
the codes (``StepKind``, ``OutcomeKind``, ``MasqueradeReason``) into words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kproxy_tutor.sandbox.iptables.rules import Rule

PROTOCOLS = ("tcp", "udp", "sctp")
#: The ``detail`` of steps that have none (shared: most steps have none, and a trace makes many steps).
NO_DETAIL: Mapping[str, Any] = MappingProxyType({})


def host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@dataclass(frozen=True, slots=True)
class Packet:
    """The header fields netfilter looks at, plus the skb mark (which never leaves the node)."""

    protocol: str
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    mark: int = 0

    @property
    def source(self) -> str:
        return host_port(self.src_ip, self.src_port)

    @property
    def destination(self) -> str:
        return host_port(self.dst_ip, self.dst_port)

    def replace(self, **changes: Any) -> Packet:
        return dataclasses.replace(self, **changes)

    def translated(self, src_ip: str, src_port: int, dst_ip: str, dst_port: int, mark: int) -> Packet:
        """A copy with new addresses (the hot path of NAT; ``replace`` is slower)."""
        return Packet(self.protocol, src_ip, src_port, dst_ip, dst_port, mark)


class SourceKind:
    """Where a packet starts, which decides the first hook it meets."""

    POD = "pod"  #: a Pod; enters its node's PREROUTING from the Pod's veth
    NODE = "node"  #: a process in the node's own network namespace; starts at OUTPUT
    EXTERNAL = "external"  #: a client outside the cluster; enters PREROUTING on the node it reaches


class Direction:
    REQUEST = "request"
    REPLY = "reply"


class StepKind:
    """What a TraceStep records. Stable codes: the UI and the JSON output use them."""

    DNS = "dns"  #: cluster DNS answered a Service name with its ClusterIP (not kube-proxy)
    SEND = "send"  #: the packet leaves its source
    ARRIVE = "arrive"  #: the packet reaches a node (from a Pod, a client or another node)
    CONNTRACK = "conntrack"  #: conntrack looked the packet up (new connection, known one, or a reply)
    HOOK = "hook"  #: a netfilter hook (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING)
    CHAIN = "chain"  #: a chain was entered (from a hook, a jump or a goto)
    RULE = "rule"  #: a rule matched (its target follows)
    MISS = "miss"  #: a rule was examined and lost a random draw or a recent check
    RETURN = "return"  #: the end of a user chain, or RETURN: back to the calling chain
    POLICY = "policy"  #: the end of a built-in chain: its policy decides
    MARK = "mark"  #: the packet mark changed
    DNAT = "dnat"  #: the destination was rewritten (by a rule or by conntrack)
    SNAT = "snat"  #: the source was rewritten (MASQUERADE/SNAT, or conntrack)
    ROUTE = "route"  #: the routing decision
    VERDICT = "verdict"  #: ACCEPT, DROP or REJECT ends the table's walk
    DELIVER = "deliver"  #: the packet reached its final receiver
    LEAVE = "leave"  #: the packet left the node toward another node or outside
    REPLY = "reply"  #: the receiver answers; the steps after this one are the reply


class OutcomeKind:
    DELIVERED = "delivered"  #: DNATed to an endpoint and delivered there
    REJECTED = "rejected"  #: a REJECT rule answered (connection refused)
    DROPPED = "dropped"  #: a DROP rule or policy discarded the packet (the client times out)
    NOT_SERVICE = "not_service"  #: no kube-proxy rule translated it; delivered as addressed


class MasqueradeReason:
    """Why a rule set the masquerade mark (0x4000): which kube-proxy rule did it tells the story."""

    OFF_CLUSTER = "off_cluster"  #: KUBE-SVC/SVL: the source is not a Pod of the cluster
    HAIRPIN = "hairpin"  #: KUBE-SEP: the endpoint is the client itself
    EXTERNAL = "external"  #: KUBE-EXT: traffic for an external destination (NodePort, LB, external IP)
    LOCAL_SOURCE = "local_source"  #: KUBE-EXT with eTP Local: the node itself is the client
    MASQUERADE_ALL = "masquerade_all"  #: masqueradeAll: every packet to the ClusterIP
    #: IPVS without a local-traffic detector: the source is a Service address (a node process's, from kube-ipvs0)
    SERVICE_SOURCE = "service_source"
    OTHER = "other"


class RouteKind:
    LOCAL = "local"  #: an address of this node: INPUT, then a local process
    POD = "pod"  #: a Pod on this node, through the Pod network bridge
    #: another node (its address or its Pod CIDR). As an outcome's route: delivered to another
    #: node's own address ("local" is only the address of the node the packet first met).
    NODE = "node"
    OUTSIDE = "outside"  #: anywhere else: the default route


@dataclass(slots=True)
class TraceStep:
    """One thing the kernel did. ``detail`` holds kind-specific values (see docs/trace-json.md).

    Treat it as a value; it is not frozen only because a trace makes dozens of them per
    packet, and frozen dataclasses are several times slower to build.
    """

    kind: str
    node: str | None = None
    direction: str = Direction.REQUEST
    hook: str | None = None
    table: str | None = None
    chain: str | None = None
    rule: Rule | None = None
    #: 1-based position of ``rule`` in ``chain`` (what ``iptables -L --line-numbers`` shows).
    rule_number: int | None = None
    #: Rules the kernel examined in this visit of ``chain`` (CHAIN exit steps: RETURN, POLICY, RULE).
    examined: int | None = None
    packet: Packet | None = None
    detail: Mapping[str, Any] = field(default_factory=lambda: NO_DETAIL)


@dataclass(frozen=True, slots=True)
class MarkSetter:
    """A rule that set the masquerade mark, and what it means."""

    reason: str
    table: str
    chain: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    #: ``ip:port`` the packet was delivered to (the DNAT destination, or the address as sent).
    endpoint: str | None = None
    endpoint_node: str | None = None
    #: ``namespace/name`` of the Pod holding ``endpoint``, when known.
    endpoint_pod: str | None = None
    masquerade: bool = False
    #: The source address after MASQUERADE, and the egress interface it belongs to.
    snat_source: str | None = None
    snat_interface: str | None = None
    mark_setters: tuple[MarkSetter, ...] = ()
    #: The REJECT/DROP rule (None for a chain policy, or for DELIVERED/NOT_SERVICE).
    rule: Rule | None = None
    table: str | None = None
    chain: str | None = None
    #: For NOT_SERVICE: where the packet went (a RouteKind).
    route: str | None = None


@dataclass(frozen=True, slots=True)
class Trace:
    """One packet's way (the first of a new connection, or a later one), and for delivered requests the reply's."""

    packet: Packet
    outcome: Outcome
    steps: tuple[TraceStep, ...]
    #: Rules the kernel examined for the request, all tables and chains together.
    rules_examined: int
    #: The packet belonged to a known connection: conntrack, not the nat rules, translated it.
    established: bool = False
    #: The reply as the client receives it (after conntrack's reverse NAT), if there is one.
    reply: Packet | None = None
    source_node: str | None = None
    service: str | None = None
    #: ``rules_examined`` split by table (``nat``, ``filter``, …).
    examined_by_table: Mapping[str, int] = field(default_factory=dict)
    #: Who sent the packet (a SourceKind), when known.
    source_kind: str | None = None
    #: ``namespace/name`` of the Service whose ClusterIP the packet was sent to, on a port that
    #: Service does not have (set by whoever knows the cluster's Services; None otherwise).
    wrong_port_of: str | None = None
    #: What the destination address is to the cluster (a ``trace.request.AddressKind`` code) and
    #: whose it is, when the cluster is known.
    address_kind: str | None = None
    address_owner: str | None = None
