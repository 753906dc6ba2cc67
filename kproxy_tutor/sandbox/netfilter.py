"""Evaluate a node's structured iptables rules for one packet, as netfilter does: hooks, tables, chains, targets, conntrack.

At each hook the tables run in the kernel's priority order (raw, mangle, nat, filter,
security; nat's source translation comes last). The nat table is consulted only for the first
packet of a connection: its translation is stored in the conntrack entry, and every later
packet (and every reply) is translated from there. Rules the tracer cannot evaluate raise
``UnsupportedRuleError`` naming the rule; nothing is silently skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.conntrack import ConntrackEntry, ConntrackTable
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.iptables.rules import (
    Chain,
    Dnat,
    Goto,
    Jump,
    MarkTarget,
    Masquerade,
    RecentMatch,
    Reject,
    Rule,
    Snat,
    StatisticMatch,
    Table,
    Verdict,
)
from kproxy_tutor.sandbox.packet import (
    NO_DETAIL,
    Direction,
    MarkSetter,
    Packet,
    RouteKind,
    StepKind,
    TraceStep,
)
from kproxy_tutor.sandbox.trace.matching import ChainIndex, MatchContext, NodeMatchState, Unsupported, ip_int
from kproxy_tutor.sandbox.trace.network import Network, NodeNetwork, Route
from kproxy_tutor.sandbox.trace.snat import masquerade
from kproxy_tutor.sandbox.trace.targets import masquerade_reason, nat_address

#: Tables at each hook, in netfilter's priority order.
HOOK_TABLES = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "security", "nat"),
    "FORWARD": ("mangle", "filter", "security"),
    "OUTPUT": ("raw", "mangle", "nat", "filter", "security"),
    "POSTROUTING": ("mangle", "nat"),
}
DESTINATION_NAT_HOOKS = ("PREROUTING", "OUTPUT")
ACCEPT, DROP, REJECT = "ACCEPT", "DROP", "REJECT"
_CALLS = (Jump, Goto)
#: Chains one packet may enter in one table at one hook. A real node's packet enters a handful;
#: the kernel refuses loops when a table is loaded, so only a loop (or an absurd fan-out) gets here.
MAX_CHAIN_CALLS = 10_000
#: Parts whose failure is worth showing: the packet lost a random draw or an affinity check.
_CHANCE_MATCHES = (StatisticMatch, RecentMatch)


class UnsupportedRuleError(SandboxInputError):
    """The packet reached a rule the tracer cannot evaluate."""


def _unsupported(table: str, chain: str, number: int, rule: Rule, problem: str) -> UnsupportedRuleError:
    return UnsupportedRuleError(
        N_(
            "The tracer cannot evaluate this rule ({problem}), so it cannot say what happens to the packet: {rule}"
        ),
        location=f"{table} {chain} #{number}",
        problem=problem,
        rule=save_line(rule),
    )


@dataclass(slots=True)
class Passage:
    """One packet's way through one node's hooks."""

    packet: Packet
    direction: str
    entry: ConntrackEntry
    established: bool
    steps: list[TraceStep] | None
    route: Route | None = None
    verdict: str = ACCEPT
    verdict_rule: Rule | None = None
    verdict_table: str | None = None
    verdict_chain: str | None = None
    examined: dict[str, int] = field(default_factory=dict)
    mark_setters: list[MarkSetter] = field(default_factory=list)
    #: (new source, interface) when MASQUERADE/SNAT ran (or conntrack re-applied it).
    snat: tuple[str, str] | None = None
    #: (old destination, new destination) when DNAT ran (or conntrack re-applied it).
    dnat: tuple[str, str] | None = None
    #: nat OUTPUT changed the destination, so the packet was routed again inside OUTPUT.
    rerouted: bool = False
    #: The service port the rules named (nftables and IPVS walkers; iptables reads rule comments).
    service: str | None = None


@dataclass(slots=True)
class _Frame:
    chain: Chain
    index: ChainIndex
    candidates: list[int]
    cursor: int
    next_rule: int
    visit_examined: int
    caller: tuple[str, Rule] | None


class NodeKernel:
    """One node's netfilter state: rules (indexed), conntrack table, xt_recent lists, statistic random source."""

    def __init__(
        self,
        node: NodeNetwork,
        network: Network,
        rng: random.Random,
        clock: Callable[[], float],
        port_rng: random.Random | None = None,
    ) -> None:
        self.node = node
        self.network = network
        #: Where NAT's random source ports come from (apart from ``rng``, which -m statistic draws from).
        self.port_rng = port_rng if port_rng is not None else random.Random(0)
        self.conntrack = ConntrackTable()
        self.clock = clock
        self.state = NodeMatchState(node.local_ips, rng, clock)
        self._indexes: dict[tuple[str, str], ChainIndex] = {}

    # Public --------------------------------------------------------------------------------
    def pass_packet(self, packet: Packet, in_iface: str | None, record: bool = True) -> Passage:
        """Run ``packet`` through this node. ``in_iface`` None: a local process sent it (OUTPUT path)."""
        found = self.conntrack.lookup(packet)
        if found is None:
            entry, direction, established = (
                self.conntrack.new_entry(packet, self.clock()),
                Direction.REQUEST,
                False,
            )
        else:
            (entry, direction), established = found, True
        p = Passage(packet, direction, entry, established, [] if record else None)
        state = "reply" if direction == Direction.REPLY else ("established" if established else "new")
        if p.steps is not None:
            self._step(
                p,
                StepKind.CONNTRACK,
                detail={
                    "state": state,
                    "entry": _tuple_text(entry.original),
                    "nat": entry.dnat or entry.snat,
                },
            )
        ok = self._local_out(p) if in_iface is None else self._from_interface(p, in_iface)
        if ok:
            if not established:
                self.conntrack.confirm(entry)
            elif direction == Direction.REPLY:
                entry.seen_reply = True
        return p

    # Paths ---------------------------------------------------------------------------------
    def _from_interface(self, p: Passage, in_iface: str) -> bool:
        if not self._hook(p, "PREROUTING", in_iface, "", None):
            return False
        route = p.route = self._route(p, local_out=False)
        if route.kind == RouteKind.LOCAL:
            return self._hook(p, "INPUT", in_iface, "", route)
        return self._hook(p, "FORWARD", in_iface, route.interface, route) and self._hook(
            p, "POSTROUTING", "", route.interface, route
        )

    def _local_out(self, p: Passage) -> bool:
        # A local process's packet is routed before OUTPUT; if nat OUTPUT changes its destination,
        # the kernel routes it again inside the hook (``_hook``), before filter OUTPUT. Either way
        # it goes on to POSTROUTING: FORWARD is only for packets that came in on an interface.
        route = p.route = self.network.route(self.node, p.packet.dst_ip)
        if not self._hook(p, "OUTPUT", "", route.interface, route):
            return False
        if p.rerouted:
            route = p.route
        else:
            route = p.route = self._route(p, local_out=True)
        if not self._hook(p, "POSTROUTING", "", route.interface, route):
            return False
        if route.kind == RouteKind.LOCAL:
            # Looped back: the connection's NAT is already set up, so only INPUT's filtering runs.
            return self._hook(p, "INPUT", route.interface, "", route, nat=False)
        return True

    def _route(self, p: Passage, local_out: bool, reroute: bool = False) -> Route:
        route = self.network.route(self.node, p.packet.dst_ip)
        if p.steps is not None:
            self._step(
                p,
                StepKind.ROUTE,
                detail={
                    "route": route.kind,
                    "interface": route.interface,
                    "next_node": route.next_node,
                    "destination": p.packet.dst_ip,
                    "next_hooks": next_hooks(route.kind, local_out, reroute),
                    "local_out": local_out,
                    "reroute": reroute,
                },
            )
        return route

    # Hooks ---------------------------------------------------------------------------------
    def _hook(
        self, p: Passage, hook: str, in_iface: str, out_iface: str, route: Route | None, nat: bool = True
    ) -> bool:
        tables = self.node.rules().tables
        if p.steps is not None:
            self._step(p, StepKind.HOOK, hook=hook, detail={"in": in_iface, "out": out_iface})
        destination = p.packet.dst_ip
        for name in HOOK_TABLES[hook]:
            if hook == "OUTPUT" and name == "filter" and p.packet.dst_ip != destination:
                # nat OUTPUT changed the destination: the kernel routes the packet again right
                # there (ip_route_me_harder), so filter OUTPUT already sees the new way out.
                route = p.route = self._route(p, local_out=True, reroute=True)
                out_iface, p.rerouted = route.interface, True
            if name == "nat":
                if not nat:
                    continue
                if p.established:
                    self._conntrack_nat(p, hook, route)
                    continue
            table = tables.get(name)
            chain = table.chains.get(hook) if table is not None else None
            if table is None or chain is None:
                continue
            if not chain.rules and chain.policy != DROP:
                # An empty chain that accepts changes nothing: no walk, one step (its policy counter counts).
                if p.steps is not None:
                    self._step(
                        p,
                        StepKind.POLICY,
                        hook=hook,
                        table=name,
                        chain=hook,
                        examined=0,
                        detail={"policy": chain.policy or ACCEPT, "empty": True},
                    )
                continue
            verdict = self._walk(p, table, hook, chain, in_iface, out_iface, route)
            if verdict != ACCEPT:
                p.verdict = verdict
                self._step(
                    p,
                    StepKind.VERDICT,
                    hook=hook,
                    table=name,
                    chain=p.verdict_chain,
                    rule=p.verdict_rule,
                    detail={"verdict": verdict},
                )
                return False
        return True

    def _conntrack_nat(self, p: Passage, hook: str, route: Route | None) -> None:
        which = "dst" if hook in DESTINATION_NAT_HOOKS else "src"
        before = p.packet
        after = p.entry.translate(before, p.direction, which)
        if after == before:
            return
        p.packet = after
        if which == "dst":
            p.dnat = (before.destination, after.destination)
            self._step(
                p,
                StepKind.DNAT,
                hook=hook,
                table="nat",
                detail={"from": before.destination, "to": after.destination, "by": "conntrack"},
            )
        else:
            p.snat = (after.src_ip, route.interface if route is not None else "")
            self._step(
                p,
                StepKind.SNAT,
                hook=hook,
                table="nat",
                detail={"from": before.source, "to": after.source, "by": "conntrack"},
            )

    def _index(self, table: str, chain: Chain) -> ChainIndex:
        key = (table, chain.name)
        index = self._indexes.get(key)
        if index is None or not index.is_current(chain):
            index = self._indexes[key] = ChainIndex(chain)
        return index

    # Chains --------------------------------------------------------------------------------
    def _walk(
        self,
        p: Passage,
        table: Table,
        hook: str,
        builtin: Chain,
        in_iface: str,
        out_iface: str,
        route: Route | None,
    ) -> str:
        # The hot loop of every trace: steps are built only when recorded, lookups kept local.
        pkt = p.packet
        ctx = MatchContext(
            pkt.protocol,
            ip_int(pkt.src_ip),
            ip_int(pkt.dst_ip),
            pkt.src_port,
            pkt.dst_port,
            pkt.mark,
            in_iface,
            out_iface,
            p.entry.states(p.direction),
            self.state,
        )
        tname = table.name
        steps, node, direction = p.steps, self.node.name, p.direction
        index = self._index(tname, builtin)
        frame = _Frame(builtin, index, index.candidates(ctx), 0, 0, 0, None)
        stack: list[_Frame] = []
        examined_total = 0
        calls = 0
        if steps is not None:
            steps.append(
                TraceStep(
                    StepKind.CHAIN,
                    node,
                    direction,
                    hook,
                    tname,
                    builtin.name,
                    None,
                    None,
                    None,
                    pkt,
                    {"via": "hook"},
                )
            )
        try:
            while True:
                chain, index = frame.chain, frame.index
                if frame.cursor >= len(frame.candidates):
                    rest = index.size - frame.next_rule
                    frame.visit_examined += rest
                    examined_total += rest
                    popped = self._leave_chain(p, tname, hook, frame, stack)
                    if popped is None:
                        return self._policy(p, tname, hook, builtin, frame.visit_examined)
                    frame = popped
                    continue
                position = frame.candidates[frame.cursor]
                frame.cursor += 1
                compiled = index.compiled[position] or index.rule(position)
                ctx.note = None
                try:
                    failed = compiled.first_failing(ctx)
                except Unsupported as problem:
                    raise _unsupported(tname, chain.name, position + 1, compiled.rule, str(problem)) from None
                rule = compiled.rule
                if failed is not None:
                    if steps is not None and ctx.note is not None and isinstance(failed, _CHANCE_MATCHES):
                        steps.append(
                            TraceStep(
                                StepKind.MISS,
                                node,
                                direction,
                                hook,
                                tname,
                                chain.name,
                                rule,
                                position + 1,
                                None,
                                p.packet,
                                ctx.note,
                            )
                        )
                    continue
                examined = position - frame.next_rule + 1
                frame.visit_examined += examined
                frame.next_rule = position + 1
                examined_total += examined
                if steps is not None:
                    steps.append(
                        TraceStep(
                            StepKind.RULE,
                            node,
                            direction,
                            hook,
                            tname,
                            chain.name,
                            rule,
                            position + 1,
                            frame.visit_examined,
                            p.packet,
                            ctx.note or NO_DETAIL,
                        )
                    )
                target = rule.target
                if target is None:
                    continue
                if isinstance(target, _CALLS):
                    called = table.chains.get(target.chain)
                    if called is None:
                        raise _unsupported(
                            tname, chain.name, position + 1, rule, f"chain {target.chain} does not exist"
                        )
                    calls += 1
                    if calls > MAX_CHAIN_CALLS or len(stack) >= len(table.chains):
                        raise SandboxInputError(
                            N_(
                                "The rules of table {table} loop: the packet entered {count} chains without "
                                "a verdict; the kernel refuses such a table (iptables-restore: Too many links)."
                            ),
                            location=f"{tname} {chain.name} #{position + 1}",
                            count=calls,
                            table=tname,
                        )
                    if isinstance(target, Jump):
                        stack.append(frame)
                    called_index = self._index(tname, called)
                    frame = _Frame(
                        called, called_index, called_index.candidates(ctx), 0, 0, 0, (chain.name, rule)
                    )
                    if steps is not None:
                        via = "jump" if isinstance(target, Jump) else "goto"
                        steps.append(
                            TraceStep(
                                StepKind.CHAIN,
                                node,
                                direction,
                                hook,
                                tname,
                                called.name,
                                None,
                                None,
                                None,
                                p.packet,
                                {"via": via, "from": chain.name},
                            )
                        )
                    continue
                if isinstance(target, Verdict) and target.verdict == "RETURN":
                    popped = self._leave_chain(p, tname, hook, frame, stack)
                    if popped is None:
                        return self._policy(p, tname, hook, builtin, frame.visit_examined)
                    frame = popped
                    continue
                if isinstance(target, MarkTarget):
                    self._mark(p, ctx, tname, hook, frame, rule, target)
                    continue
                verdict = self._terminal(p, ctx, tname, hook, chain, rule, route)
                if verdict is not None:
                    return verdict
                raise _unsupported(tname, chain.name, position + 1, rule, f"target {target.save()}")
        finally:
            if examined_total:
                p.examined[tname] = p.examined.get(tname, 0) + examined_total
            if p.packet.mark != ctx.mark:
                q = p.packet
                p.packet = q.translated(q.src_ip, q.src_port, q.dst_ip, q.dst_port, ctx.mark)

    def _leave_chain(
        self, p: Passage, table: str, hook: str, frame: _Frame, stack: list[_Frame]
    ) -> _Frame | None:
        if not stack:
            return None
        if p.steps is not None:
            self._step(
                p,
                StepKind.RETURN,
                hook=hook,
                table=table,
                chain=frame.chain.name,
                examined=frame.visit_examined,
                detail={"to": stack[-1].chain.name},
            )
        return stack.pop()

    def _policy(self, p: Passage, table: str, hook: str, builtin: Chain, examined: int) -> str:
        policy = builtin.policy or ACCEPT
        if p.steps is not None:
            self._step(
                p,
                StepKind.POLICY,
                hook=hook,
                table=table,
                chain=builtin.name,
                examined=examined,
                detail={"policy": policy},
            )
        if policy == DROP:
            p.verdict_rule, p.verdict_table, p.verdict_chain = None, table, builtin.name
            return DROP
        return ACCEPT

    def _mark(
        self,
        p: Passage,
        ctx: MatchContext,
        table: str,
        hook: str,
        frame: _Frame,
        rule: Rule,
        target: MarkTarget,
    ) -> None:
        old = ctx.mark
        ctx.mark = target.apply(old)
        turned_on = ctx.mark & ~old
        self._step(
            p,
            StepKind.MARK,
            hook=hook,
            table=table,
            chain=frame.chain.name,
            rule=rule,
            detail={"from": f"0x{old:x}", "to": f"0x{ctx.mark:x}"},
        )
        if turned_on:
            # The MARK rule sits in a helper chain (KUBE-MARK-MASQ); the rule that jumped
            # there says why the packet needs the mark.
            chain, why = frame.caller if frame.caller is not None else (frame.chain.name, rule)
            p.mark_setters.append(MarkSetter(masquerade_reason(chain, why), table, chain, why))

    def _terminal(
        self,
        p: Passage,
        ctx: MatchContext,
        table: str,
        hook: str,
        chain: Chain,
        rule: Rule,
        route: Route | None,
    ) -> str | None:
        target = rule.target
        if isinstance(target, Verdict) and target.verdict in (ACCEPT, DROP):
            if target.verdict == DROP:
                p.verdict_rule, p.verdict_table, p.verdict_chain = rule, table, chain.name
            return target.verdict
        if isinstance(target, Reject):
            p.verdict_rule, p.verdict_table, p.verdict_chain = rule, table, chain.name
            return REJECT
        if isinstance(target, Dnat) and table == "nat" and hook in DESTINATION_NAT_HOOKS:
            ip, port = nat_address(target.to_destination, p.packet.dst_port)
            if target.extra or ip is None:
                return None
            before = p.packet
            p.packet = before.translated(before.src_ip, before.src_port, ip, port, ctx.mark)
            p.entry.set_destination(ip, port)
            p.dnat = (before.destination, p.packet.destination)
            self._step(
                p,
                StepKind.DNAT,
                hook=hook,
                table=table,
                chain=chain.name,
                rule=rule,
                detail={"from": before.destination, "to": p.packet.destination, "by": "rule"},
            )
            return ACCEPT
        if isinstance(target, Masquerade | Snat) and table == "nat" and hook not in DESTINATION_NAT_HOOKS:
            port_detail: dict[str, object] = {}
            if isinstance(target, Masquerade):
                if target.to_ports or route is None:
                    return None
                new = masquerade(
                    p.packet, route, target.random_fully, self.port_rng, self._source_taken(p.packet)
                )
                if new is None:
                    return None
                ip, port, iface = new.ip, new.port, new.interface
                port_detail = {"port": new.port_choice, "port_range": new.port_range}
            else:
                ip, port = nat_address(target.to_source, p.packet.src_port)
                iface = route.interface if route is not None else ""
                if target.extra or ip is None:
                    return None
            before = p.packet
            p.packet = before.translated(ip, port, before.dst_ip, before.dst_port, ctx.mark)
            p.entry.set_source(ip, port)
            p.snat = (ip, iface)
            self._step(
                p,
                StepKind.SNAT,
                hook=hook,
                table=table,
                chain=chain.name,
                rule=rule,
                detail={
                    "from": before.source,
                    "to": p.packet.source,
                    "interface": iface,
                    "by": "rule",
                    **port_detail,
                },
            )
            return ACCEPT
        return None

    def _source_taken(self, packet: Packet) -> Callable[[str, int], bool]:
        """Whether a confirmed connection to ``packet``'s destination already uses a source (``nf_nat_used_tuple``)."""

        def taken(ip: str, port: int) -> bool:
            reply = Packet(packet.protocol, packet.dst_ip, packet.dst_port, ip, port)
            return self.conntrack.lookup(reply) is not None

        return taken

    # Bookkeeping ---------------------------------------------------------------------------
    def _step(
        self,
        p: Passage,
        kind: str,
        hook: str | None = None,
        table: str | None = None,
        chain: str | None = None,
        rule: Rule | None = None,
        examined: int | None = None,
        detail: Mapping[str, object] = NO_DETAIL,
    ) -> None:
        if p.steps is not None:
            p.steps.append(
                TraceStep(
                    kind,
                    self.node.name,
                    p.direction,
                    hook,
                    table,
                    chain,
                    rule,
                    None,
                    examined,
                    p.packet,
                    detail,
                )
            )


def next_hooks(route: str, local_out: bool, reroute: bool = False) -> list[str]:
    """The hooks a packet meets after a routing decision (the ``next_hooks`` detail of a ``route`` step).

    A locally generated packet never passes FORWARD: OUTPUT, then POSTROUTING (and, sent to the
    node's own address, back in through ``lo`` to INPUT).
    """
    if not local_out:
        return ["INPUT"] if route == RouteKind.LOCAL else ["FORWARD", "POSTROUTING"]
    hooks = ["OUTPUT", "POSTROUTING"] if reroute else ["POSTROUTING"]
    return [*hooks, "INPUT"] if route == RouteKind.LOCAL else hooks


def _tuple_text(t: tuple[str, str, int, str, int]) -> str:
    from kproxy_tutor.sandbox.packet import host_port  # ``[ipv6]:port``

    return f"{t[0]} {host_port(t[1], t[2])} -> {host_port(t[3], t[4])}"
