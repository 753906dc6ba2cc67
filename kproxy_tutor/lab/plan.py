"""The lab's layout, computed from a sandbox cluster without touching the kernel: namespaces, addresses, links, ports.

Shape of the miniature node (routed veths, as the ``ptp`` CNI plugin wires Pods)::

    client ns  eth0 192.168.0.x/24 ── eth0 (node IP)   node ns   vethXXXX (gateway) ── eth0 Pod IP/32  Pod ns
                                                               vethYYYY (gateway) ── eth0 Pod IP/32  Pod ns

Every Pod's ``eth0`` holds its Pod IP as /32 with a default route through a gateway address on
the node's end of its veth (the first address of the Pod's node's Pod CIDR), and the node routes
each Pod IP to its veth. All Pod traffic therefore crosses the node's routing and netfilter
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
from kproxy_tutor.sandbox.ipaddr import parse_ip_sloppy

#: Used when the node has no InternalIP: a private address like kubeadm's examples.
FALLBACK_NODE_IP = "192.168.0.10"
UPLINK = "eth0"


@dataclass(frozen=True, slots=True)
class HostPlan:
    """One namespace standing for a Pod (or an endpoint address that no Pod of the sandbox holds)."""

    namespace: str
    #: ``namespace/name`` of the Pod; for an endpoint without a Pod, the address itself.
    name: str
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


@dataclass(frozen=True, slots=True)
class LabPlan:
    prefix: str
    node_name: str
    node_namespace: str
    node_ips: tuple[str, ...]
    client_namespace: str
    client_ip: str
    hosts: tuple[HostPlan, ...] = field(default_factory=tuple)

    @property
    def namespaces(self) -> list[str]:
        return [self.node_namespace, self.client_namespace, *(h.namespace for h in self.hosts)]

    @property
    def mark(self) -> str:
        """The loopback alias that marks each of the lab's namespaces as this lab's."""
        from kproxy_tutor.lab.state import namespace_mark

        return namespace_mark(self.prefix)

    def host_by_ip(self, ip: str) -> HostPlan | None:
        return next((h for h in self.hosts if h.ip == ip), None)

    def host_by_name(self, name: str) -> HostPlan | None:
        """A host by ``namespace/name``, by bare Pod name, or by address."""
        for host in self.hosts:
            if name in (host.name, host.ip) or host.name.split("/", 1)[-1] == name:
                return host
        return None

    def gateways(self) -> list[str]:
        return sorted({h.gateway for h in self.hosts}, key=ipaddress.IPv4Address)


def _digest(ip: str) -> str:
    return hashlib.sha256(ip.encode()).hexdigest()[:8]


def veth_name(ip: str) -> str:
    """``veth`` plus 8 hex digits of the address: unique, and within the kernel's 15-character limit."""
    return "veth" + _digest(ip)


def host_namespace(prefix: str, ip: str) -> str:
    """Named after the address, so a Pod keeps its namespace when other Pods come and go."""
    return f"{prefix}pod-{_digest(ip)}"


def _ipv4(text: str) -> str | None:
    """The canonical IPv4 address, read as kube-proxy reads it (leading zeros allowed), or None."""
    ip = parse_ip_sloppy(text)
    return str(ip) if ip is not None and ip.version == 4 else None


def _is_ipv4(text: str) -> bool:
    return _ipv4(text) is not None


def _endpoint_ports(cluster: Cluster) -> dict[str, set[int]]:
    """Address → TCP ports that some EndpointSlice sends to there."""
    ports: dict[str, set[int]] = {}
    for slice_ in cluster.endpoint_slices.values():
        if slice_.address_type != "IPv4":
            continue
        numbers = {p.port for p in slice_.ports if p.port and p.protocol == "TCP"}
        for endpoint in slice_.endpoints:
            for address in map(_ipv4, endpoint.addresses):
                if address is not None:
                    ports.setdefault(address, set()).update(numbers)
    return ports


def used_addresses(cluster: Cluster) -> set[str]:
    """Every address the cluster mentions, so that the lab's own addresses avoid them."""
    texts = [ip for node in cluster.nodes.values() for ip in node.internal_ips]
    texts += [pod.pod_ip for pod in cluster.pods.values() if pod.pod_ip]
    for service in cluster.services.values():
        texts += [service.cluster_ip, *service.cluster_ips, *service.external_ips]
        texts += [i.ip for i in service.load_balancer_ingress]
    return {ip for ip in map(_ipv4, texts) if ip is not None} | set(_endpoint_ports(cluster))


def _gateway_for(ip: str, cluster: Cluster, node_name: str, taken: set[str]) -> str:
    """The first address of the Pod's node's Pod CIDR; otherwise a free address of the Pod IP's /24."""
    address = ipaddress.IPv4Address(ip)
    for node in cluster.nodes.values():
        if node.ipv4_pod_cidr:
            network = ipaddress.ip_network(node.ipv4_pod_cidr, strict=False)
            if address in network and str(network.network_address + 1) not in taken - {ip}:
                return str(network.network_address + 1)
    network = ipaddress.ip_network(f"{ip}/24", strict=False)
    for candidate in (network.network_address + 1, *reversed(list(network.hosts()))):
        if str(candidate) != ip and str(candidate) not in taken:
            return str(candidate)
    # 254 endpoints in one /24 leave no address for the node's side of the Pods' links.
    raise SandboxInputError(
        N_("The lab cannot wire the Pod {ip}: its /24 has no free address left for the node's side."),
        ip=ip,
    )


def _client_ip(node_ip: str, taken: set[str]) -> str:
    network = ipaddress.ip_network(f"{node_ip}/24", strict=False)
    for offset in (100, *range(101, 254), *range(2, 100)):
        candidate = str(network.network_address + offset)
        if candidate != node_ip and candidate not in taken:
            return candidate
    raise SandboxInputError(
        N_("The lab has no free address for its client next to the node IP {ip}: that /24 is full."),
        ip=node_ip,
    )


def make_plan(cluster: Cluster, node_name: str, prefix: str) -> LabPlan:
    """The layout for ``node_name``'s view of ``cluster``, with namespace names starting with ``prefix``."""
    node = cluster.node(node_name)
    node_ips = tuple(ip for ip in map(_ipv4, node.internal_ips) if ip is not None) or (FALLBACK_NODE_IP,)
    taken = used_addresses(cluster) | set(node_ips)
    endpoint_ports = _endpoint_ports(cluster)
    pods_by_ip = {
        _ipv4(pod.pod_ip): pod
        for pod in sorted(cluster.pods.values(), key=lambda p: (p.namespace, p.name))
        if pod.pod_ip and _is_ipv4(pod.pod_ip)
    }
    addresses = sorted(set(pods_by_ip) | set(endpoint_ports), key=ipaddress.IPv4Address)
    gateways: dict[str, str] = {}
    for ip in addresses:
        pod = pods_by_ip.get(ip)
        gateways[ip] = _gateway_for(
            ip, cluster, pod.node_name if pod else node_name, taken | set(gateways.values())
        )
    hosts = []
    for ip in addresses:
        pod = pods_by_ip.get(ip)
        ports = set(endpoint_ports.get(ip, set()))
        if pod is not None:
            ports |= {p.container_port for p in pod.ports if p.protocol == "TCP"}
        endpoint_nodes = {
            e.node_name
            for s in cluster.endpoint_slices.values()
            for e in s.endpoints
            if ip in map(_ipv4, e.addresses)
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
    )
