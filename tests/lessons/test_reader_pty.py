"""The full-screen reader in a real terminal (tmux) at 100x32 and 80x24, in both languages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kproxy_tutor import i18n
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.lesson_nav import Move, Place
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import lesson_end_lines
from kproxy_tutor.ui.prompts import ScriptedPrompter
from kproxy_tutor.ui.reader_app import ReaderSession, render_console
from tests.lessons.tmux_screen import Screen, have_tmux

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(os.name != "posix" or not have_tmux(), reason="needs tmux on a POSIX system"),
]
SIZES = [(100, 32), (80, 24)]
COUNTER = {"ru": "Шаг {k} из {n}", "en": "Step {k} of {n}"}


@pytest.fixture
def screens(learner_home: Path) -> Iterator[list[Screen]]:
    opened: list[Screen] = []
    yield opened
    for screen in opened:
        screen.close()


def open_screen(screens: list[Screen], home: Path, args: list[str], size: tuple[int, int]) -> Screen:
    screen = Screen(home, args, *size)
    screens.append(screen)
    return screen


def assert_nothing_wrapped(screen: Screen, width: int) -> None:
    """No row is wider than the screen: the terminal had nothing to wrap (-J joins wrapped rows)."""
    # tmux -J joins the rows the terminal wrapped: a joined row longer than the screen was wrapped.
    assert all(len(row) <= width for row in screen.rows(joined=True))


def title_start(text: str) -> str:
    return text[:24]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_step_of_lesson_3_shows_its_title(
    screens: list[Screen], learner_home: Path, lang: str, size: tuple[int, int]
) -> None:
    lesson = load_course().lesson(3)
    n = len(lesson.steps)
    screen = open_screen(screens, learner_home, ["--lang", lang, "learn", "3"], size)
    for k, step in enumerate(lesson.steps, 1):
        screen.wait_for(COUNTER[lang].format(k=k, n=n), title_start(step.title[lang]))
        assert_nothing_wrapped(screen, size[0])
        screen.keys("Enter")
    i18n.set_language(lang)
    end = lesson_end_lines(load_course(), Move(Place(4, 0), finished_lesson=3))
    screen.wait_for(end[0])
    screen.keys("q")
    assert screen.exit_status() == 0


def longest_step(lang: str, width: int) -> tuple[int, str, str]:
    """Lesson 3's tallest step at ``width``: its index, its title and its last line of text."""
    i18n.set_language(lang)
    course = load_course()
    reader = ReaderSession(
        course, Place(3, 0), ScriptedPrompter([]), render_console(width, False, False), Display()
    )
    heights = []
    for index in range(len(course.lesson(3).steps)):
        reader.nav.go_to(Place(3, index))
        heights.append((len(reader.page(width).body), index))
    index = max(heights)[1]
    reader.nav.go_to(Place(3, index))
    last = next(line.plain.strip() for line in reversed(reader.page(width).body) if line.plain.strip())
    return index, course.lesson(3).steps[index].title[lang], last


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_paging_reaches_the_last_line_of_the_longest_step(
    screens: list[Screen], learner_home: Path, lang: str, size: tuple[int, int]
) -> None:
    index, title, last = longest_step(lang, size[0])
    n = len(load_course().lesson(3).steps)
    screen = open_screen(screens, learner_home, ["--lang", lang, "learn", "3"], size)
    for k in range(1, index + 1):
        screen.wait_for(COUNTER[lang].format(k=k, n=n))
        screen.keys("Enter")
    screen.wait_for(COUNTER[lang].format(k=index + 1, n=n), title_start(title))
    assert last not in screen.text()  # the step is taller than the screen
    for _ in range(60):
        screen.keys("PageDown")
        if last in screen.text():
            break
    rows = screen.wait_for(last, title_start(title), timeout=5)  # the title stayed at the top
    assert any(title_start(title) in row for row in rows[:4])
    assert_nothing_wrapped(screen, size[0])
    screen.keys("Home")
    screen.wait_for(title_start(title))
    screen.keys("End")
    screen.wait_for(last)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_resize_lays_the_step_out_again(screens: list[Screen], learner_home: Path, lang: str) -> None:
    lesson = load_course().lesson(3)
    n = len(lesson.steps)
    screen = open_screen(screens, learner_home, ["--lang", lang, "learn", "3"], (100, 32))
    screen.wait_for(COUNTER[lang].format(k=1, n=n))
    screen.keys("Enter")
    screen.keys("Enter")
    screen.keys("Enter")
    title = title_start(lesson.steps[3].title[lang])
    screen.wait_for(COUNTER[lang].format(k=4, n=n), title)
    for width, height in ((80, 24), (60, 20), (120, 40)):
        screen.resize(width, height)
        rule = "─" * width
        rows = screen.wait_for(title, rule)
        assert screen.size() == (width, height)
        assert_nothing_wrapped(screen, width)
        assert len(rows) == height
        assert COUNTER[lang].format(k=4, n=n).split()[0] in screen.text()


def test_switch_language_quit_and_resume_keep_the_place(screens: list[Screen], learner_home: Path) -> None:
    first = load_course().lesson(1)
    n = len(first.steps)
    screen = open_screen(screens, learner_home, ["learn"], (100, 32))
    screen.wait_for(f"Шаг 1 из {n}")
    screen.keys("Enter")
    screen.wait_for(f"Шаг 2 из {n}")
    screen.keys("Enter")
    screen.wait_for(f"Шаг 3 из {n}")
    screen.keys("l")
    screen.wait_for(f"Step 3 of {n}", title_start(first.steps[2].title["en"]))
    screen.keys("p")
    screen.wait_for(f"Step 2 of {n}")
    screen.keys("Enter")
    screen.wait_for(f"Step 3 of {n}")
    screen.keys("q")
    screen.wait_for("Your place is saved")
    assert screen.exit_status() == 0

    again = open_screen(screens, learner_home, ["learn"], (100, 32))
    again.wait_for(f"Step 3 of {n}", title_start(first.steps[2].title["en"]))  # language kept too
    again.keys("q")
    assert again.exit_status() == 0


def test_contents_jumps_and_comes_back_to_the_reader(screens: list[Screen], learner_home: Path) -> None:
    lesson = load_course().lesson(2)
    n = len(lesson.steps)
    screen = open_screen(screens, learner_home, ["--lang", "en", "learn", "2"], (100, 32))
    screen.wait_for(f"Step 1 of {n}")
    screen.keys("c")
    screen.wait_for("Contents: lesson 2")
    screen.keys("Down", "Down", "Enter")
    screen.wait_for(f"Step 3 of {n}", title_start(lesson.steps[2].title["en"]))
    screen.keys("q")
    assert screen.exit_status() == 0


def test_a_dumb_terminal_keeps_the_linear_view(screens: list[Screen], learner_home: Path) -> None:
    """TERM=dumb: no full screen; the step is printed and the menu asks, as before the reader."""
    screen = Screen(learner_home, ["learn", "2"], 80, 24, TERM="dumb")
    screens.append(screen)
    rows = screen.wait_for("Что дальше")
    assert not any("Урок 2 из 7" in row for row in rows)  # the reader's footer is not there


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_learn_with_a_step_opens_that_step(screens: list[Screen], learner_home: Path, lang: str) -> None:
    """The command explain, search and the glossary print (kproxy-tutor learn 3 --step 8) lands there."""
    step = load_course().lesson(3).steps[7]
    screen = open_screen(screens, learner_home, ["--lang", lang, "learn", "3", "--step", "8"], (80, 24))
    screen.wait_for(
        COUNTER[lang].format(k=8, n=len(load_course().lesson(3).steps)), title_start(step.title[lang])
    )
    screen.keys("q")
    assert screen.exit_status() == 0
