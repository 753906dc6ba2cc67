"""What differs between kube-proxy's IPv4 and IPv6 iptables proxiers, in one place.

kube-proxy runs one iptables proxier per IP family (``iptables-restore`` for IPv4,
``ip6tables-restore`` for IPv6) with the same chains, comments and order. The payloads differ
only in addresses (``[addr]:port`` DNAT targets come from the endpoint strings; host addresses
are ``/32`` or ``/128`` in ``-save``, and so is ``-m recent``'s mask), in the REJECT type the
kernel reports, and in localhost:
IPv6 has no ``route_localnet``, so localhost NodePorts are always off there, there is no
KUBE-FIREWALL "block incoming localnet connections" rule, and the NodePort tail excludes ``::1``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kproxy_tutor.sandbox.families import IPV4, IPV6, check_family
from kproxy_tutor.sandbox.ipaddr import IPNetwork
from kproxy_tutor.sandbox.iptables.targets import Reject


@dataclass(frozen=True, slots=True)
class IptablesFamily:
    family: str
    #: The tools a node runs for this family.
    restore_command: str
    save_command: str
    #: ``-j REJECT`` as ``-save`` prints it (the kernel's default reject type for the family).
    reject: Reject
    #: What the NodePort tail rule excludes when localhost NodePorts are off.
    loopback_cidr: str
    #: The loopback address a local client sends from (127.0.0.1 / ::1).
    loopback_ip: str
    #: ``route_localnet`` exists: localhost NodePorts and the KUBE-FIREWALL localnet rule are possible.
    localhost_node_ports_possible: bool
    #: ``-s``/``-d`` of a single host, as ``-save`` prints it.
    host_prefix: int
    zero_cidr: str
    #: ``-m recent`` remembers whole addresses; ``-save`` prints the all-ones mask of the family.
    recent_mask: str

    def version(self) -> int:
        return 4 if self.family == IPV4 else 6

    def owns(self, network: IPNetwork) -> bool:
        return network.version == self.version()

    def contains_loopback(self, network: IPNetwork) -> bool:
        """kube-proxy's ``ContainsIPv4Loopback``: only an IPv4 CIDR can enable localhost NodePorts."""
        return self.family == IPV4 and ipaddress.ip_address("127.0.0.1") in network


IPTABLES_FAMILIES = {
    IPV4: IptablesFamily(
        IPV4,
        "iptables-restore",
        "iptables-save",
        Reject("icmp-port-unreachable"),
        "127.0.0.0/8",
        "127.0.0.1",
        True,
        32,
        "0.0.0.0/0",
        "255.255.255.255",
    ),
    IPV6: IptablesFamily(
        IPV6,
        "ip6tables-restore",
        "ip6tables-save",
        Reject("icmp6-port-unreachable"),
        "::1/128",
        "::1",
        False,
        128,
        "::/0",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ),
}


def iptables_family(family: str) -> IptablesFamily:
    return IPTABLES_FAMILIES[check_family(family)]


def node_port_cidrs(
    values: tuple[str, ...], node_ips: tuple[str, ...], family: IptablesFamily
) -> list[IPNetwork] | None:
    """``nodePortAddresses`` for one family, as upstream's ``NewNodePortAddresses``.

    None = all local addresses: unset, a zero CIDR, or no entry of this family (upstream then
    uses the family's zero CIDR). ``primary`` stands for the node's IPs of the family.
    """
    if not values:
        return None
    cidrs: list[IPNetwork] = []
    primary = False
    for value in values:
        if value == "primary":
            primary = True
            cidrs.extend(ipaddress.ip_network(ip) for ip in node_ips)
            continue
        network = ipaddress.ip_network(value, strict=False)
        if not family.owns(network):
            continue
        if network.prefixlen == 0:
            return None
        cidrs.append(network)
    return cidrs if cidrs or primary else None
