"""Structured iptables rules: tables → chains → rules, each rule typed matches and a typed target.

This is a public interface: the compiler produces it, the parser reads it back from
``iptables-save`` or ``iptables-restore`` text, and the packet evaluator walks it.

Shape
-----
``Ruleset``            what a node holds (the kernel state; what ``iptables-save`` prints)
  ``.tables[name]``    ``Table`` (``filter``, ``nat``, ``mangle``, …)
    ``.chains[name]``  ``Chain(name, policy, rules, counters)``; ``policy`` is ``ACCEPT``/``DROP``
                       for built-in chains, None for user chains; dict order = declaration order
      ``.rules``       list of ``Rule``

``Payload``            one ``iptables-restore`` input, as kube-proxy writes it on a sync
  ``.tables``          list of ``PayloadTable(name, declared, lines)``: ``declared`` are the
                       ``:CHAIN - [0:0]`` lines (declaring flushes the chain), ``lines`` are
                       ``Rule`` (``-A``) and ``DeleteChain`` (``-X``) in payload order

``Rule`` fields, in the order the kernel evaluates and ``iptables-save`` prints them:
  ``source``/``destination``  ``AddressMatch(cidr, negated)``   (``[!] -s`` / ``[!] -d``)
  ``in_interface``/``out_interface``  ``InterfaceMatch(name, negated)`` (``+`` = prefix)
  ``protocol``                ``ProtocolMatch(protocol, negated)``  (``[!] -p``)
  ``matches``                 tuple of module matches in the order given (``-m …``):
      ``CommentMatch`` ``PortMatch`` (tcp/udp/sctp dport/sport) ``StatisticMatch``
      ``RecentMatch`` ``MarkMatch`` ``AddrTypeMatch`` ``ConntrackMatch`` ``NfacctMatch``
      ``OpaqueMatch`` (any other module, its options kept as tokens)
  ``target``                  None (no ``-j``: the rule only counts), ``Jump``, ``Goto``,
      ``Verdict`` (ACCEPT/DROP/RETURN), ``Reject``, ``Dnat``, ``Snat``, ``Masquerade``,
      ``MarkTarget`` (``mark = (mark & ~mask) ^ value``, the kernel's meaning of
      ``--or-mark``/``--xor-mark``/``--set-xmark``), ``OpaqueTarget``
  ``spelling``                the argument text as its writer gave it (kube-proxy's token order,
                              ``0x00004000``, 10-digit probabilities); not part of equality
  ``counters``                ``(packets, bytes)`` when the dump had them; not part of equality

Two rules are equal when the kernel would hold the same rule, whichever text they came from.
``Rule.parts`` gives the typed parts as one sequence for walking.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.ipaddr import IPNetwork
from kproxy_tutor.sandbox.iptables.matches import (
    AddrTypeMatch,
    CommentMatch,
    ConntrackMatch,
    MarkMatch,
    ModuleMatch,
    NfacctMatch,
    OpaqueMatch,
    PortMatch,
    PortRange,
    RecentMatch,
    StatisticMatch,
)
from kproxy_tutor.sandbox.iptables.spelling import PROBABILITY_SCALE, save_string
from kproxy_tutor.sandbox.iptables.targets import (
    Dnat,
    Goto,
    Jump,
    MarkTarget,
    Masquerade,
    OpaqueTarget,
    Reject,
    Snat,
    Target,
    Verdict,
)

CONNTRACK_STATE_ORDER = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}
#: The order ``iptables-save`` (nf_tables backend) prints tables in.
TABLE_ORDER = ("mangle", "security", "raw", "filter", "nat")


# Generic matches --------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def _network(cidr: str) -> IPNetwork:
    return ipaddress.ip_network(cidr)


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """``cidr`` is canonical text (``10.180.0.1/32``); ``network`` gives it as an ``ipaddress`` network."""

    cidr: str
    negated: bool = False

    @property
    def network(self) -> IPNetwork:
        return _network(self.cidr)

    def contains(self, address: str) -> bool:
        return (ipaddress.ip_address(address) in self.network) != self.negated

    @staticmethod
    def parse(text: str, negated: bool = False) -> AddressMatch:
        return AddressMatch(str(ipaddress.ip_network(text, strict=False)), negated)

    @staticmethod
    def host(ip: str, negated: bool = False) -> AddressMatch:
        """For an IP already in canonical form (the compiler's case): no parsing needed."""
        return _make_address(f"{ip}/128" if ":" in ip else f"{ip}/32", negated)


_make_address = fast_constructor(AddressMatch)


@dataclass(frozen=True, slots=True)
class InterfaceMatch:
    name: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class ProtocolMatch:
    protocol: str
    negated: bool = False


# Rules, chains, tables --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rule:
    chain: str
    source: AddressMatch | None = None
    destination: AddressMatch | None = None
    in_interface: InterfaceMatch | None = None
    out_interface: InterfaceMatch | None = None
    protocol: ProtocolMatch | None = None
    matches: tuple[ModuleMatch, ...] = ()
    target: Target | None = None
    spelling: str | None = field(default=None, compare=False)
    counters: tuple[int, int] | None = field(default=None, compare=False)

    @property
    def parts(self) -> tuple[object, ...]:
        generic = (self.source, self.destination, self.in_interface, self.out_interface, self.protocol)
        tail = (self.target,) if self.target is not None else ()
        return tuple(p for p in generic if p is not None) + self.matches + tail

    @property
    def comment(self) -> str | None:
        for match in self.matches:
            if isinstance(match, CommentMatch):
                return match.comment
        return None


#: ``Rule(...)`` with the same parameters, for the compiler's hot path (see ``fastinit``).
make_rule = fast_constructor(Rule)


@dataclass(frozen=True, slots=True)
class DeleteChain:
    """``-X CHAIN`` in a restore payload."""

    chain: str


@dataclass(slots=True)
class Chain:
    name: str
    policy: str | None = None
    rules: list[Rule] = field(default_factory=list)
    counters: tuple[int, int] = field(default=(0, 0), compare=False)

    @property
    def builtin(self) -> bool:
        return self.policy is not None


@dataclass(slots=True)
class Table:
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)

    def chain(self, name: str) -> Chain:
        """The chain, created empty (user chain, or built-in with policy ACCEPT) if missing."""
        existing = self.chains.get(name)
        if existing is None:
            policy = "ACCEPT" if name in BUILTIN_CHAINS.get(self.name, ()) else None
            existing = self.chains[name] = Chain(name, policy)
        return existing


@dataclass(slots=True)
class Ruleset:
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        existing = self.tables.get(name)
        if existing is None:
            existing = self.tables[name] = Table(name)
            for chain in BUILTIN_CHAINS.get(name, ()):
                existing.chain(chain)
        return existing


@dataclass(slots=True)
class PayloadTable:
    name: str
    declared: list[str] = field(default_factory=list)
    lines: list[Rule | DeleteChain] = field(default_factory=list)


@dataclass(slots=True)
class Payload:
    tables: list[PayloadTable] = field(default_factory=list)

    def table(self, name: str) -> PayloadTable | None:
        for table in self.tables:
            if table.name == name:
                return table
        return None


__all__ = [
    "BUILTIN_CHAINS",
    "CONNTRACK_STATE_ORDER",
    "PROBABILITY_SCALE",
    "TABLE_ORDER",
    "AddrTypeMatch",
    "AddressMatch",
    "Chain",
    "CommentMatch",
    "ConntrackMatch",
    "DeleteChain",
    "Dnat",
    "Goto",
    "InterfaceMatch",
    "Jump",
    "MarkMatch",
    "MarkTarget",
    "Masquerade",
    "ModuleMatch",
    "NfacctMatch",
    "OpaqueMatch",
    "OpaqueTarget",
    "Payload",
    "PayloadTable",
    "PortMatch",
    "PortRange",
    "ProtocolMatch",
    "RecentMatch",
    "Reject",
    "Rule",
    "Ruleset",
    "Snat",
    "StatisticMatch",
    "Table",
    "Target",
    "Verdict",
    "make_rule",
    "save_string",
]
