"""Generated quiz questions: answers computed at quiz time agree with kube-proxy's own recipes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from kproxy_tutor.content.quiz import load_bank
from kproxy_tutor.quiz.generated import GENERATORS, check_generated, generate, with_generated
from kproxy_tutor.quiz.grading import grade
from kproxy_tutor.quiz.model import MultipleChoice, Numeric, SingleChoice, TrueFalse


def reference_chain(service_port_name: str, protocol: str) -> str:
    """kube-proxy's servicePortChainName: KUBE-SVC- + base32(sha256(name + protocol))[:16]."""
    digest = hashlib.sha256((service_port_name + protocol).encode()).digest()
    return "KUBE-SVC-" + base64.b32encode(digest).decode()[:16]


@pytest.mark.parametrize(("scenario", "service"), [("db-service", "db-service"), ("nodeport-web", "web")])
def test_chain_name_matches_the_reference_recipe(scenario: str, service: str) -> None:
    question = generate("how-it-works", "chain-name", {"scenario": scenario, "service": service})
    assert isinstance(question, SingleChoice)
    assert question.id == f"gen-chain-name-{scenario}-{service}"
    right = reference_chain(f"default/{service}", "tcp")
    assert question.choice(question.answer).text["en"] == right
    assert grade(question, "svc").correct and not grade(question, "other-protocol").correct
    # The answer is not printed in the prompt; the UDP distractor is the same recipe with "udp".
    assert right not in question.prompt["en"] and right not in question.prompt["ru"]
    assert question.choice("other-protocol").text["en"] == reference_chain(f"default/{service}", "udp")
    assert all(c.why and c.why["ru"] and c.why["en"] for c in question.choices)


@pytest.mark.parametrize(("replicas", "index"), [(5, 2), (4, 3), (2, 1), (7, 1)])
def test_probability_matches_the_reference_recipe(replicas: int, index: int) -> None:
    params = {
        "scenario": "db-service",
        "service": "db-service",
        "deployment": "database",
        "replicas": replicas,
        "index": index,
    }
    question = generate("how-it-works", "probability", params)
    assert isinstance(question, Numeric)
    assert question.id == f"gen-probability-db-service-db-service-{index}-of-{replicas}"
    # Jump k (1-based) of n: "%0.10f" % (1 / (n - (k - 1))).
    assert question.answer == float("%0.10f" % (1 / (replicas - (index - 1))))
    assert grade(question, str(question.answer)).correct and not grade(question, "0.99").correct


def test_reach_lists_the_services_pods_only() -> None:
    from kproxy_tutor.shell.scenarios import find_scenario
    from kproxy_tutor.shell.session import Session

    question = generate(
        "network", "reach", {"scenario": "db-service", "from": "web", "to": "db-service:5432"}
    )
    assert isinstance(question, MultipleChoice)
    cluster = Session(find_scenario("db-service")).cluster
    database = {p.name for p in cluster.pods.values() if p.labels.get("app") == "database"}
    assert question.answer == frozenset(database) and len(database) == 3
    assert {c.id for c in question.choices} == {p.name for p in cluster.pods.values()}


def test_reach_distractors_are_plausible_and_labelled() -> None:
    question = generate(
        "network",
        "reach",
        {
            "scenario": "db-service",
            "from": "web",
            "to": "db-service:5432",
            "setup": [
                "kubectl run database-canary --image postgres --labels app=database",
                "pod database-canary not-ready",
            ],
        },
    )
    assert isinstance(question, MultipleChoice)
    # A not-ready Pod that matches the selector is offered, labelled as such, and is not reachable.
    canary = question.choice("database-canary")
    assert canary is not None and "database-canary" not in question.answer
    assert "not ready" in canary.text["en"] and "не готов" in canary.text["ru"]


def test_reach_with_etp_local_offers_a_pod_on_another_node() -> None:
    question = generate(
        "takeaways",
        "reach",
        {
            "scenario": "etp-local",
            "from": "external",
            "to": "192.168.1.11:30090",
            "deployment": "shop",
            "replicas": 3,
        },
    )
    assert isinstance(question, MultipleChoice)
    elsewhere = [c for c in question.choices if "worker-2" in c.text["en"]]
    assert elsewhere and all(c.id not in question.answer for c in elsewhere)


def test_probability_prompt_uses_plural_forms_and_counts_statistic_rules() -> None:
    params = {
        "scenario": "session-affinity",
        "service": "cart",
        "deployment": "cart",
        "replicas": 4,
        "index": 3,
    }
    question = generate("how-it-works", "probability", params)
    assert isinstance(question, Numeric) and question.answer == 0.5
    assert "4 готовых endpoint'а" in question.prompt["ru"] and "4 ready endpoints" in question.prompt["en"]
    assert "--rcheck" in question.prompt["en"] and "statistic" in question.prompt["ru"]
    one = generate("how-it-works", "probability", {**params, "replicas": 2, "index": 1})
    assert "2 готовых endpoint'а" in one.prompt["ru"]
    five = generate("how-it-works", "probability", {**params, "replicas": 5, "index": 1})
    assert "5 готовых endpoint'ов" in five.prompt["ru"]


@pytest.mark.parametrize(
    ("scenario", "source", "target", "expected"),
    [
        ("nodeport-web", "external", "192.168.1.11:30080", True),  # KUBE-EXT marks external traffic
        ("db-service", "node/worker-1", "db-service:5432", True),  # not in clusterCIDR
        ("db-service", "web", "db-service:5432", False),  # a Pod keeps its address
        ("etp-local", "external", "192.168.1.11:30090", False),  # eTP Local keeps the client's address
    ],
)
def test_masquerade_answers(scenario: str, source: str, target: str, expected: bool) -> None:
    question = generate("install", "masquerade", {"scenario": scenario, "from": source, "to": target})
    assert isinstance(question, TrueFalse) and question.answer is expected
    assert ("KUBE-" in question.explanation["en"]) is expected
    # The prompt asks about kube-proxy's mark, which is unambiguous even when the node is the client.
    assert "0x4000" in question.prompt["en"] and "0x4000" in question.prompt["ru"]
    assert "маскиру" not in question.prompt["ru"] + question.explanation["ru"]


def test_generated_questions_join_the_lesson_quizzes_with_stable_ids() -> None:
    plain = load_bank()
    bank = with_generated(plain)
    added = [q for q in bank.questions() if q.id.startswith("gen-")]
    assert len(added) >= 8 and len(bank.questions()) == len(plain.questions()) + len(added)
    assert [q.id for q in added] == [
        q.id for q in with_generated(plain).questions() if q.id.startswith("gen-")
    ]
    assert bank.question("gen-chain-name-db-service-db-service") is not None
    assert all(q.prompt["ru"] and q.prompt["en"] for q in added)


def test_bad_declarations_are_reported(tmp_path: Path) -> None:
    (tmp_path / "generated.yaml").write_text(
        "format_version: 1\nlessons:\n  how-it-works:\n"
        "    - chain-name: {scenario: db-service, service: nope}\n"
        "    - guess: {scenario: db-service}\n"
        "  no-such-lesson:\n    - chain-name: {scenario: db-service, service: db-service}\n",
        encoding="utf-8",
    )

    class FakeLesson:
        id = "how-it-works"

    problems = check_generated(tmp_path, [FakeLesson()])
    messages = [p.message for p in problems]
    assert len(problems) == 3
    assert any("cannot be computed" in m for m in messages)
    assert any("unknown generator" in m for m in messages)
    assert any("does not exist" in m for m in messages)
    assert set(GENERATORS) == {"chain-name", "probability", "reach", "masquerade"}


def test_quiz_command_lists_generated_questions(capsys: pytest.CaptureFixture[str]) -> None:
    from kproxy_tutor.entry import main

    assert main(["--lang", "en", "quiz", "3", "--list", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert (
        "gen-chain-name-db-service-db-service" in out
        and "gen-probability-db-service-db-service-2-of-5" in out
    )


def test_a_generated_question_before_its_terms_are_taught_is_reported(tmp_path: Path) -> None:
    from kproxy_tutor.content.loader import load_course

    (tmp_path / "generated.yaml").write_text(
        "format_version: 1\nlessons:\n  network:\n    - chain-name: {scenario: db-service, service: db-service}\n",
        encoding="utf-8",
    )
    problems = check_generated(tmp_path, load_course().lessons)
    texts = [p.message.format(**dict(p.params)) for p in problems]
    assert any("uses the term 'KUBE-SERVICES', which is first taught in lesson 3" in t for t in texts), texts
