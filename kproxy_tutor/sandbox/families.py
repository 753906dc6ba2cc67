"""IP families, spelled as the Kubernetes API spells them, and which family an address belongs to.

kube-proxy runs one proxier per IP family (a MetaProxier over an IPv4 and an IPv6 proxier); each
sees only the addresses of its family. The model, the change trackers and the mode compilers
use these names to say which family they work on.
"""

from __future__ import annotations

IPV4 = "IPv4"
IPV6 = "IPv6"
#: In kube-proxy's order: the MetaProxier's first proxier is the IPv4 one.
FAMILIES = (IPV4, IPV6)
#: ``spec.ipFamilyPolicy`` values.
SINGLE_STACK = "SingleStack"
PREFER_DUAL_STACK = "PreferDualStack"
REQUIRE_DUAL_STACK = "RequireDualStack"
IP_FAMILY_POLICIES = (SINGLE_STACK, PREFER_DUAL_STACK, REQUIRE_DUAL_STACK)


def family_of_address(text: str) -> str:
    """``IPv6`` for an address or CIDR with a colon, else ``IPv4`` (for already checked values)."""
    return IPV6 if ":" in text else IPV4


def of_family(values: tuple[str, ...], family: str) -> tuple[str, ...]:
    """The addresses (or CIDRs) of ``values`` that belong to ``family``, order kept."""
    six = family == IPV6
    return tuple(value for value in values if (":" in value) == six)


def other_family(family: str) -> str:
    return IPV4 if family == IPV6 else IPV6


def check_family(family: str) -> str:
    """``family`` when it is IPv4 or IPv6 (a programming error otherwise)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown IP family {family!r}")
    return family


def has_ipv6(obj: object) -> bool:
    """True when ``obj`` (a Service, EndpointSlice, Node or Pod) has a part only an IPv6 proxier uses."""
    return IPV6 in getattr(obj, "families", ())
