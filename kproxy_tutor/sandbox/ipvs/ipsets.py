"""The ipsets IPVS-mode kube-proxy fills on a sync, and how ``ipset list`` prints them.

Names, types and comments follow upstream ``pkg/proxy/ipvs/ipset.go`` and ``ipsetInfo`` in
``proxier.go``; members follow ``syncProxyRules`` there (entry text as ``utilipset.Entry.String``:
``ip,proto:port``, ``ip,proto:port,ip``, ``ip,proto:port,cidr``, a bare port for ``bitmap:port``).

In ``ipset list`` the ``Revision`` numbers are those of a current kernel, ``Size in memory``
is illustrative (the kernel's figure depends on its allocator), and members are sorted
(the kernel prints hash sets in bucket order). ``References`` is the real count: the
iptables rules that name the set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.families import IPV4, IPV6, of_family
from kproxy_tutor.sandbox.serviceport import ServicePortInfo

HASH_IP, HASH_IP_PORT, HASH_IP_PORT_IP, HASH_IP_PORT_NET, BITMAP_PORT = (
    "hash:ip",
    "hash:ip,port",
    "hash:ip,port,ip",
    "hash:ip,port,net",
    "bitmap:port",
)

LOOP_BACK = "KUBE-LOOP-BACK"
CLUSTER_IP = "KUBE-CLUSTER-IP"
EXTERNAL_IP = "KUBE-EXTERNAL-IP"
EXTERNAL_IP_LOCAL = "KUBE-EXTERNAL-IP-LOCAL"
LOAD_BALANCER = "KUBE-LOAD-BALANCER"
LOAD_BALANCER_FW = "KUBE-LOAD-BALANCER-FW"
LOAD_BALANCER_LOCAL = "KUBE-LOAD-BALANCER-LOCAL"
LOAD_BALANCER_SOURCE_IP = "KUBE-LOAD-BALANCER-SOURCE-IP"
LOAD_BALANCER_SOURCE_CIDR = "KUBE-LOAD-BALANCER-SOURCE-CIDR"
NODE_PORT_TCP = "KUBE-NODE-PORT-TCP"
NODE_PORT_LOCAL_TCP = "KUBE-NODE-PORT-LOCAL-TCP"
NODE_PORT_UDP = "KUBE-NODE-PORT-UDP"
NODE_PORT_LOCAL_UDP = "KUBE-NODE-PORT-LOCAL-UDP"
NODE_PORT_SCTP = "KUBE-NODE-PORT-SCTP-HASH"
NODE_PORT_LOCAL_SCTP = "KUBE-NODE-PORT-LOCAL-SCTP-HASH"
HEALTH_CHECK_NODE_PORT = "KUBE-HEALTH-CHECK-NODE-PORT"
IPVS_IPS = "KUBE-IPVS-IPS"

#: (name, type, comment) in upstream's ``ipsetInfo`` order.
IPSET_INFO: tuple[tuple[str, str, str], ...] = (
    (LOOP_BACK, HASH_IP_PORT_IP, "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    (CLUSTER_IP, HASH_IP_PORT, "Kubernetes service cluster ip + port for masquerade purpose"),
    (EXTERNAL_IP, HASH_IP_PORT, "Kubernetes service external ip + port for masquerade and filter purpose"),
    (
        EXTERNAL_IP_LOCAL,
        HASH_IP_PORT,
        "Kubernetes service external ip + port with externalTrafficPolicy=local",
    ),
    (LOAD_BALANCER, HASH_IP_PORT, "Kubernetes service lb portal"),
    (
        LOAD_BALANCER_FW,
        HASH_IP_PORT,
        "Kubernetes service load balancer ip + port for load balancer with sourceRange",
    ),
    (
        LOAD_BALANCER_LOCAL,
        HASH_IP_PORT,
        "Kubernetes service load balancer ip + port with externalTrafficPolicy=local",
    ),
    (
        LOAD_BALANCER_SOURCE_IP,
        HASH_IP_PORT_IP,
        "Kubernetes service load balancer ip + port + source IP for packet filter purpose",
    ),
    (
        LOAD_BALANCER_SOURCE_CIDR,
        HASH_IP_PORT_NET,
        "Kubernetes service load balancer ip + port + source cidr for packet filter purpose",
    ),
    (NODE_PORT_TCP, BITMAP_PORT, "Kubernetes nodeport TCP port for masquerade purpose"),
    (NODE_PORT_LOCAL_TCP, BITMAP_PORT, "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    (NODE_PORT_UDP, BITMAP_PORT, "Kubernetes nodeport UDP port for masquerade purpose"),
    (NODE_PORT_LOCAL_UDP, BITMAP_PORT, "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    (
        NODE_PORT_SCTP,
        HASH_IP_PORT,
        "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
    ),
    (
        NODE_PORT_LOCAL_SCTP,
        HASH_IP_PORT,
        "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
    ),
    (HEALTH_CHECK_NODE_PORT, BITMAP_PORT, "Kubernetes health check node port"),
    (IPVS_IPS, HASH_IP, "Addresses on the ipvs interface"),
)
#: The kernel's set-type revisions on a current kernel (6.x); older kernels print lower ones.
_REVISION = {HASH_IP: 6, HASH_IP_PORT: 7, HASH_IP_PORT_IP: 5, HASH_IP_PORT_NET: 7, BITMAP_PORT: 3}
_NODE_PORT_SETS = {
    "tcp": (NODE_PORT_TCP, NODE_PORT_LOCAL_TCP),
    "udp": (NODE_PORT_UDP, NODE_PORT_LOCAL_UDP),
    "sctp": (NODE_PORT_SCTP, NODE_PORT_LOCAL_SCTP),
}


@dataclass(slots=True)
class IpSet:
    name: str
    set_type: str
    comment: str
    members: set[str] = field(default_factory=set)
    #: ``family inet`` / ``inet6`` of a hash set (a port bitmap has none).
    family: str = "inet"

    def sorted_members(self) -> list[str]:
        return sorted(self.members, key=_member_key)


def _member_key(member: str) -> tuple[tuple[int, ...], str]:
    head = member.split(",", 1)[0]
    try:
        return (tuple(ipaddress.ip_address(head).packed), member)
    except ValueError:
        return ((int(head),) if head.isascii() and head.isdigit() and len(head) < 20 else (), member)


#: The longest ipset name the kernel takes (IPSET_MAXNAMELEN - 1).
MAX_NAME = 31


def family_set_name(name: str, family: str = IPV4) -> str:
    """Upstream ``NewIPSet``: the IPv6 proxier's sets are ``KUBE-6-…`` (so both families' sets can
    coexist), cut to 31 characters (``KUBE-6-LOAD-BALANCER-SOURCE-CID``)."""
    if family == IPV6 and name.startswith("KUBE-"):
        return ("KUBE-6-" + name[len("KUBE-") :])[:MAX_NAME]
    return name


def empty_sets(family: str = IPV4) -> dict[str, IpSet]:
    """The sets by their IPv4 name (the key the compiler uses); ``IpSet.name`` is the family's real name."""
    inet = "inet6" if family == IPV6 else "inet"
    return {
        name: IpSet(family_set_name(name, family), kind, comment, family=inet)
        for name, kind, comment in IPSET_INFO
    }


def fill_sets(
    services: Mapping[object, ServicePortInfo],
    endpoints: Mapping[object, tuple[EndpointInfo, ...]],
    node_ips: Iterable[str],
    bound: Iterable[str],
    family: str = IPV4,
) -> dict[str, IpSet]:
    """The sets after a sync, and the LB entries whose node access is blocked (upstream ``lbNoNodeAccess…``)."""
    sets = empty_sets(family)
    ips = list(of_family(tuple(node_ips), family))
    # kube-proxy's node IP of a family without one is that family's loopback.
    node_ip = ips[0] if ips else ("::1" if family == IPV6 else "127.0.0.1")
    for name in sorted(services, key=str):
        svc = services[name]
        proto = svc.protocol.lower()

        def entry(ip: str, port: int, tail: str = "", proto: str = proto) -> str:
            return f"{ip},{proto}:{port}" + (f",{tail}" if tail else "")

        for ep in endpoints.get(name, ()):
            if ep.is_local and ep.ip and ep.port:
                sets[LOOP_BACK].members.add(entry(ep.ip, ep.port, ep.ip))
        sets[CLUSTER_IP].members.add(entry(svc.cluster_ip, svc.port))
        for ip in svc.external_ips:
            sets[EXTERNAL_IP_LOCAL if svc.external_policy_local else EXTERNAL_IP].members.add(
                entry(ip, svc.port)
            )
        for ip in svc.load_balancer_vips:
            sets[LOAD_BALANCER].members.add(entry(ip, svc.port))
            if svc.external_policy_local:
                sets[LOAD_BALANCER_LOCAL].members.add(entry(ip, svc.port))
            if svc.load_balancer_source_ranges:
                sets[LOAD_BALANCER_FW].members.add(entry(ip, svc.port))
                for cidr in svc.load_balancer_source_ranges:
                    sets[LOAD_BALANCER_SOURCE_CIDR].members.add(entry(ip, svc.port, str(cidr)))
                if any(ipaddress.ip_address(node_ip) in cidr for cidr in svc.load_balancer_source_ranges):
                    sets[LOAD_BALANCER_SOURCE_IP].members.add(entry(ip, svc.port, ip))
        if svc.node_port and ips and proto in _NODE_PORT_SETS:
            masq, local = _NODE_PORT_SETS[proto]
            # SCTP uses hash:ip,port (one entry per node IP); TCP/UDP a port bitmap.
            members = [entry(ip, svc.node_port) for ip in ips] if proto == "sctp" else [str(svc.node_port)]
            sets[masq].members.update(members)
            if svc.external_policy_local:
                sets[local].members.update(members)
        if svc.health_check_node_port:
            sets[HEALTH_CHECK_NODE_PORT].members.add(str(svc.health_check_node_port))
    sets[IPVS_IPS].members.update(bound)
    return sets


def blocked_node_access(
    services: Mapping[object, ServicePortInfo], node_ips: Iterable[str], family: str = IPV4
) -> list[tuple[str, str, int]]:
    """(LB IP, protocol, port) of LoadBalancers whose source ranges leave out the node: node access is dropped."""
    ips = list(of_family(tuple(node_ips), family))
    node_ip = ipaddress.ip_address(ips[0] if ips else ("::1" if family == IPV6 else "127.0.0.1"))
    out = []
    for name in sorted(services, key=str):
        svc = services[name]
        if svc.load_balancer_source_ranges and not any(node_ip in c for c in svc.load_balancer_source_ranges):
            out.extend((ip, svc.protocol.lower(), svc.port) for ip in svc.load_balancer_vips)
    return out


def render_ipset_list(sets: Mapping[str, IpSet], references: Mapping[str, int]) -> str:
    """``ipset list`` for every set, in creation order."""
    blocks = []
    for s in sets.values():
        if s.set_type == BITMAP_PORT:
            header = "range 0-65535"
            size = 8264  # a port bitmap has a fixed size, whatever it holds
        else:
            # The kernel picks a random initval per set; a fixed one keeps the output reproducible.
            header = f"family {s.family} hashsize 1024 maxelem 65536 bucketsize 12 initval 0x00000000"
            size = 200 + 16 * len(s.members)
        lines = [
            f"Name: {s.name}",
            f"Type: {s.set_type}",
            f"Revision: {_REVISION[s.set_type]}",
            f"Header: {header}",
            f"Size in memory: {size}",
            f"References: {references.get(s.name, 0)}",
            f"Number of entries: {len(s.members)}",
            "Members:",
            *s.sorted_members(),
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
