"""Compile the sandbox cluster into what kube-proxy's IPVS mode programs: virtual servers, real servers, kube-ipvs0 addresses.

Follows upstream ``pkg/proxy/ipvs/proxier.go``: one virtual server per Service IP:port
(ClusterIP, each external IP, each LoadBalancer IP, each node IP for a NodePort), forwarding
method NAT ("Masq"), weight 1, ClientIP affinity as persistence. Real servers follow
``syncEndpoint``: Local traffic policy uses local endpoints, or all endpoints when the node has
none (upstream k/k PR #97081).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.changes import (
    EndpointsChangeTracker,
    EndpointsMap,
    ServiceChangeTracker,
    ServicePortMap,
)
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.families import IPV4, IPV6, check_family
from kproxy_tutor.sandbox.ipvs.ipsets import IpSet, blocked_node_access, fill_sets
from kproxy_tutor.sandbox.ipvs.iptables import IptablesOptions, IpvsIptables, compile_iptables
from kproxy_tutor.sandbox.serviceport import ServicePortInfo
from kproxy_tutor.sandbox.topology import categorize_endpoints
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress

DUMMY_DEVICE = "kube-ipvs0"
DEFAULT_SCHEDULER = "rr"


@dataclass(slots=True)
class RealServer:
    address: str
    port: int
    weight: int = 1
    active: int = 0
    inactive: int = 0


@dataclass(slots=True)
class VirtualServer:
    protocol: str
    address: str
    port: int
    scheduler: str = DEFAULT_SCHEDULER
    #: Persistence timeout in seconds (ClientIP session affinity), or None.
    persistent: int | None = None
    real_servers: list[RealServer] = field(default_factory=list)
    service: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.protocol, self.address, self.port)


@dataclass(slots=True)
class IpvsState:
    virtual_servers: list[VirtualServer]
    #: Addresses bound to kube-ipvs0 (every ClusterIP, external IP and LoadBalancer IP).
    bound_addresses: list[str]
    #: The ipsets by name, in upstream's creation order (None before the first sync wrote them).
    ipsets: dict[str, IpSet] | None = None
    #: The constant-size iptables rules that match those sets.
    iptables: IpvsIptables | None = None
    #: The proxier's IP family (the IPv6 proxier binds its addresses to the same kube-ipvs0).
    family: str = IPV4


def _real_servers(endpoints: tuple[EndpointInfo, ...]) -> list[RealServer]:
    return [RealServer(e.ip, e.port) for e in sorted(endpoints, key=lambda e: e.endpoint)]


def address_key(ip: str) -> bytes:
    """IPv4 before IPv6, each in numeric order (the order the sandbox lists addresses in)."""
    packed = ipaddress.ip_address(ip).packed
    return bytes([len(packed)]) + packed


class IpvsProxier:
    """IPVS-mode kube-proxy of one IP family for one node."""

    def __init__(
        self,
        cluster: Cluster,
        node_name: str | None = None,
        scheduler: str = DEFAULT_SCHEDULER,
        family: str = IPV4,
    ) -> None:
        name = node_name or cluster.config.hostname_override or next(iter(cluster.nodes), "")
        if not name:
            raise SandboxInputError(N_("The cluster has no nodes, so there is no node to compile rules for."))
        self.node = cluster.node(name)
        self.scheduler = scheduler or DEFAULT_SCHEDULER
        self.family = check_family(family)
        self.node_ips = self.node.ips(family)
        config = cluster.config
        self.iptables_options = IptablesOptions(
            config.masquerade_all,
            _not_local(config, self.node.pod_cidr(family), family),
            1 << config.masquerade_bit,
            cluster.facts.random_fully,
            family,
        )
        # Upstream's GetNodeIPs(nodePortAddresses): NodePort virtual servers only on the listed
        # addresses; unset means every address of the node (IPVS mode has no "primary" default).
        self.node_port_ips = [
            ip for ip in self.node_ips if _accepts_node_ports(ip, config.node_port_addresses, family)
        ]
        self.service_changes = ServiceChangeTracker(family=family)
        self.endpoints_changes = EndpointsChangeTracker(name, family=family)
        self.svc_port_map = ServicePortMap()
        self.endpoints_map = EndpointsMap()
        cluster.watch(self.service_changes.on_service, self.endpoints_changes.on_endpoint_slice)

    def sync(self, progress: Progress | None = None) -> IpvsState:
        """The node's IPVS state, ipsets and iptables rules; ``progress("sync", done, total)`` as it goes."""
        self.svc_port_map.update_from(self.service_changes)
        self.endpoints_map.update_from(self.endpoints_changes)
        servers: list[VirtualServer] = []
        bound: set[str] = set()
        names = sorted(self.svc_port_map)
        for index, name in enumerate(names):
            if progress is not None and not index & PROGRESS_MASK:
                progress("sync", index, len(names))
            servers += self._service_port(self.svc_port_map[name], self.endpoints_map.get(name, ()), bound)
        if progress is not None:
            progress("sync", len(names), len(names))
        servers.sort(key=lambda v: (v.protocol, address_key(v.address), v.port))
        addresses = sorted(bound, key=address_key)
        endpoints = {name: self.endpoints_map.get(name, ()) for name in self.svc_port_map}
        sets = fill_sets(self.svc_port_map, endpoints, self.node_ips, addresses, self.family)
        blocked = blocked_node_access(self.svc_port_map, self.node_ips, self.family)
        iptables = compile_iptables(sets, blocked, self.iptables_options)
        return IpvsState(servers, addresses, sets, iptables, self.family)

    def _service_port(
        self, svc: ServicePortInfo, endpoints: tuple[EndpointInfo, ...], bound: set[str]
    ) -> list[VirtualServer]:
        cat = categorize_endpoints(endpoints, svc, self.node.name, dict(self.node.labels))

        def chosen(only_local: bool) -> list[RealServer]:
            if only_local and cat.local:
                return _real_servers(cat.local)
            return _real_servers(cat.cluster)

        persistent = svc.sticky_max_age_seconds if svc.client_ip_affinity else None
        proto = svc.protocol.upper()
        spn = svc.name_string

        def server(ip: str, port: int, only_local: bool) -> VirtualServer:
            return VirtualServer(proto, ip, port, self.scheduler, persistent, chosen(only_local), spn)

        out = [server(svc.cluster_ip, svc.port, svc.internal_policy_local)]
        bound.add(svc.cluster_ip)
        for ip in (*svc.external_ips, *svc.load_balancer_vips):
            out.append(server(ip, svc.port, svc.external_policy_local))
            bound.add(ip)
        if svc.node_port:
            for ip in self.node_port_ips:
                out.append(server(ip, svc.node_port, svc.external_policy_local))
        return out


def _accepts_node_ports(ip: str, addresses: tuple[str, ...], family: str = IPV4) -> bool:
    """Entries of the other family do not count; with none of this family, every address does."""
    own = (
        [v for v in addresses if v == "primary" or ":" in v]
        if family == IPV6
        else [v for v in addresses if v == "primary" or ":" not in v]
    )
    if not own:
        return True
    address = ipaddress.ip_address(ip)
    return any(value == "primary" or address in ipaddress.ip_network(value, strict=False) for value in own)


def _not_local(config: object, pod_cidr: str, family: str = IPV4) -> str:
    """The local-traffic detector's negated match, as ``--detect-local-mode`` configures it ("" = none)."""
    mode = getattr(config, "detect_local_mode", "")
    if mode == "ClusterCIDR" and config.cluster_cidr_of(family):  # type: ignore[attr-defined]
        return f"! -s {config.cluster_cidr_of(family)}"  # type: ignore[attr-defined]
    if mode == "NodeCIDR" and pod_cidr:
        return f"! -s {pod_cidr}"
    if mode == "BridgeInterface" and getattr(config, "bridge_interface", ""):
        return f"! -i {config.bridge_interface}"  # type: ignore[attr-defined]
    if mode == "InterfaceNamePrefix" and getattr(config, "interface_name_prefix", ""):
        return f"! -i {config.interface_name_prefix}+"  # type: ignore[attr-defined]
    return ""
