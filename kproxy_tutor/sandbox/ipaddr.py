"""IP and CIDR parsing as kube-proxy does it: sloppy (leading zeros are decimal), printed canonically."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\Z"
)


def canonical_ipv4(text: str) -> str | None:
    """``text`` if it is already a canonical IPv4 address, else its canonical form, else None (fast path)."""
    if _CANONICAL_IPV4.match(text):
        return text
    ip = parse_ip_sloppy(text)
    return str(ip) if ip is not None and ip.version == 4 else None


@lru_cache(maxsize=65536)
def parse_ip_sloppy(text: str) -> IPAddress | None:
    """Parse ``text`` like Go's ``netutils.ParseIPSloppy``; None when it is not an IP.

    Old Go releases (and so objects that clusters already hold) accepted IPv4 octets with
    leading zeros and read them as decimal: ``172.30.0.041`` is 172.30.0.41. Python's
    ``ipaddress`` refuses those, so IPv4 is parsed by hand.
    """
    if not text or len(text) > 45:
        return None
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    octets = text.split(".")
    if len(octets) != 4:
        return None
    value = 0
    for octet in octets:
        if not octet or len(octet) > 3 or not octet.isascii() or not octet.isdigit():
            return None
        number = int(octet)
        if number > 255:
            return None
        value = value * 256 + number
    return ipaddress.IPv4Address(value)


def parse_cidr_sloppy(text: str) -> IPNetwork | None:
    """Parse ``addr/len`` sloppily and mask host bits, like Go's ``ParseCIDRSloppy``."""
    address, sep, length = text.partition("/")
    if not sep or not length.isascii() or not length.isdigit() or len(length) > 3:
        return None
    ip = parse_ip_sloppy(address)
    if ip is None or int(length) > ip.max_prefixlen:
        return None
    return ipaddress.ip_network(f"{ip}/{int(length)}", strict=False)


def family_of(ip: IPAddress | IPNetwork) -> str:
    """``IPv4`` or ``IPv6``, spelled as the Kubernetes API spells IP families."""
    return "IPv4" if ip.version == 4 else "IPv6"


def join_host_port(ip: str, port: int) -> str:
    """``ip:port``, with IPv6 addresses in brackets (Go's ``net.JoinHostPort``)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
