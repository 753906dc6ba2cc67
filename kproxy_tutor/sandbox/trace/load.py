"""Open many connections and count where they land, next to the shares the rules' probabilities promise.

The expected shares are read from the rules themselves, not from the cluster: in the chain
that picks the endpoint, rule *i* is taken with probability ``pᵢ·∏(1−pⱼ)`` over the rules
before it (a rule without ``-m statistic`` has ``p = 1``), and the rule's KUBE-SEP chain
names the endpoint in its DNAT.
"""

from __future__ import annotations

import gc
from collections import Counter
from dataclasses import dataclass

from kproxy_tutor.sandbox.iptables.rules import Dnat, Goto, Jump, RecentMatch, Ruleset, StatisticMatch
from kproxy_tutor.sandbox.packet import OutcomeKind, StepKind, Trace
from kproxy_tutor.sandbox.trace.mode_kernel import ModeTracer
from kproxy_tutor.sandbox.trace.tracer import Client, Tracer
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress


def outcome_key(trace: Trace) -> str:
    """What a connection's result is counted under: the endpoint, or the outcome kind."""
    outcome = trace.outcome
    if outcome.kind == OutcomeKind.DELIVERED and outcome.endpoint is not None:
        return outcome.endpoint
    return outcome.kind


def balancing_chain(trace: Trace) -> tuple[str, str] | None:
    """(table, chain) whose rule jumped to the endpoint chain that DNATed the packet."""
    dnat_chain = next((s.chain for s in trace.steps if s.kind == StepKind.DNAT and s.rule is not None), None)
    if dnat_chain is None:
        return None
    for step in trace.steps:
        target = step.rule.target if step.rule is not None else None
        if step.kind == StepKind.RULE and isinstance(target, Jump | Goto) and target.chain == dnat_chain:
            return (step.table or "nat", step.chain or "")
    return None


def expected_shares(ruleset: Ruleset, table: str, chain: str) -> dict[str, float]:
    """Endpoint → the share of new connections the chain's statistic rules give it."""
    rules = ruleset.tables[table].chains[chain].rules
    shares: dict[str, float] = {}
    remaining = 1.0
    for rule in rules:
        target = rule.target
        if not isinstance(target, Jump | Goto) or not target.chain.startswith("KUBE-SEP-"):
            continue
        statistic = next((m for m in rule.matches if isinstance(m, StatisticMatch)), None)
        if any(isinstance(m, RecentMatch) for m in rule.matches):
            continue  # affinity checks only repeat an earlier choice
        probability = 1.0 if statistic is None else statistic.probability_fraction
        endpoint = _dnat_destination(ruleset, table, target.chain)
        if endpoint is not None:
            shares[endpoint] = shares.get(endpoint, 0.0) + remaining * probability
        remaining *= 1.0 - probability
        if statistic is None:
            break
    return shares


def _dnat_destination(ruleset: Ruleset, table: str, chain: str) -> str | None:
    found = ruleset.tables[table].chains.get(chain)
    for rule in found.rules if found is not None else ():
        if isinstance(rule.target, Dnat):
            return rule.target.to_destination
    return None


@dataclass(frozen=True, slots=True)
class LoadResult:
    count: int
    #: Outcome key (endpoint ``ip:port``, or ``rejected``/``dropped``/``not_service``) → connections.
    counts: dict[str, int]
    #: Endpoint → expected share from the rules' probabilities (empty if no balancing chain).
    expected: dict[str, float]
    #: The chain whose probabilities ``expected`` comes from.
    chain: str | None
    #: Connections that went to an endpoint chosen by an affinity (``recent --rcheck``) rule.
    sticky: int
    first: Trace


def run_load(
    tracer: Tracer,
    client: Client,
    dst_ip: str,
    dst_port: int,
    protocol: str,
    count: int,
    interval: float = 0.001,
    progress: Progress | None = None,
) -> LoadResult:
    """``count`` new connections (each a new source port, so a new conntrack entry), ``interval`` seconds apart.

    ``progress("trace", done, count)`` is called every few hundred connections.
    """
    first = tracer.connect(client, dst_ip, dst_port, protocol, record=True, reply=False)
    counts: Counter[str] = Counter({outcome_key(first): 1})
    sticky = _was_sticky(first)
    # The first connection compiled the node's rules (hundreds of thousands of long-lived objects
    # at 10,000 Services): keep the collector from walking them again and again during the batch.
    # (Again every few hundred connections: a connection that crossed to another node compiled that
    # node's.) A caller that froze objects itself keeps them frozen; otherwise they go back afterwards.
    thawed = count > 1 and gc.get_freeze_count() == 0
    if count > 1:
        gc.freeze()
    try:
        for index in range(1, count):
            if not index & PROGRESS_MASK:
                # Another node's rules may have been compiled for a connection that crossed to it.
                gc.freeze()
                if progress is not None:
                    progress("trace", index, count)
            tracer.advance(interval)
            trace = tracer.connect(
                client, dst_ip, dst_port, protocol, record=sticky > 0 or _has_affinity(first), reply=False
            )
            counts[outcome_key(trace)] += 1
            sticky += _was_sticky(trace)
    finally:
        if thawed:
            gc.unfreeze()
    chain, expected = _promised(tracer, first, client)
    return LoadResult(count, dict(counts), expected, chain, sticky, first)


def _promised(tracer: Tracer, first: Trace, client: Client) -> tuple[str | None, dict[str, float]]:
    """The chain (IPVS: virtual server) that chose the endpoint, and the shares it promises."""
    if isinstance(tracer, ModeTracer):
        found = tracer.expected_shares(first)
        return found if found is not None else (None, {})
    where = balancing_chain(first)
    if where is None:
        return None, {}
    ruleset = tracer.network.node(first.source_node or client.node).rules()
    return where[1], expected_shares(ruleset, *where)


def _has_affinity(trace: Trace) -> bool:
    return any(s.kind == StepKind.MISS and "recent" in s.detail for s in trace.steps)


def _was_sticky(trace: Trace) -> int:
    """1 when session affinity repeated an earlier choice: iptables ``recent --rcheck`` hit, an nftables
    affinity set, or IPVS persistence (``sticky`` on the step)."""
    return int(
        any(
            (
                s.kind == StepKind.RULE
                and s.detail.get("recent")
                and s.detail.get("hit")
                and s.detail.get("command") == "rcheck"
            )
            or s.detail.get("sticky") is True
            for s in trace.steps
        )
    )
