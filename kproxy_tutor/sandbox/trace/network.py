"""The cluster network a trace runs in: each node's interfaces, addresses and routes, its rules, and where the Pods are.

The model is a plain bridge CNI (as kubenet or flannel in host-gw mode): on every node the Pods
hang off a bridge ``cni0`` that holds the first address of the node's Pod CIDR, and the other
nodes' Pod CIDRs are routed through ``eth0`` to those nodes. MASQUERADE takes the address of
the interface a packet leaves by, so a Pod on the same node sees ``cni0``'s address and a Pod
on another node sees the node's IP.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kproxy_tutor.sandbox.families import IPV4, family_of_address
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import RouteKind
from kproxy_tutor.sandbox.trace.matching import ip_int, is_local_number, network_mask

PodNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UPLINK = "eth0"
BRIDGE = "cni0"
LOOPBACK = "lo"


@dataclass(frozen=True, slots=True)
class Route:
    kind: str
    interface: str
    #: The address of ``interface`` (what MASQUERADE writes as the new source).
    source_address: str | None
    #: For RouteKind.NODE: the node the packet goes to.
    next_node: str | None = None


@dataclass(frozen=True, slots=True)
class PodAddress:
    ip: str
    #: ``namespace/name``
    name: str
    node: str


@dataclass(slots=True)
class NodeNetwork:
    """One node: its addresses, where its Pods are, and (computed on first use) its netfilter rules.

    All of one IP family (``family``): kube-proxy's proxier of that family wrote the rules, and
    the addresses and Pod CIDR are the node's of that family.
    """

    name: str
    addresses: tuple[str, ...]
    load_rules: Callable[[], Ruleset]
    pod_cidr: PodNetwork | None = None
    #: The bridge Pods are attached to and its address; None when Pods hang off bare veths.
    bridge: str | None = BRIDGE
    #: With InterfaceNamePrefix detection the Pods' host-side veths start with this prefix.
    veth_prefix: str = "veth"
    family: str = IPV4
    _rules: Ruleset | None = field(default=None, repr=False)
    local_ips: frozenset[int] = field(init=False, repr=False)
    #: The bridge's address: the first address of the Pod CIDR (None without a bridge).
    bridge_address: str | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        has_bridge = self.bridge is not None and self.pod_cidr is not None
        self.bridge_address = str(self.pod_cidr.network_address + 1) if has_bridge else None  # type: ignore[union-attr]
        ips = {ip_int(a) for a in self.addresses}
        if self.bridge_address is not None:
            ips.add(ip_int(self.bridge_address))
        self.local_ips = frozenset(ips)

    @property
    def uplink_address(self) -> str | None:
        return self.addresses[0] if self.addresses else None

    def rules(self) -> Ruleset:
        if self._rules is None:
            self._rules = self.load_rules()
        return self._rules

    def pod_interface(self, pod_ip: str) -> str:
        """The interface a Pod's packets arrive on (and leave to it by) on this node."""
        if self.bridge is not None:
            return self.bridge
        return f"{self.veth_prefix}{hashlib.sha256(pod_ip.encode()).hexdigest()[:8]}"

    def is_local(self, ip: str) -> bool:
        return is_local_number(ip_int(ip), self.local_ips)


class Network:
    """Every node of the trace, the Pods by IP, and the routing between them."""

    def __init__(
        self, nodes: Iterable[NodeNetwork], pods: Iterable[PodAddress] = (), *, family: str | None = None
    ) -> None:
        self.nodes: dict[str, NodeNetwork] = {n.name: n for n in nodes}
        #: The IP family of every address here (one network per family, as one proxier per family).
        self.family = family or next((n.family for n in self.nodes.values()), IPV4)
        self.pods: dict[str, PodAddress] = {p.ip: p for p in pods}
        self._node_of_address = {a: n.name for n in self.nodes.values() for a in n.addresses}

    def node(self, name: str) -> NodeNetwork:
        return self.nodes[name]

    def node_of_address(self, ip: str) -> str | None:
        return self._node_of_address.get(ip)

    def pod_at(self, ip: str) -> PodAddress | None:
        return self.pods.get(ip)

    def route(self, node: NodeNetwork, dst_ip: str) -> Route:
        """The routing decision on ``node`` for ``dst_ip``."""
        if node.is_local(dst_ip):
            return Route(RouteKind.LOCAL, LOOPBACK, dst_ip)
        address = ip_int(dst_ip)
        pod = self.pods.get(dst_ip)
        # A known Pod is where the cluster says it is (the CNI installs a route for it), even
        # when its address lies outside its node's Pod CIDR.
        if (pod is not None and pod.node == node.name) or (pod is None and _within(address, node.pod_cidr)):
            iface = node.pod_interface(dst_ip)
            # A bare veth has no address; the kernel then picks the node's primary one.
            return Route(RouteKind.POD, iface, node.bridge_address or node.uplink_address)
        owner = pod.node if pod is not None and pod.node in self.nodes else self._node_of_address.get(dst_ip)
        if owner is None:
            for other in self.nodes.values():
                if _within(address, other.pod_cidr):
                    owner = other.name
                    break
        if owner is not None and owner != node.name:
            return Route(RouteKind.NODE, UPLINK, node.uplink_address, owner)
        return Route(RouteKind.OUTSIDE, UPLINK, node.uplink_address)


def _within(address: int, network: PodNetwork | None) -> bool:
    if network is None:
        return False
    net, mask = network_mask(network)
    return (address & mask) == net


def cluster_network(
    cluster: object,
    rules: Mapping[str, Callable[[], Ruleset]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    *,
    family: str = IPV4,
    keep: Callable[[Callable[[], object]], None] | None = None,
) -> Network:
    """The network of a sandbox ``Cluster`` in one IP family; each node's rules come from its own
    Proxier of that family unless given.

    Compiling a node happens when a packet first reaches it, so a trace that stays on one
    node of a large cluster compiles one node (reporting to ``progress`` as a sync does).
    ``keep`` is handed each compiled node's ``sync`` (its rules object stays the same across syncs).
    """
    from kproxy_tutor.sandbox.cluster import Cluster

    assert isinstance(cluster, Cluster)
    config = cluster.config
    bridge: str | None = BRIDGE
    prefix = "veth"
    if config.detect_local_mode == "BridgeInterface" and config.bridge_interface:
        bridge = config.bridge_interface
    elif config.detect_local_mode == "InterfaceNamePrefix" and config.interface_name_prefix:
        bridge, prefix = None, config.interface_name_prefix
    given = dict(rules or {})

    def compiler(name: str) -> Callable[[], Ruleset]:
        def load() -> Ruleset:
            from kproxy_tutor.sandbox.iptables.proxier import Proxier

            proxier = Proxier(cluster, name, family=family)
            proxier.sync(progress)
            if keep is not None:
                keep(proxier.sync)
            return proxier.kernel.ruleset

        return given.get(name, load)

    nodes = []
    for node in cluster.nodes.values():
        text = node.pod_cidr(family)
        cidr = ipaddress.ip_network(text, strict=False) if text else None
        nodes.append(
            NodeNetwork(node.name, node.ips(family), compiler(node.name), cidr, bridge, prefix, family)
        )
    pods = [
        PodAddress(pod.ip(family), f"{pod.namespace}/{pod.name}", pod.node_name)
        for pod in cluster.pods.values()
        if pod.ip(family)
    ]
    return Network(nodes, pods, family=family)


def dump_network(ruleset: Ruleset, node_ips: Iterable[str], node_name: str = "node") -> Network:
    """A one-node network around a real node's ``iptables-save`` (or ``ip6tables-save``) dump (Pods' places unknown).

    The family is the node addresses' (an IPv6 address given means an ``ip6tables-save`` dump).
    """
    addresses = tuple(node_ips)
    family = family_of_address(addresses[0]) if addresses else IPV4
    return Network([NodeNetwork(node_name, addresses, lambda: ruleset, None, None, family=family)])
