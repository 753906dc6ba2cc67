"""RuleDiff: which chains and rules a sync added, removed or rewrote on the node (for the shell's watch mode).

Rules are compared by their iptables-save lines (the kernel's identity of a rule); the
structured rules of a change are built from the lines only when a view asks for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kproxy_tutor.sandbox.iptables.kernel import KernelState
from kproxy_tutor.sandbox.iptables.rules import DeleteChain, Payload, PayloadTable, Rule, rule_from_line

#: A chain's rules as (restore lines, save lines).
_Lines = tuple[list[str], list[str]]


def _rules(value: Sequence[Rule | str]) -> tuple[Rule, ...]:
    return tuple(rule_from_line(r) if r.__class__ is str else r for r in value)  # type: ignore[arg-type,misc]


class ChainChange:
    """One chain a sync touched: ``kind`` is ``added`` (new chain), ``removed`` or ``rewritten``.

    ``added_rules``/``removed_rules`` accept rules or ``-A`` lines and give rules.
    """

    __slots__ = ("_added", "_removed", "chain", "kind", "table")

    def __init__(
        self,
        table: str,
        chain: str,
        kind: str,
        added_rules: Sequence[Rule | str] = (),
        removed_rules: Sequence[Rule | str] = (),
    ) -> None:
        self.table = table
        self.chain = chain
        self.kind = kind
        self._added = added_rules
        self._removed = removed_rules

    @property
    def added_rules(self) -> tuple[Rule, ...]:
        if self._added.__class__ is not tuple or any(r.__class__ is str for r in self._added):
            self._added = _rules(self._added)
        return self._added  # type: ignore[return-value]

    @property
    def removed_rules(self) -> tuple[Rule, ...]:
        if self._removed.__class__ is not tuple or any(r.__class__ is str for r in self._removed):
            self._removed = _rules(self._removed)
        return self._removed  # type: ignore[return-value]

    @property
    def added_count(self) -> int:
        return len(self._added)

    @property
    def removed_count(self) -> int:
        return len(self._removed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChainChange):
            return NotImplemented
        return (self.table, self.chain, self.kind, self.added_rules, self.removed_rules) == (
            other.table,
            other.chain,
            other.kind,
            other.added_rules,
            other.removed_rules,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ChainChange({self.table!r}, {self.chain!r}, {self.kind!r}, "
            f"+{len(self._added)} -{len(self._removed)})"
        )


class RuleDiff:
    """The chains a sync touched, worked out when first asked for (most syncs are never shown)."""

    __slots__ = ("_changes", "_touched")

    def __init__(self, changes: tuple[ChainChange, ...] = ()) -> None:
        self._changes: tuple[ChainChange, ...] | None = changes
        self._touched: list[tuple[str, str, _Lines | None, object]] | None = None

    @staticmethod
    def pending(touched: list[tuple[str, str, _Lines | None, object]]) -> RuleDiff:
        """From (table, chain, rules before or None, chain after or None) of each touched chain."""
        diff = RuleDiff()
        diff._changes = None
        diff._touched = touched
        return diff

    @property
    def changes(self) -> tuple[ChainChange, ...]:
        if self._changes is None:
            self._changes = _changes(self._touched or ())
            self._touched = None
        return self._changes

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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleDiff):
            return NotImplemented
        return self.changes == other.changes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RuleDiff({self.changes!r})"


def _rule_delta(old: _Lines, new: _Lines) -> tuple[list[str], list[str]]:
    """(added, removed) restore lines, rules compared by save line (a multiset, in chain order)."""
    old_lines, old_saves = old
    new_lines, new_saves = new
    if not old_saves:
        return new_lines, []
    if not new_saves:
        return [], old_lines
    # Most rules of a big chain are the very same strings; compare only the rest by value.
    old_ids = {id(s) for s in old_saves}
    new_ids = {id(s) for s in new_saves}
    old_rest = Counter(s for s in old_saves if id(s) not in new_ids)
    new_rest = Counter(s for s in new_saves if id(s) not in old_ids)
    removed = old_rest - new_rest
    added = new_rest - old_rest
    return (
        [line for line, save in zip(new_lines, new_saves, strict=True) if save in added],
        [line for line, save in zip(old_lines, old_saves, strict=True) if save in removed],
    )


def _changes(
    touched: Sequence[tuple[str, list[str], dict[str, _Lines], dict[str, object]]],
) -> tuple[ChainChange, ...]:
    changes = []
    for table_name, names, before, after in touched:
        for name in names:
            old = before.get(name)
            chain = after[name]
            if old is None:
                if chain is not None:
                    # New chains (all of them on a first sync): every rule was added.
                    changes.append(ChainChange(table_name, name, "added", chain.lines()))  # type: ignore[attr-defined]
            elif chain is None:
                changes.append(ChainChange(table_name, name, "removed", (), old[0]))
            else:
                new = (chain.lines(), chain.save_lines())  # type: ignore[attr-defined]
                if old[1] is not new[1] and old[1] != new[1]:
                    added, removed = _rule_delta(old, new)
                    changes.append(ChainChange(table_name, name, "rewritten", added, removed))
    return tuple(changes)


def diff_apply(kernel: KernelState, payload: Payload) -> RuleDiff:
    """Apply ``payload`` to ``kernel``; the diff says what changed in the chains it touched.

    The rules of chains that existed are kept from before; the chains after are kept as
    objects and read when the diff is first asked for (the compiler's chains are replaced,
    never changed, by later syncs).
    """
    tables = kernel.ruleset.tables
    touched = []
    seen: set[str] = set()
    for table in payload.tables:
        if table.name in seen:
            # A table that comes back (never in kube-proxy's payloads): one entry per table.
            return _diff_apply_each(kernel, payload)
        seen.add(table.name)
        existing = tables.get(table.name)
        chains = existing.chains if existing is not None else {}
        names = _touched(table)
        before = {}
        for name in names:
            chain = chains.get(name)
            if chain is not None:
                before[name] = (chain.lines(), chain.save_lines())
        touched.append((table.name, names, before))
    kernel.apply(payload)
    out = []
    for table_name, names, before in touched:
        get = tables[table_name].chains.get
        out.append((table_name, names, before, {name: get(name) for name in names}))
    return RuleDiff.pending(out)


def _touched(table: PayloadTable) -> list[str]:
    """The chains a payload table declares or deletes, in first-mention order."""
    saves = table.saves
    if saves is not None and not saves.count(None):
        # Only compiled rule lines besides the declarations: nothing else to look for.
        return list(dict.fromkeys(table.declared))
    deleted = [line.chain for line in table.lines if line.__class__ is DeleteChain]  # type: ignore[union-attr]
    return list(dict.fromkeys([*table.declared, *deleted]))


def _diff_apply_each(kernel: KernelState, payload: Payload) -> RuleDiff:
    changes: list[ChainChange] = []
    for table in payload.tables:
        changes.extend(diff_apply(kernel, Payload([table])).changes)
    return RuleDiff(tuple(changes))
