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
    parts = []
    if rule.source is not None:
        parts.append(f"{'! ' if rule.source.negated else ''}-s {rule.source.cidr}")
    if rule.destination is not None:
        parts.append(f"{'! ' if rule.destination.negated else ''}-d {rule.destination.cidr}")
    if rule.in_interface is not None:
        parts.append(f"{'! ' if rule.in_interface.negated else ''}-i {rule.in_interface.name}")
    if rule.out_interface is not None:
        parts.append(f"{'! ' if rule.out_interface.negated else ''}-o {rule.out_interface.name}")
    if rule.protocol is not None:
        parts.append(f"{'! ' if rule.protocol.negated else ''}-p {rule.protocol.protocol}")
    for match in rule.matches:
        options = match.save_options()
        parts.append(f"-m {match.module} {options}" if options else f"-m {match.module}")
    if rule.target is not None:
        parts.append(rule.target.save())
    return " ".join(parts)


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
            out.append(f"-X {line.chain}" if isinstance(line, DeleteChain) else restore_line(line))
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
        for name in order:
            for rule in table.chains[name].rules:
                if counters:
                    packets, octets = rule.counters or (0, 0)
                    out.append(f"[{packets}:{octets}] {save_line(rule)}")
                else:
                    out.append(save_line(rule))
        out.append("COMMIT")
    out.append("")
    return "\n".join(out)
