"""Deterministic allocation of ClusterIPs, NodePorts, Pod CIDRs, Pod IPs and generated names, as in a kubeadm cluster.

Real allocators pick at random; the sandbox picks from a hash of the object's name (probing
on collision), so the same manifests always give the same cluster and the same rules.
"""

from __future__ import annotations

import hashlib
import ipaddress

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.families import (
    FAMILIES,
    IP_FAMILY_POLICIES,
    IPV4,
    REQUIRE_DUAL_STACK,
    SINGLE_STACK,
    family_of_address,
    other_family,
)
from kproxy_tutor.sandbox.ipaddr import IPNetwork, family_of, parse_ip_sloppy
from kproxy_tutor.sandbox.model import ClusterNetwork, Service

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


def split_cidrs(text: str) -> tuple[str, ...]:
    """A flag value such as ``10.96.0.0/12`` or ``10.96.0.0/12,fd00:10:96::/112``, as its parts."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


class Allocator:
    """Hands out ClusterIPs, NodePorts, node Pod CIDRs and Pod IPs without collisions.

    ClusterIPs come from the service CIDRs of each family (the ServiceCIDR objects; the first is
    the default one, whose first IP is the ``kubernetes`` Service's); node Pod CIDRs from the
    cluster CIDR of each family (a /24 per node for IPv4, a /64 for IPv6, as kube-controller-manager).
    """

    def __init__(self, network: ClusterNetwork) -> None:
        self.network = network
        #: Per family, the ranges ClusterIPs are allocated from (default ServiceCIDR first).
        self.service_ranges: dict[str, list[IPNetwork]] = {}
        self.set_service_cidrs(split_cidrs(network.service_cidr))
        self._pod_nets: dict[str, IPNetwork] = {}
        for cidr in split_cidrs(network.pod_cidr):
            net = ipaddress.ip_network(cidr, strict=False)
            self._pod_nets.setdefault(family_of(net), net)
        self.used_cluster_ips: dict[str, tuple[str, str]] = {}
        self.used_node_ports: dict[tuple[int, str], tuple[str, str]] = {}
        self._node_cidrs: dict[tuple[str, str], str] = {}
        self._next_pod_host: dict[tuple[str, str], int] = {}
        self.used_pod_ips: set[str] = set()

    def set_service_cidrs(self, cidrs: tuple[str, ...]) -> None:
        """The ranges of every ServiceCIDR, the default one first."""
        ranges: dict[str, list[IPNetwork]] = {}
        for cidr in cidrs:
            net = ipaddress.ip_network(cidr, strict=False)
            ranges.setdefault(family_of(net), []).append(net)
        self.service_ranges = ranges
        self.primary_family = family_of(ipaddress.ip_network(cidrs[0], strict=False)) if cidrs else IPV4

    @property
    def service_families(self) -> tuple[str, ...]:
        """The families the cluster can allocate ClusterIPs for, the primary first."""
        families = [self.primary_family] if self.primary_family in self.service_ranges else []
        return tuple(families + [f for f in FAMILIES if f in self.service_ranges and f not in families])

    @property
    def pod_families(self) -> tuple[str, ...]:
        return tuple(f for f in FAMILIES if f in self._pod_nets)

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

    def allocate_cluster_ip(self, owner: tuple[str, str], family: str = IPV4) -> str:
        ranges = self.service_ranges.get(family)
        if not ranges:
            raise SandboxInputError(
                N_("The cluster has no {family} service CIDR, so it cannot allocate an {family} ClusterIP."),
                family=family,
            )
        net = ranges[0]
        if owner == ("default", "kubernetes"):
            candidate = str(net.network_address + 1)
            if candidate not in self.used_cluster_ips:
                self.used_cluster_ips[candidate] = owner
                return candidate
        dns = self.network.dns_service_ip
        if (
            owner == ("kube-system", "kube-dns")
            and family_of_address(dns) == family
            and dns not in self.used_cluster_ips
        ):
            self.used_cluster_ips[dns] = owner
            return dns
        for net in ranges:
            # Skip the lowest 16 addresses, which kubeadm clusters keep for well-known Services.
            size = net.num_addresses - 18
            if size <= 0:
                continue
            start = _digest("/".join(owner)) % size
            for step in range(min(size, 1 << 20)):
                candidate = str(net.network_address + 16 + (start + step) % size)
                if candidate not in self.used_cluster_ips:
                    self.used_cluster_ips[candidate] = owner
                    return candidate
        raise SandboxInputError(
            N_("The Service CIDR {cidr} is full."), cidr=", ".join(str(n) for n in ranges)
        )

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
    def node_pod_cidr(self, node_name: str, family: str = IPV4) -> str:
        """The n-th node gets ``10.244.n.0/24`` (the n-th /64 for IPv6), as kube-controller-manager on kubeadm."""
        key = (node_name, family)
        cidr = self._node_cidrs.get(key)
        if cidr is None:
            net = self._pod_nets.get(family)
            if net is None:
                return ""
            taken = {c for (_, f), c in self._node_cidrs.items() if f == family}
            new_prefix = 24 if family == IPV4 else 64
            if net.prefixlen >= new_prefix:
                new_prefix = min(net.prefixlen + 8, net.max_prefixlen)
            for subnet in net.subnets(new_prefix=new_prefix):
                if str(subnet) not in taken:
                    cidr = str(subnet)
                    break
            else:
                if family == IPV4:
                    raise SandboxInputError(N_("The Pod CIDR {cidr} has no free /24 left."), cidr=str(net))
                raise SandboxInputError(
                    N_("The Pod CIDR {cidr} has no free /{size} left."), cidr=str(net), size=new_prefix
                )
            self._node_cidrs[key] = cidr
        return cidr

    def node_pod_cidrs(self, node_name: str) -> tuple[str, ...]:
        """One Pod CIDR per family of the cluster CIDR (IPv4 first, as kubeadm's podSubnet lists them)."""
        return tuple(c for c in (self.node_pod_cidr(node_name, f) for f in self.pod_families) if c)

    def claim_node_pod_cidr(self, node_name: str, cidr: str) -> None:
        self._node_cidrs[(node_name, family_of(ipaddress.ip_network(cidr, strict=False)))] = cidr

    def allocate_pod_ip(self, node_name: str, family: str = IPV4) -> str:
        """Pod IPs start at .2 of the node's /24 (.1 is the bridge), as with the common CNI plugins."""
        cidr = self._node_cidrs.get((node_name, family)) or self.node_pod_cidr(node_name, family)
        net = ipaddress.ip_network(cidr, strict=False)
        key = (node_name, family)
        host = self._next_pod_host.get(key, 2)
        while host < min(net.num_addresses - 1, 1 << 24):
            candidate = str(net.network_address + host)
            host += 1
            if candidate not in self.used_pod_ips:
                self._next_pod_host[key] = host
                self.used_pod_ips.add(candidate)
                return candidate
        raise SandboxInputError(N_("Node {node} has no free Pod IP left."), node=node_name)

    def node_families(self, node_name: str) -> tuple[str, ...]:
        """The families the node has a Pod CIDR of."""
        return tuple(f for f in FAMILIES if (node_name, f) in self._node_cidrs)


def allocate_service_ips(
    allocator: Allocator, service: Service, old: Service | None, location: str | None
) -> dict[str, object]:
    """``clusterIP``, ``clusterIPs``, ``ipFamilies`` and ``ipFamilyPolicy`` as the API server sets them.

    As upstream's ``initIPFamilyFields``: an unset policy is RequireDualStack when two IPs or two
    families are given, else SingleStack; ``ipFamilies`` follow the given ClusterIPs, then the
    cluster's primary family, then (PreferDualStack/RequireDualStack on a dual-stack cluster) the
    other one; each family without a given IP gets one allocated from its service CIDR.
    ClusterIPs given for a family the cluster has no range for are kept (a dump of a real cluster
    has them), so only what needs allocating must be configured here.
    """
    key = service.key
    given = list(service.cluster_ips)
    if service.cluster_ip and given and given[0] != service.cluster_ip:
        raise SandboxInputError(
            N_("Service {name!r}: clusterIP {ip} must be the first of clusterIPs ({ips})."),
            location=location,
            name=service.name,
            ip=service.cluster_ip,
            ips=", ".join(given),
        )
    policy = service.ip_family_policy
    # As upstream's patchAllocatedValues: an update that leaves clusterIPs out (or keeps only the
    # same clusterIP) keeps the allocated ones, and the policy and families it leaves unset.
    old_ips = [ip for ip in (old.cluster_ips or (old.cluster_ip,)) if ip] if old is not None else []
    inherited = not given and bool(old_ips) and service.cluster_ip in ("", old_ips[0])
    if not given and service.cluster_ip and not inherited:
        given = [service.cluster_ip]
    if inherited:
        assert old is not None
        given = list(old_ips)
        if policy == SINGLE_STACK:
            given = given[:1]
    headless = given[:1] == ["None"]
    if len(given) > 2 or (headless and len(given) > 1):
        raise SandboxInputError(
            N_("Service {name!r}: clusterIPs may hold at most one IP per family (two in all, or just None)."),
            location=location,
            name=service.name,
        )
    ip_families: list[str] = []
    for ip in [] if headless else given:
        parsed = parse_ip_sloppy(ip)
        if parsed is None:
            raise SandboxInputError(
                N_("Invalid {what} {value!r}: this is not an IP address."),
                location=location,
                what="clusterIP",
                value=ip,
            )
        ip_families.append(family_of(parsed))
    if len(ip_families) == 2 and ip_families[0] == ip_families[1]:
        raise SandboxInputError(
            N_("Service {name!r}: the two clusterIPs must be of different IP families (one IPv4, one IPv6)."),
            location=location,
            name=service.name,
        )
    requested = list(service.ip_families)
    if inherited and not requested and old is not None:
        requested = list(old.ip_families[: len(given)] if policy == SINGLE_STACK else old.ip_families)
    for family in requested:
        if family not in FAMILIES:
            raise SandboxInputError(
                N_("Service {name!r}: unknown IP family {value!r} in ipFamilies: use IPv4 or IPv6."),
                location=location,
                name=service.name,
                value=family,
            )
    if len(requested) > 2 or len(set(requested)) < len(requested):
        raise SandboxInputError(
            N_("Service {name!r}: ipFamilies may list IPv4 and IPv6 once each."),
            location=location,
            name=service.name,
        )
    if policy and policy not in IP_FAMILY_POLICIES:
        raise SandboxInputError(
            N_(
                "Service {name!r}: unknown ipFamilyPolicy {value!r}: use SingleStack, PreferDualStack or "
                "RequireDualStack."
            ),
            location=location,
            name=service.name,
            value=policy,
        )
    if not policy:
        if inherited and old is not None and old.ip_family_policy:
            policy = old.ip_family_policy
        else:
            policy = REQUIRE_DUAL_STACK if len(given) == 2 or len(requested) == 2 else SINGLE_STACK
    if policy == SINGLE_STACK and (len(requested) == 2 or len(ip_families) == 2):
        raise SandboxInputError(
            N_(
                "Service {name!r}: ipFamilyPolicy SingleStack allows one IP family; use PreferDualStack or "
                "RequireDualStack for two."
            ),
            location=location,
            name=service.name,
        )
    for i, family in enumerate(ip_families):
        if i < len(requested) and requested[i] != family:
            raise SandboxInputError(
                N_(
                    "Service {name!r}: ipFamilies[{index}] is {family}, but clusterIPs[{index}] ({ip}) is {other}."
                ),
                location=location,
                name=service.name,
                index=i,
                family=requested[i],
                ip=given[i],
                other=family,
            )
        if i >= len(requested):
            requested.append(family)
    cluster_families = allocator.service_families
    if not requested:
        requested = [cluster_families[0] if cluster_families else allocator.primary_family]
    if policy != SINGLE_STACK and len(requested) == 1 and len(cluster_families) == 2:
        requested.append(other_family(requested[0]))
    if policy == REQUIRE_DUAL_STACK and len(requested) < 2:
        raise SandboxInputError(
            N_(
                "Service {name!r} has ipFamilyPolicy RequireDualStack, but this cluster is single-stack "
                "({families} only): the API server refuses it. Use PreferDualStack or SingleStack, or give the "
                "cluster a service CIDR of each family (a ClusterNetwork serviceCIDR such as "
                "10.96.0.0/12,fd00:10:96::/112, or ServiceCIDR objects)."
            ),
            location=location,
            name=service.name,
            families=", ".join(cluster_families) or allocator.primary_family,
        )
    ips = [] if headless else list(given)
    for family in requested[len(ips) :]:
        if headless:
            break
        if family not in allocator.service_ranges:
            raise SandboxInputError(
                N_(
                    "Service {name!r} needs an {family} ClusterIP, but this cluster has no {family} service "
                    "CIDR: the API server refuses it. Give the cluster one (a ClusterNetwork serviceCIDR, or a "
                    "ServiceCIDR object), or set the ClusterIP."
                ),
                location=location,
                name=service.name,
                family=family,
            )
        ips.append(allocator.allocate_cluster_ip(key, family))
    for ip in given if not headless else ():
        allocator.reserve_cluster_ip(ip, key, location)
    if old is not None:
        for ip in (old.cluster_ip, *old.cluster_ips):
            if ip not in ("", "None") and ip not in ips:
                allocator.release_cluster_ip(ip, key)
    if headless:
        ips = ["None"]
    return {
        "cluster_ip": ips[0] if ips else "",
        "cluster_ips": tuple(ips),
        "ip_families": tuple(requested),
        "ip_family_policy": policy,
    }
