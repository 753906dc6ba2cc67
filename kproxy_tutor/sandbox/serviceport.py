"""ServicePortName and ServicePortInfo: one Service port as one family's proxier of kube-proxy sees it.

Mirrors upstream ``pkg/proxy/serviceport.go`` and ``servicechangetracker.go``: addresses are
parsed sloppily and printed canonically, filtered to the proxier's family, order kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.ipaddr import IPNetwork, canonical_ipv4, parse_cidr_sloppy, parse_ip_sloppy
from kproxy_tutor.sandbox.model import Service


class ServicePortName(NamedTuple):
    """(namespace, name, port name, protocol): the key of a service port; sorts in the sandbox's sync order.

    A named tuple rather than a dataclass: it is hashed and sorted for every port on every sync.
    """

    namespace: str
    name: str
    port: str
    protocol: str

    def __str__(self) -> str:
        base = f"{self.namespace}/{self.name}"
        return f"{base}:{self.port}" if self.port else base

    @property
    def service_key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class ServicePortInfo:
    name: ServicePortName
    cluster_ip: str
    port: int
    protocol: str
    node_port: int
    external_ips: tuple[str, ...]
    load_balancer_vips: tuple[str, ...]
    load_balancer_source_ranges: tuple[IPNetwork, ...]
    client_ip_affinity: bool
    sticky_max_age_seconds: int
    #: eTP=Local on an API-externally-accessible Service.
    external_policy_local: bool
    internal_policy_local: bool
    health_check_node_port: int

    @property
    def name_string(self) -> str:
        return str(self.name)

    def externally_accessible(self) -> bool:
        """Port-level: a NodePort, a LoadBalancer VIP or an externalIP reaches it from outside."""
        return self.node_port != 0 or bool(self.load_balancer_vips) or bool(self.external_ips)

    def uses_cluster_endpoints(self) -> bool:
        return not self.internal_policy_local or self.externally_accessible()

    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or (self.external_policy_local and self.externally_accessible())


# One per Service port on every proxier's start (the initial list of a 10,000-Service cluster).
_make_service_port_info = fast_constructor(ServicePortInfo)


def _of_family(values: tuple[str, ...], family: str) -> tuple[str, ...]:
    out = []
    for value in values:
        text = value.strip()
        if family == IPV4:
            ip = canonical_ipv4(text)
        else:
            parsed = parse_ip_sloppy(text)
            ip = str(parsed) if parsed is not None and parsed.version == 6 else None
        if ip is not None:
            out.append(ip)
    return tuple(out)


def service_cluster_ip(service: Service, family: str = IPV4) -> str | None:
    """The ClusterIP of ``family``, or None when that proxier ignores the Service (headless, ExternalName, other family)."""
    if service.type == "ExternalName":
        return None
    candidates = service.cluster_ips or (service.cluster_ip,)
    for candidate in candidates:
        if candidate in ("", "None"):
            continue
        found = _of_family((candidate,), family)
        if found:
            return found[0]
    return None


def service_port_map(service: Service | None, family: str = IPV4) -> dict[ServicePortName, ServicePortInfo]:
    """All ports of ``service`` that ``family``'s proxier handles (empty for None, headless, ExternalName, other family)."""
    if service is None:
        return {}
    cluster_ip = service_cluster_ip(service, family)
    if cluster_ip is None:
        return {}
    version = 4 if family == IPV4 else 6
    external_ips = _of_family(service.external_ips, family)
    vips = _of_family(
        tuple(i.ip for i in service.load_balancer_ingress if i.ip and i.ip_mode != "Proxy"), family
    )
    ranges = []
    for text in service.load_balancer_source_ranges:
        network = parse_cidr_sloppy(text.strip())
        if network is not None and network.version == version:
            ranges.append(network)
    api_externally_accessible = service.type in ("LoadBalancer", "NodePort") or (
        service.type == "ClusterIP" and bool(service.external_ips)
    )
    etp_local = api_externally_accessible and service.external_traffic_policy == "Local"
    hc_port = service.health_check_node_port if service.type == "LoadBalancer" and etp_local else 0
    result = {}
    source_ranges = tuple(ranges)
    affinity = service.session_affinity == "ClientIP"
    itp_local = service.internal_traffic_policy == "Local"
    for port in service.ports:
        name = ServicePortName(service.namespace, service.name, port.name, port.protocol)
        # Fields in declaration order: name, cluster_ip, port, protocol, node_port, external_ips,
        # load_balancer_vips, load_balancer_source_ranges, client_ip_affinity,
        # sticky_max_age_seconds, external_policy_local, internal_policy_local, health_check_node_port.
        result[name] = _make_service_port_info(
            name,
            cluster_ip,
            port.port,
            port.protocol,
            port.node_port,
            external_ips,
            vips,
            source_ranges,
            affinity,
            service.session_affinity_timeout,
            etp_local,
            itp_local,
            hc_port,
        )
    return result
