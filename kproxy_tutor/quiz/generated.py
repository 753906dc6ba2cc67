"""Quiz questions computed from sandbox scenarios when a quiz starts.

``lessons/generated.yaml`` says which generator applies to which lesson, with its parameters; the
answers come from the iptables compiler and the request evaluator at quiz time, so they always
match what the sandbox shows. Ids are stable (``gen-chain-name-db-service-db-service``), so the
review queue and answers files work as for written questions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from kproxy_tutor.content.quiz import Bank
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, TutorError
from kproxy_tutor.errors import Msg as ErrorMsg
from kproxy_tutor.exercises import lookup
from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, Question, QuizChoice, Text, TrueFalse

GENERATED_FILE = "generated.yaml"
FORMAT_VERSION = 1
#: Requests sent to learn which Pods a Service can reach (ample for the scenarios' few endpoints).
REACH_SAMPLE = 40
SOURCE = "computed by the sandbox's compiler and evaluator"
Generator = Callable[[str, Mapping[str, Any]], Question]


def bilingual(msgid: str, **params: Any) -> Text:
    """``msgid`` translated into every language, then formatted (generated texts are content).

    A parameter that is itself a msgid wrapped in :class:`Msg` is translated into the same language.
    """
    from kproxy_tutor.content.schema import LANGUAGES
    from kproxy_tutor.i18n import translations

    def value(item: Any, lang: str) -> Any:
        return translations(lang).gettext(item.msgid) if isinstance(item, Msg) else item

    return {
        lang: translations(lang).gettext(msgid).format(**{k: value(v, lang) for k, v in params.items()})
        for lang in LANGUAGES
    }


class Msg:
    """A msgid used as a parameter of another message."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid


def _session(p: Mapping[str, Any]) -> Any:
    """The scenario's sandbox, with ``deployment`` scaled to ``replicas`` when asked."""
    from kproxy_tutor.shell.parser import parse_line
    from kproxy_tutor.shell.scenarios import find_scenario
    from kproxy_tutor.shell.session import Session

    session = Session(find_scenario(str(p["scenario"])))
    if "replicas" in p:
        invocation = parse_line(f"kubectl scale deployment {p['deployment']} --replicas {int(p['replicas'])}")
        assert invocation is not None
        session.execute(invocation)
    return session


def _traces(session: Any, source: str, target: str, count: int) -> list[Any]:
    """``count`` first requests, each through a fresh tracer with its own seed.

    Fresh tracers forget conntrack and affinity, so the sample shows every Pod a request *can*
    reach, not only the one a sticky client keeps returning to.
    """
    from kproxy_tutor.sandbox.trace.session import TraceSession
    from kproxy_tutor.shell.net_commands import client_text

    rules = {name: proxier.kernel.ruleset for name, proxier in session.proxiers.items()}
    traces = []
    for seed in range(count):
        tracer = TraceSession.from_cluster(session.cluster, seed=seed, rules=rules)
        client, destination = tracer.resolve(client_text(session, source), target, None, None)
        traces.append(tracer.connect(client, destination))
    return traces


def chain_name(lesson_id: str, p: Mapping[str, Any]) -> Question:
    session = _session(p)
    service = str(p["service"])
    chain = lookup.require(lookup.service_chain(session.proxier.kernel.ruleset, service), "a KUBE-SVC chain")
    rule = next(
        r
        for r in session.proxier.kernel.ruleset.table("nat").chains["KUBE-SERVICES"].rules
        if lookup.target_chain(r) == chain
    )
    line = f"-A KUBE-SERVICES {rule.spelling}"
    return FreeText(
        id=f"gen-chain-name-{p['scenario']}-{service}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, kube-proxy wrote this rule for Service {service}:\n\n"
                "`{rule}`\n\nWhich chain does a packet to the Service go to next? Type its name."
            ),
            scenario=p["scenario"],
            service=service,
            rule=line,
        ),
        explanation=bilingual(
            N_(
                "The target after -j is {chain}, the Service's KUBE-SVC chain. Its name is "
                "KUBE-SVC- and 16 characters of base32(sha256(service port name + protocol)), "
                "so it is the same on every node."
            ),
            chain=chain,
        ),
        source=SOURCE,
        accept=(chain,),
    )


def probability(lesson_id: str, p: Mapping[str, Any]) -> Question:
    session = _session(p)
    service, index = str(p["service"]), int(p["index"])
    jumps = lookup.endpoint_jumps(session.proxier.kernel.ruleset, service)
    value = lookup.require(
        lookup.probability(session.proxier.kernel.ruleset, service, index), "a probability"
    )
    n = len(jumps)
    return Numeric(
        id=f"gen-probability-{p['scenario']}-{service}-{index}-of-{n}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "Service {service} has {n} ready endpoints. What probability does kube-proxy write "
                "on jump {index} to a KUBE-SEP chain in the Service's KUBE-SVC chain?"
            ),
            service=service,
            n=n,
            index=index,
        ),
        explanation=bilingual(
            N_(
                "Jump k of n matches with probability 1/(n-k+1), counted among the packets "
                "that reached it: 1/{left} = {value}. The last jump has no probability: it "
                "takes whatever is left."
            ),
            left=n - index + 1,
            value=value,
        ),
        source=SOURCE,
        answer=float(value),
        tolerance=0.0005,
    )


def reach(lesson_id: str, p: Mapping[str, Any]) -> Question:
    session = _session(p)
    source, target = str(p["from"]), str(p["to"])
    traces = _traces(session, source, target, REACH_SAMPLE)
    reached = {t.outcome.endpoint_pod for t in traces if t.outcome.endpoint_pod}
    pods = sorted(f"{pod.namespace}/{pod.name}" for pod in session.cluster.pods.values())
    options = tuple(QuizChoice(pod.split("/", 1)[1], {"ru": pod, "en": pod}) for pod in pods)
    answer = frozenset(pod.split("/", 1)[1] for pod in reached)
    if not answer or len(options) < 2:
        raise TutorError(
            N_("Generated question {id}: the request reaches no Pod, or there is nothing to choose."),
            id=f"reach-{p['scenario']}",
        )
    return MultipleChoice(
        id=f"gen-reach-{p['scenario']}-{_slug(source)}-{_slug(target)}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, a client sends requests from {source} to {target}. "
                "Which Pods can they reach?"
            ),
            scenario=p["scenario"],
            source=source,
            target=target,
        ),
        explanation=bilingual(
            N_(
                "kube-proxy's rules DNAT these requests to: {pods}. Other Pods are not endpoints "
                "of this Service port (or not usable from this node)."
            ),
            pods=", ".join(sorted(reached)),
        ),
        source=SOURCE,
        options=options,
        answer=answer,
    )


_REASONS = {
    "off_cluster": N_("the source is not a Pod of the cluster (not in clusterCIDR)"),
    "hairpin": N_("the Pod reached itself through the Service (hairpin)"),
    "external": N_("the packet came in through an external destination (NodePort, LoadBalancer)"),
    "local_source": N_("the node itself is the client"),
    "masquerade_all": N_("masqueradeAll is on"),
}


def masquerade(lesson_id: str, p: Mapping[str, Any]) -> Question:
    session = _session(p)
    source, target = str(p["from"]), str(p["to"])
    trace = _traces(session, source, target, 1)[0]
    masqueraded = bool(trace.outcome.masquerade)
    if masqueraded:
        setter = trace.outcome.mark_setters[0]
        explanation = bilingual(
            N_(
                "Yes. A rule in {chain} set the masquerade mark 0x4000 because {reason}; "
                "KUBE-POSTROUTING then rewrote the source to the node's address."
            ),
            chain=setter.chain,
            reason=Msg(_REASONS.get(setter.reason, N_("another rule"))),
        )
    else:
        explanation = bilingual(
            N_(
                "No. No kube-proxy rule set the masquerade mark, so the Pod sees the client's "
                "own address {ip}."
            ),
            ip=trace.packet.src_ip,
        )
    return TrueFalse(
        id=f"gen-masquerade-{p['scenario']}-{_slug(source)}-{_slug(target)}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, a request goes from {source} to {target}. Is it "
                "masqueraded (its source rewritten to the node's address)?"
            ),
            scenario=p["scenario"],
            source=source,
            target=target,
        ),
        explanation=explanation,
        source=SOURCE,
        answer=masqueraded,
    )


GENERATORS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "chain-name": (chain_name, ("scenario", "service")),
    "probability": (probability, ("scenario", "service", "deployment", "replicas", "index")),
    "reach": (reach, ("scenario", "from", "to")),
    "masquerade": (masquerade, ("scenario", "from", "to")),
}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def declarations(directory: Path) -> list[tuple[str, str, Mapping[str, Any], int]]:
    """(lesson id, generator, parameters, line) for every entry of generated.yaml (none if it is absent)."""
    from kproxy_tutor.content.yamlio import line_of, load_yaml

    path = directory / GENERATED_FILE
    if not path.is_file():
        return []
    data = load_yaml(path)
    lessons = data.get("lessons") if isinstance(data, dict) else None
    found: list[tuple[str, str, Mapping[str, Any], int]] = []
    for lesson_id, entries in (lessons or {}).items():
        for index, item in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(item, dict) and len(item) == 1:
                kind, params = next(iter(item.items()))
                found.append(
                    (
                        str(lesson_id),
                        str(kind),
                        params if isinstance(params, dict) else {},
                        line_of(entries, index),
                    )
                )
            else:
                found.append((str(lesson_id), "", {}, line_of(entries, index)))
    return found


def generate(lesson_id: str, kind: str, params: Mapping[str, Any]) -> Question:
    generator, required = GENERATORS[kind]
    missing = [k for k in required if k not in params]
    if missing:
        raise TutorError(N_("{kind} needs {missing}."), kind=kind, missing=", ".join(missing))
    return generator(lesson_id, params)


def with_generated(bank: Bank, directory: Path | None = None) -> Bank:
    """``bank`` with each lesson's generated questions added (a question that cannot be computed is left out)."""
    from kproxy_tutor.resources import lessons_dir

    declared = declarations(directory or lessons_dir())
    if not declared:
        return bank
    quizzes = []
    for quiz in bank.quizzes:
        extra: list[Question] = []
        for lesson_id, kind, params, _line in declared:
            if lesson_id != quiz.lesson_id or kind not in GENERATORS:
                continue
            try:
                extra.append(generate(lesson_id, kind, params))
            except (TutorError, StopIteration, KeyError):
                continue  # dev check reports it; a learner still gets the written questions
        quizzes.append(replace(quiz, questions=(*quiz.questions, *extra)) if extra else quiz)
    return Bank(tuple(quizzes))


def check_generated(directory: Path, lessons: Iterable[Any]) -> list[Problem]:
    """Every declaration names a known lesson and generator, and its question can be computed."""
    known = {lesson.id for lesson in lessons}
    where = f"{directory.name}/{GENERATED_FILE}"
    problems: list[Problem] = []
    seen: set[str] = set()
    try:
        declared = declarations(directory)
    except TutorError as error:
        return [
            Problem(
                error.location or where,
                error.message,
                tuple((k, v if isinstance(v, ErrorMsg) else str(v)) for k, v in error.params.items()),
            )
        ]
    for lesson_id, kind, params, line in declared:
        at = f"{where}:{line}"
        if lesson_id not in known:
            problems.append(
                Problem(
                    at,
                    N_("The lesson {lesson!r} does not exist (lesson ids: {known})."),
                    (("lesson", lesson_id), ("known", ", ".join(sorted(known)))),
                )
            )
            continue
        if kind not in GENERATORS:
            problems.append(
                Problem(
                    at,
                    N_("{field}: unknown generator {kind!r}; known: {known}."),
                    (("field", lesson_id), ("kind", kind), ("known", ", ".join(GENERATORS))),
                )
            )
            continue
        try:
            question = generate(lesson_id, kind, params)
        except (TutorError, StopIteration, KeyError) as error:
            problems.append(
                Problem(
                    at,
                    N_("{field}: the question cannot be computed: {problem}"),
                    (("field", kind), ("problem", str(error))),
                )
            )
            continue
        if question.id in seen:
            problems.append(
                Problem(at, N_("{field}: duplicate id {id!r}."), (("field", kind), ("id", question.id)))
            )
        seen.add(question.id)
    return problems
