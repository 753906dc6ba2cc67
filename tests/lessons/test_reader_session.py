"""The reader's moves without a terminal: the same navigator, saving and lesson-end words as the linear view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from kproxy_tutor import lesson_progress
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.lesson_nav import Move, Place
from kproxy_tutor.progress import progress_store
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import lesson_end_lines
from kproxy_tutor.ui.prompts import ScriptedPrompter
from kproxy_tutor.ui.reader_app import ReaderSession

MakeCourse = Callable[..., Path]


START = Place(1, 0)


def reader(directory: Path, console: Console, place: Place = START) -> ReaderSession:
    return ReaderSession(load_course(directory), place, ScriptedPrompter([]), console, Display(color=False))


def shown(session: ReaderSession, width: int = 60, height: int = 16) -> str:
    return "\n".join(line.plain for line in session.frame(width, height))


def test_enter_through_a_lesson_saves_each_step_and_ends_with_the_linear_words(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    directory = make_course("role", "modes")
    session = reader(directory, record(60))
    assert "Шаг 1 из 3" in shown(session) and "Первый шаг" in shown(session)
    assert "Урок 1 из 2" in shown(session)
    session.go_next()
    assert progress_store().read()["lessons"]["role"]["step"] == "second"
    session.go_next()
    session.go_next()  # past the last step: the lesson's end, in the linear view's words
    screen = shown(session)
    # The linear view's first words, then the next command as the course status gave it then.
    assert lesson_end_lines(session.course, Move(Place(2, 0), finished_lesson=1))[0] in screen
    assert "Дальше: kproxy-tutor learn 2 (прочитать урок 2)" in screen
    assert lesson_progress.lesson_states()["role"] == "done"
    assert session.place == Place(2, 0)
    session.go_back()  # back from the end screen: the last step of the finished lesson
    assert session.place == Place(1, 2) and "Третий шаг" in shown(session)
    session.go_next()
    assert not session.go_next()  # Enter on the end screen opens the next lesson
    screen = shown(session)
    assert "Урок 2. Урок modes" in screen and "Шаг 1 из 3" in screen and "Первый шаг" in screen


def test_contents_inside_the_reader(make_course: MakeCourse, record: Callable[[int], Console]) -> None:
    directory = make_course("role", "modes")
    session = reader(directory, record(60))
    session.open_menu()
    screen = shown(session)
    assert "Содержание: урок 1" in screen and "› ▶ 1. Первый шаг" in screen
    assert "Урок 2. Урок modes" in screen
    session.menu_move(2, 60, 16)
    session.menu_choose()
    assert session.place == Place(1, 2) and "Шаг 3 из 3" in shown(session)
    session.open_menu()
    session.menu_move(1, 60, 16)  # the other lesson
    session.menu_choose()
    assert session.place == Place(2, 0) and progress_store().read()["current_lesson"] == "modes"
    session.scroll(0, 60, 16)
    session.open_menu()
    session.menu_close()
    assert session.menu is None and session.place == Place(2, 0)


def test_the_course_end_closes_the_reader(make_course: MakeCourse, record: Callable[[int], Console]) -> None:
    directory = make_course("role")
    session = reader(directory, record(60), Place(1, 2))
    assert not session.go_next()
    assert session.message_done
    assert session.go_next()  # Enter leaves


def test_language_switch_keeps_step_and_scroll_and_a_resize_keeps_the_share_read(
    make_course: MakeCourse, record: Callable[[int], Console]
) -> None:
    long_text = " ".join(f"слово{i}" for i in range(400))
    lesson = f"""\
id: long
title: {{ru: "Длинный", en: "Long"}}
summary: {{ru: "Кратко.", en: "In short."}}
steps:
  - id: only
    title: {{ru: "Единственный шаг", en: "The only step"}}
    blocks:
      - text: {{ru: "{long_text}", en: "{long_text}"}}
"""
    directory = make_course("long", long=lesson)
    session = reader(directory, record(60))
    session.scroll(10, 60, 16)
    assert session.top == 10
    session.switch_language()
    assert "The only step" in shown(session) and session.top == 10
    total = len(session.page(60).body)
    shown(session, 120, 16)  # twice as wide: about half the rows, the same share read
    assert abs(session.top / len(session.page(120).body) - 10 / total) < 0.1
    for line in session.frame(120, 16):
        assert line.cells <= 120
