"""Deterministic allocation of ClusterIPs, NodePorts, Pod CIDRs, Pod IPs and generated names, as in a kubeadm cluster.

Real allocators pick at random; the sandbox picks from a hash of the object's name (probing
on collision), so the same manifests always give the same cluster and the same rules.
"""

from __future__ import annotations

import hashlib
import ipaddress

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.model import ClusterNetwork

#: The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def name_suffix(seed: str, length: int) -> str:
    """``length`` characters from Kubernetes' suffix alphabet, derived from ``seed``."""
    value = _digest(seed)
    chars = []
    for _ in range(length):
        value, index = divmod(value, len(_NAME_ALPHABET))
        chars.append(_NAME_ALPHABET[index])
    return "".join(chars)


class Allocator:
    """Hands out ClusterIPs, NodePorts, node Pod CIDRs and Pod IPs without collisions."""

    def __init__(self, network: ClusterNetwork) -> None:
        self.network = network
        self._service_net = ipaddress.ip_network(network.service_cidr, strict=False)
        self._pod_net = ipaddress.ip_network(network.pod_cidr, strict=False)
        self.used_cluster_ips: dict[str, tuple[str, str]] = {}
        self.used_node_ports: dict[tuple[int, str], tuple[str, str]] = {}
        self._node_cidrs: dict[str, str] = {}
        self._next_pod_host: dict[str, int] = {}
        self.used_pod_ips: set[str] = set()

    # ClusterIPs -------------------------------------------------------------------------
    def reserve_cluster_ip(self, ip: str, owner: tuple[str, str], location: str | None = None) -> None:
        holder = self.used_cluster_ips.get(ip)
        if holder is not None and holder != owner:
            raise SandboxInputError(
                N_("ClusterIP {ip} is already used by Service {holder}."),
                location=location,
                ip=ip,
                holder="/".join(holder),
            )
        self.used_cluster_ips[ip] = owner

    def allocate_cluster_ip(self, owner: tuple[str, str]) -> str:
        net = self._service_net
        if owner == ("default", "kubernetes"):
            candidate = str(net.network_address + 1)
            if candidate not in self.used_cluster_ips:
                self.used_cluster_ips[candidate] = owner
                return candidate
        if owner == ("kube-system", "kube-dns") and self.network.dns_service_ip not in self.used_cluster_ips:
            self.used_cluster_ips[self.network.dns_service_ip] = owner
            return self.network.dns_service_ip
        # Skip the lowest 16 addresses, which kubeadm clusters keep for well-known Services.
        size = net.num_addresses - 18
        start = _digest("/".join(owner)) % size
        for step in range(size):
            candidate = str(net.network_address + 16 + (start + step) % size)
            if candidate not in self.used_cluster_ips:
                self.used_cluster_ips[candidate] = owner
                return candidate
        raise SandboxInputError(N_("The Service CIDR {cidr} is full."), cidr=str(net))

    def release_cluster_ip(self, ip: str, owner: tuple[str, str]) -> None:
        if self.used_cluster_ips.get(ip) == owner:
            del self.used_cluster_ips[ip]

    # NodePorts --------------------------------------------------------------------------
    def reserve_node_port(
        self, port: int, protocol: str, owner: tuple[str, str], location: str | None = None
    ) -> None:
        holder = self.used_node_ports.get((port, protocol))
        if holder is not None and holder != owner:
            raise SandboxInputError(
                N_("NodePort {port}/{protocol} is already used by Service {holder}."),
                location=location,
                port=port,
                protocol=protocol,
                holder="/".join(holder),
            )
        self.used_node_ports[(port, protocol)] = owner

    def allocate_node_port(self, protocol: str, owner: tuple[str, str], port_name: str) -> int:
        low, high = self.network.node_port_range
        size = high - low + 1
        start = _digest("/".join(owner) + ":" + port_name + "/" + protocol) % size
        for step in range(size):
            candidate = low + (start + step) % size
            if (candidate, protocol) not in self.used_node_ports:
                self.used_node_ports[(candidate, protocol)] = owner
                return candidate
        raise SandboxInputError(N_("No NodePort is free in the range {low}-{high}."), low=low, high=high)

    def release_node_ports(self, owner: tuple[str, str]) -> None:
        for key in [key for key, holder in self.used_node_ports.items() if holder == owner]:
            del self.used_node_ports[key]

    # Nodes and Pods ---------------------------------------------------------------------
    def node_pod_cidr(self, node_name: str) -> str:
        """The n-th node gets ``10.244.n.0/24``, as kube-controller-manager does on kubeadm."""
        cidr = self._node_cidrs.get(node_name)
        if cidr is None:
            taken = set(self._node_cidrs.values())
            for subnet in self._pod_net.subnets(new_prefix=24):
                if str(subnet) not in taken:
                    cidr = str(subnet)
                    break
            else:
                raise SandboxInputError(
                    N_("The Pod CIDR {cidr} has no free /24 left."), cidr=str(self._pod_net)
                )
            self._node_cidrs[node_name] = cidr
        return cidr

    def claim_node_pod_cidr(self, node_name: str, cidr: str) -> None:
        self._node_cidrs[node_name] = cidr

    def allocate_pod_ip(self, node_name: str) -> str:
        """Pod IPs start at .2 of the node's /24 (.1 is the bridge), as with the common CNI plugins."""
        net = ipaddress.ip_network(self.node_pod_cidr(node_name), strict=False)
        host = self._next_pod_host.get(node_name, 2)
        while host < net.num_addresses - 1:
            candidate = str(net.network_address + host)
            host += 1
            if candidate not in self.used_pod_ips:
                self._next_pod_host[node_name] = host
                self.used_pod_ips.add(candidate)
                return candidate
        raise SandboxInputError(N_("Node {node} has no free Pod IP left."), node=node_name)
