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

from kproxy_tutor.sandbox.iptables.rules import Jump, MarkTarget, Reject, Rule, Ruleset, Verdict
from kproxy_tutor.sandbox.ipvs.ipsets import IpSet
from kproxy_tutor.sandbox.ipvs.proxier import IpvsState, RealServer, VirtualServer
from kproxy_tutor.sandbox.ipvs.schedulers import SchedulerState, pick
from kproxy_tutor.sandbox.ipvs.walk import FirstPacket
from kproxy_tutor.sandbox.ipvs.walk import _matches as rule_matches
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
)

MASQ_CHAIN = "KUBE-MARK-MASQ"
#: The chain name the trace shows for IPVS's own decisions (IPVS is not an iptables chain).
IPVS_CHAIN = "IPVS"
#: Schedulers whose choice is a hash of the packet: only one real server is possible for it.
HASHING = ("sh", "dh", "mh")
_MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class IpvsNode:
    name: str
    #: The node's own addresses (not kube-ipvs0's), plus localhost.
    local_ips: frozenset[str]
    pod_interface: str = "cni0"
    #: Pod IP → (node name, "namespace/name").
    pods: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class _Stop(Exception):
    def __init__(self, verdict: str, table: str, chain: str, rule: Rule | None) -> None:
        super().__init__(verdict)
        self.verdict, self.table, self.chain, self.rule = verdict, table, chain, rule


@dataclass(slots=True)
class _Walk:
    packet: Packet
    steps: list[TraceStep] = field(default_factory=list)
    examined: dict[str, int] = field(default_factory=dict)
    setters: list[MarkSetter] = field(default_factory=list)
    mark: int = 0


class IpvsEvaluator:
    def __init__(self, state: IpvsState, node: IpvsNode, clock: Callable[[], float] = time.monotonic) -> None:
        assert state.iptables is not None and state.ipsets is not None
        self.state = state
        self.node = node
        self.ruleset: Ruleset = state.iptables.ruleset
        self.sets: Mapping[str, IpSet] = state.ipsets
        self.clock = clock
        self.servers = {vs.key: vs for vs in state.virtual_servers}
        self.bound = frozenset(state.bound_addresses)
        self.schedulers: dict[tuple[str, str, int], SchedulerState] = {}
        #: ClientIP affinity (IPVS persistence): virtual server → client IP → (real server, expiry).
        self.persistence: dict[tuple[str, str, int], dict[str, tuple[RealServer, float]]] = {}

    # Public ---------------------------------------------------------------------------------
    def evaluate(self, packet: Packet, source: str, forced: RealServer | None = None) -> Trace:
        """The first packet of a new connection; the scheduler (or ``forced``) picks the real server."""
        walk = _Walk(packet)
        outcome = self._run(walk, source, forced)
        return Trace(packet, outcome, tuple(walk.steps), sum(walk.examined.values()), source_node=self.node.name,
                     examined_by_table=dict(walk.examined))

    def possible_outcomes(self, packet: Packet, source: str) -> list[Outcome]:
        """Every outcome the scheduler allows: each real server, or the one a hashing scheduler picks."""
        first = self.evaluate(packet, source)
        vs = self._virtual_server(first.packet) if first.outcome.kind == OutcomeKind.DELIVERED else None
        if vs is None or vs.scheduler in HASHING or vs.persistent:
            return [first.outcome]
        return [self.evaluate(packet, source, rs).outcome for rs in vs.real_servers if rs.weight > 0]

    # Walk -----------------------------------------------------------------------------------
    def _run(self, walk: _Walk, source: str, forced: RealServer | None) -> Outcome:
        packet = walk.packet
        try:
            self._hook(walk, "OUTPUT" if source == SourceKind.NODE else "PREROUTING", "nat")
            local = packet.dst_ip in self.node.local_ips or packet.dst_ip in self.bound
            route = RouteKind.LOCAL if local else self._route(packet.dst_ip)
            walk.steps.append(self._route_step(packet, route, "kube-ipvs0" if packet.dst_ip in self.bound else "lo"))
            if not local:
                return self._deliver(walk, None, route)
            self._hook(walk, "INPUT", "filter")
            vs = self._virtual_server(packet)
            if vs is None:
                return self._deliver(walk, None, RouteKind.LOCAL)
            rs = forced or self._schedule(vs, packet)
            if rs is None:
                # ip_vs_leave(): no real server to schedule, so ICMP port unreachable and drop.
                raise _Stop("REJECT", "ipvs", IPVS_CHAIN, None)
            walk.packet = packet.replace(dst_ip=rs.address, dst_port=rs.port)
            walk.steps.append(TraceStep(StepKind.DNAT, self.node.name, table="ipvs", chain=IPVS_CHAIN,
                                        packet=walk.packet, detail={
                                            "from": packet.destination, "to": walk.packet.destination, "by": "ipvs",
                                            "scheduler": vs.scheduler, "virtual_server": f"{vs.address}:{vs.port}",
                                            "service": vs.service}))
            self._hook(walk, "OUTPUT", "filter")
            route = self._route(rs.address)
            walk.steps.append(self._route_step(walk.packet, route, self.node.pod_interface))
            return self._deliver(walk, vs, route)
        except _Stop as stop:
            walk.steps.append(TraceStep(StepKind.VERDICT, self.node.name, table=stop.table, chain=stop.chain,
                                        rule=stop.rule, detail={"verdict": stop.verdict}))
            kind = OutcomeKind.REJECTED if stop.verdict == "REJECT" else OutcomeKind.DROPPED
            return Outcome(kind, mark_setters=tuple(walk.setters), rule=stop.rule, table=stop.table, chain=stop.chain)

    def _virtual_server(self, packet: Packet) -> VirtualServer | None:
        return self.servers.get((packet.protocol.upper(), packet.dst_ip, packet.dst_port))

    def _schedule(self, vs: VirtualServer, packet: Packet) -> RealServer | None:
        persisted = self.persistence.setdefault(vs.key, {})
        now = self.clock()
        if vs.persistent:
            kept = persisted.get(packet.src_ip)
            if kept is not None and kept[1] > now and kept[0] in vs.real_servers:
                return kept[0]
        rs = pick(vs, self.schedulers.setdefault(vs.key, SchedulerState()), packet.src_ip, packet.src_port)
        if rs is not None and vs.persistent:
            persisted[packet.src_ip] = (rs, now + vs.persistent)
        return rs

    def _route(self, ip: str) -> str:
        owner = self.node.pods.get(ip)
        if owner is None:
            return RouteKind.OUTSIDE
        return RouteKind.POD if owner[0] == self.node.name else RouteKind.NODE

    def _route_step(self, packet: Packet, route: str, interface: str) -> TraceStep:
        owner = self.node.pods.get(packet.dst_ip)
        return TraceStep(StepKind.ROUTE, self.node.name, packet=packet, detail={
            "route": route, "destination": packet.dst_ip, "interface": interface if route != RouteKind.NODE else "eth0",
            "next_node": owner[0] if owner else None})

    def _deliver(self, walk: _Walk, vs: VirtualServer | None, route: str) -> Outcome:
        packet = walk.packet
        hairpin = vs is not None and packet.dst_ip == walk.packet.src_ip
        masquerade = vs is not None and (bool(walk.mark & 0x4000) or hairpin)
        if hairpin:
            walk.setters.append(MarkSetter(MasqueradeReason.HAIRPIN, "nat", "KUBE-POSTROUTING", None))  # type: ignore[arg-type]
        if masquerade:
            source = sorted(ip for ip in self.node.local_ips if not ip.startswith("127."))
            old = packet.src_ip
            walk.packet = packet = packet.replace(src_ip=source[0] if source else old, mark=0)
            walk.steps.append(TraceStep(StepKind.SNAT, self.node.name, hook="POSTROUTING", table="nat",
                                        chain="KUBE-POSTROUTING", packet=packet,
                                        detail={"from": old, "to": packet.src_ip, "interface": "eth0"}))
        owner = self.node.pods.get(packet.dst_ip)
        walk.steps.append(TraceStep(StepKind.DELIVER, self.node.name, packet=packet, detail={
            "route": route, "interface": self.node.pod_interface, "pod": owner[1] if owner else None,
            "to": packet.destination}))
        kind = OutcomeKind.DELIVERED if vs is not None else OutcomeKind.NOT_SERVICE
        return Outcome(kind, packet.destination, owner[0] if owner else None, owner[1] if owner else None,
                       masquerade=masquerade, snat_source=packet.src_ip if masquerade else None,
                       snat_interface="eth0" if masquerade else None, mark_setters=tuple(walk.setters), route=route)

    def _hook(self, walk: _Walk, hook: str, table: str) -> None:
        chains = self.ruleset.tables.get(table)
        if chains is None or hook not in chains.chains:
            return
        walk.steps.append(TraceStep(StepKind.HOOK, self.node.name, hook=hook, table=table, chain=hook))
        self._chain(walk, hook, table, hook, 0)

    def _first(self, walk: _Walk) -> FirstPacket:
        packet = walk.packet
        return FirstPacket(packet.protocol, packet.src_ip, packet.dst_ip, packet.dst_port, self.node.local_ips | self.bound)

    def _chain(self, walk: _Walk, hook: str, table: str, chain: str, depth: int) -> bool:
        """Run ``chain``; True when a verdict (ACCEPT) ended the table's walk."""
        rules = self.ruleset.tables[table].chains[chain].rules
        for number, rule in enumerate(rules, 1):
            walk.examined[table] = walk.examined.get(table, 0) + 1
            if not rule_matches(rule, self._first(walk), self.sets):
                continue
            target = rule.target
            walk.steps.append(TraceStep(StepKind.RULE, self.node.name, hook=hook, table=table, chain=chain, rule=rule,
                                        rule_number=number))
            if isinstance(target, MarkTarget):
                old = walk.mark
                walk.mark = target.apply(old)
                walk.steps.append(TraceStep(StepKind.MARK, self.node.name, hook=hook, table=table, chain=chain,
                                            detail={"from": hex(old), "to": hex(walk.mark)}))
                continue
            if isinstance(target, Jump) and target.chain in self.ruleset.tables[table].chains and depth < _MAX_DEPTH:
                if target.chain == MASQ_CHAIN:
                    walk.setters.append(MarkSetter(_reason(chain, rule), table, chain, rule))
                if self._chain(walk, hook, table, target.chain, depth + 1):
                    return True
                continue
            if isinstance(target, Reject):
                raise _Stop("REJECT", table, chain, rule)
            if isinstance(target, Verdict):
                if target.verdict == "DROP":
                    raise _Stop("DROP", table, chain, rule)
                # RETURN goes back to the caller; ACCEPT ends the table's walk.
                return target.verdict != "RETURN"
        return False


def _reason(chain: str, rule: Rule) -> str:
    """Why IPVS mode's rule asked for masquerading: its chain and the set it matched tell."""
    if chain in ("KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-EXTERNAL-IP"):
        return MasqueradeReason.EXTERNAL
    text = " ".join(str(getattr(m, "args", "")) for m in rule.matches)
    if "KUBE-EXTERNAL-IP" in text or "KUBE-LOAD-BALANCER" in text:
        return MasqueradeReason.EXTERNAL
    if "KUBE-CLUSTER-IP" in text:
        negated = (rule.source is not None and rule.source.negated) or (
            rule.in_interface is not None and rule.in_interface.negated)
        return MasqueradeReason.OFF_CLUSTER if negated else MasqueradeReason.MASQUERADE_ALL
    return MasqueradeReason.OTHER
