"""The stale-node exercise: its answer is what explain finds in the shipped dump, not a stored name."""

from __future__ import annotations

import pytest

from kproxy_tutor.errors import TutorError
from kproxy_tutor.exercises.answers import expected_values
from kproxy_tutor.exercises.runner import ExerciseRun
from kproxy_tutor.explain import explain_text
from kproxy_tutor.explain.samples import sample_names, sample_text, stale_services
from kproxy_tutor.shell.parser import parse_line
from tests.exercises.conftest import exercise

EXPECT = {"stale_service": {"dump": "stale-node"}}


def test_the_shipped_dump_holds_one_deleted_services_chains_and_nothing_else_wrong() -> None:
    explanation = explain_text(sample_text("stale-node"), "stale-node")
    assert [f.code for f in explanation.findings] == ["stale-chains"]
    assert stale_services("stale-node") == ["default/reports"]
    # The lessons' db-service is explained as a live Service next to the leftovers.
    assert "default/db-service" in explanation.services


@pytest.mark.parametrize("typed", ["default/reports", "reports", "DEFAULT/Reports"])
def test_the_stale_service_passes(typed: str) -> None:
    run = ExerciseRun(exercise("takeaways-stale-service"))
    run.give_answer(typed)
    assert all(r.passed for r in run.evaluate())


@pytest.mark.parametrize("typed", ["default/db-service", "kube-system/reports", "KUBE-SVC-UWYGZBCFAF65RIQW"])
def test_a_live_service_or_a_chain_name_fails(typed: str) -> None:
    run = ExerciseRun(exercise("takeaways-stale-service"))
    run.give_answer(typed)
    result = run.evaluate()[0]
    assert not result.passed and result.reason == "Your answer {value} is not right."


def test_the_answer_follows_the_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    """Computed by explain's analysis: the same check on a dump whose leftovers are another Service's."""
    text = sample_text("stale-node").replace("default/reports", "shop/cart")
    monkeypatch.setattr("kproxy_tutor.explain.samples.sample_text", lambda _name: text)
    run = ExerciseRun(exercise("takeaways-stale-service"))
    assert expected_values(run.state, EXPECT) == ("shop/cart",)


def test_the_shell_explains_the_shipped_dump_and_refuses_an_unknown_one() -> None:
    run = ExerciseRun(exercise("takeaways-stale-service"))
    outputs = run.state.session.execute(parse_line("explain --dump stale-node"))
    explanation = outputs[0].explanation  # type: ignore[attr-defined]
    assert any(f.code == "stale-chains" for f in explanation.findings)
    assert "stale-node" in sample_names()
    with pytest.raises(TutorError):
        run.state.session.execute(parse_line("explain --dump no-such-dump"))
