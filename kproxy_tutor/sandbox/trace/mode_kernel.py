"""nftables and IPVS traces node to node: each node's first-packet walker behind conntrack, driven by the iptables tracer's hops.

The iptables tracer (``Tracer``) carries a packet from node to node and back, asking each
node's kernel to pass it. For nftables and IPVS modes the kernel here does the same job: the
first packet of a connection on a node goes through that node's walker (``NftEvaluator`` or
``IpvsEvaluator``, compiled when a packet first reaches the node); the translation it made is
stored in the node's conntrack entry, and every later packet and every reply is translated from
that entry, as the kernel does. kube-proxy's filter rules in these modes only look at new
connections (nftables ``ct state new``), so packets of known connections pass without a walk.
In IPVS mode the reply's source is rewritten back by IPVS's connection entry (``by: ipvs``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kproxy_tutor.sandbox.conntrack import ConntrackEntry, ConntrackTable
from kproxy_tutor.sandbox.iptables.rules import Rule
from kproxy_tutor.sandbox.netfilter import ACCEPT, Passage, next_hooks
from kproxy_tutor.sandbox.packet import (
    Direction,
    MarkSetter,
    Packet,
    RouteKind,
    SourceKind,
    StepKind,
    Trace,
    TraceStep,
    host_port,
)
from kproxy_tutor.sandbox.trace.network import LOOPBACK, UPLINK, Network, NodeNetwork, Route
from kproxy_tutor.sandbox.trace.tracer import Client, Tracer


@dataclass(slots=True)
class NodePass:
    """What a mode's walker did to the first packet of a connection on one node."""

    #: The packet as it leaves the node's hooks (after DNAT and masquerade).
    packet: Packet
    #: Where it goes next; None when a rule stopped it.
    route: Route | None
    verdict: str = ACCEPT
    verdict_table: str | None = None
    verdict_chain: str | None = None
    verdict_rule: Rule | None = None
    steps: list[TraceStep] = field(default_factory=list)
    examined: dict[str, int] = field(default_factory=dict)
    setters: list[MarkSetter] = field(default_factory=list)
    #: The service port (``namespace/name:port``) the mode's rules named.
    service: str | None = None
    #: The interface whose address masquerade took (None: no masquerade).
    snat_interface: str | None = None


class Walker(Protocol):
    def pass_node(self, packet: Packet, source: str) -> NodePass: ...

    @property
    def local_addresses(self) -> frozenset[str]:
        """Addresses the mode makes local to the node (IPVS: the Service IPs on kube-ipvs0)."""
        ...

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None: ...


class ModeKernel:
    """One node in nftables or IPVS mode: its walker for new connections, and its conntrack table."""

    def __init__(
        self,
        node: NodeNetwork,
        network: Network,
        walker: Callable[[], Walker],
        clock: Callable[[], float],
        *,
        reply_nat_by: str = "conntrack",
        lower_hooks: bool = False,
    ) -> None:
        self.node = node
        self.network = network
        self._make_walker = walker
        self._walker: Walker | None = None
        self.clock = clock
        self.conntrack = ConntrackTable()
        self.reply_nat_by = reply_nat_by
        self.lower_hooks = lower_hooks

    @property
    def walker(self) -> Walker:
        if self._walker is None:
            self._walker = self._make_walker()
        return self._walker

    def pass_packet(self, packet: Packet, in_iface: str | None, record: bool = True) -> Passage:
        """Run ``packet`` through this node. ``in_iface`` None: a local process sent it (OUTPUT path).

        Steps are always kept (the walkers build them anyway): ``record`` is accepted for the
        iptables kernel's interface.
        """
        found = self.conntrack.lookup(packet)
        if found is None:
            return self._new(packet, in_iface)
        entry, direction = found
        return self._known(packet, in_iface, entry, direction)

    # New connections ---------------------------------------------------------------------
    def _new(self, packet: Packet, in_iface: str | None) -> Passage:
        entry = self.conntrack.new_entry(packet, self.clock())
        if in_iface is None:
            source = SourceKind.NODE
        elif in_iface == UPLINK:
            source = SourceKind.EXTERNAL  # an outside client, or a packet another node forwarded
        else:
            source = SourceKind.POD
        result = self.walker.pass_node(packet, source)
        steps = [self._conntrack_step(packet, entry, "new", Direction.REQUEST), *result.steps]
        out = result.packet
        if out.mark:
            out = out.translated(out.src_ip, out.src_port, out.dst_ip, out.dst_port, 0)
        p = Passage(
            out,
            Direction.REQUEST,
            entry,
            False,
            steps,
            route=result.route,
            verdict=result.verdict,
            verdict_rule=result.verdict_rule,
            verdict_table=result.verdict_table,
            verdict_chain=result.verdict_chain,
            examined=dict(result.examined),
            mark_setters=list(result.setters),
            service=result.service,
        )
        if (out.dst_ip, out.dst_port) != (packet.dst_ip, packet.dst_port):
            entry.set_destination(out.dst_ip, out.dst_port)
            p.dnat = (packet.destination, out.destination)
        if (out.src_ip, out.src_port) != (packet.src_ip, packet.src_port):
            entry.set_source(out.src_ip, out.src_port)
            interface = result.snat_interface or (result.route.interface if result.route else "")
            p.snat = (out.src_ip, interface)
        if result.verdict == ACCEPT:
            self.conntrack.confirm(entry)
        return p

    # Known connections -------------------------------------------------------------------
    def _known(self, packet: Packet, in_iface: str | None, entry: ConntrackEntry, direction: str) -> Passage:
        state = "reply" if direction == Direction.REPLY else "established"
        steps = [self._conntrack_step(packet, entry, state, direction)]
        p = Passage(packet, direction, entry, True, steps)
        local_out = in_iface is None
        self._translate(p, "OUTPUT" if local_out else "PREROUTING", "dst")
        route = p.route = self.route(p.packet.dst_ip)
        hooks = next_hooks(route.kind, local_out)
        self._step(
            p,
            StepKind.ROUTE,
            detail={
                "route": route.kind,
                "interface": route.interface,
                "next_node": route.next_node,
                "destination": p.packet.dst_ip,
                "next_hooks": [h.lower() for h in hooks] if self.lower_hooks else hooks,
                "local_out": local_out,
                "reroute": False,
            },
        )
        local = route.kind == RouteKind.LOCAL
        self._translate(p, "INPUT" if local and not local_out else "POSTROUTING", "src", route)
        if direction == Direction.REPLY:
            entry.seen_reply = True
        return p

    def route(self, dst_ip: str) -> Route:
        """The routing decision for ``dst_ip``: the network's, and local for what the mode bound here."""
        route = self.network.route(self.node, dst_ip)
        if route.kind != RouteKind.LOCAL and dst_ip in self.walker.local_addresses:
            return Route(RouteKind.LOCAL, LOOPBACK, dst_ip)
        return route

    def _translate(self, p: Passage, hook: str, which: str, route: Route | None = None) -> None:
        before = p.packet
        after = p.entry.translate(before, p.direction, which)
        if after == before:
            return
        p.packet = after
        # The reply's source goes back to the Service address: in IPVS mode IPVS's connection does it.
        by = self.reply_nat_by if p.direction == Direction.REPLY and which == "src" else "conntrack"
        hook_name = hook.lower() if self.lower_hooks else hook
        if which == "dst":
            p.dnat = (before.destination, after.destination)
            detail = {"from": before.destination, "to": after.destination, "by": by}
            self._step(p, StepKind.DNAT, hook=hook_name, detail=detail)
        else:
            p.snat = (after.src_ip, route.interface if route is not None else "")
            detail = {"from": before.source, "to": after.source, "by": by}
            self._step(p, StepKind.SNAT, hook=hook_name, detail=detail)

    # Steps ---------------------------------------------------------------------------------
    def _conntrack_step(self, packet: Packet, entry: ConntrackEntry, state: str, direction: str) -> TraceStep:
        o = entry.original
        return TraceStep(
            StepKind.CONNTRACK,
            self.node.name,
            direction,
            packet=packet,
            detail={
                "state": state,
                "entry": f"{o[0]} {host_port(o[1], o[2])} -> {host_port(o[3], o[4])}",
                "nat": entry.dnat or entry.snat,
            },
        )

    def _step(
        self, p: Passage, kind: str, hook: str | None = None, detail: dict[str, object] | None = None
    ) -> None:
        assert p.steps is not None
        p.steps.append(
            TraceStep(kind, self.node.name, p.direction, hook, packet=p.packet, detail=detail or {})
        )


class ModeTracer(Tracer):
    """The iptables tracer's hops and replies, with each node's kernel in nftables or IPVS mode."""

    def __init__(
        self,
        network: Network,
        walkers: Callable[[str, Callable[[], float]], Walker],
        mode: str,
        seed: int = 0,
        start: float = 0.0,
    ) -> None:
        super().__init__(network, seed, start)
        self.mode = mode
        self._walkers = walkers
        self._mode_kernels: dict[str, ModeKernel] = {}

    def kernel(self, node: str) -> ModeKernel:  # type: ignore[override]
        kernel = self._mode_kernels.get(node)
        if kernel is None:
            kernel = self._mode_kernels[node] = ModeKernel(
                self.network.node(node),
                self.network,
                lambda: self._walkers(node, self.clock),
                self.clock,
                reply_nat_by="ipvs" if self.mode == "ipvs" else "conntrack",
                lower_hooks=self.mode == "nftables",
            )
        return kernel

    def kernels(self) -> list[ModeKernel]:  # type: ignore[override]
        return list(self._mode_kernels.values())

    def source_address(self, client: Client, dst_ip: str) -> str:
        """A node process connecting to an address the mode bound on the node (IPVS: a Service IP on
        kube-ipvs0) gets that address as its source: the kernel's local route to it carries ``src`` the
        address itself, as for any address of the node."""
        if client.kind == SourceKind.NODE and dst_ip in self.kernel(client.node).walker.local_addresses:
            return dst_ip
        return super().source_address(client, dst_ip)

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None:
        """The chain (or virtual server) that chose the endpoint on the client's node, and its promised shares."""
        node = trace.source_node
        return self.kernel(node).walker.expected_shares(trace) if node is not None else None


class LiveWalker:
    """One node's walker over the rules its own proxier keeps: ``refresh`` syncs the proxier and makes
    the walker again, keeping what the kernel keeps across a sync (``keep_state_of``)."""

    def __init__(self, sync: Callable[[], object], make: Callable[[object], Walker]) -> None:
        self._sync = sync
        self._make = make
        self._walker: Walker | None = None

    @property
    def current(self) -> Walker:
        if self._walker is None:
            self.refresh()
        assert self._walker is not None
        return self._walker

    def refresh(self) -> None:
        walker = self._make(self._sync())
        before = self._walker
        if before is not None and type(before) is type(walker):
            walker.keep_state_of(before)  # type: ignore[attr-defined]
        self._walker = walker

    @property
    def local_addresses(self) -> frozenset[str]:
        return self.current.local_addresses

    def pass_node(self, packet: Packet, source: str) -> NodePass:
        return self.current.pass_node(packet, source)

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None:
        return self.current.expected_shares(trace)
