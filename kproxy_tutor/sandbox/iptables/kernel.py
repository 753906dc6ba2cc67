"""A node's netfilter state: apply iptables-restore payloads (``--noflush``) and single-rule edits, as the kernel would.

A table is applied atomically: if anything is wrong (a rule for a chain that does not exist,
a jump to a missing chain, deleting a chain that is still referenced), nothing changes and
``RestoreError`` says why, like ``iptables-restore`` failing at COMMIT.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

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
    rule_from_line,
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


#: The jump of a compiled rule line: ``-j KUBE-…`` at its end.
_JUMP = re.compile(r" -j (KUBE-[^ \n]+)$", re.MULTILINE)


def _line_targets(lines: Sequence[str]) -> list[str]:
    """The chains that compiled rule lines jump to (``-j KUBE-…`` with nothing after it)."""
    return _JUMP.findall("\n".join(lines))


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
        if chain.has_lines:
            from kproxy_tutor.sandbox.iptables.render import save_line

            if save_line(rule) in chain.save_lines():
                return False
        elif rule in chain.rules:
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
        # Each touched chain's new rules: text lines (restore, save), or Rule objects when the
        # payload gave objects (a parsed payload) or adds to a chain that holds objects.
        # None: declared (flushed), no rules yet; (start, end): one run of the payload's lines;
        # a list of such runs and (lines, saves) tuples otherwise. Plain ints and tuples of
        # strings: nothing the garbage collector has to keep scanning.
        new_lines: dict[str, Any] = dict.fromkeys(payload.declared)
        new_rules: dict[str, list[Rule]] = {}
        deleted: list[str] = []
        saves = payload.saves
        entries = payload.lines
        n = len(entries)
        # Only compiled rule lines (no -X): every entry is a string, so a run needs no type checks.
        all_text = saves is not None and not saves.count(None)
        i = 0
        while i < n:
            line = entries[i]
            if line.__class__ is str:
                # A run of compiled lines of one chain, taken as one slice.
                end = line.find(" ", 3)  # type: ignore[union-attr]
                name = line[3:end] if end > 0 else line[3:]  # type: ignore[index]
                prefix = f"-A {name} "
                j = i + 1
                if all_text:
                    while j < n and entries[j].startswith(prefix):  # type: ignore[union-attr]
                        j += 1
                else:
                    while j < n:
                        nxt = entries[j]
                        if nxt.__class__ is not str or not nxt.startswith(prefix):  # type: ignore[union-attr]
                            break
                        j += 1
                run = (i, j)
                i = j
                if name in new_lines:
                    found = new_lines[name]
                    if found is None:
                        new_lines[name] = run
                    elif found.__class__ is tuple:
                        new_lines[name] = [found, run]
                    else:
                        found.append(run)
                elif name in new_rules:
                    new_rules[name].extend(map(rule_from_line, entries[run[0] : run[1]]))  # type: ignore[arg-type]
                else:
                    existing = self._existing(chains, name, payload.name)
                    if existing.has_lines:
                        new_lines[name] = [(existing.lines(), existing.save_lines()), run]
                    else:
                        new_rules[name] = [*existing.rules, *map(rule_from_line, entries[run[0] : run[1]])]  # type: ignore[arg-type]
                continue
            i += 1
            if isinstance(line, DeleteChain):
                if line.chain not in new_lines and line.chain not in new_rules and line.chain not in chains:
                    raise RestoreError(
                        N_("Cannot delete chain {chain}: it does not exist."), chain=line.chain
                    )
                deleted.append(line.chain)
                continue
            name = line.chain  # type: ignore[union-attr]
            rules = new_rules.get(name)
            if rules is None:
                if name in new_lines:
                    strings = self._joined(new_lines.pop(name), entries, saves)[0]  # type: ignore[arg-type]
                    rules = new_rules[name] = [rule_from_line(text) for text in strings]
                else:
                    rules = new_rules[name] = list(self._existing(chains, name, payload.name).rules)
            rules.append(line)  # type: ignore[arg-type]

        removed_targets: list[str] = []
        fresh: list[Rule] = []
        fresh_lines: list[str] = []
        builtin = BUILTIN_CHAINS.get(payload.name, ())
        done: dict[str, Chain] = {}
        get = chains.get
        from_lines = Chain.from_lines
        for name, found in new_lines.items():
            old = get(name)
            if old is None and found.__class__ is tuple and name not in builtin:
                # A new chain of one run of lines (every chain on a first sync).
                start, end = found
                save_lines = tuple(saves[start:end])  # type: ignore[index]
                done[name] = from_lines(name, None, tuple(entries[start:end]), save_lines)  # type: ignore[arg-type]
                fresh_lines += save_lines
                continue
            if found is None:
                lines = save_lines = ()
            elif found.__class__ is tuple:
                lines, save_lines = tuple(entries[found[0] : found[1]]), tuple(saves[found[0] : found[1]])  # type: ignore[arg-type,index]
            else:
                lines, save_lines = self._joined(found, entries, saves)  # type: ignore[arg-type]
            if old is None:
                done[name] = Chain.from_lines(name, "ACCEPT" if name in builtin else None, lines, save_lines)  # type: ignore[arg-type]
            elif old.has_lines and old.save_lines() == save_lines and old.lines() == lines:
                # Flushed and refilled with the same rules (a partial sync's KUBE-SERVICES): the
                # chain object stays, with any Rule objects and trace index built for it.
                continue
            else:
                replacement = done[name] = Chain.from_lines(name, old.policy, lines, save_lines)  # type: ignore[arg-type]
                replacement.counters = old.counters
            if old is None or not len(old):
                # A new or empty chain (every chain on a first sync): all its rules are new.
                fresh_lines += save_lines
            elif old.has_lines:
                old_saves = old.save_lines()
                if old_saves == save_lines:
                    continue
                if len(old_saves) == len(save_lines):
                    # Most rules of a rewritten chain are the very strings it held before;
                    # only the others can change references or point at missing chains.
                    changed = [
                        (a, b) for a, b in zip(old_saves, save_lines, strict=True) if a is not b and a != b
                    ]
                    if changed:
                        removed_targets.extend(_line_targets([a for a, _ in changed]))
                        fresh_lines.extend(b for _, b in changed)
                else:
                    removed_targets.extend(_line_targets(old_saves))
                    fresh_lines += save_lines
            else:
                removed_targets.extend(_targets(old.rules))
                fresh_lines += save_lines
        added_targets: Counter[str] = Counter(_line_targets(fresh_lines))
        for name, rules in new_rules.items():
            old = chains.get(name)
            old_rules = old.rules if old is not None else None
            if not old_rules:
                fresh += rules
            elif len(old_rules) == len(rules):
                changed_rules = [(a, b) for a, b in zip(old_rules, rules, strict=True) if a is not b]
                if changed_rules:
                    removed_targets.extend(_targets([a for a, _ in changed_rules]))
                    fresh.extend(b for _, b in changed_rules)
            else:
                removed_targets.extend(_targets(old_rules))
                fresh += rules
        added_targets.update(_targets(fresh))
        delta = added_targets
        if removed_targets:
            delta = added_targets.copy()
            delta.subtract(removed_targets)
        deleted_set = set(deleted)
        for name in deleted:
            chain = chains.get(name)
            if chain is not None and chain.builtin:
                raise RestoreError(N_("Cannot delete built-in chain {chain}."), chain=name)
            if name in done:
                not_empty = bool(len(done[name]))
            elif name in new_rules:
                not_empty = bool(new_rules[name])
            else:
                not_empty = chain is not None and bool(len(chain))
            if not_empty:
                raise RestoreError(N_("Cannot delete chain {chain}: it is not empty."), chain=name)
            if refs[name] + delta[name] > 0:
                raise RestoreError(N_("Cannot delete chain {chain}: rules still jump to it."), chain=name)

        def missing(target: str) -> bool:
            return target in deleted_set or (
                target not in new_lines and target not in new_rules and target not in chains
            )

        # The chains after this table is applied: those it had or declared, less the deleted.
        # Each distinct target is checked once; only when one is missing are the rules
        # walked, to name the first that jumps to it.
        targets = added_targets.keys()
        if (targets & deleted_set) or (targets - new_lines.keys() - new_rules.keys() - chains.keys()):
            for rule in [*map(rule_from_line, fresh_lines), *fresh]:
                target = _target_chain(rule)
                if target is not None and missing(target):
                    raise RestoreError(
                        N_("Rule in chain {chain} jumps to {target}, which does not exist."),
                        chain=rule.chain,
                        target=target,
                    )

        chains.update(done)
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
        if removed_targets:
            # Only the chains whose count moved down can have dropped to zero.
            for name in set(removed_targets):
                if refs.get(name, 0) <= 0:
                    refs.pop(name, None)

    @staticmethod
    def _joined(
        pieces: list[Any] | tuple[int, int] | None, entries: list[Any], saves: list[Any]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The (lines, saves) of a chain's runs of payload lines and earlier rules, in order."""
        if pieces is None:
            return (), ()
        if pieces.__class__ is tuple:
            pieces = [pieces]
        lines: list[str] = []
        save_lines: list[str] = []
        for piece in pieces:  # type: ignore[union-attr]
            if piece[0].__class__ is int:
                lines += entries[piece[0] : piece[1]]
                save_lines += saves[piece[0] : piece[1]]
            else:
                lines += piece[0]
                save_lines += piece[1]
        return tuple(lines), tuple(save_lines)

    @staticmethod
    def _existing(chains: dict[str, Chain], name: str, table: str) -> Chain:
        chain = chains.get(name)
        if chain is None:
            raise RestoreError(
                N_("Rule for chain {chain}, which does not exist in table {table}."), chain=name, table=table
            )
        return chain
