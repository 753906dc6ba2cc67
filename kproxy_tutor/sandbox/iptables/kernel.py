"""A node's netfilter state: apply iptables-restore payloads (``--noflush``) and single-rule edits, as the kernel would.

A table is applied atomically: if anything is wrong (a rule for a chain that does not exist,
a jump to a missing chain, deleting a chain that is still referenced), nothing changes and
``RestoreError`` says why, like ``iptables-restore`` failing at COMMIT.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.iptables.rules import (
    BUILTIN_CHAINS,
    Chain,
    DeleteChain,
    Goto,
    Jump,
    Payload,
    PayloadTable,
    Rule,
    Ruleset,
)

_target_of = attrgetter("target")


class RestoreError(SandboxInputError):
    """The payload would be refused by iptables-restore."""


def _target_chain(rule: Rule) -> str | None:
    target = rule.target
    kind = type(target)
    if kind is Jump or kind is Goto:
        return target.chain  # type: ignore[union-attr]
    return None


def _targets(rules: list[Rule]) -> list[str]:
    return [t.chain for t in map(_target_of, rules) if t.__class__ is Jump or t.__class__ is Goto]  # type: ignore[union-attr]


class KernelState:
    def __init__(self) -> None:
        self.ruleset = Ruleset()
        self._refs: dict[str, Counter[str]] = {}

    def chain_names(self, table: str) -> set[str]:
        existing = self.ruleset.tables.get(table)
        return set(existing.chains) if existing is not None else set()

    def ensure_chain(self, table: str, chain: str) -> None:
        self.ruleset.table(table).chain(chain)

    def ensure_rule(self, table: str, rule: Rule, prepend: bool = True) -> bool:
        """``iptables -C`` then ``-I 1`` (or ``-A``) if missing; True when the rule was added."""
        chain = self.ruleset.table(table).chain(rule.chain)
        if rule in chain.rules:
            return False
        target = _target_chain(rule)
        if target is not None and target not in self.ruleset.tables[table].chains:
            raise RestoreError(N_("Chain {chain} does not exist."), chain=target)
        if prepend:
            chain.rules.insert(0, rule)
        else:
            chain.rules.append(rule)
        if target is not None:
            self._refs.setdefault(table, Counter())[target] += 1
        return True

    def apply(self, payload: Payload) -> None:
        for table in payload.tables:
            self._apply_table(table)

    def _apply_table(self, payload: PayloadTable) -> None:
        table = self.ruleset.table(payload.name)
        chains = table.chains
        refs = self._refs.setdefault(payload.name, Counter())
        new_rules: dict[str, list[Rule]] = {name: [] for name in payload.declared}
        deleted: list[str] = []
        # Payload lines come in runs of the same chain; remember the last list looked up.
        last_chain: str | None = None
        rules: list[Rule] = []
        for line in payload.lines:
            if line.__class__ is Rule and line.chain == last_chain:
                rules.append(line)
                continue
            if isinstance(line, DeleteChain):
                if line.chain not in new_rules and line.chain not in chains:
                    raise RestoreError(
                        N_("Cannot delete chain {chain}: it does not exist."), chain=line.chain
                    )
                deleted.append(line.chain)
                last_chain = None
                continue
            name = line.chain
            if name != last_chain:
                found = new_rules.get(name)
                if found is None:
                    if name not in chains:
                        raise RestoreError(
                            N_("Rule for chain {chain}, which does not exist in table {table}."),
                            chain=name,
                            table=payload.name,
                        )
                    found = new_rules[name] = list(chains[name].rules)
                rules = found
                last_chain = name
            rules.append(line)  # type: ignore[arg-type]

        removed_targets: list[str] = []
        fresh: list[Rule] = []
        for name, rules in new_rules.items():
            old = chains.get(name)
            old_rules = old.rules if old is not None else None
            if not old_rules:
                # A new or empty chain (every chain on a first sync): all its rules are new.
                fresh += rules
            elif len(old_rules) == len(rules):
                # Most rules of a rewritten chain are the very objects it held before; only
                # the others can change references or point at missing chains.
                changed = [(a, b) for a, b in zip(old_rules, rules, strict=True) if a is not b]
                if changed:
                    removed_targets.extend(_targets([a for a, _ in changed]))
                    fresh.extend(b for _, b in changed)
            else:
                removed_targets.extend(_targets(old_rules))
                fresh += rules
        added_targets: Counter[str] = Counter(_targets(fresh))
        delta = added_targets.copy()
        if removed_targets:
            delta.subtract(removed_targets)
        deleted_set = set(deleted)
        for name in deleted:
            chain = chains.get(name)
            if chain is not None and chain.builtin:
                raise RestoreError(N_("Cannot delete built-in chain {chain}."), chain=name)
            if new_rules.get(name) or (name not in new_rules and chain is not None and chain.rules):
                raise RestoreError(N_("Cannot delete chain {chain}: it is not empty."), chain=name)
            if refs[name] + delta[name] > 0:
                raise RestoreError(N_("Cannot delete chain {chain}: rules still jump to it."), chain=name)
        # The chains after this table is applied: those it had or declared, less the deleted.
        # Each distinct target is checked once; only when one is missing are the rules
        # walked, to name the first that jumps to it.
        if any(t in deleted_set or (t not in new_rules and t not in chains) for t in added_targets):
            for rule in fresh:
                target = _target_chain(rule)
                if target is not None and (
                    target in deleted_set or (target not in new_rules and target not in chains)
                ):
                    raise RestoreError(
                        N_("Rule in chain {chain} jumps to {target}, which does not exist."),
                        chain=rule.chain,
                        target=target,
                    )

        builtin = BUILTIN_CHAINS.get(payload.name, ())
        for name, rules in new_rules.items():
            chain = chains.get(name)
            if chain is None:
                # As ``Table.chain`` creates it, with its rules in place.
                chains[name] = Chain(name, "ACCEPT" if name in builtin else None, rules)
            else:
                chain.rules = rules
        for name in deleted:
            chains.pop(name, None)
        refs.update(delta)
        # Only the chains whose count moved can have dropped to zero.
        for name in delta:
            if refs.get(name, 0) <= 0:
                refs.pop(name, None)
