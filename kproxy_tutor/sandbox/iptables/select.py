"""Pick the part of a ruleset or payload that belongs to one Service (its chains, and rules that name it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kproxy_tutor.sandbox.iptables.names import port_proto_hash
from kproxy_tutor.sandbox.iptables.rules import (
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
from kproxy_tutor.sandbox.iptables.structure import rule_from_lines

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.iptables.proxier import Proxier


def _mentions(rule: Rule, prefix: str) -> bool:
    comment = rule.comment
    if comment is None:
        return False
    for word in (comment, *comment.split()):
        if word == prefix or word.startswith((prefix + ":", prefix + " ")):
            return True
    return False


def service_chains(ruleset: Ruleset, port_names: Iterable[tuple[str, str]]) -> set[str]:
    """SVC/SVL/EXT/FW chains of the given (port name string, protocol) pairs and the SEP chains they reach."""
    tokens = {port_proto_hash(name, protocol.lower()) for name, protocol in port_names}
    chains = {f"KUBE-{kind}-{token}" for token in tokens for kind in ("SVC", "SVL", "EXT", "FW")}
    nat = ruleset.tables.get("nat")
    if nat is not None:
        for name in list(chains):
            chain = nat.chains.get(name)
            for rule in chain.rules if chain is not None else ():
                if isinstance(rule.target, Jump | Goto) and rule.target.chain.startswith("KUBE-SEP-"):
                    chains.add(rule.target.chain)
    return chains


def select_ruleset(ruleset: Ruleset, namespace: str, name: str, chains: set[str]) -> Ruleset:
    prefix = f"{namespace}/{name}"
    selected = Ruleset()
    for table in ruleset.tables.values():
        out = None
        for chain in table.chains.values():
            keep = chain.name in chains
            rules = (
                list(chain.rules)
                if keep
                else [
                    r
                    for r in chain.rules
                    if _mentions(r, prefix) or (isinstance(r.target, Jump) and r.target.chain in chains)
                ]
            )
            if keep or rules:
                out = out or selected.tables.setdefault(table.name, type(table)(table.name))
                out.chains[chain.name] = Chain(chain.name, chain.policy, rules, chain.counters)
    return selected


def select_payload(payload: Payload, namespace: str, name: str, chains: set[str]) -> Payload:
    prefix = f"{namespace}/{name}"
    selected = Payload()
    for table in payload.tables:
        lines: list[Rule | DeleteChain | str] = []
        saves: list[str | None] = []
        table_saves = table.saves or [None] * len(table.lines)
        for line, save in zip(table.lines, table_saves, strict=True):
            if line.__class__ is str:
                rule = None
                if not line[3:].startswith(tuple(f"{c} " for c in chains)):  # type: ignore[index]
                    if prefix not in line and not any(f"-j {c}" in line for c in chains):  # type: ignore[operator]
                        continue
                    rule = rule_from_lines(line, save) if save is not None else rule_from_line(line)  # type: ignore[arg-type]
                if rule is None or _mentions(rule, prefix) or _jumps_into(rule, chains):
                    lines.append(line)
                    saves.append(save)
                continue
            if line.chain in chains or (  # type: ignore[union-attr]
                isinstance(line, Rule) and (_mentions(line, prefix) or _jumps_into(line, chains))
            ):
                lines.append(line)
                saves.append(save)
        declared = [c for c in table.declared if c in chains]
        selected.tables.append(
            PayloadTable(table.name, declared, lines, saves if table.saves is not None else None)
        )
    return selected


def _jumps_into(rule: Rule, chains: set[str]) -> bool:
    return isinstance(rule.target, Jump) and rule.target.chain in chains


def service_rules(proxier: Proxier, namespace: str, name: str) -> list[Rule]:
    ports = [(str(n), n.protocol) for n in proxier.svc_port_map if n.service_key == (namespace, name)]
    ruleset = proxier.kernel.ruleset
    view = select_ruleset(ruleset, namespace, name, service_chains(ruleset, ports))
    return [r for t in view.tables.values() for c in t.chains.values() for r in c.rules]
