"""Walk a packet through kube-proxy's nftables table: hooks by priority, map lookups, numgen, marks, DNAT, masquerade.

Outcomes and steps are the same values the iptables tracer uses (``sandbox/packet.py``). Only
the first packet of a new connection is walked (``ct state new`` is true): later packets are
translated by conntrack without consulting the nat chains. ``numgen`` draws from a seeded
generator, or from given choices, so ``possible_outcomes`` can try every endpoint.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.ipaddr import parse_ip_sloppy
from kproxy_tutor.sandbox.netfilter import next_hooks
from kproxy_tutor.sandbox.nftables.ruleset import NftChain, NftRule, NftTable
from kproxy_tutor.sandbox.nftables.statements import (
    Address,
    AnonSet,
    CtState,
    Dnat,
    FibLocal,
    MarkSet,
    MarkTest,
    Masquerade,
    Match,
    NumgenVmap,
    SetRef,
    SetUpdate,
    Verdict,
    VmapLookup,
    Word,
)
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
from kproxy_tutor.sandbox.trace.network import Network, Route, cluster_network
from kproxy_tutor.sandbox.trace.snat import masquerade, node_route, port_rng, standalone_network

#: The address matches of the ``ip`` and ``ip6`` tables (one table per family, as kube-proxy writes them).
_ADDRESS_FIELDS = frozenset(("ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr"))
_HOOKS = {SourceKind.NODE: ("output",), SourceKind.POD: ("prerouting",), SourceKind.EXTERNAL: ("prerouting",)}
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class NodeView:
    """What the evaluator needs to know about the node: its addresses and the Pods' interface."""

    name: str
    local_ips: frozenset[str]
    pod_interface: str = "cni0"
    #: Pod IP → (node name, "namespace/name"), to name where a DNATed packet ends up.
    pods: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The cluster network: routing and the egress interface's address come from it, exactly as
    #: in the iptables tracer (None: a network of this node alone).
    network: Network | None = None

    def routing(self) -> Network:
        return self.network or standalone_network(self.name, tuple(sorted(self.local_ips)), self.pods)


class _Final(Exception):
    """DROP or REJECT: ends the walk."""

    def __init__(self, kind: str, chain: str, rule: str | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.chain = chain
        #: The rule whose verdict it was, as ``nft list`` prints it.
        self.rule = rule


@dataclass(slots=True)
class _Walk:
    packet: Packet
    in_interface: str
    choose: Callable[[int], int]
    steps: list[TraceStep] = field(default_factory=list)
    examined: int = 0
    dnat: tuple[str, int] | None = None
    masquerade: bool = False
    #: The routing decision (made after the destination NAT of the first hook).
    route: Route | None = None
    #: (new source address, egress interface) after masquerade.
    snat: tuple[str, str] | None = None
    setters: list[MarkSetter] = field(default_factory=list)
    draws: list[int] = field(default_factory=list)
    #: The service port a map element's comment named (``namespace/name:port``).
    service: str | None = None
    #: The hook whose chains are running.
    hook: str | None = None


class NftEvaluator:
    def __init__(
        self, table: NftTable, node: NodeView, seed: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.table = table
        self.node = node
        self.random = random.Random(seed)
        self.port_rng = port_rng(seed)
        self.network = node.routing()
        self.clock = clock
        #: Dynamic affinity sets: set name → {client IP: expiry time}.
        self.affinity: dict[str, dict[str, float]] = {}
        self._base = {
            hook: sorted(
                (c for c in table.chains.values() if c.base is not None and c.base.hook == hook),
                key=lambda c: c.base.priority,
            )  # type: ignore[union-attr]
            for hook in ("prerouting", "input", "forward", "output", "postrouting")
        }

    @property
    def local_addresses(self) -> frozenset[str]:
        """Addresses this mode makes local to the node beyond its own: none (nftables binds no Service IPs)."""
        return frozenset()

    def keep_state_of(self, before: NftEvaluator) -> None:
        """Carry what the kernel keeps across a kube-proxy sync: the affinity sets' elements (kube-proxy
        never flushes those dynamic sets), and the random sources numgen and NAT ports draw from."""
        self.affinity = before.affinity
        self.random = before.random
        self.port_rng = before.port_rng

    @property
    def table_key(self) -> str:
        """How ``rules_examined_by_table`` names the table: family and name, as ``nft list table`` takes them."""
        return f"{self.table.family} {self.table.name}"

    # Public ---------------------------------------------------------------------------------
    def evaluate(self, packet: Packet, source: str, choices: list[int] | None = None) -> Trace:
        """The first packet of a new connection from ``source`` (a SourceKind)."""
        forced = iter(choices or ())

        def choose(mod: int) -> int:
            picked = next(forced, None)
            return picked % mod if picked is not None else self.random.randrange(mod)

        walk = _Walk(packet, self._interface(source), choose)
        outcome = self._run(walk, source)
        return Trace(
            packet=packet,
            outcome=outcome,
            steps=tuple(walk.steps),
            rules_examined=walk.examined,
            source_node=self.node.name,
            examined_by_table={self.table_key: walk.examined} if walk.examined else {},
            source_kind=source,
        )

    def possible_outcomes(self, packet: Packet, source: str) -> list[Outcome]:
        """Every outcome the random choices allow (affinity state is left as it was)."""
        saved = {name: dict(clients) for name, clients in self.affinity.items()}
        mods: list[int] = []

        def record(mod: int) -> int:
            mods.append(mod)
            return 0

        self._run(_Walk(packet, self._interface(source), record), source)
        outcomes = []
        for combo in itertools.product(*(range(m) for m in mods)):
            self.affinity = {name: dict(clients) for name, clients in saved.items()}
            outcomes.append(self.evaluate(packet, source, list(combo)).outcome)
        self.affinity = saved
        return outcomes

    def _interface(self, source: str) -> str:
        return (
            self.node.pod_interface
            if source == SourceKind.POD
            else ("lo" if source == SourceKind.NODE else "eth0")
        )

    # Walk -----------------------------------------------------------------------------------
    def pass_node(self, packet: Packet, source: str) -> NodePass:
        """The first packet of a connection through this node's hooks, for a multi-node trace (no delivery step).

        ``source`` says where it comes from: a Pod or an outside client (PREROUTING), a process
        on the node (OUTPUT); a packet forwarded by another node comes in as an outside one.
        """
        walk = _Walk(packet, self._interface(source), self.random.randrange)
        final = self._walk_node(walk, source)
        examined = {self.table_key: walk.examined} if walk.examined else {}
        common = {"steps": walk.steps, "examined": examined, "setters": walk.setters, "service": walk.service}
        if final is not None:
            verdict = "REJECT" if final.kind == "reject" else "DROP"
            return NodePass(walk.packet, None, verdict, self.table.name, final.chain, **common)  # type: ignore[arg-type]
        assert walk.route is not None
        return NodePass(
            walk.packet,
            walk.route,
            snat_interface=walk.snat[1] if walk.snat else None,
            **common,  # type: ignore[arg-type]
        )

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None:
        """The chain whose ``numgen random mod N`` picked the endpoint, and each endpoint's share (1/N)."""
        chain_name = next(
            (s.chain for s in trace.steps if s.kind == StepKind.RULE and "numgen" in s.detail), None
        )
        chain = self.table.chains.get(chain_name or "")
        if chain is None:
            return None
        for rule in chain.rules:
            for statement in rule.statements:
                if isinstance(statement, NumgenVmap):
                    shares: dict[str, float] = {}
                    for target in statement.chains:
                        endpoint = self._dnat_of(target)
                        if endpoint is not None:
                            shares[endpoint] = shares.get(endpoint, 0.0) + 1 / statement.mod
                    return chain.name, shares
        return chain.name, {}

    def _dnat_of(self, chain_name: str) -> str | None:
        chain = self.table.chains.get(chain_name)
        for rule in chain.rules if chain is not None else ():
            for statement in rule.statements:
                if isinstance(statement, Dnat):
                    return host_port(statement.ip, statement.port)
        return None

    def _walk_node(self, walk: _Walk, source: str) -> _Final | None:
        """The hooks on this node; the DROP or REJECT that ended the walk, if one did."""
        try:
            local_out = source == SourceKind.NODE
            for hook in _HOOKS[source]:
                self._hook(walk, hook, reroute=local_out)
            if walk.route is None:
                self._route(walk, local_out, reroute=False)
            assert walk.route is not None
            local = walk.route.kind == RouteKind.LOCAL
            if source != SourceKind.NODE:
                self._hook(walk, "input" if local else "forward")
            elif local:
                self._hook(walk, "input")
            if not local:
                self._hook(walk, "postrouting")
        except _Final as final:
            walk.steps.append(
                TraceStep(
                    StepKind.VERDICT,
                    self.node.name,
                    hook=walk.hook,
                    table=self.table.name,
                    chain=final.chain,
                    packet=walk.packet,
                    detail={"verdict": final.kind.upper(), "nft_rule": final.rule},
                )
            )
            return final
        return None

    def _run(self, walk: _Walk, source: str) -> Outcome:
        final = self._walk_node(walk, source)
        if final is not None:
            kind = OutcomeKind.REJECTED if final.kind == "reject" else OutcomeKind.DROPPED
            return Outcome(
                kind,
                masquerade=False,
                mark_setters=tuple(walk.setters),
                table=self.table.name,
                chain=final.chain,
            )
        packet, route = walk.packet, walk.route
        assert route is not None
        endpoint = host_port(packet.dst_ip, packet.dst_port)
        owner = self.node.pods.get(packet.dst_ip)
        kind = OutcomeKind.DELIVERED if walk.dnat is not None else OutcomeKind.NOT_SERVICE
        walk.steps.append(
            TraceStep(
                StepKind.DELIVER,
                self.node.name,
                packet=packet,
                detail={
                    "route": route.kind,
                    "interface": route.interface,
                    "pod": owner[1] if owner else None,
                    "to": endpoint,
                },
            )
        )
        node = (
            owner[0]
            if owner
            else (self.node.name if route.kind in (RouteKind.POD, RouteKind.LOCAL) else None)
        )
        return Outcome(
            kind,
            endpoint=endpoint,
            endpoint_node=node,
            endpoint_pod=owner[1] if owner else None,
            masquerade=walk.masquerade,
            snat_source=walk.snat[0] if walk.snat else None,
            snat_interface=walk.snat[1] if walk.snat else None,
            mark_setters=tuple(walk.setters),
            route=route.kind,
        )

    def _route(self, walk: _Walk, local_out: bool, reroute: bool) -> None:
        """The routing decision for the packet as it is now (shared with the iptables tracer)."""
        packet = walk.packet
        route = walk.route = node_route(self.network, self.node.name, packet.dst_ip)
        walk.steps.append(
            TraceStep(
                StepKind.ROUTE,
                self.node.name,
                packet=packet,
                detail={
                    "route": route.kind,
                    "interface": route.interface,
                    "next_node": route.next_node,
                    "destination": packet.dst_ip,
                    "local_out": local_out,
                    "reroute": reroute,
                    "next_hooks": [h.lower() for h in next_hooks(route.kind, local_out, reroute)],
                },
            )
        )

    def _hook(self, walk: _Walk, hook: str, reroute: bool = False) -> None:
        destination = walk.packet.dst_ip
        walk.hook = hook
        for chain in self._base.get(hook, ()):
            walk.steps.append(
                TraceStep(StepKind.HOOK, self.node.name, hook=hook, table=self.table.name, chain=chain.name)
            )
            self._chain(walk, chain, 0, "")
            if (
                reroute
                and walk.route is None
                and chain.base is not None
                and chain.base.type == "nat"
                and walk.packet.dst_ip != destination
            ):
                # The output hook's DNAT changed the destination: the kernel routes again right
                # there, before the chains of higher priority (filter) run.
                self._route(walk, local_out=True, reroute=True)

    def _chain(self, walk: _Walk, chain: NftChain, depth: int, caller: str) -> str | None:
        """Run a chain; returns ``accept`` to end the base chain, None to fall back to the caller."""
        if depth > _MAX_DEPTH:
            raise SandboxInputError(
                N_("The nftables rules loop: chain {chain} is entered too deeply."), chain=chain.name
            )
        walk.steps.append(TraceStep(StepKind.CHAIN, self.node.name, table=self.table.name, chain=chain.name))
        if walk.service is None:
            walk.service = service_port_of_chain(chain.name)
        for rule in chain.rules:
            walk.examined += 1
            result = self._rule(walk, chain, rule, depth)
            if result == "next":
                continue
            if result in ("return", None):
                return None
            return result
        return None

    def _rule(self, walk: _Walk, chain: NftChain, rule: NftRule, depth: int) -> str | None:
        packet = walk.packet
        for statement in rule.statements:
            if isinstance(statement, (Match, FibLocal, CtState, MarkTest)):
                if not self._matches(walk, statement):
                    return "next"
                continue
            detail: dict[str, object] = {"nft_rule": rule.listing()}
            if isinstance(statement, NumgenVmap):
                detail["numgen"] = statement.mod
            elif any(
                isinstance(m, Match) and isinstance(m.value, SetRef) and m.value.name.startswith("affinity-")
                for m in rule.statements
            ):
                # Every match passed: the client is in the affinity set, so it goes where it went before.
                detail["sticky"] = True
            walk.steps.append(
                TraceStep(
                    StepKind.RULE, self.node.name, table=self.table.name, chain=chain.name, detail=detail
                )
            )
            if isinstance(statement, VmapLookup):
                key = tuple(self._key(packet, k) for k in statement.keys)
                nft_set = self.table.sets.get(statement.map_name)
                element = nft_set.lookup(key) if nft_set is not None else None
                if element is None or element.value is None:
                    return "next"
                if walk.service is None and element.comment and "/" in element.comment:
                    walk.service = element.comment
                kind, _, target = element.value.partition(" ")
                return self._verdict(walk, chain, rule, Verdict(kind, target), depth)
            if isinstance(statement, NumgenVmap):
                index = walk.choose(statement.mod)
                walk.draws.append(index)
                return self._verdict(walk, chain, rule, Verdict("goto", statement.chains[index]), depth)
            if isinstance(statement, MarkSet):
                walk.packet = packet = packet.replace(mark=statement.apply(packet.mark))
                walk.steps.append(
                    TraceStep(StepKind.MARK, self.node.name, chain=chain.name, detail={"mark": packet.mark})
                )
                continue
            if isinstance(statement, Dnat):
                before = packet
                walk.packet = packet = packet.replace(dst_ip=statement.ip, dst_port=statement.port)
                walk.dnat = (statement.ip, statement.port)
                walk.steps.append(
                    TraceStep(
                        StepKind.DNAT,
                        self.node.name,
                        table=self.table.name,
                        chain=chain.name,
                        packet=packet,
                        detail={"from": before.destination, "to": packet.destination, "by": "rule"},
                    )
                )
                return "accept"
            if isinstance(statement, Masquerade):
                route = walk.route or node_route(self.network, self.node.name, packet.dst_ip)
                new = masquerade(packet, route, statement.fully_random, self.port_rng)
                if new is None:
                    return (
                        "accept"  # no address on the way out: the kernel drops it; not in kube-proxy's setups
                    )
                walk.masquerade = True
                walk.snat = (new.ip, new.interface)
                before = packet
                walk.packet = packet = packet.replace(src_ip=new.ip, src_port=new.port)
                walk.steps.append(
                    TraceStep(
                        StepKind.SNAT,
                        self.node.name,
                        chain=chain.name,
                        packet=packet,
                        detail=new.step_detail(before.source, packet.source),
                    )
                )
                return "accept"
            if isinstance(statement, SetUpdate):
                timeout = self.table.sets[statement.set_name].timeout or 0
                self.affinity.setdefault(statement.set_name, {})[packet.src_ip] = self.clock() + timeout
                continue
            if isinstance(statement, Verdict):
                return self._verdict(walk, chain, rule, statement, depth)
            raise SandboxInputError(N_("Cannot evaluate this nftables rule: {rule}"), rule=rule.listing())
        return "next"

    def _verdict(
        self, walk: _Walk, chain: NftChain, rule: NftRule, verdict: Verdict, depth: int
    ) -> str | None:
        if verdict.kind in ("drop", "reject"):
            raise _Final(verdict.kind, chain.name, rule.listing())
        if verdict.kind in ("accept", "return"):
            return verdict.kind
        target = self.table.chains.get(verdict.chain)
        if target is None:
            raise SandboxInputError(N_("Chain {chain} does not exist."), chain=verdict.chain)
        if target.name == "mark-for-masquerade":
            walk.setters.append(MarkSetter(_reason(chain.name, rule), self.table.name, chain.name, None))  # type: ignore[arg-type]
        result = self._chain(walk, target, depth + 1, chain.name)
        if verdict.kind == "goto":
            # goto does not come back: the calling chain ends with the target's result.
            return result or "return"
        return result if result == "accept" else "next"

    def _matches(self, walk: _Walk, statement: Match | FibLocal | CtState | MarkTest) -> bool:
        packet = walk.packet
        if isinstance(statement, CtState):
            return "new" in statement.states
        if isinstance(statement, MarkTest):
            return statement.matches(packet.mark)
        if isinstance(statement, FibLocal):
            ip = packet.src_ip if statement.field == "saddr" else packet.dst_ip
            return ip in self.node.local_ips
        field = statement.field
        value = statement.value
        if field in _ADDRESS_FIELDS:
            ip = packet.src_ip if field.endswith("saddr") else packet.dst_ip
            found = self._contains(value, ip)
        elif field == "iifname":
            name = value.text if isinstance(value, Word) else ""
            found = (
                walk.in_interface.startswith(name[:-1]) if name.endswith("*") else walk.in_interface == name
            )
        elif field == "meta l4proto":
            found = isinstance(value, Word) and value.text == packet.protocol
        elif field.endswith(" dport"):
            found = (
                field.split()[0] == packet.protocol
                and isinstance(value, Word)
                and value.text == str(packet.dst_port)
            )
        else:
            raise SandboxInputError(
                N_("Cannot evaluate this nftables match: {rule}"), rule=statement.listing()
            )
        return found != statement.negated

    def _contains(self, value: object, ip: str) -> bool:
        address = parse_ip_sloppy(ip)
        if address is None:
            return False
        if isinstance(value, Address):
            return address in value.network
        if isinstance(value, AnonSet):
            return any(address in n for n in value.items)
        if isinstance(value, SetRef):
            dynamic = self.affinity.get(value.name)
            if dynamic is not None or value.name.startswith("affinity-"):
                expiry = (dynamic or {}).get(ip)
                return expiry is not None and expiry > self.clock()
            nft_set = self.table.sets.get(value.name)
            return nft_set is not None and nft_set.lookup((ip,)) is not None
        return False

    @staticmethod
    def _key(packet: Packet, key: str) -> str:
        return {
            "ip daddr": packet.dst_ip,
            "ip saddr": packet.src_ip,
            "ip6 daddr": packet.dst_ip,
            "ip6 saddr": packet.src_ip,
            "meta l4proto": packet.protocol,
            "th dport": str(packet.dst_port),
        }[key]


#: Prefixes of kube-proxy's per-service-port chains (``service-HASH-ns/name/proto/port``, …).
_SERVICE_CHAINS = ("service-", "external-", "local-", "endpoint-", "firewall-")


def service_port_of_chain(name: str) -> str | None:
    """``namespace/name:port`` from one of kube-proxy's per-service-port chain names (None for others).

    The name is ``PREFIX-HASH-namespace/name/protocol/port`` (an endpoint chain adds
    ``__ip/port``); an unnamed port gives ``namespace/name``, as kube-proxy spells it.
    """
    if not name.startswith(_SERVICE_CHAINS):
        return None
    parts = name.split("-", 2)
    if len(parts) < 3:
        return None
    words = parts[2].split("__", 1)[0].split("/")
    if len(words) != 4:
        return None
    namespace, service, _protocol, port = words
    return f"{namespace}/{service}:{port}" if port else f"{namespace}/{service}"


def _reason(chain: str, rule: NftRule) -> str:
    """Which kube-proxy rule asked for masquerading tells why."""
    if chain.startswith("endpoint-"):
        return MasqueradeReason.HAIRPIN
    if chain.startswith("external-"):
        return (
            MasqueradeReason.LOCAL_SOURCE
            if any(isinstance(s, FibLocal) for s in rule.statements)
            else MasqueradeReason.EXTERNAL
        )
    if chain.startswith(("service-", "local-")):
        negated = any(isinstance(s, Match) and s.negated for s in rule.statements)
        return MasqueradeReason.OFF_CLUSTER if negated else MasqueradeReason.MASQUERADE_ALL
    return MasqueradeReason.OTHER


def node_view(
    cluster: object, node_name: str, network: Network | None = None, *, family: str | None = None
) -> NodeView:
    """The NodeView of a sandbox cluster's node in one IP family: its IPs of that family (plus
    localhost, ``127.0.0.1`` or ``::1``) and where each Pod IP lives.

    ``network`` is the cluster network to route in (default: a new one of ``cluster`` in
    ``family``); ``family`` defaults to the network's, else IPv4.
    """
    from kproxy_tutor.sandbox.cluster import Cluster

    assert isinstance(cluster, Cluster)
    node = cluster.node(node_name)
    config = cluster.config
    interface = config.bridge_interface or (
        config.interface_name_prefix + "0" if config.interface_name_prefix else "cni0"
    )
    family = family or (network.family if network is not None else IPV4)
    pods = {
        ip: (p.node_name, f"{p.namespace}/{p.name}")
        for p in cluster.pods.values()
        for ip in (p.pod_ips or ((p.pod_ip,) if p.pod_ip else ()))
    }
    loopback = "::1" if family == IPV6 else "127.0.0.1"
    return NodeView(
        node_name,
        frozenset((*node.ips(family), loopback)),
        interface,
        pods,
        network if network is not None else cluster_network(cluster, family=family),
    )
