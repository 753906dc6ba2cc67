"""The sandbox's Kubernetes objects (Node, Pod, Deployment, Service, EndpointSlice) and kube-proxy settings.

Objects are immutable values, like objects read from the API server: an edit replaces the
object, so "what changed" is a comparison of two values. Names follow the Kubernetes API in
snake_case. Only fields that change what kube-proxy writes (or that the tutor shows) exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from kproxy_tutor.sandbox.families import FAMILIES, IPV4, family_of_address, of_family

Protocol = Literal["TCP", "UDP", "SCTP"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
TrafficPolicy = Literal["Cluster", "Local"]

PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
SERVICE_TYPES: tuple[str, ...] = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
#: API default of ``spec.sessionAffinityConfig.clientIP.timeoutSeconds``.
DEFAULT_AFFINITY_TIMEOUT = 10800
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
ZONE_LABEL = "topology.kubernetes.io/zone"
EMPTY_LABELS: MappingProxyType[str, str] = MappingProxyType({})


def frozen_labels(labels: dict[str, str] | None) -> MappingProxyType[str, str]:
    """A read-only copy of ``labels`` (objects are values; nobody may edit them in place)."""
    return MappingProxyType(dict(labels)) if labels else EMPTY_LABELS


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    internal_ips: tuple[str, ...] = ()
    #: ``spec.podCIDRs`` (``spec.podCIDR`` is the first): at most one per IP family.
    pod_cidrs: tuple[str, ...] = ()
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY_LABELS)

    def ips(self, family: str) -> tuple[str, ...]:
        """The InternalIPs of ``family`` (IPv4 or IPv6): what that family's proxier sees."""
        return of_family(self.internal_ips, family)

    def pod_cidr(self, family: str | None = None) -> str:
        """The Pod CIDR of ``family`` ("" if none); without a family, ``spec.podCIDR`` (the first)."""
        if family is None:
            return self.pod_cidrs[0] if self.pod_cidrs else ""
        return next(iter(of_family(self.pod_cidrs, family)), "")

    @property
    def ipv4_ips(self) -> tuple[str, ...]:
        return self.ips(IPV4)

    @property
    def ipv4_pod_cidr(self) -> str:
        return self.pod_cidr(IPV4)

    @property
    def families(self) -> tuple[str, ...]:
        """The IP families of the node's InternalIPs (a dual-stack node has both)."""
        return tuple(f for f in FAMILIES if self.ips(f) or of_family(self.pod_cidrs, f))


@dataclass(frozen=True, slots=True)
class ContainerPort:
    container_port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY_LABELS)
    node_name: str = ""
    pod_ip: str = ""
    ready: bool = True
    terminating: bool = False
    ports: tuple[ContainerPort, ...] = ()
    #: Set for Pods a Deployment owns, so the Deployment can replace them.
    owner: str = ""
    #: ``status.podIPs`` (``pod_ip`` is the first): one per IP family on a dual-stack node.
    pod_ips: tuple[str, ...] = ()

    def ip(self, family: str) -> str:
        """The Pod's IP of ``family`` ("" if it has none)."""
        return next(iter(of_family(self.pod_ips or ((self.pod_ip,) if self.pod_ip else ()), family)), "")

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(f for f in FAMILIES if self.ip(f))


@dataclass(frozen=True, slots=True)
class Deployment:
    namespace: str
    name: str
    replicas: int
    selector: MappingProxyType[str, str]
    template_labels: MappingProxyType[str, str]
    ports: tuple[ContainerPort, ...] = ()
    #: ``spec.template.spec.nodeName``: every replica is bound to this node, bypassing the scheduler.
    node_name: str = ""


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    name: str = ""
    protocol: str = "TCP"
    #: A number, a container-port name, or None (= same as ``port``).
    target_port: int | str | None = None
    node_port: int = 0


@dataclass(frozen=True, slots=True)
class LoadBalancerIngress:
    ip: str = ""
    hostname: str = ""
    #: None (= VIP), "VIP" or "Proxy"; kube-proxy ignores Proxy-mode IPs.
    ip_mode: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    type: str = "ClusterIP"
    #: "" = not allocated yet (the cluster allocates one), "None" = headless.
    cluster_ip: str = ""
    #: ``spec.clusterIPs``: one per family, the primary first (``cluster_ip`` is the first).
    cluster_ips: tuple[str, ...] = ()
    ip_families: tuple[str, ...] = ()
    #: ``spec.ipFamilyPolicy``: SingleStack, PreferDualStack, RequireDualStack ("" = not set).
    ip_family_policy: str = ""
    ports: tuple[ServicePort, ...] = ()
    #: None = no selector (endpoints come from hand-made EndpointSlices).
    selector: MappingProxyType[str, str] | None = None
    external_ips: tuple[str, ...] = ()
    load_balancer_ingress: tuple[LoadBalancerIngress, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    session_affinity: str = "None"
    session_affinity_timeout: int = DEFAULT_AFFINITY_TIMEOUT
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    health_check_node_port: int = 0
    external_name: str = ""
    labels: MappingProxyType[str, str] = field(default_factory=lambda: EMPTY_LABELS)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def cluster_ip_of(self, family: str) -> str:
        """The ClusterIP of ``family`` ("" when the Service has none: headless, other family, ExternalName)."""
        for ip in self.cluster_ips or (self.cluster_ip,):
            if ip not in ("", "None") and family_of_address(ip) == family:
                return ip
        return ""

    @property
    def families(self) -> tuple[str, ...]:
        found = {
            family_of_address(ip) for ip in (self.cluster_ip, *self.cluster_ips) if ip not in ("", "None")
        }
        found.update(self.ip_families)
        return tuple(f for f in FAMILIES if f in found)


@dataclass(frozen=True, slots=True)
class EndpointConditions:
    """None means "not set", which kube-proxy reads as ready/serving = true, terminating = false."""

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    addresses: tuple[str, ...]
    conditions: EndpointConditions = EndpointConditions()
    node_name: str = ""
    zone: str = ""
    hostname: str = ""
    #: ``hints.forZones[*].name`` and ``hints.forNodes[*].name``.
    zone_hints: tuple[str, ...] = ()
    node_hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EndpointPort:
    #: None = name not set (kube-proxy ignores such ports); "" = the unnamed port.
    name: str | None = ""
    port: int | None = None
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    namespace: str
    name: str
    service_name: str
    address_type: str = "IPv4"
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()
    #: "endpointslice-controller.k8s.io" for slices the sandbox derives from selectors.
    managed_by: str = ""

    @property
    def families(self) -> tuple[str, ...]:
        return (self.address_type,) if self.address_type in FAMILIES else ()


@dataclass(frozen=True, slots=True)
class ServiceCIDR:
    """``networking.k8s.io/v1`` ServiceCIDR: ranges ClusterIPs are allocated from (at most one per family)."""

    name: str
    cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """The KubeProxyConfiguration fields that change kube-proxy's output (kubeadm defaults)."""

    #: ``mode`` as the configuration sets it: iptables, nftables or ipvs ("" = not set, iptables on Linux).
    mode: str = ""
    hostname_override: str = ""
    #: ``clusterCIDR``: one CIDR, or one per family ("10.244.0.0/16,fd00:10:244::/56").
    cluster_cidr: str = "10.244.0.0/16"
    #: ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix, or "" (no detector).
    detect_local_mode: str = "ClusterCIDR"
    bridge_interface: str = ""
    interface_name_prefix: str = ""
    #: ``iptables.masqueradeAll`` / ``iptables.masqueradeBit``: iptables and IPVS modes.
    masquerade_all: bool = False
    masquerade_bit: int = 14
    #: ``nftables.masqueradeAll`` / ``nftables.masqueradeBit``: what nftables mode uses instead.
    nftables_masquerade_all: bool = False
    nftables_masquerade_bit: int = 14
    localhost_node_ports: bool = True
    #: Empty = all local addresses (the default).
    node_port_addresses: tuple[str, ...] = ()
    sync_period_seconds: float = 30.0

    def cluster_cidr_of(self, family: str) -> str:
        """The ``clusterCIDR`` of ``family`` ("" when it lists none): each family's proxier uses its own."""
        cidrs = tuple(c.strip() for c in self.cluster_cidr.split(",") if c.strip())
        return next(iter(of_family(cidrs, family)), "")


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """Facts about the node kube-proxy runs on that change its output; defaults are a current Linux node."""

    #: ``iptables`` knows ``MASQUERADE --random-fully`` (iptables >= 1.6.2).
    random_fully: bool = True
    #: The kernel has nfnetlink_acct, so kube-proxy's nfacct counters exist.
    nfacct: bool = True
    #: ``net.netfilter.nf_conntrack_tcp_be_liberal`` is non-zero (no INVALID drop rule then).
    tcp_be_liberal: bool = False
    #: Canary chains kube-proxy's monitor creates in mangle, nat and filter.
    canary_chains: bool = True


@dataclass(frozen=True, slots=True)
class ClusterNetwork:
    """Address ranges the cluster allocates from (kubeadm defaults)."""

    #: The API server's ``--service-cluster-ip-range`` (the default ServiceCIDR "kubernetes"):
    #: one CIDR, or "v4,v6" / "v6,v4" for a dual-stack cluster (the first is the primary family).
    service_cidr: str = "10.96.0.0/12"
    #: The controller manager's ``--cluster-cidr``: one CIDR, or one per family ("v4,v6").
    pod_cidr: str = "10.244.0.0/16"
    node_port_range: tuple[int, int] = (30000, 32767)
    dns_service_ip: str = "10.96.0.10"
    #: False reproduces API objects as given (e.g. upstream test fixtures with nodePort 0).
    allocate_node_ports: bool = True


@dataclass(slots=True)
class LoadWarning:
    """Something a manifest contained that the sandbox skipped (unknown kind, unused field)."""

    location: str
    message: str
    params: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.location}: {self.message.format(**self.params)}"
