"""Moving through lessons: the navigator, a scripted reading session, saved places, and the commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from kproxy_tutor import i18n, lesson_progress
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.errors import Interrupted, UsageError
from kproxy_tutor.lesson_nav import Action, Navigator, Place
from kproxy_tutor.progress import progress_store
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import LessonSession
from kproxy_tutor.ui.prompts import ScriptedPrompter

MakeCourse = Callable[..., Path]


class Steps:
    def __init__(self, *counts: int) -> None:
        self.counts = counts

    def __len__(self) -> int:
        return len(self.counts)

    def step_count(self, lesson: int) -> int:
        return self.counts[lesson - 1]


def test_navigator_moves_within_and_across_lessons() -> None:
    nav = Navigator(Steps(2, 3), Place(1, 0))
    assert nav.actions() == [Action.NEXT, Action.CONTENTS, Action.LANGUAGE, Action.QUIT]
    assert nav.next().place == Place(1, 1)
    assert Action.BACK in nav.actions()
    move = nav.next()
    assert (move.place, move.finished_lesson, move.course_done) == (Place(2, 0), 1, False)
    assert nav.back().place == Place(1, 1)  # back from a first step: the previous lesson's last
    nav.go_to(Place(2, 2))
    assert nav.at_course_end
    move = nav.next()
    assert (move.place, move.finished_lesson, move.course_done) == (Place(2, 2), 2, True)


def test_navigator_clamps_a_stale_place() -> None:
    assert Navigator(Steps(2, 3), Place(5, 9)).place == Place(2, 2)
    assert Navigator(Steps(2, 3), Place(1, -1)).place == Place(1, 0)


def session(
    directory: Path, answers: list[Any], console: Console, place: Place | None = None
) -> LessonSession:
    course = load_course(directory)
    start = place or lesson_progress.resume_place(course)
    return LessonSession(course, start, ScriptedPrompter(answers), console, Display(color=False))


def saved() -> dict[str, Any]:
    return progress_store().read()


def test_scripted_reading_session(make_course: MakeCourse, record: Callable[[int], Console]) -> None:
    directory = make_course("role", "modes")
    console = record(80)
    reading = session(directory, ["next", "next", "back", "contents", "step:2", "language", "quit"], console)
    reading.run()
    out = console.export_text()
    for seen in ("Урок 1. Урок role", "Шаг 1 из 3", "Первый шаг", "Шаг 2 из 3", "Шаг 3 из 3"):
        assert seen in out
    # After the language switch the same step is shown in English.
    assert out.rindex("Step 3 of 3") > out.rindex("Шаг 3 из 3")
    assert "Third step" in out and "Your place is saved" in out
    assert reading.place == Place(1, 2)
    data = saved()
    assert data["current_lesson"] == "role"
    assert data["lessons"]["role"] == {"step": "third", "status": "in_progress"}
    settings = json.loads((Path(progress_store().path).parent / "settings.json").read_text())
    assert settings["lang"] == "en"


def test_menu_is_localized_and_fits_the_place(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    directory = make_course("role", "modes")
    reading = session(directory, ["next", "next", "quit"], record(80))
    reading.run()
    prompter = reading.prompter
    assert isinstance(prompter, ScriptedPrompter)
    assert prompter.asked == ["Что дальше?"] * 3
    with pytest.raises(AssertionError, match="not among"):
        session(directory, ["back"], record(80), Place(1, 0)).run()  # no Back on the very first step
    assert reading.next_title() == "Следующий урок: Урок modes"
    i18n.set_language("en")
    assert reading.next_title() == "Next lesson: Lesson modes"


def test_resume_after_quit_and_after_interrupt(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    directory = make_course("role", "modes")
    session(directory, ["next", "quit"], record(80)).run()
    assert session(directory, [], record(80)).place == Place(1, 1)
    # Ctrl-C at the menu (the prompter raises Interrupted): every move was already saved.
    with pytest.raises(Interrupted):
        session(directory, ["next", Interrupted()], record(80)).run()
    assert session(directory, [], record(80)).place == Place(1, 2)


def test_finishing_lessons_and_the_course(make_course: MakeCourse, record: Callable[[int], Console]) -> None:
    directory = make_course("role", "modes")
    console = record(80)
    reading = session(directory, ["next", "next", "next", "next", "next", "next"], console)
    reading.run()  # ends by itself after the last step of the course
    out = console.export_text()
    assert "Урок 1 пройден." in out and "Урок 2 пройден." in out
    assert "Курс пройден" in out
    data = saved()
    assert data["lessons"]["role"]["status"] == "done"
    assert data["lessons"]["modes"]["status"] == "done"
    assert data["current_lesson"] == "modes"


def test_contents_opens_another_lesson_where_it_was_left(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    directory = make_course("role", "modes")
    lesson_progress.record_place("modes", "second")
    reading = session(directory, ["contents", "lesson:2", "quit"], record(80), Place(1, 0))
    reading.run()
    assert reading.place == Place(2, 1)
    assert saved()["current_lesson"] == "modes"


def test_find_lesson_by_number_id_and_slug(make_course: MakeCourse) -> None:
    course = load_course(make_course("role", "modes"))
    assert [course.find(key) for key in ("2", "modes", "02-modes", "role")] == [2, 2, 2, 1]
    with pytest.raises(UsageError) as caught:
        course.find("7")
    assert caught.value.params["lessons"] == "1 role, 2 modes"


def test_learn_without_a_terminal_prints_the_whole_lesson(tutor: Callable[..., Any]) -> None:
    result = tutor("learn", "modes")
    assert result.returncode == 0, result.stderr
    course = load_course()
    lesson = course.lesson(course.find("modes"))
    assert f"Шаг {len(lesson.steps)} из {len(lesson.steps)}" in result.stdout
    assert lesson.steps[-1].title["ru"].split()[0] in result.stdout
    assert "Что дальше?" not in result.stdout


def test_plain_learn_with_input_not_a_terminal_prints_the_lesson(tutor: Callable[..., Any]) -> None:
    result = tutor("--plain", "--lang", "en", "learn")
    assert result.returncode == 0, result.stderr
    assert "Lesson 1." in result.stdout and "Step 1 of" in result.stdout
    assert "╔" not in result.stdout


def test_unknown_lesson_lists_the_valid_ones(tutor: Callable[..., Any]) -> None:
    result = tutor("--lang", "en", "learn", "99")
    assert result.returncode == 2
    assert "There is no lesson '99'" in result.stderr and "1 role" in result.stderr
    assert "Traceback" not in result.stderr


def test_lessons_lists_states_and_scores(tutor: Callable[..., Any]) -> None:
    lesson_progress.record_place("role", "promise")
    lesson_progress.mark_done("role")
    lesson_progress.record_place("network", "pod-network")
    progress_store().update(lambda data: data["quiz"].__setitem__("best", {"role": 0.8}))
    result = tutor("--lang", "en", "lessons")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    role = next(i for i, line in enumerate(lines) if "1. " in line and "(role)" in line)
    assert "read" in lines[role + 1] and "80%" in lines[role + 1]
    network = next(i for i, line in enumerate(lines) if "(network)" in line)
    assert "in progress" in lines[network + 1] and "you are here" in lines[network + 1]
    assert "not started" in lines[network + 3]


def test_contents_entries_mark_the_current_step(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    directory = make_course("role")
    reading = session(directory, [], record(80), Place(1, 1))
    assert reading.step_entry(1, "Второй шаг") == "▶ 2. Второй шаг"
    assert reading.step_entry(0, "Первый шаг") == "  1. Первый шаг"
    course = load_course(directory)
    plain = LessonSession(course, Place(1, 1), ScriptedPrompter([]), record(80), Display(plain=True))
    assert plain.step_entry(1, "Второй шаг") == "Второй шаг (вы здесь)"
    assert plain.step_entry(0, "Первый шаг") == "Первый шаг"
