"""The check kinds an exercise can declare, each run on the sandbox's state, rules or traces.

A check never looks at the text the learner typed: it reads the cluster, the compiled rules, the
traces the learner's curls produced, or runs fresh requests through the evaluator. Each returns
pass or fail with a msgid (translated by the UI) saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kproxy_tutor.errors import N_, TutorError
from kproxy_tutor.exercises import lookup
from kproxy_tutor.exercises.answers import check_answer
from kproxy_tutor.exercises.state import ExerciseState
from kproxy_tutor.sandbox.packet import OutcomeKind

#: How many fresh requests the trace checks send (enough to reach every endpoint of a small Service).
SAMPLE = 24


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    #: A msgid; formatted with ``params`` after translation.
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    #: Names of ``params`` whose values are msgids themselves (translated before formatting).
    translated: tuple[str, ...] = ()


#: How a request ended, in words (OutcomeKind codes -> msgids).
OUTCOME_WORDS = {
    OutcomeKind.DELIVERED: N_("delivered to a Pod"),
    OutcomeKind.REJECTED: N_("rejected"),
    OutcomeKind.DROPPED: N_("dropped"),
    OutcomeKind.NOT_SERVICE: N_("not translated by kube-proxy"),
}

Params = Mapping[str, Any]
CheckFunction = Callable[[ExerciseState, Params], CheckResult]


@dataclass(frozen=True)
class CheckKind:
    run: CheckFunction
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


def _result(passed: bool, good: str, bad: str, **params: Any) -> CheckResult:
    return CheckResult(passed, good if passed else bad, params)


def service_exists(state: ExerciseState, p: Params) -> CheckResult:
    namespace, name = lookup.split_name(str(p["name"]))
    service = state.session.cluster.services.get((namespace, name))
    if service is None:
        return CheckResult(
            False,
            N_("There is no Service {name} in namespace {namespace} yet."),
            {"name": name, "namespace": namespace},
        )
    protocol = str(p.get("protocol", "TCP")).upper()
    if "port" in p and not any(sp.port == int(p["port"]) and sp.protocol == protocol for sp in service.ports):
        have = ", ".join(f"{sp.port}/{sp.protocol}" for sp in service.ports) or "-"
        return CheckResult(
            False,
            N_("Service {name} exists, but listens on {have}, not on {port}/{protocol}."),
            {"name": name, "have": have, "port": p["port"], "protocol": protocol},
        )
    return CheckResult(True, N_("Service {name} exists."), {"name": name})


def service_type(state: ExerciseState, p: Params) -> CheckResult:
    service = lookup.service_of(state.session.cluster, str(p["name"]))
    have = service.type if service else "-"
    return _result(
        have == p["type"],
        N_("Service {name} has type {type}."),
        N_("Service {name} has type {have}, not {type}."),
        name=p["name"],
        type=p["type"],
        have=have,
    )


def service_affinity(state: ExerciseState, p: Params) -> CheckResult:
    service = lookup.service_of(state.session.cluster, str(p["name"]))
    have = service.session_affinity if service else "-"
    return _result(
        have == p["affinity"],
        N_("Service {name} has sessionAffinity {affinity}."),
        N_("Service {name} has sessionAffinity {have}, not {affinity}."),
        name=p["name"],
        affinity=p["affinity"],
        have=have,
    )


def ready_endpoints(state: ExerciseState, service: str) -> int:
    namespace, name = lookup.split_name(service)
    return sum(
        1
        for s in state.session.cluster.slices_of(namespace, name)
        for e in s.endpoints
        if e.conditions.ready is not False
    )


def endpoints_count(state: ExerciseState, p: Params) -> CheckResult:
    have = ready_endpoints(state, str(p["service"]))
    return _result(
        have == int(p["n"]),
        N_("Service {service} has {n} ready endpoints."),
        N_("Service {service} has {have} ready endpoints; the task needs {n}."),
        service=p["service"],
        n=p["n"],
        have=have,
    )


def deployment_replicas(state: ExerciseState, p: Params) -> CheckResult:
    deployment = state.session.cluster.deployments.get(lookup.split_name(str(p["name"])))
    have = deployment.replicas if deployment else 0
    return _result(
        have == int(p["n"]),
        N_("Deployment {name} has {n} replicas."),
        N_("Deployment {name} has {have} replicas; the task needs {n}."),
        name=p["name"],
        n=p["n"],
        have=have,
    )


def current_node(state: ExerciseState, p: Params) -> CheckResult:
    have = state.session.node
    return _result(
        have == p["name"],
        N_("You are looking at node {name}."),
        N_("You are looking at node {have}, not {name}."),
        name=p["name"],
        have=have,
    )


def rule_probability(state: ExerciseState, p: Params) -> CheckResult:
    have = lookup.probability(state.ruleset, str(p["service"]), int(p["index"]))
    return _result(
        have == str(p["value"]),
        N_("Jump {index} of {service}'s chain has probability {value}."),
        N_("Jump {index} of {service}'s chain has probability {have}, not {value}."),
        service=p["service"],
        index=p["index"],
        value=p["value"],
        have=have or "-",
    )


def _chain_name(state: ExerciseState, p: Params) -> str | None:
    if "chain" in p:
        return str(p["chain"])
    return lookup.service_chain(state.ruleset, str(p["service"]), str(p.get("kind", "svc")))


def _chains(state: ExerciseState, p: Params) -> set[str]:
    mode = str(p.get("mode", state.mode))
    if mode == "iptables":
        return {c for t in state.ruleset.tables.values() for c in t.chains}
    return set(getattr(state.compiled(mode).state, "chains", {}))


def chain_present(state: ExerciseState, p: Params) -> CheckResult:
    chain = _chain_name(state, p)
    present = chain is not None and chain in _chains(state, p)
    return _result(
        present,
        N_("Chain {chain} is in the rules."),
        N_("Chain {chain} is not in the rules."),
        chain=chain or p.get("service", "-"),
    )


def chain_absent(state: ExerciseState, p: Params) -> CheckResult:
    chain = _chain_name(state, p)
    absent = chain is None or chain not in _chains(state, p)
    return _result(
        absent,
        N_("Chain {chain} is gone from the rules."),
        N_("Chain {chain} is still in the rules."),
        chain=chain or p.get("service", "-"),
    )


def mode_is(state: ExerciseState, p: Params) -> CheckResult:
    return _result(
        state.mode == p["mode"],
        N_("kube-proxy runs in {mode} mode."),
        N_("kube-proxy runs in {have} mode, not {mode}."),
        mode=p["mode"],
        have=state.mode,
    )


def _sample(state: ExerciseState, source: str, target: str, count: int) -> list[Any]:
    from kproxy_tutor.shell.net_commands import client_text

    tracer = state.fresh_tracer()
    client, destination = tracer.resolve(client_text(state.session, source), target, None, None)
    return [tracer.connect(client, destination) for _ in range(count)]


def trace_outcome(state: ExerciseState, p: Params) -> CheckResult:
    target = lookup.target_text(state.session.cluster, p["to"])
    params = {"source": p["from"], "target": target or "-"}
    unsent = CheckResult(False, N_("A request from {source} to {target} cannot even be sent yet."), params)
    if not target:
        return unsent  # e.g. the Service has no NodePort yet
    try:
        traces = _sample(state, str(p["from"]), target, SAMPLE)
    except TutorError:
        return unsent
    wanted = str(p.get("outcome", OutcomeKind.DELIVERED))
    kinds = {t.outcome.kind for t in traces}
    if kinds != {wanted}:
        have = sorted(kinds)[0] if len(kinds) == 1 else ""
        return CheckResult(
            False,
            N_("A request from {source} to {target} is {have}, not {outcome}."),
            {
                **params,
                "have": OUTCOME_WORDS.get(have, N_("sometimes one thing, sometimes another")),
                "outcome": OUTCOME_WORDS.get(wanted, wanted),
            },
            ("have", "outcome"),
        )
    if "masquerade" in p and any(t.outcome.masquerade != bool(p["masquerade"]) for t in traces):
        if p["masquerade"]:
            return CheckResult(
                False,
                N_(
                    "A request from {source} to {target} keeps its source address; "
                    "the task needs it masqueraded."
                ),
                params,
            )
        return CheckResult(
            False,
            N_(
                "A request from {source} to {target} is masqueraded; the task needs "
                "it to keep its source address."
            ),
            params,
        )
    if p.get("endpoints") == "all" and "service" in p:
        reached = {t.outcome.endpoint for t in traces}
        if len(reached) < ready_endpoints(state, str(p["service"])):
            return CheckResult(
                False, N_("Requests from {source} to {target} do not reach every endpoint."), params
            )
    return CheckResult(
        True,
        N_("A request from {source} to {target} is {outcome}."),
        {**params, "outcome": OUTCOME_WORDS.get(wanted, wanted)},
        ("outcome",),
    )


def affinity_sticky(state: ExerciseState, p: Params) -> CheckResult:
    params = {"source": p["from"], "service": p["service"]}
    try:
        traces = _sample(state, str(p["from"]), str(p["service"]), int(p.get("n", 10)))
    except TutorError:
        return CheckResult(False, N_("A request from {source} to {service} cannot even be sent yet."), params)
    pods = {t.outcome.endpoint_pod for t in traces if t.outcome.kind == OutcomeKind.DELIVERED}
    return _result(
        len(pods) == 1 and len(traces) > 1,
        N_("Every request from {source} to {service} reaches one Pod."),
        N_("Requests from {source} to {service} reach {n} different Pods."),
        **params,
        n=len(pods),
    )


def traced(state: ExerciseState, p: Params) -> CheckResult:
    """The learner's own curls: at least ``min_count`` traces from ``from`` to ``service`` with these properties."""
    cluster = state.session.cluster
    namespace, name = lookup.split_name(str(p["service"]))
    found = [
        t
        for t in state.traces
        if t.service == f"{namespace}/{name}"
        and ("from" not in p or lookup.from_matches(cluster, t, str(p["from"])))
    ]
    if "masquerade" in p:
        found = [t for t in found if t.outcome.masquerade == bool(p["masquerade"])]
    if "outcome" in p:
        found = [t for t in found if t.outcome.kind == p["outcome"]]
    wanted = int(p.get("min_count", 1))
    params = {"service": name, "source": p.get("from", "-"), "n": wanted}
    if len(found) < wanted:
        return CheckResult(
            False, N_("You have not yet traced enough requests from {source} to {service} (curl)."), params
        )
    if p.get("same_endpoint") and len({t.outcome.endpoint for t in found[-wanted:]}) != 1:
        return CheckResult(
            False, N_("Your last {n} requests from {source} to {service} reached different Pods."), params
        )
    return CheckResult(True, N_("Your curl traces show requests from {source} to {service}."), params)


def answer(state: ExerciseState, p: Params) -> CheckResult:
    expect = p["expect"]
    if state.answer is None:
        return CheckResult(False, N_("No answer yet: type answer VALUE."))
    right = check_answer(state, expect, state.answer)
    return _result(
        right,
        N_("Your answer {value} is right."),
        N_("Your answer {value} is not right."),
        value=state.answer,
    )


CHECKS: dict[str, CheckKind] = {
    "service_exists": CheckKind(service_exists, ("name",), ("port", "protocol")),
    "service_type": CheckKind(service_type, ("name", "type")),
    "service_affinity": CheckKind(service_affinity, ("name", "affinity")),
    "endpoints_count": CheckKind(endpoints_count, ("service", "n")),
    "deployment_replicas": CheckKind(deployment_replicas, ("name", "n")),
    "current_node": CheckKind(current_node, ("name",)),
    "rule_probability": CheckKind(rule_probability, ("service", "index", "value")),
    "chain_present": CheckKind(chain_present, (), ("chain", "service", "kind", "mode")),
    "chain_absent": CheckKind(chain_absent, (), ("chain", "service", "kind", "mode")),
    "mode_is": CheckKind(mode_is, ("mode",)),
    "trace_outcome": CheckKind(
        trace_outcome, ("from", "to"), ("outcome", "masquerade", "endpoints", "service")
    ),
    "affinity_sticky": CheckKind(affinity_sticky, ("service", "from"), ("n",)),
    "traced": CheckKind(
        traced, ("service",), ("from", "masquerade", "outcome", "min_count", "same_endpoint")
    ),
    "answer": CheckKind(answer, ("expect",)),
}


def run_check(state: ExerciseState, kind: str, params: Params) -> CheckResult:
    return CHECKS[kind].run(state, params)
