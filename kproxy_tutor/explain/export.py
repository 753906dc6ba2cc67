"""``explain -o json``: the explanation as plain data (schema: docs/explain-json.md, ``SCHEMA_VERSION``)."""

from __future__ import annotations

from collections.abc import Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from kproxy_tutor.explain.model import (
    LESSON_STEPS,
    Explanation,
    Finding,
    RuleNote,
    ServicePortView,
    fraction_text,
)

SCHEMA_VERSION = 1


def _lesson(key: str | None) -> dict[str, str] | None:
    if key is None or key not in LESSON_STEPS:
        return None
    lesson, step = LESSON_STEPS[key]
    return {"lesson": lesson, "step": step}


def _rule(note: RuleNote) -> dict[str, Any]:
    return {
        "table": note.table,
        "chain": note.chain,
        "rule": note.text,
        "kind": note.code,
        "params": dict(note.params),
        "lesson": _lesson(note.lesson),
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "service_port": finding.service,
        "params": dict(finding.params),
        "lesson": _lesson(finding.lesson),
    }


def _port(v: ServicePortView) -> dict[str, Any]:
    return {
        "name": v.name,
        "protocol": v.protocol,
        "port": v.port,
        "cluster_ips": v.cluster_ips,
        "node_ports": v.node_ports,
        "external_ips": v.external_ips,
        "load_balancer_ips": v.load_balancer_ips,
        "load_balancer_source_ranges": v.source_ranges,
        "health_check_node_port": v.health_check_node_port,
        "internal_traffic_policy": v.internal_policy,
        "external_traffic_policy": v.external_policy,
        "session_affinity_seconds": v.affinity_seconds,
        "no_endpoints": v.no_endpoints,
        "no_local_endpoints": v.no_local_endpoints,
        "endpoints": [
            {
                "address": e.address,
                "chain": e.chain,
                "local": e.local,
                "probability": fraction_text(e.probability),
                "share": fraction_text(e.share),
            }
            for e in (*v.endpoints, *v.local_endpoints)
        ],
        "chains": v.chains,
        "rules": [_rule(n) for n in v.rules],
    }


def to_data(
    explanation: Explanation, differences: list[Finding] | None = None, ports: bool = True
) -> dict[str, Any]:
    """Everything ``explain`` shows, as JSON-ready values; ``differences`` only with ``-f``.

    ``ports=False`` leaves a marker where the Service ports go (:func:`json_pieces` writes them).
    """
    return {
        "schema": SCHEMA_VERSION,
        "format": explanation.format,
        "mode": explanation.mode,
        "summary": {
            "services": len(explanation.services),
            "service_ports": len(explanation.service_ports),
            "endpoints": explanation.endpoint_count,
            "rules_per_table": dict(explanation.tables),
        },
        "service_ports": [_port(v) for v in explanation.service_ports] if ports else _PORTS_HERE,
        "kube_proxy_rules": [_rule(n) for n in explanation.fixed],
        "not_kube_proxy": {
            "chains": [
                {"table": c.table, "chain": c.chain, "rules": c.rules, "owner": c.owner}
                for c in explanation.foreign_chains
            ],
            "tables": [
                {"table": t.table, "chains": t.chains, "owner": t.owner} for t in explanation.foreign_tables
            ],
            "rules_in_builtin_chains": dict(explanation.foreign_hook_rules),
            "rules_in_kube_proxy_chains": [_rule(n) for n in explanation.unknown],
            "unreadable": [{"location": loc, "line": text} for loc, text in explanation.unreadable],
        },
        "other_versions": [{"seen": seen, "version": era} for seen, era in explanation.versions],
        "findings": [_finding(f) for f in explanation.findings],
        "differences": None if differences is None else [_finding(f) for f in differences],
    }


def to_json(explanation: Explanation, differences: list[Finding] | None = None) -> str:
    """``json.dumps(to_data(…), ensure_ascii=False, indent=2)``, written faster: :func:`json_pieces` joined."""
    return "".join(json_pieces(explanation, differences)).removesuffix("\n")


def json_pieces(explanation: Explanation, differences: list[Finding] | None = None) -> Iterator[str]:
    """The JSON text (and a final newline) in pieces, each Service port encoded when its turn
    comes: a big node's explanation is written while it is encoded, never held whole.

    With ``indent`` the standard library encodes in Python, one generator step per value; a big
    node's explanation has millions. ``_encode`` writes the same text for the values ``to_data``
    holds (dicts with string keys, lists, strings, integers, booleans, None), one call per
    container, and leaves anything else to the standard library."""
    import json

    ports = explanation.service_ports
    data = to_data(explanation, differences, ports=False)
    try:
        whole = _encode(data, 0)
    except _Unusual:
        whole = json.dumps(data, ensure_ascii=False, indent=2)
    head, _marker, tail = whole.partition(encode_basestring(_PORTS_HERE))
    yield head
    if not ports:
        yield "[]"
    else:
        yield "["
        inner = _INDENTS[2]
        for number, view in enumerate(ports):
            item = _port(view)
            try:
                text = _encode(item, 2)
            except _Unusual:
                # The standard library's text for this element as it sits two levels deep.
                text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", inner)
            yield ("," if number else "") + inner + text
        yield _INDENTS[1] + "]"
    yield tail + "\n"


#: Where the Service ports go in the encoded document (no explanation holds this string).
_PORTS_HERE = "\x00service ports\x00"


class _Unusual(Exception):
    """A value ``_encode`` leaves to the standard library (a float, a key that is not a string…)."""


_INDENTS = ["\n" + "  " * level for level in range(64)]


def _encode(value: object, level: int) -> str:
    kind = value.__class__
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if level >= len(_INDENTS) - 1:
        raise _Unusual
    inner = _INDENTS[level + 1]
    if kind is dict:
        if not value:
            return "{}"
        parts = []
        for key, item in value.items():  # type: ignore[attr-defined]
            if key.__class__ is not str:
                raise _Unusual
            item_kind = item.__class__
            if item_kind is str:
                parts.append(f"{inner}{encode_basestring(key)}: {encode_basestring(item)}")
            else:
                parts.append(f"{inner}{encode_basestring(key)}: {_encode(item, level + 1)}")
        return "{" + ",".join(parts) + _INDENTS[level] + "}"
    if kind is list:
        if not value:
            return "[]"
        parts = [inner + _encode(item, level + 1) for item in value]  # type: ignore[attr-defined]
        return "[" + ",".join(parts) + _INDENTS[level] + "]"
    raise _Unusual
