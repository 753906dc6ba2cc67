"""The scaling lab's numbers, all computed from the rules each mode compiles (no timing of this program).

For each size a cluster of N ClusterIP Services (one TCP port, E endpoints each, spread over
four nodes) is compiled by each mode for one node. Then one endpoint is added to one Service
and every mode syncs again, as kube-proxy does after one EndpointSlice event. Per mode:

* ``rules``: rules in the node's ruleset (iptables: every table; nftables: the kube-proxy table;
  ipvs: its iptables rules), and ``elements``: set/map elements (nftables) or ipset members plus
  IPVS virtual and real servers (ipvs);
* rules the first packet of a new connection from a Pod examines, over a sample of Services:
  iptables by the iptables tracer (``nat_walk`` without it), nftables by its evaluator (a
  verdict-map lookup is one rule), ipvs by the constant iptables walk plus one IPVS hash lookup;
* what kube-proxy writes per full sync and per partial sync (:class:`SyncFigures`): the
  ``iptables-restore`` input (iptables; ipvs adds one ipset, IPVS or address operation per line,
  written in ``ipset``/``ipvsadm``/``ip`` syntax), or the ``nft -f`` transaction (nftables: add and
  flush per chain, flush per map on a full sync, add per rule and element, as knftables sends it);
* the objects the kernel must replace for it: iptables, the rules of every chain the payload
  declares (declaring a chain flushes it; iptables-legacy even swaps each whole table); nftables,
  the chains, rules and elements in the transaction; ipvs, the rules of its flushed chains plus the
  ipset members, IPVS servers and kube-ipvs0 addresses that changed. (The IPVS proxier also asks
  the kernel about every Service on each sync; those are reads, not counted here.)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables.rules import Jump, Payload, PortMatch, Ruleset
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    ProxyConfig,
    Service,
    ServicePort,
)

NODES = ("node-0", "node-1", "node-2", "node-3")
NODE = NODES[0]
CLIENT_POD = "10.0.0.200"
POD_CIDR = "10.0.0.0/8"
DEFAULT_SIZES = (10, 100, 1000, 10000)
SAMPLE = 24
MODES = ("iptables", "nftables", "ipvs")
#: Endpoint addresses per Service: more than any ``--endpoints`` plus the one the partial sync adds.
_ENDPOINT_STRIDE = 64


@dataclass(frozen=True, slots=True)
class SyncFigures:
    #: Lines of what kube-proxy hands to the kernel's tools in this sync.
    lines: int
    #: Their size in bytes (UTF-8, newlines included).
    bytes: int
    #: Kernel objects (rules, chains, elements, servers) replaced or added by it.
    replaced: int


@dataclass(frozen=True, slots=True)
class ModeFigures:
    mode: str
    #: Rules in the node's ruleset (for ipvs: its iptables rules).
    rules: int
    #: Set/map elements (nftables), or ipset members plus IPVS virtual and real servers (ipvs).
    elements: int
    examined_avg: float
    examined_worst: int
    #: Hash/map lookups on top of the rules (ipvs: the IPVS virtual-server lookup).
    lookups: int
    #: How the examined count was obtained: ``tracer``, ``evaluator``, ``nat-walk`` or ``ipset-walk``.
    method: str
    #: The first sync (everything) and the sync after one endpoint was added to one Service.
    full: SyncFigures
    partial: SyncFigures


@dataclass(slots=True)
class ScalePoint:
    services: int
    endpoints: int
    modes: dict[str, ModeFigures] = field(default_factory=dict)


def service_ip(i: int) -> str:
    return f"10.96.{16 + i // 250}.{1 + i % 250}"


def endpoint_ip(i: int, j: int) -> str:
    n = i * _ENDPOINT_STRIDE + j
    return f"10.{1 + n // 62500}.{n // 250 % 250}.{2 + n % 250}"


def _slice(i: int, endpoints: int) -> EndpointSlice:
    return EndpointSlice(
        f"ns-{i % 50}",
        f"svc-{i}-abcde",
        f"svc-{i}",
        endpoints=tuple(
            Endpoint((endpoint_ip(i, j),), node_name=NODES[(i + j) % 4]) for j in range(endpoints)
        ),
        ports=(EndpointPort("http", 8080),),
    )


def build_cluster(services: int, endpoints: int) -> Cluster:
    """N one-port ClusterIP Services with E ready endpoints each; slices given directly, as the API would list them."""
    # kube-proxy's clusterCIDR is the Pods' range, so Pod clients count as local (no masquerade).
    cluster = Cluster(network=ClusterNetwork(pod_cidr=POD_CIDR), config=ProxyConfig(cluster_cidr=POD_CIDR))
    for index, name in enumerate(NODES):
        cluster.add_node(Node(name, (f"192.168.0.{10 + index}",)))
    for i in range(services):
        cluster.apply_service(
            Service(
                f"ns-{i % 50}",
                f"svc-{i}",
                cluster_ip=service_ip(i),
                ports=(ServicePort(80, "http", target_port=8080),),
            )
        )
        cluster.apply_endpoint_slice(_slice(i, endpoints))
    return cluster


def changed_service(services: int) -> int:
    """The Service that gets one more endpoint for the partial sync (one in the middle)."""
    return services // 2


def add_one_endpoint(cluster: Cluster, services: int, endpoints: int) -> None:
    """One EndpointSlice event: a new ready Pod behind one Service."""
    cluster.apply_endpoint_slice(_slice(changed_service(services), endpoints + 1))


def sample_services(services: int, seed: int, size: int = SAMPLE) -> list[int]:
    """A seeded sample, always with the first and last Service (the best and worst places in a linear chain)."""
    rng = random.Random(seed)
    picked = set(rng.sample(range(services), min(size, services)))
    picked.update({0, services - 1})
    return sorted(picked)


def _text_figures(lines: list[str], replaced: int) -> SyncFigures:
    return SyncFigures(len(lines), sum(len(line.encode()) + 1 for line in lines), replaced)


# iptables ------------------------------------------------------------------------------------
def nat_walk(ruleset: Ruleset, dst_ip: str, dst_port: int) -> int:
    """Rules a Pod's first packet meets in the nat table: PREROUTING, KUBE-SERVICES in order, the Service and
    endpoint chains, then POSTROUTING and KUBE-POSTROUTING (no masquerade mark: it returns at once).

    The fallback when the iptables tracer is not available. Within KUBE-SVC-* the packet is
    counted as taking the last endpoint (every ``statistic`` rule examined): the worst draw.
    """
    nat = ruleset.tables["nat"]
    examined = 0
    # The packet is DNATed in a KUBE-SEP chain, so PREROUTING ends at the KUBE-SERVICES jump.
    for rule in nat.chains["PREROUTING"].rules:
        examined += 1
        if isinstance(rule.target, Jump) and rule.target.chain == "KUBE-SERVICES":
            break
    wanted = f"{dst_ip}/32"
    for rule in nat.chains["KUBE-SERVICES"].rules:
        examined += 1
        port = next((m for m in rule.matches if isinstance(m, PortMatch)), None)
        if (
            rule.destination is not None
            and rule.destination.cidr == wanted
            and port is not None
            and port.dport is not None
            and port.dport.contains(dst_port)
            and isinstance(rule.target, Jump)
        ):
            chain = nat.chains[rule.target.chain]
            examined += len(chain)
            last = chain.rules[-1].target if chain.rules else None
            if isinstance(last, Jump) and last.chain in nat.chains:
                examined += len(nat.chains[last.chain].rules)
            break
    for rule in nat.chains["POSTROUTING"].rules:
        examined += 1
        if isinstance(rule.target, Jump) and rule.target.chain == "KUBE-POSTROUTING":
            examined += 1
    return examined


def _tracer_counter(ruleset: Ruleset) -> tuple[Callable[[str, int], int], str]:
    try:
        from kproxy_tutor.sandbox.packet import SourceKind
        from kproxy_tutor.sandbox.trace.network import Network, NodeNetwork
        from kproxy_tutor.sandbox.trace.tracer import Client, Tracer
    except ImportError:  # the tracer belongs to another part of the sandbox; keep the lab usable without it
        return (lambda ip, port: nat_walk(ruleset, ip, port)), "nat-walk"
    import ipaddress

    # One node is enough: the count is what this node's kernel examines before the packet leaves it.
    node = NodeNetwork(NODE, ("192.168.0.10",), lambda: ruleset, ipaddress.IPv4Network("10.0.0.0/24"))
    tracer = Tracer(Network([node]), seed=0)
    client = Client(SourceKind.POD, CLIENT_POD, NODE, "default/client")

    def count(ip: str, port: int) -> int:
        return tracer.connect(client, ip, port, record=False, reply=False).rules_examined

    return count, "tracer"


def payload_replaced(payload: Payload, ruleset: Ruleset) -> int:
    """Rules the kernel holds, after the restore, in the chains the payload declares (and so flushed)."""
    total = 0
    for table in payload.tables:
        existing = ruleset.tables.get(table.name)
        if existing is None:
            continue
        for name in set(table.declared):
            chain = existing.chains.get(name)
            total += len(chain) if chain is not None else 0
    return total


def _restore_figures(payload: Payload, ruleset: Ruleset) -> SyncFigures:
    from kproxy_tutor.sandbox.iptables import render_restore

    lines = render_restore(payload).splitlines()
    return _text_figures(lines, payload_replaced(payload, ruleset))


class _IptablesRun:
    def __init__(self, cluster: Cluster) -> None:
        from kproxy_tutor.sandbox.iptables import Proxier

        self.proxier = Proxier(cluster, NODE)

    def first(self, picks: list[int]) -> None:
        result = self.proxier.sync()
        ruleset = self.proxier.kernel.ruleset
        self.rules = sum(len(c) for t in ruleset.tables.values() for c in t.chains.values())
        counter, self.method = _tracer_counter(ruleset)
        self.counts = [counter(service_ip(i), 80) for i in picks]
        self.full = _restore_figures(result.payload, ruleset)

    def after_change(self) -> None:
        result = self.proxier.sync()
        self.partial = _restore_figures(result.payload, self.proxier.kernel.ruleset)

    def figures(self) -> ModeFigures:
        return _figures("iptables", self.rules, 0, self.counts, 0, self.method, self.full, self.partial)


# nftables ------------------------------------------------------------------------------------
def _element_line(head: str, set_name: str, element: Any, verb: str = "add") -> str:
    text = f"{verb} element {head} {set_name} {{ {' . '.join(element.key)}"
    if verb == "add" and element.comment is not None:
        text += f' comment "{element.comment}"'
    if verb == "add" and element.value is not None:
        text += f" : {element.value}"
    return text + " }"


def nft_full_transaction(table: Any) -> list[str]:
    """kube-proxy's transaction for a full sync, in an order ``nft -f`` accepts: the table, every chain
    added and flushed, every set and map added and flushed, then every rule and element."""
    from kproxy_tutor.sandbox.nftables import render_transaction

    head = f"{table.family} {table.name}"
    declared, rules, elements = [], [], []
    for line in render_transaction(table).splitlines():
        if line.startswith("add chain "):
            declared += [line, f"flush chain {head} {line.split()[4]}"]
        elif line.startswith(("add set ", "add map ")):
            kind, name = line.split()[1], line.split()[4]
            declared += [line, f"flush {kind} {head} {name}"]
        elif line.startswith("add rule "):
            rules.append(line)
        elif line.startswith("add element "):
            elements.append(line)
        else:
            declared.append(line)
    return declared + rules + elements


def _service_of_chain(name: str) -> str | None:
    """``ns/name`` for a per-Service chain (``service-HASH-ns/name/proto/port`` and the like)."""
    if "/" not in name:
        return None
    namespaced = name.split("-", 2)[-1]
    namespace, service = namespaced.split("/")[:2]
    return f"{namespace}/{service}"


def nft_partial_transaction(before: Any, after: Any, updated: set[tuple[str, str]]) -> list[str]:
    """What a partial sync sends (upstream ``skipServiceUpdate``): every chain of an updated Service is
    flushed and refilled, other chains are left alone; elements are added or deleted only where they changed."""
    head = f"{after.family} {after.name}"
    services = {f"{ns}/{name}" for ns, name in updated}
    lines: list[str] = []
    for name, chain in sorted(after.chains.items()):
        if name in before.chains and _service_of_chain(name) not in services:
            continue
        lines.append(f"add chain {head} {name}")
        lines.append(f"flush chain {head} {name}")
        lines += [f"add rule {head} {name} {rule.tx()}" for rule in chain.rules]
    for name in sorted(set(before.chains) - set(after.chains)):
        lines += [f"flush chain {head} {name}", f"delete chain {head} {name}"]
    for set_name, nft_set in sorted(after.sets.items()):
        old_set = before.sets.get(set_name)
        old = {(e.key, e.value): e for e in (old_set.elements if old_set is not None else [])}
        new = {(e.key, e.value): e for e in nft_set.elements}
        lines += [
            _element_line(head, set_name, old[key], "delete") for key in sorted(old.keys() - new.keys())
        ]
        lines += [_element_line(head, set_name, new[key]) for key in sorted(new.keys() - old.keys())]
    return lines


def _nft_replaced(lines: list[str]) -> int:
    """Objects the kernel replaces: chains flushed or deleted, rules and elements added or deleted."""
    return sum(
        1
        for line in lines
        if line.startswith(("flush chain ", "delete chain ", "add rule ", "add element ", "delete element "))
    )


class _NftablesRun:
    def __init__(self, cluster: Cluster, seed: int) -> None:
        from kproxy_tutor.sandbox.nftables import NftProxier

        self.cluster = cluster
        self.seed = seed
        self.proxier = NftProxier(cluster, NODE)

    def first(self, picks: list[int]) -> None:
        from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator, node_view
        from kproxy_tutor.sandbox.packet import Packet, SourceKind

        result = self.proxier.sync()
        self.table = table = result.table
        evaluator = NftEvaluator(table, node_view(self.cluster, NODE), self.seed)
        self.counts = [
            evaluator.evaluate(
                Packet("tcp", CLIENT_POD, 40000 + n, service_ip(i), 80), SourceKind.POD
            ).rules_examined
            for n, i in enumerate(picks)
        ]
        self.rules, self.elements = table.rule_count, table.element_count
        lines = nft_full_transaction(table)
        self.full = _text_figures(lines, _nft_replaced(lines))

    def after_change(self) -> None:
        result = self.proxier.sync()
        lines = nft_partial_transaction(self.table, result.table, result.updated_services)
        self.partial = _text_figures(lines, _nft_replaced(lines))

    def figures(self) -> ModeFigures:
        return _figures(
            "nftables", self.rules, self.elements, self.counts, 0, "evaluator", self.full, self.partial
        )


# ipvs ----------------------------------------------------------------------------------------
def _ipvs_objects(state: Any) -> dict[str, set[str]]:
    """The kernel objects of an IPVS sync, each spelled as the command that creates it."""
    servers, reals, addresses, members = set(), set(), set(), set()
    for v in state.virtual_servers:
        flag = "-u" if v.protocol == "UDP" else "-t"
        address = f"{v.address}:{v.port}"
        persistent = f" -p {v.persistent}" if v.persistent else ""
        servers.add(f"ipvsadm -A {flag} {address} -s {v.scheduler}{persistent}")
        reals.update(
            f"ipvsadm -a {flag} {address} -r {r.address}:{r.port} -m -w {r.weight}" for r in v.real_servers
        )
    addresses.update(f"ip addr add {ip}/32 dev kube-ipvs0" for ip in state.bound_addresses)
    for ipset in (state.ipsets or {}).values():
        members.update(f"ipset add {ipset.name} {member}" for member in ipset.members)
    return {"servers": servers, "reals": reals, "addresses": addresses, "members": members}


def ipvs_sync_lines(before: Any | None, after: Any) -> tuple[list[str], int]:
    """(lines written, kernel objects replaced) for one IPVS-mode sync: the whole iptables-restore
    input (ipvs mode always restores it), then an operation per ipset member, IPVS server and
    address that is new or gone since ``before``."""
    restore = after.iptables.restore.splitlines()
    old = (
        _ipvs_objects(before)
        if before is not None
        else {k: set() for k in ("servers", "reals", "addresses", "members")}
    )
    new = _ipvs_objects(after)
    changes: list[str] = []
    for kind in ("addresses", "servers", "reals", "members"):
        changes += sorted(new[kind] - old[kind])
        gone = old[kind] - new[kind]
        changes += sorted(
            line.replace(" add ", " del ").replace(" -A ", " -D ").replace(" -a ", " -d ") for line in gone
        )
    flushed = sum(1 for line in restore if line.startswith("-A "))
    return restore + changes, flushed + len(changes)


class _IpvsRun:
    def __init__(self, cluster: Cluster) -> None:
        from kproxy_tutor.sandbox.ipvs import IpvsProxier

        self.proxier = IpvsProxier(cluster, NODE)

    def first(self, picks: list[int]) -> None:
        from kproxy_tutor.sandbox.ipvs.walk import FirstPacket, rules_examined

        self.state = state = self.proxier.sync()
        sets, ipt = state.ipsets, state.iptables
        assert sets is not None and ipt is not None
        local = frozenset((*self.proxier.node.ipv4_ips, *state.bound_addresses))
        self.counts = [
            rules_examined(ipt.ruleset, sets, FirstPacket("tcp", CLIENT_POD, service_ip(i), 80, local))
            for i in picks
        ]
        servers = state.virtual_servers
        self.rules = ipt.rule_count
        self.elements = (
            len(servers)
            + sum(len(v.real_servers) for v in servers)
            + sum(len(s.members) for s in sets.values())
        )
        lines, replaced = ipvs_sync_lines(None, state)
        self.full = _text_figures(lines, replaced)

    def after_change(self) -> None:
        state = self.proxier.sync()
        lines, replaced = ipvs_sync_lines(self.state, state)
        self.partial = _text_figures(lines, replaced)

    def figures(self) -> ModeFigures:
        return _figures(
            "ipvs", self.rules, self.elements, self.counts, 1, "ipset-walk", self.full, self.partial
        )


def _figures(
    mode: str,
    rules: int,
    elements: int,
    counts: list[int],
    lookups: int,
    method: str,
    full: SyncFigures,
    partial: SyncFigures,
) -> ModeFigures:
    return ModeFigures(
        mode, rules, elements, sum(counts) / len(counts), max(counts), lookups, method, full, partial
    )


def measure(
    sizes: Iterable[int] = DEFAULT_SIZES,
    endpoints: int = 5,
    seed: int = 0,
    modes: Iterable[str] = MODES,
    progress: Callable[[int, str], None] | None = None,
) -> list[ScalePoint]:
    """Build each cluster once, compile it in every mode, add one endpoint, let every mode sync again."""
    points = []
    wanted = tuple(modes)
    for size in sizes:
        cluster = build_cluster(size, endpoints)
        picks = sample_services(size, seed)
        runs: dict[str, Any] = {}
        for mode in wanted:
            if progress is not None:
                progress(size, mode)
            run: Any = (
                _IptablesRun(cluster)
                if mode == "iptables"
                else _NftablesRun(cluster, seed)
                if mode == "nftables"
                else _IpvsRun(cluster)
            )
            run.first(picks)
            runs[mode] = run
        # Every proxier watches the same cluster: one event reaches all of them, as on a real node.
        add_one_endpoint(cluster, size, endpoints)
        point = ScalePoint(size, endpoints)
        for mode, run in runs.items():
            run.after_change()
            point.modes[mode] = run.figures()
        points.append(point)
    return points


def fixed_rule_count(point: ScalePoint) -> int:
    """iptables rules that do not belong to any Service: total minus (2 + 3E) per Service (reference §4.1)."""
    return point.modes["iptables"].rules - point.services * (2 + 3 * point.endpoints)
