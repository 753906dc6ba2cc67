"""Every exercise's reference solution passes and its starting state does not, through the shell engine."""

from __future__ import annotations

import dataclasses

import pytest

from kproxy_tutor.content.schema import ExerciseBlock, ExerciseCheck
from kproxy_tutor.exercises.runner import ExerciseRun, prepared_session
from kproxy_tutor.exercises.verify import check_exercises, check_shape, exercise_problems
from tests.exercises.conftest import all_exercises, exercise

IDS = [block.id for _lesson, block in all_exercises()]


@pytest.mark.parametrize("exercise_id", IDS)
def test_start_fails_and_solution_passes(exercise_id: str) -> None:
    block = exercise(exercise_id)
    start = ExerciseRun(block)
    assert not all(r.passed for r in start.evaluate())
    solved = ExerciseRun(block)
    solved.run_lines(block.solution)
    failed = [r.reason.format(**r.params) for r in solved.evaluate() if not r.passed]
    assert failed == []


def test_dev_check_runs_every_solution_and_finds_no_problem() -> None:
    from kproxy_tutor.content.check import check_content
    from kproxy_tutor.content.loader import load_course

    assert check_exercises(load_course().lessons) == []
    assert [p for p in check_content() if "exercise" in p.message or "generated" in p.where] == []


def test_the_course_has_the_exercises_the_issue_asks_for() -> None:
    per_lesson: dict[int, int] = {}
    for lesson, _block in all_exercises():
        per_lesson[lesson.number] = per_lesson.get(lesson.number, 0) + 1
    assert per_lesson.get(1, 0) >= 1 and per_lesson.get(7, 0) >= 1
    assert all(per_lesson.get(n, 0) >= 2 for n in range(2, 7))
    assert sum(per_lesson.values()) >= 12
    assert len(set(IDS)) == len(IDS)
    for _lesson, block in all_exercises():
        assert len(block.hints) == 3 and all(h["ru"] and h["en"] for h in block.hints)


def test_dev_check_catches_a_wrong_solution_and_a_task_already_done() -> None:
    lesson, block = next((lesson, b) for lesson, b in all_exercises() if b.id == "network-expose-db")
    wrong = block._replace(solution=("kubectl expose deployment database --name db-service --port 5433",))
    problems = exercise_problems(lesson, wrong, {})
    assert problems and all("reference solution does not pass" in p.message for p in problems)
    assert any(dict(p.params)["kind"] == "service_exists" for p in problems)
    trivial = block._replace(setup=())  # the scenario already has db-service: nothing left to do
    assert any("already passes" in p.message for p in exercise_problems(lesson, trivial, {}))


def test_check_shapes_are_validated() -> None:
    assert check_shape(ExerciseCheck("no_such_check", {})) is not None
    assert check_shape(ExerciseCheck("endpoints_count", {"service": "x"})) is not None  # n missing
    assert check_shape(ExerciseCheck("endpoints_count", {"service": "x", "n": 1, "port": 2})) is not None
    assert check_shape(ExerciseCheck("answer", {"expect": {"guess": {}}})) is not None
    assert check_shape(ExerciseCheck("endpoints_count", {"service": "x", "n": 1})) is None


def test_reset_returns_to_the_prepared_state_not_the_scenario() -> None:
    block = exercise("network-expose-db")
    run = ExerciseRun(block, prepared_session(block))
    run.run_lines(["kubectl expose deployment database --name db-service --port 5432", "reset"])
    assert ("default", "db-service") not in run.session.cluster.services


def test_a_broken_setup_is_a_content_problem() -> None:
    lesson, block = all_exercises()[0]
    broken = block._replace(setup=("kubectl delete service no-such-service",))
    problems = exercise_problems(lesson, broken, {})
    assert problems and "cannot run" in problems[0].message


def test_duplicate_exercise_ids_are_reported() -> None:
    lesson, block = all_exercises()[0]
    seen: dict[str, str] = {}
    exercise_problems(lesson, block, seen)
    assert any("duplicate exercise id" in p.message for p in exercise_problems(lesson, block, seen))


def test_exercise_block_is_a_plain_record() -> None:
    # The parsed lesson is pickled into the content cache: the records must stay picklable.
    import pickle

    block = exercise("how-client-affinity")
    assert pickle.loads(pickle.dumps(block)) == block
    assert isinstance(block, ExerciseBlock) and not dataclasses.is_dataclass(block)
