"""Honest progress: the course is complete only when every lesson is read, every exercise solved
and every quiz passed; every screen names the one next command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from rich.console import Console

from kproxy_tutor import lesson_progress
from kproxy_tutor.app import course_outline, current_course_status
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.course_status import (
    DEFAULT_PASS_SHARE,
    LessonOutline,
    StepKind,
    course_status,
    lesson_to_read,
)
from kproxy_tutor.exercises import record as exercise_record
from kproxy_tutor.lesson_nav import Place
from kproxy_tutor.progress import progress_store
from kproxy_tutor.quiz.review import record_answers
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import LessonSession
from kproxy_tutor.ui.prompts import ScriptedPrompter

TODAY = date(2030, 5, 1)


def outline() -> list[LessonOutline]:
    return [
        LessonOutline(1, "role", {"ru": "Роль", "en": "Role"}, ("role-ex",)),
        LessonOutline(2, "network", {"ru": "Сеть", "en": "Network"}),
        LessonOutline(3, "modes", {"ru": "Режимы", "en": "Modes"}, ("modes-a", "modes-b"), has_quiz=True),
    ]


def everything_done() -> dict[str, Any]:
    return {
        "current_lesson": "modes",
        "lessons": {i: {"status": "done"} for i in ("role", "network", "modes")},
        "exercises": {e: {"done": True} for e in ("role-ex", "modes-a", "modes-b")},
        "quiz": {"best": {"role": 1.0, "network": 0.7, "modes": 0.9}},
    }


def test_reading_only_the_last_lesson_does_not_complete_the_course() -> None:
    data = {"current_lesson": "modes", "lessons": {"modes": {"status": "done"}}}
    status = course_status(outline(), data, TODAY)
    assert not status.complete
    assert status.lessons_unread == [1, 2]
    assert status.exercises_unsolved == ["role-ex", "modes-a", "modes-b"]
    assert status.quizzes_unpassed == [1, 2, 3]
    # The lesson just read is finished first: its exercises, then its quiz.
    step = status.next_step()
    assert (step.kind, step.command) == (StepKind.EXERCISE, "kproxy-tutor exercise modes-a")
    data["exercises"] = {"modes-a": {"done": True}, "modes-b": {"done": True}}
    assert course_status(outline(), data, TODAY).next_step().command == "kproxy-tutor quiz 3"
    data["quiz"] = {"best": {"modes": 0.9}}
    # Then the first lesson with something left, in course order.
    assert course_status(outline(), data, TODAY).next_step().command == "kproxy-tutor learn 1"


def test_completing_everything_completes_the_course() -> None:
    data = everything_done()
    status = course_status(outline(), data, TODAY)
    assert status.complete
    assert (status.lessons_read, status.exercises_solved, status.quizzes_passed) == (3, 3, 3)
    assert status.next_step().kind == StepKind.EXAM  # the optional final exam is what is left
    data["quiz"]["best_exam"] = 0.8
    assert course_status(outline(), data, TODAY).next_step() is None


@pytest.mark.parametrize(("best", "passed"), [(0.69, False), (DEFAULT_PASS_SHARE, True), (0.7000001, True)])
def test_a_quiz_is_passed_from_seventy_percent(best: float, passed: bool) -> None:
    data = everything_done()
    data["quiz"]["best"]["network"] = best
    status = course_status(outline(), data, TODAY)
    assert status.complete is passed
    assert status.lesson("network").quiz_passed is passed


def test_reviews_due_come_after_the_lesson_in_focus() -> None:
    data: dict[str, Any] = {"current_lesson": "network", "lessons": {"network": {"status": "in_progress"}}}
    record_answers(data, [("q1", False), ("q2", False)], TODAY)
    status = course_status(outline(), data, TODAY)
    assert status.review_due == 2  # missed today, due today
    assert status.next_step().command == "kproxy-tutor learn"  # go on reading first
    data["lessons"]["network"]["status"] = "done"
    data["quiz"]["best"] = {"network": 0.8}
    assert course_status(outline(), data, TODAY).next_step().command == "kproxy-tutor quiz --review"


def test_damaged_progress_counts_as_not_done() -> None:
    data = {"lessons": {"role": "junk"}, "exercises": {"role-ex": {"done": "yes"}}, "quiz": {"best": []}}
    status = course_status(outline(), data, TODAY)
    assert status.lessons_read == 0 and status.exercises_solved == 0 and status.quizzes_passed == 0


def test_learn_goes_to_the_first_lesson_not_read() -> None:
    ids = ["role", "network", "modes"]
    assert lesson_to_read(ids, {}) == 1
    only_last = {"current_lesson": "modes", "lessons": {"modes": {"status": "done"}}}
    assert lesson_to_read(ids, only_last) == 1
    reading = {
        "current_lesson": "modes",
        "lessons": {"role": {"status": "done"}, "modes": {"status": "in_progress"}},
    }
    assert lesson_to_read(ids, reading) == 3  # the lesson being read stays the place
    assert lesson_to_read(ids, everything_done()) is None


def read_to_the_end(number: int, console: Console) -> str:
    course = load_course()
    answers = ["next"] * course.step_count(number)
    LessonSession(course, Place(number, 0), ScriptedPrompter(answers), console, Display(color=False)).run()
    return console.export_text()


def real_course_everything_done() -> None:
    course = load_course()
    items = course_outline(course)

    def change(data: dict[str, Any]) -> None:
        for item in items:
            data["lessons"][item.lesson_id] = {"status": "done", "step": "x"}
            data["quiz"].setdefault("best", {})[item.lesson_id] = 1.0
            for exercise in item.exercises:
                data["exercises"][exercise] = {"done": True}

    progress_store().update(change)


def test_the_last_lesson_end_says_what_is_left(record: Callable[[int], Console]) -> None:
    course = load_course()
    last = len(course)
    out = read_to_the_end(last, record(80))
    assert "Курс пройден" not in out and "Отличная работа" not in out
    assert "Курс ещё не пройден" in out
    unread = ", ".join(str(n) for n in range(1, last))
    assert f"Не прочитаны уроки: {unread}" in out
    assert "70\u00a0%" in out.replace(" %", "\u00a0%")  # the threshold is said
    status = current_course_status()
    assert not status.complete and status.lessons_read == 1
    # `learn` without a lesson now opens lesson 1, not the last lesson again.
    assert lesson_progress.resume_place(course) == Place(1, 0)


def test_the_last_lesson_end_congratulates_when_everything_is_done(record: Callable[[int], Console]) -> None:
    real_course_everything_done()
    out = read_to_the_end(len(load_course()), record(80))
    assert "Отличная работа" in out and "Курс ещё не пройден" not in out
    assert current_course_status().complete


def test_learn_resumes_at_an_unsolved_exercise_once_everything_is_read() -> None:
    real_course_everything_done()
    course = load_course()
    first = next(item for item in course_outline(course) if item.exercises)
    progress_store().update(lambda d: d["exercises"].pop(first.exercises[0]))
    place = lesson_progress.resume_place(course)
    lesson = course.lesson(place.lesson)
    assert place.lesson == first.number
    assert first.exercises[0] in [getattr(b, "id", None) for b in lesson.steps[place.step].blocks]
    assert not exercise_record.entry(first.exercises[0]).get("done")


def test_progress_shows_totals_reviews_and_the_next_command(capsys: pytest.CaptureFixture[str]) -> None:
    from kproxy_tutor.entry import main

    total = len(load_course())
    assert main(["--lang", "en", "progress"]) == 0
    out = capsys.readouterr().out
    assert f"Lessons read: 0 of {total}" in out
    assert f"Quizzes passed: 0 of {total} (a quiz is passed at 70% or more)" in out
    assert "No questions are due for review today." in out
    assert "Next: kproxy-tutor learn 1 (read lesson 1)" in out
    progress_store().update(lambda d: record_answers(d, [("role-pod-count", False)]))
    assert main(["--lang", "ru", "progress"]) == 0
    out = capsys.readouterr().out
    assert "1 вопрос на повторение сегодня: kproxy-tutor quiz --review" in out
    assert "Дальше: kproxy-tutor quiz --review" in out
