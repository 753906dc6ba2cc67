"""Structured nftables state: a table with its sets, maps and chains, each chain a list of rules of typed statements.

This is a public interface: the compiler produces it, the parsers read it back from a knftables
transaction (``add …`` lines) or from ``nft list table`` output, and the evaluator walks it.

Shape
-----
``NftTable(family, name, comment)``
  ``.sets[name]``    ``NftSet``: a set (``value_type`` empty) or a verdict map; ``key_type`` is
                     nft's type text (``ipv4_addr . inet_proto . inet_service``); ``flags``,
                     ``timeout`` (seconds), ``size``, ``comment``; ``elements`` are ``Element(key,
                     value, comment)`` where ``key`` is a tuple of the concatenated parts
                     (``("172.30.0.41", "tcp", "80")``) and ``value`` a verdict text (``goto …``)
  ``.chains[name]``  ``NftChain``: ``base`` (``BaseChain(type, hook, priority, policy)``) for chains
                     attached to a netfilter hook, None for regular chains; ``rules`` in order
    ``.rules``       ``NftRule(statements, comment)``; statements are the types in ``statements.py``

Dict order is creation order (what ``nft list`` shows); the transaction sorts by name, as
knftables' dump does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kproxy_tutor.sandbox.nftables.statements import Statement


@dataclass(frozen=True, slots=True)
class NftRule:
    statements: tuple[Statement, ...]
    comment: str | None = None

    def tx(self) -> str:
        text = " ".join([s.tx() for s in self.statements])
        return f'{text} comment "{self.comment}"' if self.comment is not None else text

    def listing(self) -> str:
        text = " ".join([s.listing() for s in self.statements])
        return f'{text} comment "{self.comment}"' if self.comment is not None else text


@dataclass(frozen=True, slots=True)
class BaseChain:
    type: str
    hook: str
    priority: int
    policy: str = "accept"


@dataclass(slots=True)
class NftChain:
    name: str
    base: BaseChain | None = None
    comment: str | None = None
    rules: list[NftRule] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Element:
    key: tuple[str, ...]
    value: str | None = None
    comment: str | None = None


@dataclass(slots=True)
class NftSet:
    name: str
    key_type: str
    #: Empty for a set; ``verdict`` for a verdict map.
    value_type: str = ""
    flags: tuple[str, ...] = ()
    timeout: int | None = None
    size: int | None = None
    comment: str | None = None
    elements: list[Element] = field(default_factory=list)

    @property
    def is_map(self) -> bool:
        return bool(self.value_type)

    @property
    def type_text(self) -> str:
        return f"{self.key_type} : {self.value_type}" if self.value_type else self.key_type

    def lookup(self, key: tuple[str, ...]) -> Element | None:
        for element in self.elements:
            if element.key == key:
                return element
        return None


@dataclass(slots=True)
class NftTable:
    family: str = "ip"
    name: str = "kube-proxy"
    comment: str | None = None
    sets: dict[str, NftSet] = field(default_factory=dict)
    chains: dict[str, NftChain] = field(default_factory=dict)

    def chain(self, name: str) -> NftChain:
        existing = self.chains.get(name)
        if existing is None:
            existing = self.chains[name] = NftChain(name)
        return existing

    @property
    def rule_count(self) -> int:
        return sum(len(c.rules) for c in self.chains.values())

    @property
    def element_count(self) -> int:
        return sum(len(s.elements) for s in self.sets.values())

    def canonical(self) -> tuple[object, ...]:
        """A value equal for two tables that hold the same objects, whatever their order or spelling."""
        sets = sorted(
            (
                s.name,
                s.key_type,
                s.value_type,
                tuple(sorted(s.flags)),
                s.timeout,
                s.comment,
                tuple(sorted((e.key, e.value or "", e.comment or "") for e in s.elements)),
            )
            for s in self.sets.values()
        )
        chains = sorted(
            (c.name, c.base, c.comment, tuple(_canonical_rule(r) for r in c.rules))
            for c in self.chains.values()
        )
        return (self.family, self.name, self.comment, tuple(sets), tuple(chains))


def _canonical_rule(rule: NftRule) -> tuple[object, ...]:
    from kproxy_tutor.sandbox.nftables.intervals import canonical_networks
    from kproxy_tutor.sandbox.nftables.statements import Address, AnonSet, Match

    parts: list[object] = []
    for statement in rule.statements:
        if isinstance(statement, Match) and isinstance(statement.value, AnonSet):
            # nft merges an interval set's elements and turns a one-element set into a plain
            # comparison: compare the addresses covered, however they were spelled.
            items = canonical_networks(statement.value.items)
            value = Address.of(items[0]) if len(items) == 1 else AnonSet(items)
            statement = Match(statement.field, value, statement.negated)
        parts.append(statement)
    return (tuple(parts), rule.comment)
