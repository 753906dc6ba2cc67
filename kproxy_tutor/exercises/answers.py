"""``answer`` checks: the expected value is computed from the sandbox, then compared with what was typed.

An expectation is data, ``{probability: {service: db-service, index: 2}}``; its value comes from
the compiled rules or a fresh trace at check time, so editing a scenario can never leave a stale
answer behind. Numbers are compared as numbers (``0.25``, ``1/4``, ``25%`` and ``0.2500000000`` are
the same), names without regard to case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kproxy_tutor.errors import N_, ContentError
from kproxy_tutor.exercises import lookup

if TYPE_CHECKING:
    from kproxy_tutor.exercises.state import ExerciseState

Expectation = Callable[["ExerciseState", Mapping[str, Any]], tuple[str, ...]]


def _probability(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    value = lookup.probability(state.ruleset, str(p["service"]), int(p["index"]))
    return (lookup.require(value, f"a probability on jump {p['index']}"),)


def _cluster_ip(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    service = lookup.service_of(state.session.cluster, str(p["service"]))
    return (lookup.require(service.cluster_ip if service else None, "a ClusterIP"),)


def _chain(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    chain = lookup.service_chain(state.ruleset, str(p["service"]), str(p.get("kind", "svc")))
    return (lookup.require(chain, "a service chain"),)


def _mark_chain(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    """The chain whose rule set the masquerade mark on a fresh request ``from`` -> ``to``."""
    from kproxy_tutor.shell.net_commands import client_text

    tracer = state.fresh_tracer()
    target = lookup.target_text(state.session.cluster, p["to"])
    try:
        trace = tracer.curl(client_text(state.session, str(p["from"])), target)
    except Exception:  # the request cannot be sent in this state: nothing is expected yet
        return ()
    return tuple(m.chain for m in trace.outcome.mark_setters[:1])


def _masquerade_mark(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    mark = lookup.masquerade_mark(state.ruleset)
    return (hex(int(lookup.require(mark, "a masquerade mark"))),)


def _nft_replacement(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    chain, vmap = lookup.nft_replacement(state.compiled("nftables").state)
    return tuple(v for v in (lookup.require(chain, "a services chain"), vmap) if v)


def _nft_service_chain(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    table = state.compiled("nftables").state
    chain = lookup.nft_service_chain(table, state.session.cluster, str(p["service"]))
    return (lookup.require(chain, "an nftables service chain"),)


def _nft_numgen_mod(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    table = state.compiled("nftables").state
    chain = lookup.nft_service_chain(table, state.session.cluster, str(p["service"]))
    return (lookup.require(lookup.nft_numgen_mod(table, chain), "numgen random mod N"),)


def _stale_service(state: ExerciseState, p: Mapping[str, Any]) -> tuple[str, ...]:
    """The Service(s) whose chains nothing leads to in a shipped dump, found by explain's own analysis."""
    from kproxy_tutor.explain.samples import stale_services

    names = stale_services(str(p["dump"]))
    lookup.require(", ".join(names), "a stale Service")
    # ``default/NAME``, or NAME alone, as kubectl takes a name in the default namespace.
    short = tuple(n.split("/", 1)[1] for n in names if n.startswith("default/"))
    return (*names, *short)


#: Expectation kind -> (how to compute it, required parameters, how typed values compare).
EXPECTATIONS: dict[str, tuple[Expectation, tuple[str, ...], str]] = {
    "probability": (_probability, ("service", "index"), "number"),
    "cluster_ip": (_cluster_ip, ("service",), "name"),
    "chain": (_chain, ("service",), "name"),
    "mark_chain": (_mark_chain, ("from", "to"), "name"),
    "masquerade_mark": (_masquerade_mark, (), "integer"),
    "nft_replacement": (_nft_replacement, (), "name"),
    "nft_service_chain": (_nft_service_chain, ("service",), "name"),
    "nft_numgen_mod": (_nft_numgen_mod, ("service",), "integer"),
    "stale_service": (_stale_service, ("dump",), "name"),
}


def parse_expectation(expect: Any) -> tuple[str, Mapping[str, Any]]:
    """``{kind: {params}}`` -> (kind, params); a ContentError when it is not one of EXPECTATIONS."""
    if not isinstance(expect, Mapping) or len(expect) != 1:
        raise ContentError(
            N_("{field}: expected one expectation as {{kind: {{parameters}}}}."), field="expect"
        )
    kind, params = next(iter(expect.items()))
    params = params or {}
    if kind not in EXPECTATIONS or not isinstance(params, Mapping):
        raise ContentError(
            N_("{field}: unknown expectation {kind!r}; known: {known}."),
            field="expect",
            kind=kind,
            known=", ".join(EXPECTATIONS),
        )
    missing = [k for k in EXPECTATIONS[kind][1] if k not in params]
    if missing:
        raise ContentError(
            N_("{field}: {kind} needs {missing}."), field="expect", kind=kind, missing=", ".join(missing)
        )
    return str(kind), params


def expected_values(state: ExerciseState, expect: Any) -> tuple[str, ...]:
    """Every accepted value, the first being the one to show (as the rules write it)."""
    kind, params = parse_expectation(expect)
    return EXPECTATIONS[kind][0](state, params)


def number_of(text: str) -> float | None:
    """``0,25``, ``0.25``, ``1/4`` and ``25%`` as a number; None when it is not one."""
    value = text.strip().replace(",", ".").replace(" ", "")
    try:
        if value.endswith("%"):
            return float(value[:-1]) / 100
        if "/" in value:
            top, bottom = value.split("/", 1)
            return float(top) / float(bottom)
        return float(value)
    except (ValueError, ZeroDivisionError):
        return None


def integer_of(text: str) -> int | None:
    """``0x4000``, ``0x00004000``, ``0x4000/0x4000`` (value/mask) and ``16384`` as an integer."""
    value = text.strip().split("/")[0]
    try:
        return int(value, 0)
    except ValueError:
        return None


def matches(typed: str, expected: str, how: str) -> bool:
    if how == "number":
        a, b = number_of(typed), number_of(expected)
        return a is not None and b is not None and abs(a - b) < 5e-7
    if how == "integer":
        x, y = integer_of(typed), integer_of(expected)
        return x is not None and x == y
    return typed.strip().casefold() == expected.strip().casefold()


def check_answer(state: ExerciseState, expect: Any, typed: str) -> bool:
    kind, _params = parse_expectation(expect)
    how = EXPECTATIONS[kind][2]
    return any(matches(typed, value, how) for value in expected_values(state, expect))
