"""Render structured rules as text: the iptables-restore payload kube-proxy writes, and what iptables-save prints."""

from __future__ import annotations

from collections.abc import Iterable

from kproxy_tutor.sandbox.iptables.rules import (
    BUILTIN_CHAINS,
    TABLE_ORDER,
    DeleteChain,
    Payload,
    Rule,
    Ruleset,
    Table,
)


def save_args(rule: Rule) -> str:
    """The rule's arguments in iptables-save's canonical order (generic matches, modules, target)."""
    return _spaced_args(rule, {})[1:]


def _spaced_args(rule: Rule, memo: dict[int, str]) -> str:
    """``save_args`` with a space before each argument ("" for none), using ``memo``.

    ``memo`` holds the text of each match and target object by ``id``: the compiler shares
    those between rules (a Service's comment, port matches, jumps to KUBE-MARK-MASQ), so a
    whole ruleset renders each once. The ids stay valid because the caller keeps every rule
    alive while the memo is in use. Plain concatenation, not a list per rule: rendering a
    big ruleset then creates no objects the cyclic garbage collector has to track.
    """
    text = ""
    part = rule.source
    if part is not None:
        text = (" ! -s " if part.negated else " -s ") + part.cidr
    part = rule.destination
    if part is not None:
        text += (" ! -d " if part.negated else " -d ") + part.cidr
    interface = rule.in_interface
    if interface is not None:
        text += (" ! -i " if interface.negated else " -i ") + interface.name
    interface = rule.out_interface
    if interface is not None:
        text += (" ! -o " if interface.negated else " -o ") + interface.name
    protocol = rule.protocol
    if protocol is not None:
        text += (" ! -p " if protocol.negated else " -p ") + protocol.protocol
    for match in rule.matches:
        saved = memo.get(id(match))
        if saved is None:
            options = match.save_options()
            saved = memo[id(match)] = f" -m {match.module} {options}" if options else f" -m {match.module}"
        text += saved
    target = rule.target
    if target is not None:
        saved = memo.get(id(target))
        if saved is None:
            saved = memo[id(target)] = " " + target.save()
        text += saved
    return text


def save_line(rule: Rule) -> str:
    args = save_args(rule)
    return f"-A {rule.chain} {args}" if args else f"-A {rule.chain}"


def restore_line(rule: Rule) -> str:
    """The rule as its writer spelled it (kube-proxy's order); canonical form when it has no spelling."""
    args = rule.spelling if rule.spelling is not None else save_args(rule)
    return f"-A {rule.chain} {args}" if args else f"-A {rule.chain}"


def render_restore(payload: Payload, tables: Iterable[str] | None = None) -> str:
    """The iptables-restore input (``*filter … COMMIT`` then ``*nat … COMMIT``), byte for byte."""
    wanted = set(tables) if tables is not None else None
    out: list[str] = []
    for table in payload.tables:
        if wanted is not None and table.name not in wanted:
            continue
        out.append(f"*{table.name}")
        out.extend(f":{chain} - [0:0]" for chain in table.declared)
        for line in table.lines:
            if line.__class__ is str:
                out.append(line)  # type: ignore[arg-type]
            else:
                out.append(f"-X {line.chain}" if isinstance(line, DeleteChain) else restore_line(line))  # type: ignore[arg-type]
        out.append("COMMIT")
    out.append("")
    return "\n".join(out)


def ordered_tables(ruleset: Ruleset) -> list[Table]:
    known = [ruleset.tables[name] for name in TABLE_ORDER if name in ruleset.tables]
    others = [ruleset.tables[name] for name in sorted(ruleset.tables) if name not in TABLE_ORDER]
    return known + others


def ordered_chains(table: Table) -> list[str]:
    """Built-in chains in hook order, then the other chains in byte order (as iptables-nft-save prints)."""
    builtins = [c for c in BUILTIN_CHAINS.get(table.name, ()) if c in table.chains]
    builtins += sorted(c for c, chain in table.chains.items() if chain.builtin and c not in builtins)
    users = sorted(c for c, chain in table.chains.items() if not chain.builtin)
    return builtins + users


def render_save(ruleset: Ruleset, tables: Iterable[str] | None = None, counters: bool = False) -> str:
    """What ``iptables-save`` prints for ``ruleset`` (without its ``#`` date comment lines)."""
    wanted = set(tables) if tables is not None else None
    out: list[str] = []
    for table in ordered_tables(ruleset):
        if wanted is not None and table.name not in wanted:
            continue
        out.append(f"*{table.name}")
        order = ordered_chains(table)
        for name in order:
            chain = table.chains[name]
            packets, octets = chain.counters
            out.append(f":{name} {chain.policy or '-'} [{packets}:{octets}]")
        memo: dict[int, str] = {}
        for name in order:
            chain = table.chains[name]
            if chain.has_lines and not counters:
                out.extend(chain.save_lines())
                continue
            for rule in chain.rules:
                line = "-A " + rule.chain + _spaced_args(rule, memo)
                if counters:
                    packets, octets = rule.counters or (0, 0)
                    out.append(f"[{packets}:{octets}] {line}")
                else:
                    out.append(line)
        out.append("COMMIT")
    out.append("")
    return "\n".join(out)
