"""Upstream's test normalizer (``sortIPTablesRules``): order a payload so it no longer depends on Service order."""

from __future__ import annotations

from functools import cmp_to_key

from kproxy_tutor.sandbox.iptables.parse import parse_payload
from kproxy_tutor.sandbox.iptables.render import restore_line
from kproxy_tutor.sandbox.iptables.rules import DeleteChain, Rule


def _service_name(rule: Rule) -> str | None:
    comment = rule.comment
    if comment is None:
        return None
    for i, c in enumerate(comment):
        if c in " :":
            return comment[:i]
    return comment


def _by_service(a: Rule, b: Rule) -> int:
    # Like upstream's orderByCommentServiceName: rules without a comment compare equal.
    name_a, name_b = _service_name(a), _service_name(b)
    if name_a is None or name_b is None:
        return 0
    return (name_a > name_b) - (name_a < name_b)


def _last_rule_first(a: Rule, b: Rule) -> int:
    a_last = a.comment is not None and "must be the last rule" in a.comment
    b_last = b.comment is not None and "must be the last rule" in b.comment
    if a_last:
        return 0 if b_last else 1
    if b_last:
        return -1
    return _by_service(a, b)


def _chain_key(name: str) -> tuple[int, str]:
    if name == "KUBE-NODEPORTS":
        return (0, "")
    if name == "KUBE-SERVICES":
        return (1, "")
    return (2, name) if name.startswith("KUBE-") else (3, name)


def sort_iptables_rules(text: str) -> str:
    """Re-emit a restore payload in upstream's test order (tables, then chains, then rules by Service)."""
    payload = parse_payload(text.lstrip())
    out: list[str] = []
    for table in sorted(payload.tables, key=lambda t: t.name):
        chains = sorted(dict.fromkeys(table.declared), key=_chain_key)
        rules: dict[str, list[Rule]] = {c: [] for c in chains}
        deleted = set()
        for line in table.lines:
            if isinstance(line, DeleteChain):
                deleted.add(line.chain)
            else:
                rules.setdefault(line.chain, []).append(line)
        for name in ("KUBE-NODEPORTS", "KUBE-SERVICES"):
            if name in rules:
                compare = _last_rule_first if (table.name, name) == ("nat", "KUBE-SERVICES") else _by_service
                rules[name] = sorted(rules[name], key=cmp_to_key(compare))
        out.append(f"*{table.name}")
        out.extend(f":{c} - [0:0]" for c in chains)
        for c in chains:
            out.extend(restore_line(r) for r in rules[c])
        out.extend(f"-X {c}" for c in chains if c in deleted)
        out.append("COMMIT")
    out.append("")
    return "\n".join(out)
