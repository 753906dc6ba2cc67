"""Typed nftables rule statements, each spelled two ways: as kube-proxy writes it (``tx``) and as ``nft list`` prints it.

Only the statement shapes kube-proxy's nftables mode writes exist here; the parser turns any
other shape into an error that names the rule, never a silent skip. ``nft list`` spellings were
checked against nft 1.0.6 (e.g. ``mark set mark or 0x4000`` lists as
``meta mark set meta mark | 0x00004000``; a one-element anonymous set loses its braces).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from kproxy_tutor.sandbox.ipaddr import IPNetwork, canonical_ipv4

Network = IPNetwork


def network_text(network: IPNetwork) -> str:
    """A host prints as a bare address, anything wider as ``addr/len`` (as both kube-proxy and nft do)."""
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def to_network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


@lru_cache(maxsize=4096)
def _cached_network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


def address_text(text: str) -> str:
    """The canonical spelling of an address or CIDR, as ``Address`` holds it."""
    return canonical_ipv4(text) or network_text(to_network(text))


# Values --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Address:
    """An address or a CIDR (``ip daddr 10.96.0.10``, ``ip saddr != 10.244.0.0/16``).

    Held as its canonical text (a host as a bare address): a full sync writes one per endpoint,
    and only the evaluator needs the parsed network, which it gets on demand.
    """

    text: str

    @classmethod
    def of(cls, network: IPNetwork) -> Address:
        return cls(network_text(network))

    @property
    def network(self) -> IPNetwork:
        return _cached_network(self.text)

    def tx(self) -> str:
        return self.text

    def listing(self, field: str) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class SetRef:
    """``@name``: membership in a named set."""

    name: str

    def tx(self) -> str:
        return f"@{self.name}"

    def listing(self, field: str) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class AnonSet:
    """``{ a , b }``: an anonymous set of addresses, in the order kube-proxy wrote them."""

    items: tuple[IPNetwork, ...]

    def tx(self) -> str:
        return "{ " + " , ".join(network_text(n) for n in self.items) + " }"

    def listing(self, field: str) -> str:
        # nft sorts the elements by value and drops the braces around a single one.
        ordered = sorted(self.items, key=lambda n: (int(n.network_address), n.prefixlen))
        if len(ordered) == 1:
            return network_text(ordered[0])
        return "{ " + ", ".join(network_text(n) for n in ordered) + " }"


@dataclass(frozen=True, slots=True)
class Word:
    """A protocol, port or interface name."""

    text: str

    def tx(self) -> str:
        return self.text

    def listing(self, field: str) -> str:
        # nft prints interface names as quoted strings.
        return f'"{self.text}"' if field in ("iifname", "oifname") else self.text


Value = Address | SetRef | AnonSet | Word


# Statements ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Match:
    """``<field> [!=] <value>``: fields are ``ip saddr``, ``ip daddr``, ``iifname``, ``meta l4proto``, ``tcp dport``…"""

    field: str
    value: Value
    negated: bool = False

    def tx(self) -> str:
        return f"{self.field} {'!= ' if self.negated else ''}{self.value.tx()}"

    def listing(self) -> str:
        return f"{self.field} {'!= ' if self.negated else ''}{self.value.listing(self.field)}"


@dataclass(frozen=True, slots=True)
class FibLocal:
    """``fib saddr|daddr type local``: the address belongs to this node."""

    field: str

    def tx(self) -> str:
        return f"fib {self.field} type local"

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class CtState:
    states: tuple[str, ...]

    def tx(self) -> str:
        return f"ct state {','.join(self.states)}"

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class MarkTest:
    """``mark and MASK == VALUE`` (kube-proxy) / ``meta mark & 0x… == 0x…`` (nft)."""

    mask: int
    value: int
    negated: bool = False

    def tx(self) -> str:
        op = "!=" if self.negated else "=="
        value = str(self.value) if self.value == 0 else f"0x{self.value:x}"
        return f"mark and {mark_text(self.mask)} {op} {value}"

    def listing(self) -> str:
        op = "!=" if self.negated else "=="
        return f"meta mark & 0x{self.mask:08x} {op} 0x{self.value:08x}"

    def matches(self, mark: int) -> bool:
        return ((mark & self.mask) == self.value) != self.negated


@dataclass(frozen=True, slots=True)
class MarkSet:
    """``mark set mark or|xor BITS``."""

    op: str
    bits: int

    def tx(self) -> str:
        return f"mark set mark {self.op} {mark_text(self.bits)}"

    def listing(self) -> str:
        symbol = "|" if self.op == "or" else "^"
        return f"meta mark set meta mark {symbol} 0x{self.bits:08x}"

    def apply(self, mark: int) -> int:
        return (mark | self.bits) if self.op == "or" else (mark ^ self.bits)


@dataclass(frozen=True, slots=True)
class VmapLookup:
    """``KEY . KEY … vmap @map``: look the packet up in a verdict map."""

    keys: tuple[str, ...]
    map_name: str

    def tx(self) -> str:
        return f"{' . '.join(self.keys)} vmap @{self.map_name}"

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class NumgenVmap:
    """``numgen random mod N vmap { 0 : goto A , … }``: a random endpoint chain per new connection."""

    mod: int
    chains: tuple[str, ...]

    def _items(self) -> list[str]:
        return [f"{i} : goto {chain}" for i, chain in enumerate(self.chains)]

    def tx(self) -> str:
        return f"numgen random mod {self.mod} vmap {{ {' , '.join(self._items())} }}"

    def listing(self) -> str:
        return f"numgen random mod {self.mod} vmap {{ {', '.join(self._items())} }}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """``jump C``, ``goto C``, ``return``, ``accept``, ``drop`` or ``reject``."""

    kind: str
    chain: str = ""

    def tx(self) -> str:
        return f"{self.kind} {self.chain}" if self.chain else self.kind

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class Masquerade:
    fully_random: bool = True

    def tx(self) -> str:
        return "masquerade fully-random" if self.fully_random else "masquerade"

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class Dnat:
    ip: str
    port: int

    def tx(self) -> str:
        # The endpoint string: ``[addr]:port`` for IPv6, as upstream writes ``dnat to`` + ep.String().
        return f"dnat to [{self.ip}]:{self.port}" if ":" in self.ip else f"dnat to {self.ip}:{self.port}"

    def listing(self) -> str:
        return self.tx()


@dataclass(frozen=True, slots=True)
class SetUpdate:
    """``update @set { ip saddr }``: remember the client (session affinity)."""

    set_name: str
    key: str = "ip saddr"

    def tx(self) -> str:
        return f"update @{self.set_name} {{ {self.key} }}"

    def listing(self) -> str:
        return self.tx()


Statement = (
    Match
    | FibLocal
    | CtState
    | MarkTest
    | MarkSet
    | VmapLookup
    | NumgenVmap
    | Verdict
    | Masquerade
    | Dnat
    | SetUpdate
)


def mark_text(bits: int) -> str:
    """Go's ``%#08x``, which kube-proxy uses for its mark: eight hex digits after ``0x``."""
    return f"0x{bits:08x}"
