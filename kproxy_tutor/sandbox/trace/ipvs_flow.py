"""Walk a first packet through kube-proxy's IPVS mode: the iptables rules with their ipsets, kube-ipvs0, the virtual server and its scheduler.

The order is the kernel's: nat PREROUTING (OUTPUT for the node's own processes) runs
KUBE-SERVICES, which only marks packets for masquerading; the Service address is bound to the
dummy interface kube-ipvs0, so routing delivers the packet locally; filter INPUT runs the
firewall and KUBE-IPVS-FILTER (which rejects other ports of a Service address); then IPVS at
LOCAL_IN finds the virtual server, its scheduler picks a real server and IPVS rewrites the
destination (NAT forwarding, "Masq"). A virtual server without real servers answers with ICMP
port unreachable, which the client sees as "connection refused". KUBE-POSTROUTING masquerades
marked packets, and hairpin packets through the KUBE-LOOP-BACK set.

Steps and outcomes are the values the iptables tracer uses (``sandbox/packet.py``), so ``trace``
renders all modes alike. IPVS mode is deprecated since Kubernetes v1.35 (nftables replaces it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.iptables.rules import Jump, MarkTarget, Masquerade, Reject, Rule, Ruleset, Verdict
from kproxy_tutor.sandbox.ipvs.ipsets import IpSet
from kproxy_tutor.sandbox.ipvs.proxier import IpvsState, RealServer, VirtualServer
from kproxy_tutor.sandbox.ipvs.schedulers import SchedulerState, pick
from kproxy_tutor.sandbox.ipvs.walk import FirstPacket
from kproxy_tutor.sandbox.ipvs.walk import _matches as rule_matches
from kproxy_tutor.sandbox.netfilter import next_hooks as default_next_hooks
from kproxy_tutor.sandbox.nftables.evaluate import NodeView
from kproxy_tutor.sandbox.packet import (
    MarkSetter,
    MasqueradeReason,
    Outcome,
    OutcomeKind,
    Packet,
    RouteKind,
    SourceKind,
    StepKind,
    Trace,
    TraceStep,
    host_port,
)
from kproxy_tutor.sandbox.trace.mode_kernel import NodePass
from kproxy_tutor.sandbox.trace.network import Route
from kproxy_tutor.sandbox.trace.snat import masquerade as masquerade_source
from kproxy_tutor.sandbox.trace.snat import node_route, port_rng

MASQ_CHAIN = "KUBE-MARK-MASQ"
#: The chain name the trace shows for IPVS's own decisions (IPVS is not an iptables chain).
IPVS_CHAIN = "IPVS"
#: Schedulers whose choice is a hash of the packet: only one real server is possible for it.
HASHING = ("sh", "dh", "mh")
_MAX_DEPTH = 16


class _Stop(Exception):
    def __init__(self, verdict: str, table: str, chain: str, rule: Rule | None, hook: str) -> None:
        super().__init__(verdict)
        self.verdict, self.table, self.chain, self.rule, self.hook = verdict, table, chain, rule, hook


@dataclass(slots=True)
class _Walk:
    packet: Packet
    steps: list[TraceStep] = field(default_factory=list)
    examined: dict[str, int] = field(default_factory=dict)
    setters: list[MarkSetter] = field(default_factory=list)
    mark: int = 0
    service: str | None = None


class IpvsEvaluator:
    def __init__(
        self, state: IpvsState, node: NodeView, clock: Callable[[], float] = time.monotonic, seed: int = 0
    ) -> None:
        assert state.iptables is not None and state.ipsets is not None
        self.state = state
        self.node = node
        self.ruleset: Ruleset = state.iptables.ruleset
        #: By the name the rules use (``KUBE-6-…`` for the IPv6 proxier's sets).
        self.sets: Mapping[str, IpSet] = {s.name: s for s in state.ipsets.values()}
        self.clock = clock
        self.network = node.routing()
        self.port_rng = port_rng(seed)
        self.servers = {vs.key: vs for vs in state.virtual_servers}
        self.bound = frozenset(state.bound_addresses)
        self.schedulers: dict[tuple[str, str, int], SchedulerState] = {}
        #: ClientIP affinity (IPVS persistence): virtual server → client IP → (real server, expiry).
        self.persistence: dict[tuple[str, str, int], dict[str, tuple[RealServer, float]]] = {}

    # Public ---------------------------------------------------------------------------------
    @property
    def local_addresses(self) -> frozenset[str]:
        """The Service addresses bound to kube-ipvs0: local to the node, so routing delivers them (and a
        node process connecting to one gets it as its source address, the local route's ``src``)."""
        return self.bound

    def keep_state_of(self, before: IpvsEvaluator) -> None:
        """Carry what the kernel keeps across a kube-proxy sync from the walker of the rules before it.

        kube-proxy updates virtual servers in place, so each scheduler goes on where it was and
        persistence (ClientIP affinity) entries stay; the NAT port source is the kernel's.
        """
        self.schedulers = before.schedulers
        self.persistence = before.persistence
        self.port_rng = before.port_rng

    def evaluate(self, packet: Packet, source: str, forced: RealServer | None = None) -> Trace:
        """The first packet of a new connection; the scheduler (or ``forced``) picks the real server."""
        walk = _Walk(packet)
        outcome = self._run(walk, source, forced)
        return Trace(
            packet,
            outcome,
            tuple(walk.steps),
            sum(walk.examined.values()),
            source_node=self.node.name,
            examined_by_table=dict(walk.examined),
            source_kind=source,
        )

    def possible_outcomes(self, packet: Packet, source: str) -> list[Outcome]:
        """Every outcome the scheduler allows: each real server, or the one a hashing scheduler picks."""
        first = self.evaluate(packet, source)
        vs = self._virtual_server(first.packet) if first.outcome.kind == OutcomeKind.DELIVERED else None
        if vs is None or vs.scheduler in HASHING or vs.persistent:
            return [first.outcome]
        return [self.evaluate(packet, source, rs).outcome for rs in vs.real_servers if rs.weight > 0]

    def pass_node(self, packet: Packet, source: str) -> NodePass:
        """The first packet of a connection through this node, for a multi-node trace (no delivery step)."""
        walk = _Walk(packet)
        result = self._walk_node(walk, source, None)
        common = {
            "steps": walk.steps,
            "examined": dict(walk.examined),
            "setters": walk.setters,
            "service": walk.service,
        }
        if isinstance(result, _Stop):
            return NodePass(
                walk.packet, None, result.verdict, result.table, result.chain, result.rule, **common
            )  # type: ignore[arg-type]
        _vs, route, snat = result
        return NodePass(walk.packet, route, snat_interface=snat[1] if snat else None, **common)  # type: ignore[arg-type]

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None:
        """The virtual server that picked the real server, and each real server's share by weight.

        A hashing scheduler (``sh``, ``dh``, ``mh``) sends one client to one server, so it promises
        no shares.
        """
        step = next((s for s in trace.steps if s.kind == StepKind.DNAT and s.table == "ipvs"), None)
        if step is None:
            return None
        vs = next(
            (
                v
                for v in self.state.virtual_servers
                if host_port(v.address, v.port) == step.detail.get("virtual_server")
            ),
            None,
        )
        if vs is None:
            return None
        name = f"{vs.protocol} {host_port(vs.address, vs.port)}"
        weights = {host_port(rs.address, rs.port): rs.weight for rs in vs.real_servers if rs.weight > 0}
        total = sum(weights.values())
        if vs.scheduler in HASHING or not total:
            return name, {}
        return name, {endpoint: weight / total for endpoint, weight in weights.items()}

    # Walk -----------------------------------------------------------------------------------
    def _run(self, walk: _Walk, source: str, forced: RealServer | None) -> Outcome:
        result = self._walk_node(walk, source, forced)
        if isinstance(result, _Stop):
            kind = OutcomeKind.REJECTED if result.verdict == "REJECT" else OutcomeKind.DROPPED
            return Outcome(
                kind,
                mark_setters=tuple(walk.setters),
                rule=result.rule,
                table=result.table,
                chain=result.chain,
            )
        vs, route, snat = result
        return self._deliver(walk, vs, route, snat)

    def _walk_node(
        self, walk: _Walk, source: str, forced: RealServer | None
    ) -> _Stop | tuple[VirtualServer | None, Route, tuple[str, str] | None]:
        """This node's hooks and IPVS: the stop that ended the walk, or (virtual server, route, masquerade)."""
        packet = walk.packet
        local_out = source == SourceKind.NODE
        try:
            self._hook(walk, "OUTPUT" if local_out else "PREROUTING", "nat")
            vs = self._virtual_server(packet)
            if local_out and vs is not None:
                # A node process's packet: IPVS takes it at LOCAL_OUT (ip_vs_local_request4), right
                # after nat OUTPUT; it goes on through filter OUTPUT and POSTROUTING, never FORWARD.
                self._ipvs(walk, vs, forced, "OUTPUT")
                route = self._route_step(
                    walk, local_out=True, next_hooks=["OUTPUT", "POSTROUTING"], reroute=True
                )
                self._hook(walk, "OUTPUT", "filter")
                return vs, route, self._postrouting(walk, vs, route)
            bound = packet.dst_ip in self.bound
            route = self._route_step(walk, local_out=local_out, interface="kube-ipvs0" if bound else None)
            if route.kind != RouteKind.LOCAL:
                if local_out:
                    self._hook(walk, "OUTPUT", "filter")
                return None, route, None
            self._hook(walk, "INPUT", "filter")
            if vs is None:
                return None, route, None
            self._ipvs(walk, vs, forced, "INPUT")
            # IPVS routes the rewritten packet and sends it itself: LOCAL_OUT, then POSTROUTING.
            route = self._route_step(
                walk, local_out=True, next_hooks=["OUTPUT", "POSTROUTING"], sent_by_ipvs=True
            )
            self._hook(walk, "OUTPUT", "filter")
            return vs, route, self._postrouting(walk, vs, route)
        except _Stop as stop:
            walk.steps.append(
                TraceStep(
                    StepKind.VERDICT,
                    self.node.name,
                    hook=stop.hook,
                    table=stop.table,
                    chain=stop.chain,
                    rule=stop.rule,
                    packet=walk.packet,
                    detail={"verdict": stop.verdict},
                )
            )
            return stop

    def _ipvs(self, walk: _Walk, vs: VirtualServer, forced: RealServer | None, hook: str) -> None:
        """The virtual server's scheduler picks a real server and IPVS rewrites the destination."""
        packet = walk.packet
        walk.service = walk.service or vs.service or None
        rs, sticky = (forced, False) if forced is not None else self._schedule(vs, packet)
        if rs is None:
            # ip_vs_leave(): no real server to schedule, so ICMP port unreachable and drop.
            raise _Stop("REJECT", "ipvs", IPVS_CHAIN, None, hook)
        walk.packet = packet.replace(dst_ip=rs.address, dst_port=rs.port)
        walk.steps.append(
            TraceStep(
                StepKind.DNAT,
                self.node.name,
                hook=hook,
                table="ipvs",
                chain=IPVS_CHAIN,
                packet=walk.packet,
                detail={
                    "from": packet.destination,
                    "to": walk.packet.destination,
                    "by": "ipvs",
                    "scheduler": vs.scheduler,
                    "virtual_server": host_port(vs.address, vs.port),
                    "service": vs.service,
                    "sticky": sticky,
                },
            )
        )

    def _virtual_server(self, packet: Packet) -> VirtualServer | None:
        return self.servers.get((packet.protocol.upper(), packet.dst_ip, packet.dst_port))

    def _schedule(self, vs: VirtualServer, packet: Packet) -> tuple[RealServer | None, bool]:
        """The real server, and whether persistence (ClientIP affinity) repeated an earlier choice."""
        persisted = self.persistence.setdefault(vs.key, {})
        now = self.clock()
        if vs.persistent:
            kept = persisted.get(packet.src_ip)
            if kept is not None and kept[1] > now:
                # The same real server by address and port (a sync makes new RealServer values).
                same = next(
                    (r for r in vs.real_servers if (r.address, r.port) == (kept[0].address, kept[0].port)),
                    None,
                )
                if same is not None:
                    return same, True
        rs = pick(vs, self.schedulers.setdefault(vs.key, SchedulerState()), packet.src_ip, packet.src_port)
        if rs is not None and vs.persistent:
            persisted[packet.src_ip] = (rs, now + vs.persistent)
        return rs, False

    def _route_step(
        self,
        walk: _Walk,
        local_out: bool,
        interface: str | None = None,
        next_hooks: list[str] | None = None,
        reroute: bool = False,
        sent_by_ipvs: bool = False,
    ) -> Route:
        """The routing decision for the packet as it is now (the iptables tracer's ``Network.route``).

        A Service address is bound to kube-ipvs0, so it is local (``interface`` names that device).
        """
        packet = walk.packet
        route = node_route(self.network, self.node.name, packet.dst_ip)
        if packet.dst_ip in self.bound and route.kind != RouteKind.LOCAL:
            route = Route(RouteKind.LOCAL, interface or "kube-ipvs0", packet.dst_ip)
        hooks = next_hooks or default_next_hooks(route.kind, local_out)
        detail: dict[str, object] = {
            "route": route.kind,
            "destination": packet.dst_ip,
            "interface": interface or route.interface,
            "next_node": route.next_node,
            "next_hooks": hooks,
            "local_out": local_out,
            "reroute": reroute,
        }
        if sent_by_ipvs:
            detail["sent_by"] = "ipvs"
        walk.steps.append(TraceStep(StepKind.ROUTE, self.node.name, packet=packet, detail=detail))
        return route

    def _postrouting_masquerade(self, hairpin: bool) -> Rule | None:
        """KUBE-POSTROUTING's MASQUERADE rule: the KUBE-LOOP-BACK one for hairpin, else the mark's."""
        chain = (
            self.ruleset.tables["nat"].chains.get("KUBE-POSTROUTING")
            if "nat" in self.ruleset.tables
            else None
        )
        for rule in chain.rules if chain is not None else ():
            if (
                isinstance(rule.target, Masquerade)
                and ("KUBE-LOOP-BACK" in _logical(save_line(rule))) == hairpin
            ):
                return rule
        return None

    def _postrouting(self, walk: _Walk, vs: VirtualServer, route: Route) -> tuple[str, str] | None:
        """KUBE-POSTROUTING: masquerade a marked (or hairpin) packet; (new source, interface) if it did."""
        packet = walk.packet
        hairpin = packet.dst_ip == packet.src_ip
        if hairpin:
            walk.setters.append(MarkSetter(MasqueradeReason.HAIRPIN, "nat", "KUBE-POSTROUTING", None))  # type: ignore[arg-type]
        if not (walk.mark & 0x4000 or hairpin):
            return None
        rule = self._postrouting_masquerade(hairpin)
        fully_random = rule is not None and isinstance(rule.target, Masquerade) and rule.target.random_fully
        new = masquerade_source(packet, route, fully_random, self.port_rng)
        if new is None:
            return None
        before = packet
        walk.packet = packet = packet.replace(src_ip=new.ip, src_port=new.port, mark=0)
        walk.steps.append(
            TraceStep(
                StepKind.SNAT,
                self.node.name,
                hook="POSTROUTING",
                table="nat",
                chain="KUBE-POSTROUTING",
                rule=rule,
                packet=packet,
                detail=new.step_detail(before.source, packet.source),
            )
        )
        return (new.ip, new.interface)

    def _deliver(
        self, walk: _Walk, vs: VirtualServer | None, route: Route, snat: tuple[str, str] | None
    ) -> Outcome:
        packet = walk.packet
        owner = self.node.pods.get(packet.dst_ip)
        walk.steps.append(
            TraceStep(
                StepKind.DELIVER,
                self.node.name,
                packet=packet,
                detail={
                    "route": route.kind,
                    "interface": route.interface,
                    "pod": owner[1] if owner else None,
                    "to": packet.destination,
                },
            )
        )
        kind = OutcomeKind.DELIVERED if vs is not None else OutcomeKind.NOT_SERVICE
        node = (
            owner[0]
            if owner
            else (self.node.name if route.kind in (RouteKind.POD, RouteKind.LOCAL) else None)
        )
        return Outcome(
            kind,
            packet.destination,
            node,
            owner[1] if owner else None,
            masquerade=snat is not None,
            snat_source=snat[0] if snat else None,
            snat_interface=snat[1] if snat else None,
            mark_setters=tuple(walk.setters),
            route=route.kind,
        )

    def _hook(self, walk: _Walk, hook: str, table: str) -> None:
        chains = self.ruleset.tables.get(table)
        if chains is None or hook not in chains.chains:
            return
        walk.steps.append(TraceStep(StepKind.HOOK, self.node.name, hook=hook, table=table, chain=hook))
        self._chain(walk, hook, table, hook, 0)

    def _first(self, walk: _Walk) -> FirstPacket:
        packet = walk.packet
        return FirstPacket(
            packet.protocol, packet.src_ip, packet.dst_ip, packet.dst_port, self.node.local_ips | self.bound
        )

    def _chain(self, walk: _Walk, hook: str, table: str, chain: str, depth: int) -> bool:
        """Run ``chain``; True when a verdict (ACCEPT) ended the table's walk."""
        rules = self.ruleset.tables[table].chains[chain].rules
        for number, rule in enumerate(rules, 1):
            walk.examined[table] = walk.examined.get(table, 0) + 1
            if not rule_matches(rule, self._first(walk), self.sets):
                continue
            target = rule.target
            walk.steps.append(
                TraceStep(
                    StepKind.RULE,
                    self.node.name,
                    hook=hook,
                    table=table,
                    chain=chain,
                    rule=rule,
                    rule_number=number,
                )
            )
            if isinstance(target, MarkTarget):
                old = walk.mark
                walk.mark = target.apply(old)
                walk.steps.append(
                    TraceStep(
                        StepKind.MARK,
                        self.node.name,
                        hook=hook,
                        table=table,
                        chain=chain,
                        detail={"from": hex(old), "to": hex(walk.mark)},
                    )
                )
                continue
            if (
                isinstance(target, Jump)
                and target.chain in self.ruleset.tables[table].chains
                and depth < _MAX_DEPTH
            ):
                if target.chain == MASQ_CHAIN:
                    walk.setters.append(MarkSetter(_reason(chain, rule), table, chain, rule))
                if self._chain(walk, hook, table, target.chain, depth + 1):
                    return True
                continue
            if isinstance(target, Reject):
                raise _Stop("REJECT", table, chain, rule, hook)
            if isinstance(target, Verdict):
                if target.verdict == "DROP":
                    raise _Stop("DROP", table, chain, rule, hook)
                # RETURN goes back to the caller; ACCEPT ends the table's walk.
                return target.verdict != "RETURN"
        return False


def _reason(chain: str, rule: Rule) -> str:
    """Why IPVS mode's rule asked for masquerading: its chain and the set it matched tell."""
    if chain in ("KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-EXTERNAL-IP"):
        return MasqueradeReason.EXTERNAL
    text = _logical(" ".join(str(getattr(m, "args", "")) for m in rule.matches))
    if "KUBE-EXTERNAL-IP" in text or "KUBE-LOAD-BALANCER" in text:
        return MasqueradeReason.EXTERNAL
    if "KUBE-CLUSTER-IP" in text and "src,dst" in text:
        return MasqueradeReason.SERVICE_SOURCE
    if "KUBE-CLUSTER-IP" in text:
        negated = (rule.source is not None and rule.source.negated) or (
            rule.in_interface is not None and rule.in_interface.negated
        )
        return MasqueradeReason.OFF_CLUSTER if negated else MasqueradeReason.MASQUERADE_ALL
    return MasqueradeReason.OTHER


def _logical(text: str) -> str:
    """Set names as both families' rules mean them: the IPv6 proxier's ``KUBE-6-CLUSTER-IP`` is ``KUBE-CLUSTER-IP``."""
    return text.replace("KUBE-6-", "KUBE-")
