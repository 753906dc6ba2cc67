"""Which objects have an IPv6 part, which the sandbox's single (IPv4) proxier does not show.

kube-proxy runs one proxier per IP family; a single-family IPv4 proxier ignores IPv6 node
addresses, IPv6 ClusterIPs and IPv6 EndpointSlices. The sandbox runs the IPv4 proxier only,
so it says once when the input has anything only an IPv6 proxier would handle.
"""

from __future__ import annotations

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.model import EndpointSlice, LoadWarning, Node, Pod, Service

IPV6_NOT_SHOWN = N_(
    "This cluster has IPv6 addresses (this object is the first). kube-proxy runs one proxier per IP "
    "family; the tutor shows the IPv4 proxier only, which ignores IPv6 node IPs, ClusterIPs and "
    "EndpointSlices: rules for IPv6 are not shown yet."
)


def has_ipv6(obj: object) -> bool:
    """True when ``obj`` carries an address only an IPv6 proxier would use."""
    if isinstance(obj, Service):
        return any(":" in ip for ip in (obj.cluster_ip, *obj.cluster_ips)) or "IPv6" in obj.ip_families
    if isinstance(obj, EndpointSlice):
        return obj.address_type == "IPv6"
    if isinstance(obj, Node):
        return ":" in obj.pod_cidr or any(":" in ip for ip in obj.internal_ips)
    if isinstance(obj, Pod):
        return ":" in obj.pod_ip
    return False


def ipv6_warning(location: str) -> LoadWarning:
    return LoadWarning(location, IPV6_NOT_SHOWN)
