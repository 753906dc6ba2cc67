"""Quiz questions computed from sandbox scenarios when a quiz starts.

``lessons/generated.yaml`` says which generator applies to which lesson, with its parameters; the
answers come from the iptables compiler and the request evaluator at quiz time, so they always
match what the sandbox shows. Ids are stable (``gen-chain-name-db-service-db-service``), so the
review queue and answers files work as for written questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from kproxy_tutor.content.quiz import Bank
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, TutorError
from kproxy_tutor.errors import Msg as ErrorMsg
from kproxy_tutor.exercises import lookup
from kproxy_tutor.quiz.model import (
    MultipleChoice,
    Numeric,
    Question,
    QuizChoice,
    SingleChoice,
    Text,
    TrueFalse,
)

GENERATED_FILE = "generated.yaml"
FORMAT_VERSION = 1
#: Requests sent to learn which Pods a Service can reach (ample for the scenarios' few endpoints).
REACH_SAMPLE = 40
#: Where the rules the answers are computed from are written (the compiler follows it).
SOURCE = (
    "iptables proxier.go, v1.35.0 "
    "<https://github.com/kubernetes/kubernetes/blob/v1.35.0/pkg/proxy/iptables/proxier.go>"
)
Generator = Callable[[str, Mapping[str, Any]], Question]


class Msg:
    """A msgid used as a parameter of another message."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid


class Plural:
    """A message with plural forms, chosen for ``n`` in each language (see :func:`ngettext`)."""

    def __init__(self, singular: str, plural: str, n: int) -> None:
        self.singular, self.plural, self.n = singular, plural, n


def ngettext(singular: str, plural: str, n: int) -> Plural:
    """Mark a plural message for extraction; :func:`bilingual` picks the form per language."""
    return Plural(singular, plural, n)


def bilingual(msgid: str | Plural, **params: Any) -> Text:
    """``msgid`` translated into every language, then formatted (generated texts are content).

    A parameter that is itself a msgid wrapped in :class:`Msg` (or a :class:`Plural`) is translated
    into the same language.
    """
    from kproxy_tutor.content.schema import LANGUAGES
    from kproxy_tutor.i18n import translations

    def text(item: str | Plural | Msg, lang: str) -> str:
        catalog = translations(lang)
        if isinstance(item, Plural):
            return catalog.ngettext(item.singular, item.plural, item.n)
        return catalog.gettext(item.msgid if isinstance(item, Msg) else item)

    plain = {k: v for k, v in params.items() if not isinstance(v, Msg | Plural)}

    def value(item: Any, lang: str) -> Any:
        # A nested message is formatted with the same plain parameters ({n}, {service}…).
        return text(item, lang).format(**plain) if isinstance(item, Msg | Plural) else item

    return {
        lang: text(msgid, lang).format(**{k: value(v, lang) for k, v in params.items()}) for lang in LANGUAGES
    }


def _session(p: Mapping[str, Any]) -> Any:
    """The scenario's sandbox, with ``deployment`` scaled to ``replicas`` when asked."""
    from kproxy_tutor.shell.parser import parse_line
    from kproxy_tutor.shell.scenarios import find_scenario
    from kproxy_tutor.shell.session import Session

    session = Session(find_scenario(str(p["scenario"])))
    commands = [str(line) for line in p.get("setup") or ()]
    if "replicas" in p:
        commands.insert(0, f"kubectl scale deployment {p['deployment']} --replicas {int(p['replicas'])}")
    for line in commands:
        invocation = parse_line(line)
        if invocation is None:
            raise TutorError(N_("The setup line {line!r} is not a sandbox command."), line=line)
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


def _svc_chain_for(service_port_name: str, protocol: str) -> str:
    """kube-proxy's servicePortChainName recipe, for a distractor with another protocol."""
    import base64
    import hashlib

    digest = hashlib.sha256((service_port_name + protocol).encode()).digest()
    return "KUBE-SVC-" + base64.b32encode(digest).decode()[:16]


def chain_name(lesson_id: str, p: Mapping[str, Any]) -> Question:
    """The KUBE-SERVICES rule with its target hidden: which chain comes next?

    The distractors are the chains a learner mixes up: the chain of one Pod (a level too deep),
    the same Service port's chain for the other protocol (the hash includes it) and KUBE-NODEPORTS.
    """
    session = _session(p)
    ruleset = session.proxier.kernel.ruleset
    service = str(p["service"])
    chain = lookup.require(lookup.service_chain(ruleset, service), "a KUBE-SVC chain")
    rule = next(
        r for r in ruleset.table("nat").chains["KUBE-SERVICES"].rules if lookup.target_chain(r) == chain
    )
    spelling = rule.spelling or ""
    hidden = spelling.replace(f"-j {chain}", "-j ?")
    comment = re.search(r'--comment "([^"]+) cluster IP"', spelling)
    port_name = comment.group(1) if comment else f"default/{service}"
    protocol = "udp" if " -p tcp" in f" {spelling}" else "tcp"
    jumps = lookup.endpoint_jumps(ruleset, service)
    pod_chain = lookup.target_chain(jumps[0]) if jumps else None
    options = [
        QuizChoice(
            "svc",
            {"ru": chain, "en": chain},
            bilingual(
                N_(
                    "Right: a ClusterIP rule in KUBE-SERVICES jumps to the Service port's KUBE-SVC chain; "
                    "its name is the hash of {input}."
                ),
                input=f"{port_name}{'tcp' if protocol == 'udp' else 'udp'}",
            ),
        ),
        QuizChoice(
            "other-protocol",
            {"ru": _svc_chain_for(port_name, protocol), "en": _svc_chain_for(port_name, protocol)},
            bilingual(
                N_(
                    "This is the chain the same port would get for {protocol}: the protocol is part of the "
                    "hashed name, and this rule matches the other one."
                ),
                protocol=protocol.upper(),
            ),
        ),
        QuizChoice(
            "nodeports",
            {"ru": "KUBE-NODEPORTS", "en": "KUBE-NODEPORTS"},
            bilingual(
                N_(
                    "KUBE-NODEPORTS is reached only by the last rule of KUBE-SERVICES, for packets to a "
                    "local address of the node; this rule matches a ClusterIP."
                )
            ),
        ),
    ]
    if pod_chain:
        options.insert(
            1,
            QuizChoice(
                "sep",
                {"ru": pod_chain, "en": pod_chain},
                bilingual(
                    N_(
                        "A KUBE-SEP chain belongs to one Pod and is a level deeper: the Service's KUBE-SVC "
                        "chain chooses among them first."
                    )
                ),
            ),
        )
    return SingleChoice(
        id=f"gen-chain-name-{p['scenario']}-{service}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, kube-proxy wrote this rule for Service {service} (the target "
                "is hidden):\n\n`-A KUBE-SERVICES {rule}`\n\nWhich chain does a new connection to the Service go "
                "to next? You can work the name out with the recipe from lesson 3 or look it up in the "
                "sandbox."
            ),
            scenario=p["scenario"],
            service=service,
            rule=hidden,
        ),
        explanation=bilingual(
            N_(
                "The target is {chain}, the Service port's KUBE-SVC chain: KUBE-SVC- and the first 16 "
                "characters of base32(sha256(service port name + protocol)), so it is the same on every "
                "node. From there a rule with -m statistic picks one Pod's KUBE-SEP chain."
            ),
            chain=chain,
        ),
        source=SOURCE,
        options=tuple(options),
        answer="svc",
    )


def probability(lesson_id: str, p: Mapping[str, Any]) -> Question:
    session = _session(p)
    ruleset = session.proxier.kernel.ruleset
    service, index = str(p["service"]), int(p["index"])
    jumps = lookup.endpoint_jumps(ruleset, service)
    value = lookup.require(lookup.probability(ruleset, service, index), "a probability")
    n = len(jumps)
    target = lookup.service_of(session.cluster, service)
    sticky = target is not None and target.session_affinity == "ClientIP"
    note = (
        Msg(
            N_(
                " With sessionAffinity: ClientIP the chain first has one -m recent --rcheck rule per "
                "endpoint; they do not count."
            )
        )
        if sticky
        else ""
    )
    return Numeric(
        id=f"gen-probability-{p['scenario']}-{service}-{index}-of-{n}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "{endpoints} What probability does kube-proxy write in rule {index} with -m statistic "
                "(the random choice of a Pod) in the Service's KUBE-SVC chain?{note}"
            ),
            endpoints=ngettext(
                "Service {service} has {n} ready endpoint.", "Service {service} has {n} ready endpoints.", n
            ),
            service=service,
            n=n,
            index=index,
            note=note,
        ),
        explanation=bilingual(
            N_(
                "Rule k of n with -m statistic matches with probability 1/(n-k+1), counted among the new "
                "connections that reached it: 1/{left} = {value}. The last jump has no probability: it "
                "takes whatever is left."
            ),
            left=n - index + 1,
            value=value,
        ),
        source=SOURCE,
        answer=float(value),
        tolerance=0.0005,
    )


def _pod_label(pod: Any) -> Text:
    """A choice as the learner needs it to decide: name, address, node and state."""
    if pod.terminating:
        state = Msg(N_("terminating"))
    elif not pod.ready:
        state = Msg(N_("not ready"))
    else:
        state = Msg(N_("ready"))
    return bilingual(
        N_("{name} ({ip}, on {node}, {state})"), name=pod.name, ip=pod.pod_ip, node=pod.node_name, state=state
    )


def reach(lesson_id: str, p: Mapping[str, Any]) -> Question:
    """Which Pods can fresh connections reach? Distractors come from ``setup``: a Pod of another app,
    a not-ready Pod of the Service, the client itself, a Pod on another node for eTP Local."""
    session = _session(p)
    source, target = str(p["from"]), str(p["to"])
    traces = _traces(session, source, target, REACH_SAMPLE)
    reached = {t.outcome.endpoint_pod for t in traces if t.outcome.endpoint_pod}
    pods = sorted(session.cluster.pods.values(), key=lambda pod: (pod.namespace, pod.name))
    options = tuple(QuizChoice(pod.name, _pod_label(pod)) for pod in pods)
    answer = frozenset(pod.split("/", 1)[1] for pod in reached)
    if not answer or len(options) < 2 or len(answer) == len(options):
        raise TutorError(
            N_("Generated question {id}: the request reaches no Pod, or every choice is right."),
            id=f"reach-{p['scenario']}",
        )
    sticky = any(service.session_affinity == "ClientIP" for service in session.cluster.services.values())
    note = (
        Msg(
            N_(
                " The Service has sessionAffinity: ClientIP; think of first connections from new "
                "clients, which affinity has not pinned yet."
            )
        )
        if sticky
        else ""
    )
    return MultipleChoice(
        id=f"gen-reach-{p['scenario']}-{_slug(source)}-{_slug(target)}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, a client opens new connections from {source} to {target}. "
                "Which Pods can they reach?{note}"
            ),
            scenario=p["scenario"],
            source=source,
            target=target,
            note=note,
        ),
        explanation=bilingual(
            N_(
                "kube-proxy's rules DNAT these connections to: {pods}. The other Pods are not ready "
                "endpoints of this Service port that this node may use (another app's Pod, a Pod "
                "that is not ready, or, with externalTrafficPolicy: Local, a Pod on another node)."
            ),
            pods=", ".join(sorted(pod.split("/", 1)[1] for pod in reached)),
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
                "KUBE-POSTROUTING then applied MASQUERADE, so the source became the address of the "
                "node's outgoing interface."
            ),
            chain=setter.chain,
            reason=Msg(_REASONS.get(setter.reason, N_("another rule"))),
        )
    else:
        explanation = bilingual(
            N_(
                "No. No kube-proxy rule set the masquerade mark, so the source is not rewritten and "
                "the Pod sees the client's real address {ip}."
            ),
            ip=trace.packet.src_ip,
        )
    return TrueFalse(
        id=f"gen-masquerade-{p['scenario']}-{_slug(source)}-{_slug(target)}",
        lesson_id=lesson_id,
        prompt=bilingual(
            N_(
                "In the {scenario} sandbox, a new connection goes from {source} to {target}. Does a "
                "kube-proxy rule mark it for masquerade (the mark 0x4000, after which POSTROUTING "
                "rewrites the source)?"
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


def _prerequisites(question: Question, lessons: list[Any], at: str) -> list[Problem]:
    """A generated question, like a written one, uses no term its lesson has not taught yet."""
    from kproxy_tutor.content.glossary import later_terms, load_glossary

    asked = next((lesson.number for lesson in lessons if lesson.id == question.lesson_id), None)
    if asked is None or not all(hasattr(lesson, "steps") for lesson in lessons):
        return []
    texts = [(lang, question.prompt[lang]) for lang in question.prompt]
    texts += [(lang, choice.text[lang]) for choice in question.choices for lang in choice.text]
    return [
        Problem(
            at,
            N_(
                "{field}: the question (lesson {asked}) uses the term {term!r}, which is first "
                "taught in lesson {lesson}, step {step}."
            ),
            (
                ("field", question.id),
                ("asked", str(asked)),
                ("term", term.name["en"]),
                ("lesson", str(n)),
                ("step", str(k)),
            ),
        )
        for term, n, k in later_terms(load_glossary(), texts, asked, lessons)
    ]


def check_generated(directory: Path, lessons: Iterable[Any]) -> list[Problem]:
    """Every declaration names a known lesson and generator, its question can be computed, and it
    uses no term taught only in a later lesson."""
    lessons = list(lessons)
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
        problems.extend(_prerequisites(question, lessons, at))
        if question.id in seen:
            problems.append(
                Problem(at, N_("{field}: duplicate id {id!r}."), (("field", kind), ("id", question.id)))
            )
        seen.add(question.id)
    return problems
