"""The scaling lab's numbers: ruleset size, rules examined for a new connection, and sync time, per mode and cluster size.

For each size a cluster of N ClusterIP Services (one TCP port, E endpoints each, spread over
four nodes) is compiled by each mode for one node, and the first packet of a new connection
from a Pod is walked to a sample of Services:

* iptables: the iptables tracer (``sandbox/netfilter.py``) counts rules as the kernel walks
  them, KUBE-SERVICES in order; without the tracer the count falls back to the same walk done
  here on the nat chains (``nat_walk``);
* nftables: the nftables evaluator counts rules, a verdict-map lookup being one rule;
* ipvs: the constant iptables rules on the packet's way (``ipvs/walk.py``) plus one IPVS hash lookup.

Sync time is the measured wall time of the proxier's first (full) sync on this machine.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables.rules import Jump, PortMatch, Ruleset
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
    sync_seconds: float
    #: How the examined count was obtained: ``tracer``, ``evaluator``, ``nat-walk`` or ``ipset-walk``.
    method: str


@dataclass(slots=True)
class ScalePoint:
    services: int
    endpoints: int
    modes: dict[str, ModeFigures] = field(default_factory=dict)


def service_ip(i: int) -> str:
    return f"10.96.{16 + i // 250}.{1 + i % 250}"


def endpoint_ip(i: int, j: int) -> str:
    n = i * 8 + j
    return f"10.{1 + n // 62500}.{n // 250 % 250}.{2 + n % 250}"


def build_cluster(services: int, endpoints: int) -> Cluster:
    """N one-port ClusterIP Services with E ready endpoints each; slices given directly, as the API would list them."""
    # kube-proxy's clusterCIDR is the Pods' range, so Pod clients count as local (no masquerade).
    cluster = Cluster(network=ClusterNetwork(pod_cidr=POD_CIDR), config=ProxyConfig(cluster_cidr=POD_CIDR))
    for index, name in enumerate(NODES):
        cluster.add_node(Node(name, (f"192.168.0.{10 + index}",)))
    for i in range(services):
        ns = f"ns-{i % 50}"
        cluster.apply_service(
            Service(
                ns, f"svc-{i}", cluster_ip=service_ip(i), ports=(ServicePort(80, "http", target_port=8080),)
            )
        )
        cluster.apply_endpoint_slice(
            EndpointSlice(
                ns,
                f"svc-{i}-abcde",
                f"svc-{i}",
                endpoints=tuple(
                    Endpoint((endpoint_ip(i, j),), node_name=NODES[(i + j) % 4]) for j in range(endpoints)
                ),
                ports=(EndpointPort("http", 8080),),
            )
        )
    return cluster


def sample_services(services: int, seed: int, size: int = SAMPLE) -> list[int]:
    """A seeded sample, always with the first and last Service (the best and worst places in a linear chain)."""
    rng = random.Random(seed)
    picked = set(rng.sample(range(services), min(size, services)))
    picked.update({0, services - 1})
    return sorted(picked)


def _timed(func: Callable[[], object], clock: Callable[[], float]) -> tuple[object, float]:
    start = clock()
    value = func()
    return value, clock() - start


def _figures(
    mode: str, rules: int, elements: int, counts: list[int], lookups: int, seconds: float, method: str
) -> ModeFigures:
    return ModeFigures(
        mode, rules, elements, sum(counts) / len(counts), max(counts), lookups, seconds, method
    )


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
            examined += len(chain.rules)
            last = chain.rules[-1].target if chain.rules else None
            if isinstance(last, Jump) and last.chain in nat.chains:
                examined += len(nat.chains[last.chain].rules)
            break
    for rule in nat.chains["POSTROUTING"].rules:
        examined += 1
        if isinstance(rule.target, Jump) and rule.target.chain == "KUBE-POSTROUTING":
            examined += 1
    return examined


def _iptables(cluster: Cluster, picks: list[int], clock: Callable[[], float]) -> ModeFigures:
    from kproxy_tutor.sandbox.iptables import Proxier

    proxier = Proxier(cluster, NODE)
    _, seconds = _timed(proxier.sync, clock)
    ruleset = proxier.kernel.ruleset
    rules = sum(len(c.rules) for t in ruleset.tables.values() for c in t.chains.values())
    counter, method = _tracer_counter(ruleset)
    counts = [counter(service_ip(i), 80) for i in picks]
    return _figures("iptables", rules, 0, counts, 0, seconds, method)


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


def _nftables(cluster: Cluster, picks: list[int], seed: int, clock: Callable[[], float]) -> ModeFigures:
    from kproxy_tutor.sandbox.nftables import NftProxier
    from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator, node_view
    from kproxy_tutor.sandbox.packet import Packet, SourceKind

    proxier = NftProxier(cluster, NODE)
    result, seconds = _timed(proxier.sync, clock)
    table = result.table  # type: ignore[attr-defined]
    evaluator = NftEvaluator(table, node_view(cluster, NODE), seed)
    counts = [
        evaluator.evaluate(
            Packet("tcp", CLIENT_POD, 40000 + n, service_ip(i), 80), SourceKind.POD
        ).rules_examined
        for n, i in enumerate(picks)
    ]
    return _figures("nftables", table.rule_count, table.element_count, counts, 0, seconds, "evaluator")


def _ipvs(cluster: Cluster, picks: list[int], clock: Callable[[], float]) -> ModeFigures:
    from kproxy_tutor.sandbox.ipvs import IpvsProxier
    from kproxy_tutor.sandbox.ipvs.walk import FirstPacket, rules_examined

    proxier = IpvsProxier(cluster, NODE)
    state, seconds = _timed(proxier.sync, clock)
    assert state.ipsets is not None and state.iptables is not None  # type: ignore[attr-defined]
    sets, ipt = state.ipsets, state.iptables  # type: ignore[attr-defined]
    local = frozenset((*proxier.node.internal_ips, *state.bound_addresses))  # type: ignore[attr-defined]
    counts = [
        rules_examined(ipt.ruleset, sets, FirstPacket("tcp", CLIENT_POD, service_ip(i), 80, local))
        for i in picks
    ]
    servers = state.virtual_servers  # type: ignore[attr-defined]
    elements = (
        len(servers) + sum(len(v.real_servers) for v in servers) + sum(len(s.members) for s in sets.values())
    )
    return _figures("ipvs", ipt.rule_count, elements, counts, 1, seconds, "ipset-walk")


def measure(
    sizes: Iterable[int] = DEFAULT_SIZES,
    endpoints: int = 5,
    seed: int = 0,
    modes: Iterable[str] = MODES,
    clock: Callable[[], float] = time.perf_counter,
    progress: Callable[[int, str], None] | None = None,
) -> list[ScalePoint]:
    """Build each cluster once and compile it in every mode (each proxier watches the same cluster)."""
    points = []
    for size in sizes:
        cluster = build_cluster(size, endpoints)
        picks = sample_services(size, seed)
        point = ScalePoint(size, endpoints)
        for mode in modes:
            if progress is not None:
                progress(size, mode)
            if mode == "iptables":
                point.modes[mode] = _iptables(cluster, picks, clock)
            elif mode == "nftables":
                point.modes[mode] = _nftables(cluster, picks, seed, clock)
            else:
                point.modes[mode] = _ipvs(cluster, picks, clock)
        points.append(point)
    return points


def fixed_rule_count(point: ScalePoint) -> int:
    """iptables rules that do not belong to any Service: total minus (2 + 3E) per Service (reference §4.1)."""
    return point.modes["iptables"].rules - point.services * (2 + 3 * point.endpoints)
