"""RuleDiff: which chains and rules a sync added, removed or rewrote on the node (for the shell's watch mode)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.iptables.kernel import KernelState
from kproxy_tutor.sandbox.iptables.rules import DeleteChain, Payload, Rule


@dataclass(frozen=True, slots=True)
class ChainChange:
    table: str
    chain: str
    #: ``added`` (new chain), ``removed`` (chain deleted) or ``rewritten`` (rules changed).
    kind: str
    added_rules: tuple[Rule, ...] = ()
    removed_rules: tuple[Rule, ...] = ()


# A full sync reports tens of thousands of new chains.
_change = fast_constructor(ChainChange)


@dataclass(frozen=True, slots=True)
class RuleDiff:
    changes: tuple[ChainChange, ...] = ()

    def _chains(self, kind: str) -> list[tuple[str, str]]:
        return [(c.table, c.chain) for c in self.changes if c.kind == kind]

    @property
    def added_chains(self) -> list[tuple[str, str]]:
        return self._chains("added")

    @property
    def removed_chains(self) -> list[tuple[str, str]]:
        return self._chains("removed")

    @property
    def rewritten_chains(self) -> list[tuple[str, str]]:
        return self._chains("rewritten")

    @property
    def added_rules(self) -> list[Rule]:
        return [r for c in self.changes for r in c.added_rules]

    @property
    def removed_rules(self) -> list[Rule]:
        return [r for c in self.changes for r in c.removed_rules]

    def __bool__(self) -> bool:
        return bool(self.changes)


def _rule_delta(old: list[Rule], new: list[Rule]) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    if not old:
        return tuple(new), ()
    if not new:
        return (), tuple(old)
    # Most rules of a big chain are the very same objects; compare only the rest by value.
    old_ids = {id(r) for r in old}
    new_ids = {id(r) for r in new}
    old_rest = Counter(r for r in old if id(r) not in new_ids)
    new_rest = Counter(r for r in new if id(r) not in old_ids)
    removed = old_rest - new_rest
    added = new_rest - old_rest
    return tuple(r for r in new if r in added), tuple(r for r in old if r in removed)


def diff_apply(kernel: KernelState, payload: Payload) -> RuleDiff:
    """Apply ``payload`` to ``kernel`` and report what changed in the chains it touched."""
    # The rules each touched chain held before, by table then chain, in first-touched order.
    before: dict[str, dict[str, list[Rule] | None]] = {}
    order: list[str] = []
    for table in payload.tables:
        existing = kernel.ruleset.tables.get(table.name)
        chains = existing.chains if existing is not None else {}
        seen = before.get(table.name)
        if seen is None:
            seen = before[table.name] = {}
            order.append(table.name)
        elif order[-1] != table.name:
            # A table that comes back after another (never in kube-proxy's payloads) would
            # interleave the report; keep the exact first-touched order the simple way.
            return _diff_apply_interleaved(kernel, payload)
        touched = list(table.declared)
        touched += [
            line.chain for line in table.lines if line.__class__ is not Rule and isinstance(line, DeleteChain)
        ]
        for name in touched:
            if name not in seen:
                chain = chains.get(name)
                seen[name] = chain.rules if chain is not None else None
    kernel.apply(payload)
    changes = []
    tables = kernel.ruleset.tables
    for table_name, seen in before.items():
        after = tables[table_name].chains
        for name, old in seen.items():
            chain = after.get(name)
            if old is None:
                if chain is not None:
                    # New chains (all of them on a first sync): every rule was added.
                    changes.append(_change(table_name, name, "added", tuple(chain.rules)))
            elif chain is None:
                changes.append(_change(table_name, name, "removed", (), tuple(old)))
            else:
                new = chain.rules
                if old is not new and old != new:
                    added, removed = _rule_delta(old, new)
                    changes.append(_change(table_name, name, "rewritten", added, removed))
    return RuleDiff(tuple(changes))


def _diff_apply_interleaved(kernel: KernelState, payload: Payload) -> RuleDiff:
    before: dict[tuple[str, str], list[Rule] | None] = {}
    for table in payload.tables:
        existing = kernel.ruleset.tables.get(table.name)
        chains = existing.chains if existing is not None else {}
        touched = list(table.declared)
        touched += [
            line.chain for line in table.lines if line.__class__ is not Rule and isinstance(line, DeleteChain)
        ]
        for name in touched:
            key = (table.name, name)
            if key not in before:
                chain = chains.get(name)
                before[key] = chain.rules if chain is not None else None
    kernel.apply(payload)
    changes = []
    tables = kernel.ruleset.tables
    for (table_name, name), old in before.items():
        chain = tables[table_name].chains.get(name)
        new = chain.rules if chain is not None else None
        if old is None:
            if new is not None:
                changes.append(_change(table_name, name, "added", tuple(new)))
        elif new is None:
            changes.append(_change(table_name, name, "removed", (), tuple(old)))
        elif old is not new and old != new:
            added, removed = _rule_delta(old, new)
            changes.append(_change(table_name, name, "rewritten", added, removed))
    return RuleDiff(tuple(changes))
