"""What differs between kube-proxy's IPv4 and IPv6 nftables proxiers: the table family and address words.

Upstream's nftables proxier writes ``table ip kube-proxy`` for IPv4 and ``table ip6 kube-proxy``
for IPv6, with the same chains, sets and maps; only ``ip``/``ip6`` in matches, ``ipv4_addr``/
``ipv6_addr`` in set types and the localhost excluded from NodePorts (``127.0.0.0/8`` / ``::1``)
change. DNAT targets are the endpoint strings (``[addr]:port`` for IPv6).
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.sandbox.families import IPV4, IPV6, check_family


@dataclass(frozen=True, slots=True)
class NftFamily:
    family: str
    #: ``table <ip> kube-proxy`` and the address match keyword (``ip daddr`` / ``ip6 daddr``).
    ip: str
    addr_type: str
    loopback: str

    @property
    def saddr(self) -> str:
        return f"{self.ip} saddr"

    @property
    def daddr(self) -> str:
        return f"{self.ip} daddr"

    def typed(self, type_text: str) -> str:
        """A set or map type written for IPv4 (``ipv4_addr . inet_proto …``) in this family."""
        return type_text.replace("ipv4_addr", self.addr_type)


NFT_FAMILIES = {
    IPV4: NftFamily(IPV4, "ip", "ipv4_addr", "127.0.0.0/8"),
    IPV6: NftFamily(IPV6, "ip6", "ipv6_addr", "::1"),
}
NFT_IPV4 = NFT_FAMILIES[IPV4]


def nft_family(family: str) -> NftFamily:
    return NFT_FAMILIES[check_family(family)]
