"""Structured iptables rules: tables → chains → rules, each rule typed matches and a typed target.

This is a public interface: the parser reads it from ``iptables-save`` or ``iptables-restore``
text and the packet evaluator walks it. The compiler writes text: each of its rules is two
strings, the restore line as kube-proxy writes it and the line ``iptables-save`` prints for it;
a chain built from those keeps them (``Chain.lines``/``Chain.save_lines``) and makes its
``Rule`` objects only when ``.rules`` is first read.

Shape
-----
``Ruleset``            what a node holds (the kernel state; what ``iptables-save`` prints)
  ``.tables[name]``    ``Table`` (``filter``, ``nat``, ``mangle``, …)
    ``.chains[name]``  ``Chain(name, policy, rules, counters)``; ``policy`` is ``ACCEPT``/``DROP``
                       for built-in chains, None for user chains; dict order = declaration order
      ``.rules``       list of ``Rule`` (built from the chain's lines on first use)

``Payload``            one ``iptables-restore`` input, as kube-proxy writes it on a sync
  ``.tables``          list of ``PayloadTable(name, declared, lines)``: ``declared`` are the
                       ``:CHAIN - [0:0]`` lines (declaring flushes the chain), ``lines`` are
                       ``Rule`` (``-A``) and ``DeleteChain`` (``-X``) in payload order; from the
                       compiler, ``-A`` lines are strings with their save lines in ``saves``

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

Two rules are equal when the kernel would hold the same rule, whichever text they came from
(for lines: when their iptables-save lines are equal).
``Rule.parts`` gives the typed parts as one sequence for walking.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
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


def _simple_tokens(args: str) -> list[str] | None:
    """The tokens of ``args`` when its quotes only wrap whole tokens and hold no escapes (as the
    compiler writes comments); None for anything else, which the parser's tokenizer reads."""
    if "\\" in args or "\t" in args:
        return None
    parts = args.split('"')
    if len(parts) % 2 == 0:
        return None
    tokens: list[str] = []
    last = len(parts) - 1
    for k, part in enumerate(parts):
        if k % 2:
            tokens.append(part)
            continue
        if 0 < k < last and not part.strip(" "):
            return None
        if (k > 0 and part and part[0] != " ") or (k < last and part and part[-1] != " "):
            return None
        tokens += part.split()
    return tokens


def rule_from_line(line: str) -> Rule:
    """The structured rule of one ``-A CHAIN ARGS`` line (kube-proxy's or iptables-save's spelling)."""
    from kproxy_tutor.sandbox.iptables.parse import parse_rule_args, tokenize

    chain, _, args = line[3:].partition(" ")
    tokens = _simple_tokens(args) if '"' in args else args.split()
    return parse_rule_args(chain, tokens if tokens is not None else tokenize(args), args)


class RuleList(list):  # type: ignore[type-arg]
    """A chain's rules built from its text lines; any change to the list makes the lines stale."""

    __slots__ = ("_owner",)

    def _changed(self) -> None:
        owner = self._owner
        owner._lines = owner._saves = None

    def append(self, rule: Rule) -> None:  # type: ignore[override]
        self._changed()
        super().append(rule)

    def insert(self, index: int, rule: Rule) -> None:  # type: ignore[override]
        self._changed()
        super().insert(index, rule)

    def extend(self, rules) -> None:  # type: ignore[no-untyped-def,override]
        self._changed()
        super().extend(rules)

    def pop(self, index: int = -1) -> Rule:  # type: ignore[override]
        self._changed()
        return super().pop(index)

    def remove(self, rule: Rule) -> None:  # type: ignore[override]
        self._changed()
        super().remove(rule)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def sort(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self._changed()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._changed()
        super().reverse()

    def __setitem__(self, index, value) -> None:  # type: ignore[no-untyped-def]
        self._changed()
        super().__setitem__(index, value)

    def __delitem__(self, index) -> None:  # type: ignore[no-untyped-def]
        self._changed()
        super().__delitem__(index)

    def __iadd__(self, rules):  # type: ignore[no-untyped-def]
        self._changed()
        return super().__iadd__(rules)


class Chain:
    """One chain: its rules, held either as ``Rule`` objects or as text lines.

    The compiler's chains hold two lines per rule: the restore line as kube-proxy writes it
    (``lines``) and the canonical ``iptables-save`` line (``save_lines``), in tuples of
    strings, which the garbage collector stops tracking. ``rules`` builds the structured
    rules from the lines on first use (cached; changing that list makes the lines stale, so
    they are then made again from the rules). Two rules are the same kernel rule when their
    save lines are equal.
    """

    __slots__ = ("_lines", "_rules", "_saves", "counters", "name", "policy")

    def __init__(
        self,
        name: str,
        policy: str | None = None,
        rules: Iterable[Rule] | None = None,
        counters: tuple[int, int] = (0, 0),
    ) -> None:
        self.name = name
        self.policy = policy
        self.counters = counters
        self._lines: tuple[str, ...] | None = None
        self._saves: tuple[str, ...] | None = None
        self._rules: list[Rule] | None = self._own(rules if rules is not None else ())

    @staticmethod
    def from_lines(name: str, policy: str | None, lines: tuple[str, ...], saves: tuple[str, ...]) -> Chain:
        """A chain of compiled rules: ``lines`` as written (``-A NAME …``), ``saves`` as iptables-save prints them."""
        chain = Chain.__new__(Chain)
        chain.name = name
        chain.policy = policy
        chain.counters = (0, 0)
        chain._rules = None
        chain._lines = lines
        chain._saves = saves
        return chain

    def _own(self, rules: Iterable[Rule]) -> RuleList:
        owned = RuleList(rules)
        owned._owner = self
        return owned

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    @property
    def rules(self) -> list[Rule]:
        rules = self._rules
        if rules is None:
            from kproxy_tutor.sandbox.iptables.structure import rule_from_lines

            rules = self._rules = self._own(map(rule_from_lines, self._lines or (), self._saves or ()))
        return rules

    @rules.setter
    def rules(self, rules: Iterable[Rule]) -> None:
        self._rules = self._own(rules)
        self._lines = self._saves = None

    @property
    def has_lines(self) -> bool:
        """True while the chain's text lines are current (then ``lines``/``save_lines`` cost nothing)."""
        return self._saves is not None

    def lines(self) -> tuple[str, ...]:
        """The rules as their writer spelled them (``-A NAME …``)."""
        if self._lines is None:
            from kproxy_tutor.sandbox.iptables.render import restore_line

            self._lines = tuple([restore_line(r) for r in self._rules or ()])
        return self._lines

    def save_lines(self) -> tuple[str, ...]:
        """The rules as ``iptables-save`` prints them (``-A NAME …``): the rules' identity."""
        if self._saves is None:
            from kproxy_tutor.sandbox.iptables.render import save_line

            self._saves = tuple([save_line(r) for r in self._rules or ()])
        return self._saves

    def __len__(self) -> int:
        return len(self._saves) if self._rules is None else len(self._rules)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chain):
            return NotImplemented
        if self.name != other.name or self.policy != other.policy:
            return False
        if self.has_lines or other.has_lines:
            return self.save_lines() == other.save_lines()
        return self.rules == other.rules

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Chain({self.name!r}, {self.policy!r}, {len(self)} rules)"


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


@dataclass(slots=True, eq=False)
class PayloadTable:
    """``lines`` are ``Rule`` and ``DeleteChain`` objects (a parsed payload) or, from the
    compiler, ``-A CHAIN …`` strings; then ``saves`` holds, at the same positions, each
    string rule's iptables-save line (None for the other entries)."""

    name: str
    declared: list[str] = field(default_factory=list)
    lines: list[Rule | DeleteChain | str] = field(default_factory=list)
    saves: list[str | None] | None = None

    def rules(self) -> list[Rule | DeleteChain]:
        """The lines as objects (string rules parsed, for views that inspect a payload)."""
        return [rule_from_line(line) if line.__class__ is str else line for line in self.lines]  # type: ignore[arg-type,misc]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PayloadTable):
            return NotImplemented
        if (self.name, self.declared) != (other.name, other.declared):
            return False
        return self.lines == other.lines or self.rules() == other.rules()

    __hash__ = None  # type: ignore[assignment]


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
    "RuleList",
    "Ruleset",
    "Snat",
    "StatisticMatch",
    "Table",
    "Target",
    "Verdict",
    "make_rule",
    "rule_from_line",
    "save_string",
]
