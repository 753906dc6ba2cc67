"""Drive whole connections through the cluster network: the request hop by hop from node to node, the outcome, and the reply back through conntrack.

``Tracer`` keeps each node's kernel state (conntrack, xt_recent lists) between connections,
a seeded random source for ``-m statistic``, and a clock for affinity timeouts, so a series
of connections behaves as it would on real nodes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.iptables.rules import Rule
from kproxy_tutor.sandbox.netfilter import ACCEPT, DROP, NodeKernel, Passage
from kproxy_tutor.sandbox.packet import (
    Direction,
    MarkSetter,
    Outcome,
    OutcomeKind,
    Packet,
    RouteKind,
    SourceKind,
    StepKind,
    Trace,
    TraceStep,
)
from kproxy_tutor.sandbox.trace.network import UPLINK, Network, Route
from kproxy_tutor.sandbox.trace.snat import port_rng

#: A packet never crosses more nodes than this; more means a routing loop in the model.
MAX_HOPS = 8
FIRST_EPHEMERAL_PORT = 40000
LAST_EPHEMERAL_PORT = 60999
#: Chains whose rules name the Service a packet was caught for.
ENTRY_CHAINS = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL")


@dataclass(frozen=True, slots=True)
class Client:
    """Who opens the connection, and the node where its packets first meet netfilter."""

    kind: str
    ip: str
    #: For a Pod or a node process: its node. For an external client: the node it reaches.
    node: str
    #: ``namespace/name`` of a Pod, or the node's name for a node process.
    name: str | None = None


@dataclass(slots=True)
class _Carried:
    passages: list[Passage]
    packet: Packet
    #: Where the packet ended (None when a rule or policy stopped it).
    route: Route | None
    node: str


class Tracer:
    def __init__(self, network: Network, seed: int = 0, start: float = 0.0) -> None:
        self.network = network
        self.rng = random.Random(seed)
        self.port_rng = port_rng(seed)
        self.now = start
        self._kernels: dict[str, NodeKernel] = {}
        self._next_port = FIRST_EPHEMERAL_PORT

    # State ---------------------------------------------------------------------------------
    def kernel(self, node: str) -> NodeKernel:
        kernel = self._kernels.get(node)
        if kernel is None:
            kernel = self._kernels[node] = NodeKernel(
                self.network.node(node), self.network, self.rng, self.clock, self.port_rng
            )
        return kernel

    def clock(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let time pass (affinity entries and their ``--seconds`` timeouts see it)."""
        self.now += seconds

    def kernels(self) -> list[NodeKernel]:
        """The kernels of the nodes a connection has reached so far."""
        return list(self._kernels.values())

    def allocate_port(self) -> int:
        """The next ephemeral source port; after the last one the range starts again.

        A port comes round again only after every connection that used the range has ended (each of
        the tracer's connections is one request), and a new SYN on an ended connection's conntrack
        entry starts a new entry, so the ended connections' entries go: a new connection is never
        taken for an old one (which would skip the nat rules and repeat an old endpoint choice).
        """
        port = self._next_port
        if port < LAST_EPHEMERAL_PORT:
            self._next_port = port + 1
        else:
            self._next_port = FIRST_EPHEMERAL_PORT
            for kernel in self.kernels():
                kernel.conntrack.flush()
        return port

    # Connections ---------------------------------------------------------------------------
    def connect(
        self,
        client: Client,
        dst_ip: str,
        dst_port: int,
        protocol: str = "tcp",
        *,
        src_port: int | None = None,
        record: bool = True,
        reply: bool = True,
        prefix: tuple[TraceStep, ...] = (),
    ) -> Trace:
        """The first packet of a new connection (a new source port), and its reply."""
        packet = Packet(
            protocol, self.source_address(client, dst_ip), src_port or self.allocate_port(), dst_ip, dst_port
        )
        return self._trace(client, packet, record, reply, prefix)

    def source_address(self, client: Client, dst_ip: str) -> str:
        """The source a client's socket gets: a node process gets the address routing picks (as ``curl`` would)."""
        if client.kind != SourceKind.NODE:
            return client.ip
        if dst_ip.startswith("127."):
            return "127.0.0.1"
        if dst_ip == "::1":
            return dst_ip
        node = self.network.node(client.node)
        route = self.network.route(node, dst_ip)
        if route.kind == RouteKind.LOCAL:
            return dst_ip
        return route.source_address or client.ip

    def resend(self, client: Client, previous: Trace, record: bool = True) -> Trace:
        """A later packet of ``previous``'s connection: conntrack translates it, the nat rules are not consulted."""
        return self._trace(client, previous.packet, record, reply=False, prefix=())

    def _trace(
        self, client: Client, packet: Packet, record: bool, reply: bool, prefix: tuple[TraceStep, ...]
    ) -> Trace:
        steps: list[TraceStep] = list(prefix)
        if record:
            steps.append(
                TraceStep(
                    StepKind.SEND,
                    client.node,
                    packet=packet,
                    detail={"source": client.kind, "name": client.name},
                )
            )
        node = self.network.node(client.node)
        if client.kind == SourceKind.NODE:
            in_iface: str | None = None
        elif client.kind == SourceKind.POD:
            in_iface = node.pod_interface(client.ip)
        else:
            in_iface = UPLINK
        carried = self._carry(packet, client.node, in_iface, steps, record, Direction.REQUEST)
        outcome = self._outcome(carried, client.node)
        by_table: dict[str, int] = {}
        for passage in carried.passages:
            if passage.direction == Direction.REQUEST:
                for table, count in passage.examined.items():
                    by_table[table] = by_table.get(table, 0) + count
        established = carried.passages[0].established
        reply_packet = None
        if (
            reply
            and outcome.kind in (OutcomeKind.DELIVERED, OutcomeKind.NOT_SERVICE)
            and carried.route is not None
            and (outcome.kind == OutcomeKind.DELIVERED or carried.route.kind == RouteKind.POD)
        ):
            reply_packet = self._reply(carried, steps, record)
        return Trace(
            packet,
            outcome,
            tuple(steps),
            sum(by_table.values()),
            established,
            reply_packet,
            client.node,
            _service_of(carried),
            by_table,
            client.kind,
        )

    def _carry(
        self,
        packet: Packet,
        node: str,
        in_iface: str | None,
        steps: list[TraceStep],
        record: bool,
        direction: str,
    ) -> _Carried:
        passages: list[Passage] = []
        for hop in range(MAX_HOPS):
            if record and in_iface is not None:
                steps.append(
                    TraceStep(
                        StepKind.ARRIVE,
                        node,
                        direction,
                        packet=packet,
                        detail={"interface": in_iface, "hop": hop},
                    )
                )
            passage = self.kernel(node).pass_packet(packet, in_iface, record)
            passages.append(passage)
            if passage.steps:
                steps.extend(passage.steps)
            if passage.verdict != ACCEPT:
                return _Carried(passages, passage.packet, None, node)
            route = passage.route
            assert route is not None
            # The mark lives in the node's memory only; it never leaves with the packet.
            out = passage.packet
            packet = (
                out.translated(out.src_ip, out.src_port, out.dst_ip, out.dst_port, 0) if out.mark else out
            )
            if route.kind != RouteKind.NODE:
                self._deliver(steps, record, node, passage.direction, packet, route)
                return _Carried(passages, packet, route, node)
            if record:
                steps.append(
                    TraceStep(
                        StepKind.LEAVE,
                        node,
                        passage.direction,
                        packet=packet,
                        detail={"interface": route.interface, "next_node": route.next_node},
                    )
                )
            node, in_iface = route.next_node or node, UPLINK
        raise SandboxInputError(
            N_("The packet was passed between nodes more than {limit} times."), limit=MAX_HOPS
        )

    def _deliver(
        self, steps: list[TraceStep], record: bool, node: str, direction: str, packet: Packet, route: Route
    ) -> None:
        if not record:
            return
        pod = self.network.pod_at(packet.dst_ip)
        steps.append(
            TraceStep(
                StepKind.DELIVER,
                node,
                direction,
                packet=packet,
                detail={
                    "route": route.kind,
                    "interface": route.interface,
                    "pod": pod.name if pod else None,
                    "to": packet.destination,
                },
            )
        )

    def _reply(self, request: _Carried, steps: list[TraceStep], record: bool) -> Packet:
        sent = request.packet
        packet = Packet(sent.protocol, sent.dst_ip, sent.dst_port, sent.src_ip, sent.src_port)
        route = request.route
        assert route is not None
        node = self.network.node(request.node)
        if route.kind == RouteKind.LOCAL:
            in_iface: str | None = None
        elif route.kind == RouteKind.POD:
            in_iface = node.pod_interface(sent.dst_ip)
        else:
            in_iface = UPLINK
        if record:
            pod = self.network.pod_at(sent.dst_ip)
            steps.append(
                TraceStep(
                    StepKind.REPLY,
                    request.node,
                    Direction.REPLY,
                    packet=packet,
                    detail={"pod": pod.name if pod else None},
                )
            )
        carried = self._carry(packet, request.node, in_iface, steps, record, Direction.REPLY)
        return carried.packet

    # Outcome -------------------------------------------------------------------------------
    def _outcome(self, carried: _Carried, start: str) -> Outcome:
        passages = carried.passages
        setters: list[MarkSetter] = [s for p in passages for s in p.mark_setters]
        snat = next((p.snat for p in passages if p.snat is not None), None)
        dnat = next((p.dnat for p in passages if p.dnat is not None), None)
        last = passages[-1]
        masquerade = snat is not None
        common = {
            "masquerade": masquerade,
            "snat_source": snat[0] if snat else None,
            "snat_interface": snat[1] if snat else None,
            "mark_setters": tuple(setters),
        }
        if last.verdict != ACCEPT:
            kind = OutcomeKind.DROPPED if last.verdict == DROP else OutcomeKind.REJECTED
            return Outcome(
                kind, rule=last.verdict_rule, table=last.verdict_table, chain=last.verdict_chain, **common
            )  # type: ignore[arg-type]
        packet, route = carried.packet, carried.route
        assert route is not None
        pod = self.network.pod_at(packet.dst_ip)
        if pod is not None:
            node: str | None = pod.node
        elif route.kind in (RouteKind.POD, RouteKind.LOCAL):
            node = carried.node
        else:
            node = None
        kind = OutcomeKind.DELIVERED if dnat is not None else OutcomeKind.NOT_SERVICE
        where = route.kind
        if where == RouteKind.LOCAL and carried.node != start:
            where = RouteKind.NODE  # another node's own address: "local" is only the first node's
        return Outcome(kind, packet.destination, node, pod.name if pod else None, route=where, **common)  # type: ignore[arg-type]


def service_name_of(rule: Rule) -> str | None:
    """``namespace/name[:port]`` from the comment of one of kube-proxy's entry rules."""
    if rule.chain not in ENTRY_CHAINS:
        return None
    comment = rule.comment
    if not comment:
        return None
    word = comment.split(" ", 1)[0]
    return word if "/" in word else None


def _service_of(carried: _Carried) -> str | None:
    """The service port kube-proxy's comments name on the rule that caught the packet (or rejected it)."""
    named = next((p.service for p in carried.passages if p.service is not None), None)
    if named is not None:
        return named
    for passage in carried.passages:
        for step in passage.steps or ():
            if step.kind in (StepKind.RULE,) and step.rule is not None:
                name = service_name_of(step.rule)
                if name is not None:
                    return name
    last = carried.passages[-1]
    return service_name_of(last.verdict_rule) if last.verdict_rule is not None else None
