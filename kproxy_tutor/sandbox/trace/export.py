"""Traces and load results as plain JSON-ready data, with the stable field names documented in docs/trace-json.md."""

from __future__ import annotations

from typing import Any

from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.packet import Outcome, OutcomeKind, Packet, StepKind, Trace, TraceStep
from kproxy_tutor.sandbox.trace.load import LoadResult
from kproxy_tutor.sandbox.trace.request import Destination
from kproxy_tutor.sandbox.trace.socket_errors import socket_errors
from kproxy_tutor.sandbox.trace.tracer import Client

FORMAT_VERSION = 1


def packet_data(packet: Packet | None) -> dict[str, Any] | None:
    if packet is None:
        return None
    return {
        "protocol": packet.protocol,
        "src": packet.source,
        "dst": packet.destination,
        "mark": f"0x{packet.mark:x}",
    }


def step_data(step: TraceStep) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "node": step.node,
        "direction": step.direction,
        "hook": step.hook,
        "table": step.table,
        "chain": step.chain,
        # nftables rules are kept as ``nft list`` prints them
        "rule": save_line(step.rule) if step.rule is not None else step.detail.get("nft_rule"),
        "rule_number": step.rule_number,
        "examined": step.examined,
        "packet": packet_data(step.packet),
        "detail": dict(step.detail),
    }


def outcome_data(outcome: Outcome) -> dict[str, Any]:
    return {
        "outcome": outcome.kind,
        "endpoint": outcome.endpoint if outcome.kind != "not_service" else None,
        "delivered_to": outcome.endpoint,
        "endpoint_node": outcome.endpoint_node,
        "endpoint_pod": outcome.endpoint_pod,
        "route": outcome.route,
        "masquerade": outcome.masquerade,
        "snat_source": outcome.snat_source,
        "snat_interface": outcome.snat_interface,
        "masquerade_reasons": [
            {
                "reason": s.reason,
                "table": s.table,
                "chain": s.chain,
                # nftables and IPVS setters name only their chain
                "rule": save_line(s.rule) if s.rule is not None else None,
            }
            for s in outcome.mark_setters
        ],
        "rule": save_line(outcome.rule) if outcome.rule is not None else None,
        "table": outcome.table,
        "chain": outcome.chain,
    }


def trace_data(
    trace: Trace,
    client: Client | None = None,
    destination: Destination | None = None,
    load: LoadResult | None = None,
    *,
    mode: str = "iptables",
    seed: int | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"version": FORMAT_VERSION, "mode": mode, "seed": seed}
    if client is not None:
        data["from"] = {"kind": client.kind, "ip": client.ip, "node": client.node, "name": client.name}
    if destination is not None:
        data["to"] = {
            "ip": destination.ip,
            "port": destination.port,
            "protocol": destination.protocol,
            "service": destination.service,
            "port_name": destination.port_name,
            "dns_name": destination.dns_name,
            "kind": destination.kind,
            "owner": destination.owner,
            "family": destination.family,
        }
    data.update(outcome_data(trace.outcome))
    if data["rule"] is None and trace.outcome.kind in (OutcomeKind.REJECTED, OutcomeKind.DROPPED):
        data["rule"] = _nft_verdict_rule(trace)
    data.update(
        {
            "service": trace.service,
            "wrong_port_of": trace.wrong_port_of,
            "packet": packet_data(trace.packet),
            "rules_examined": trace.rules_examined,
            "rules_examined_by_table": dict(trace.examined_by_table),
            "client_errors": list(socket_errors(trace)),
            "established": trace.established,
            "reply": packet_data(trace.reply),
            "steps": [step_data(step) for step in trace.steps],
        }
    )
    data["load"] = None
    if load is not None:
        data["load"] = {
            "connections": load.count,
            "counts": dict(sorted(load.counts.items())),
            "expected": dict(sorted(load.expected.items())),
            "chain": load.chain,
            "sticky": load.sticky,
        }
    return data


def _nft_verdict_rule(trace: Trace) -> str | None:
    """The nftables rule whose ``reject``/``drop`` ended the request (null for an iptables chain policy)."""
    for step in reversed(trace.steps):
        if step.kind == StepKind.VERDICT and step.direction == "request":
            rule = step.detail.get("nft_rule")
            return rule if isinstance(rule, str) else None
    return None
