"""The lab's layout, computed from a sandbox cluster without touching the kernel: namespaces, addresses, links, ports.

Shape of the miniature node (routed veths, as the ``ptp`` CNI plugin wires Pods)::

    client ns  eth0 192.168.0.x/24 ── eth0 (node IP)   node ns   vethXXXX (gateway) ── eth0 Pod IP/32  Pod ns
                                                               vethYYYY (gateway) ── eth0 Pod IP/32  Pod ns

Every Pod's ``eth0`` holds its Pod IP as /32 with a default route through a gateway address on
the node's end of its veth (the first address of the Pod's node's Pod CIDR), and the node routes
each Pod IP to its veth. On a dual-stack or IPv6 cluster the same links carry IPv6 too: a Pod's
IPv6 address as /128 with its gateway (the first address of the node's IPv6 Pod CIDR), the
node's IPv6 InternalIPs as /64 on its uplink, and a client address of that /64. All Pod traffic therefore crosses the node's routing and netfilter
hooks, which is what kube-proxy's rules need. A labelled simplification: Pods that the cluster
schedules on *other* nodes hang off this same node namespace too; in a real cluster their
packets would leave through the node's uplink towards that other node.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.ipaddr import parse_ip_sloppy
from kproxy_tutor.sandbox.model import Pod

#: Used when the node has no InternalIP: a private address like kubeadm's examples.
FALLBACK_NODE_IP = "192.168.0.10"
#: The same for IPv6 (a unique local address), when the cluster has IPv6 but the node no IPv6 InternalIP.
FALLBACK_NODE_IPV6 = "fd00:192:168::10"
UPLINK = "eth0"
#: Prefix lengths of the node's uplink subnet, per family (the client sits in it).
UPLINK_PREFIX = {IPV4: 24, IPV6: 64}


@dataclass(frozen=True, slots=True)
class HostPlan:
    """One namespace standing for a Pod (or an endpoint address that no Pod of the sandbox holds)."""

    namespace: str
    #: ``namespace/name`` of the Pod; for an endpoint without a Pod, the address itself.
    name: str
    #: The host's IPv4 address; for a host with only an IPv6 address, that address.
    ip: str
    gateway: str
    #: The node's end of the veth (the Pod's end is ``eth0`` in its own namespace).
    node_veth: str
    #: TCP ports the tiny server listens on (the Pod's container ports and its endpoint ports).
    tcp_ports: tuple[int, ...]
    #: The node the cluster scheduled the Pod on (the lab puts every Pod behind one node).
    cluster_node: str
    #: False when the Pod's cluster node is another one than the lab's node.
    local: bool
    #: The IPv6 address of a dual-stack Pod ("" if it has none, or when ``ip`` is already IPv6).
    ip6: str = ""
    gateway6: str = ""

    @property
    def addresses(self) -> tuple[tuple[str, str], ...]:
        """(address, gateway) of each family the host has, IPv4 first."""
        return ((self.ip, self.gateway),) + (((self.ip6, self.gateway6),) if self.ip6 else ())

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(ip for ip, _ in self.addresses)


@dataclass(frozen=True, slots=True)
class LabPlan:
    prefix: str
    node_name: str
    node_namespace: str
    node_ips: tuple[str, ...]
    client_namespace: str
    client_ip: str
    hosts: tuple[HostPlan, ...] = field(default_factory=tuple)
    #: The node's IPv6 addresses and the client's, on a cluster with IPv6 ("" / () otherwise).
    node_ips6: tuple[str, ...] = ()
    client_ip6: str = ""
    #: The families whose proxier the lab loads, IPv4 first (kube-proxy's MetaProxier order).
    families: tuple[str, ...] = (IPV4,)

    @property
    def all_node_ips(self) -> tuple[str, ...]:
        return self.node_ips + self.node_ips6

    def client_ip_of(self, family: str) -> str:
        return self.client_ip6 if family == IPV6 else self.client_ip

    @property
    def namespaces(self) -> list[str]:
        return [self.node_namespace, self.client_namespace, *(h.namespace for h in self.hosts)]

    @property
    def mark(self) -> str:
        """The loopback alias that marks each of the lab's namespaces as this lab's."""
        from kproxy_tutor.lab.state import namespace_mark

        return namespace_mark(self.prefix)

    def host_by_ip(self, ip: str) -> HostPlan | None:
        canonical = _canonical(ip) or ip
        return next((h for h in self.hosts if canonical in h.ips), None)

    def host_by_name(self, name: str) -> HostPlan | None:
        """A host by ``namespace/name``, by bare Pod name, or by address."""
        for host in self.hosts:
            if name == host.name or name in host.ips or host.name.split("/", 1)[-1] == name:
                return host
        return None

    def gateways(self) -> list[str]:
        found = {gateway for h in self.hosts for _, gateway in h.addresses}
        return sorted(found, key=lambda ip: (":" in ip, ipaddress.ip_address(ip)))


def _digest(ip: str) -> str:
    return hashlib.sha256(ip.encode()).hexdigest()[:8]


def veth_name(ip: str) -> str:
    """``veth`` plus 8 hex digits of the address: unique, and within the kernel's 15-character limit."""
    return "veth" + _digest(ip)


def host_namespace(prefix: str, ip: str) -> str:
    """Named after the address, so a Pod keeps its namespace when other Pods come and go."""
    return f"{prefix}pod-{_digest(ip)}"


def _canonical(text: str, family: str | None = None) -> str | None:
    """The canonical address (of ``family`` when given), read as kube-proxy reads it, or None."""
    ip = parse_ip_sloppy(text)
    if ip is None or (family is not None and ip.version != (4 if family == IPV4 else 6)):
        return None
    return str(ip)


def _ipv4(text: str) -> str | None:
    """The canonical IPv4 address, read as kube-proxy reads it (leading zeros allowed), or None."""
    return _canonical(text, IPV4)


def _sort_key(ip: str) -> tuple[bool, ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return ":" in ip, ipaddress.ip_address(ip)


def _endpoint_ports(cluster: Cluster, families: tuple[str, ...] = (IPV4,)) -> dict[str, set[int]]:
    """Address → TCP ports that some EndpointSlice (of the lab's families) sends to there."""
    ports: dict[str, set[int]] = {}
    for slice_ in cluster.endpoint_slices.values():
        if slice_.address_type not in families:
            continue
        numbers = {p.port for p in slice_.ports if p.port and p.protocol == "TCP"}
        for endpoint in slice_.endpoints:
            for text in endpoint.addresses:
                address = _canonical(text, slice_.address_type)
                if address is not None:
                    ports.setdefault(address, set()).update(numbers)
    return ports


def used_addresses(cluster: Cluster) -> set[str]:
    """Every address the cluster mentions, so that the lab's own addresses avoid them."""
    texts = [ip for node in cluster.nodes.values() for ip in node.internal_ips]
    texts += [ip for pod in cluster.pods.values() for ip in (pod.pod_ip, *pod.pod_ips) if ip]
    for service in cluster.services.values():
        texts += [service.cluster_ip, *service.cluster_ips, *service.external_ips]
        texts += [i.ip for i in service.load_balancer_ingress]
    found = {ip for ip in map(_canonical, texts) if ip is not None}
    return found | set(_endpoint_ports(cluster, (IPV4, IPV6)))


def _gateway_for(ip: str, cluster: Cluster, node_name: str, taken: set[str]) -> str:
    """The first address of the Pod's node's Pod CIDR; otherwise a free address of the Pod IP's /24 (/64)."""
    address = ipaddress.ip_address(ip)
    family = IPV6 if address.version == 6 else IPV4
    for node in cluster.nodes.values():
        cidr = node.pod_cidr(family)
        if cidr:
            network = ipaddress.ip_network(cidr, strict=False)
            if address in network and str(network.network_address + 1) not in taken - {ip}:
                return str(network.network_address + 1)
    network = ipaddress.ip_network(f"{ip}/{UPLINK_PREFIX[family]}", strict=False)
    last = network.broadcast_address - (0 if family == IPV6 else 1)
    tail = (last - i for i in range(min(256, network.num_addresses - 2)))
    for candidate in (network.network_address + 1, *tail):
        if str(candidate) != ip and str(candidate) not in taken:
            return str(candidate)
    # 254 endpoints in one /24 leave no address for the node's side of the Pods' links.
    raise SandboxInputError(
        N_("The lab cannot wire the Pod {ip}: its /24 has no free address left for the node's side."),
        ip=ip,
    )


def _client_ip(node_ip: str, taken: set[str]) -> str:
    family = IPV6 if ":" in node_ip else IPV4
    network = ipaddress.ip_network(f"{node_ip}/{UPLINK_PREFIX[family]}", strict=False)
    for offset in (100, *range(101, 254), *range(2, 100)):
        candidate = str(network.network_address + offset)
        if candidate != node_ip and candidate not in taken:
            return candidate
    raise SandboxInputError(
        N_("The lab has no free address for its client next to the node IP {ip}: that /24 is full."),
        ip=node_ip,
    )


def _pod_hosts(cluster: Cluster, families: tuple[str, ...]) -> dict[str, tuple[Pod, str]]:
    """Key address (IPv4, else IPv6) → (Pod, its IPv6 address when it also has an IPv4 one)."""
    out: dict[str, tuple[Pod, str]] = {}
    for pod in sorted(cluster.pods.values(), key=lambda p: (p.namespace, p.name)):
        four = _canonical(pod.ip(IPV4), IPV4) if IPV4 in families else None
        six = _canonical(pod.ip(IPV6), IPV6) if IPV6 in families else None
        if four is not None:
            out.setdefault(four, (pod, six or ""))
        elif six is not None:
            out.setdefault(six, (pod, ""))
    return out


def make_plan(cluster: Cluster, node_name: str, prefix: str) -> LabPlan:
    """The layout for ``node_name``'s view of ``cluster``, with namespace names starting with ``prefix``."""
    node = cluster.node(node_name)
    families = cluster.proxier_families(node_name)
    node_ips = tuple(ip for ip in map(_ipv4, node.internal_ips) if ip is not None) or (FALLBACK_NODE_IP,)
    node_ips6: tuple[str, ...] = ()
    if IPV6 in families:
        six = (_canonical(ip, IPV6) for ip in node.ips(IPV6))
        node_ips6 = tuple(ip for ip in six if ip is not None) or (FALLBACK_NODE_IPV6,)
    taken = used_addresses(cluster) | set(node_ips) | set(node_ips6)
    endpoint_ports = _endpoint_ports(cluster, families)
    pods_by_ip = _pod_hosts(cluster, families)
    pod_ip6s = {six for _, six in pods_by_ip.values() if six}
    addresses = sorted((set(pods_by_ip) | set(endpoint_ports)) - pod_ip6s, key=_sort_key)
    gateways: dict[str, str] = {}
    for ip in [*addresses, *sorted(pod_ip6s, key=_sort_key)]:
        entry = pods_by_ip.get(ip)
        pod_node = entry[0].node_name if entry else node_name
        gateways[ip] = _gateway_for(ip, cluster, pod_node, taken | set(gateways.values()))
    hosts = []
    for ip in addresses:
        entry = pods_by_ip.get(ip)
        pod = entry[0] if entry is not None else None
        ip6 = entry[1] if entry is not None else ""
        ports = set(endpoint_ports.get(ip, set())) | set(endpoint_ports.get(ip6, set()) if ip6 else set())
        if pod is not None:
            ports |= {p.container_port for p in pod.ports if p.protocol == "TCP"}
        own = {ip, ip6} - {""}
        endpoint_nodes = {
            e.node_name
            for s in cluster.endpoint_slices.values()
            for e in s.endpoints
            if own & {_canonical(a) for a in e.addresses}
        }
        cluster_node = pod.node_name if pod is not None else next(iter(sorted(endpoint_nodes - {""})), "")
        hosts.append(
            HostPlan(
                namespace=host_namespace(prefix, ip),
                name=f"{pod.namespace}/{pod.name}" if pod is not None else ip,
                ip=ip,
                gateway=gateways[ip],
                node_veth=veth_name(ip),
                tcp_ports=tuple(sorted(ports)),
                cluster_node=cluster_node,
                local=cluster_node == node_name,
                ip6=ip6,
                gateway6=gateways[ip6] if ip6 else "",
            )
        )
    client_taken = taken | set(gateways.values())
    return LabPlan(
        prefix=prefix,
        node_name=node_name,
        node_namespace=f"{prefix}node",
        node_ips=node_ips,
        client_namespace=f"{prefix}client",
        client_ip=_client_ip(node_ips[0], client_taken),
        hosts=tuple(hosts),
        node_ips6=node_ips6,
        client_ip6=_client_ip(node_ips6[0], client_taken) if node_ips6 else "",
        families=families,
    )
