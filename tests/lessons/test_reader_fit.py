"""The full-screen reader's screens fit: every step of every lesson at 40/80/120 columns, both languages.

No row is wider than the screen (nothing is left for the terminal to wrap) and no identifier (a
chain name, an address, a flag, a command word) is split across rows. A diagram wider than the
screen is shown through a sideways window: its rows are cut at the screen's edge with a mark, and
sliding the window shows every column.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from rich.cells import cell_len

from kproxy_tutor import i18n
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.content.schema import CodeBlock, DiagramBlock, Lesson, Step
from kproxy_tutor.lesson_nav import Place
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.prompts import ScriptedPrompter
from kproxy_tutor.ui.reader_app import ReaderSession, render_console
from kproxy_tutor.ui.reader_screen import CONTINUATION_MARKS, crop
from tests.lessons.test_render import CODE_SPAN, IDENTIFIER

WIDTHS = (40, 80, 120)


def step_tokens(step: Step, lang: str) -> Counter[str]:
    """Identifiers the step's source holds, with how often: each must come out whole as often."""
    found: set[str] = set()
    source = []
    for block in step.blocks:
        if isinstance(block, CodeBlock):
            found.update(t for t in block.code[lang].split() if len(t) > 1)
            source.append(block.code[lang])
            continue
        if isinstance(block, DiagramBlock):
            continue  # a drawing's rows are never broken: checked whole below
        for text in _texts(block, lang):
            source.append(text)
            found.update(IDENTIFIER.findall(text))
            for span in CODE_SPAN.findall(text):
                found.update(t for t in span.split() if len(t) > 1 and not t.startswith(("`", "*")))
    whole = "\n".join(source).replace("`", "").replace("**", "")
    return Counter({token: occurrences(whole, token) for token in found})


def occurrences(text: str, token: str) -> int:
    """How often ``token`` stands on its own in ``text`` (not as a piece of a longer name)."""
    return len(re.findall(rf"(?<![\w.:/=-]){re.escape(token)}(?![\w:/=-])", text))


def _texts(block: object, lang: str) -> list[str]:
    out = []
    for name in ("text", "task"):
        value = getattr(block, name, None)
        if isinstance(value, dict) or hasattr(value, "get"):
            out.append(value[lang])  # type: ignore[index]
    # Column names are left out: a narrow table lists its rows as "column: value" lines, and its
    # first column's name is not repeated there (each row's first cell heads the row).
    rows = getattr(block, "rows", None) or ()
    out.extend(cell[lang] for row in rows for cell in row)
    return out


def session(place: Place, display: Display) -> ReaderSession:
    course = load_course()
    return ReaderSession(course, place, ScriptedPrompter([]), render_console(80, False, False), display)


def course_steps() -> list[tuple[int, int]]:
    course = load_course()
    return [(lesson.number, index) for lesson in course.lessons for index in range(len(lesson.steps))]


def _count(lines: list[str], token: str) -> int:
    return sum(occurrences(line, token) for line in lines)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_step_fits_and_keeps_identifiers_whole(lang: str, width: int) -> None:
    i18n.set_language(lang)
    course = load_course()
    checked = 0
    for lesson in course.lessons:
        reader = session(Place(lesson.number, 0), Display(color=False))
        for index in range(len(lesson.steps)):
            reader.nav.go_to(Place(lesson.number, index))
            reader.top = 0
            screen = reader.frame(width, 24)
            assert len(screen) <= 24
            for line in screen:
                assert cell_len(line.plain) <= width, (lesson.number, index + 1, line.plain)
            page = reader.page(width)
            rows = [line.plain for line in page.header + page.body]
            for line in page.header + page.body:
                if line.wide:
                    assert _in_a_diagram(lesson, index, line.plain, lang) or (
                        max(len(token) for token in line.plain.split()) > width - 2
                    ), line.plain
                else:
                    assert line.cells <= width, (lesson.number, index + 1, line.plain)
            for token, times in step_tokens(lesson.steps[index], lang).items():
                if len(token) > width - 8:
                    # Wider than a boxed line can be (a long URL at 40 columns): only such a word is
                    # cut, at the box's edge (code lines holding one are kept whole, shown sideways).
                    continue
                assert _count(rows, token) >= times, (lesson.number, index + 1, width, token)
            checked += 1
    assert checked == sum(len(lesson.steps) for lesson in course.lessons)


def _in_a_diagram(lesson: Lesson, index: int, row: str, lang: str) -> bool:
    drawings = [b.diagram[lang] for b in lesson.steps[index].blocks if isinstance(b, DiagramBlock)]
    return any(row.strip() in drawing.split("\n") or row.strip() in drawing for drawing in drawings)


def test_the_whole_step_is_reached_by_scrolling() -> None:
    """Paging down from the top shows every body row once, the last one included."""
    course = load_course()
    lesson = course.lesson(3)
    reader = session(Place(3, 0), Display(color=False))
    heights = []
    for index in range(len(lesson.steps)):
        reader.nav.go_to(Place(3, index))
        heights.append((len(reader.page(80).body), index))
    reader.nav.go_to(Place(3, max(heights)[1]))
    page = reader.page(80)
    seen: list[str] = []
    for _ in range(len(page.body)):
        shown = [line.plain for line in reader.frame(80, 24)]
        seen += [row for row in shown if row not in seen]
        before = reader.top
        reader.scroll(reader.page_rows(80, 24) - 1, 80, 24)
        if reader.top == before:
            break
    last = next(line.plain for line in reversed(page.body) if line.plain.strip())
    assert last in seen
    assert len(page.body) > reader.page_rows(80, 24)  # the step really is taller than the screen


def test_a_wide_diagram_slides_sideways_and_shows_every_column() -> None:
    """At 40 columns a 70-column drawing is cut with a mark at the edge, and ← → show all of it."""
    i18n.set_language("en")
    for number, index in course_steps():
        reader = session(Place(number, index), Display(color=False))
        page = reader.page(40)
        wide = [line for line in page.body if line.wide]
        if wide:
            break
    else:
        pytest.skip("no diagram is wider than 40 columns")
    row = max(wide, key=lambda line: line.cells)
    assert "← and →" in " ".join(line.plain for line in page.body)
    pieces, left = [], 0
    while True:
        shown = crop(row, left, 40)
        assert shown.cells <= 40
        pieces.append((left, shown.plain))
        if left + 40 >= row.cells:
            break
        left += 8
    assert pieces[0][1].endswith("›")
    # Every column of the row is visible in some window (between the edge marks).
    visible = set()
    for left, text in pieces:
        start = left + (1 if left else 0)
        body = text[1:] if left else text
        body = body[:-1] if body.endswith("›") else body
        visible.update(range(start, start + len(body)))
    assert visible >= set(range(len(row.plain)))


def test_code_lines_wrap_between_arguments_with_a_mark() -> None:
    i18n.set_language("en")
    reader = session(Place(3, 3), Display(color=False))
    rows = [line.plain for line in reader.page(40).body]
    assert any(row.lstrip().startswith(CONTINUATION_MARKS) for row in rows)
