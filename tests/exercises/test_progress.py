"""Progress records exercises; an unfinished exercise keeps its sandbox and `learn` reopens it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from kproxy_tutor.exercises import record
from kproxy_tutor.progress import progress_store
from kproxy_tutor.ui.exercise_view import ExerciseLoop, ExerciseView, run_exercise, stream_reader
from tests.exercises.conftest import exercise


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, color_system=None), out


def entry(exercise_id: str) -> dict[str, Any]:
    return dict(progress_store().read()["exercises"][exercise_id])


def test_attempts_hints_and_done_are_recorded() -> None:
    block = exercise("network-expose-db")
    term, out = console()
    lines = [
        "check",
        "hint",
        "hint",
        "kubectl expose deployment database --name db-service --port 5432",
        "check",
    ]
    assert run_exercise(block, term, stream_reader(lines)) is True
    assert entry(block.id) == {"done": True, "attempts": 2, "hints": 2, "active": False}
    text = out.getvalue()
    assert "Hint 2 of 3" in text and "Check passed" in text and "EndpointSlice controller" in text


def test_solution_opens_after_three_failed_checks() -> None:
    block = exercise("how-scale-probability")
    term, out = console()
    assert (
        run_exercise(block, term, stream_reader(["solution", "check", "answer 0.2", "check", "check"]))
        is False
    )
    text = out.getvalue()
    assert "opens after 3 more failed checks" in text
    assert text.count("Solution:") == 1 and "answer 0.2500000000" in text
    assert entry(block.id)["attempts"] == 3 and entry(block.id)["active"] is True


def test_leaving_saves_the_sandbox_and_the_next_run_restores_it() -> None:
    block = exercise("how-scale-probability")
    term, _out = console()
    run_exercise(block, term, stream_reader(["kubectl scale deployment database --replicas 5", "exit"]))
    assert record.state_path(block.id).is_file() and record.is_active(block.id)
    loop = ExerciseLoop(block, ExerciseView(console()[0]))
    loop.resume()
    assert loop.run.session.cluster.deployments[("default", "database")].replicas == 5
    loop.run.run_lines(["reset"])  # reset still means the exercise's start, not the saved state
    assert loop.run.session.cluster.deployments[("default", "database")].replicas == 3


def test_lessons_list_counts_exercises(capsys: pytest.CaptureFixture[str]) -> None:
    from kproxy_tutor.app import progress_summary
    from kproxy_tutor.entry import main

    record.update("network-expose-db", done=True)
    network = next(item for item in progress_summary().lessons if item.lesson_id == "network")
    assert (network.exercises_done, network.exercises_total) == (1, 2)
    assert main(["--lang", "en", "lessons"]) == 0
    assert "exercises 1/2" in capsys.readouterr().out


def test_learn_resumes_inside_an_unfinished_exercise(monkeypatch: pytest.MonkeyPatch) -> None:
    from kproxy_tutor import lesson_progress
    from kproxy_tutor.content.loader import load_course
    from kproxy_tutor.lesson_nav import Place
    from kproxy_tutor.ui import exercise_view
    from kproxy_tutor.ui.console import Display
    from kproxy_tutor.ui.lesson_session import EXERCISE, LessonSession, extra_choices
    from kproxy_tutor.ui.prompts import ScriptedPrompter

    block = exercise("how-scale-probability")
    term, out = console()
    run_exercise(block, term, stream_reader(["kubectl scale deployment database --replicas 5", "exit"]))
    course = load_course()
    number = course.number_of("how-it-works")
    assert number is not None
    index = next(i for i, s in enumerate(course.lesson(number).steps) if block in s.blocks)
    lesson_progress.record_place("how-it-works", course.lesson(number).steps[index].id)
    typed = iter([["iptables-save -t nat", "answer 1/4", "check"]])
    monkeypatch.setattr(exercise_view, "terminal_reader", lambda run: stream_reader(next(typed)))
    step = course.lesson(number).steps[index]
    assert [c.value for c in extra_choices(step)] == [EXERCISE + block.id]
    session = LessonSession(
        course, lesson_progress.resume_place(course), ScriptedPrompter(["quit"]), term, Display(color=False)
    )
    assert session.place == Place(number, index)
    session.run()
    assert "Your sandbox from last time is back" in out.getvalue()
    assert entry(block.id)["done"] is True and not record.state_path(block.id).exists()
