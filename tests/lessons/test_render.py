"""Every lesson renders in both languages at 40, 80 and 120 columns and in plain mode, identifiers whole."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console

from kproxy_tutor import i18n
from kproxy_tutor.content.loader import Findings, load_course, parse_course_file
from kproxy_tutor.content.schema import (
    CodeBlock,
    DiagramBlock,
    Lesson,
    NoteBlock,
    TableBlock,
    TextBlock,
    UpdateBlock,
)
from kproxy_tutor.resources import lessons_dir
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import see_resolver
from kproxy_tutor.ui.lesson_view import LessonView, parse_markdown

# Counted at collection time, before the fixtures point the content cache at a temporary directory.
COURSE_SIZE = len(parse_course_file(lessons_dir(), Findings(lessons_dir() / "course.yaml")))
BORDERS = "│║┃|╔╗╚╝╭╮╰╯═─┌┐└┘├┤┬┴┼+ "
# Identifiers a learner must be able to read and copy: chains, addresses, flags, code spans.
IDENTIFIER = re.compile(
    r"KUBE-[A-Z0-9-]*[A-Z0-9]|\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d+)?\b|(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]"
)
CODE_SPAN = re.compile(r"`([^`]+)`")


def prose_of(lesson: Lesson, lang: str) -> Iterator[str]:
    for step in lesson.steps:
        for block in step.blocks:
            if isinstance(block, TextBlock | NoteBlock | UpdateBlock):
                yield block.text[lang]
            elif isinstance(block, TableBlock):
                yield from block.columns[lang]
                yield from (cell[lang] for row in block.rows for cell in row)


def expected_tokens(lesson: Lesson, lang: str) -> set[str]:
    tokens: set[str] = set()
    for text in prose_of(lesson, lang):
        tokens.update(IDENTIFIER.findall(text))
        for span in CODE_SPAN.findall(text):
            tokens.update(span.split())
    for step in lesson.steps:
        for block in step.blocks:
            if isinstance(block, CodeBlock):
                tokens.update(block.code[lang].split())
            elif isinstance(block, DiagramBlock):
                tokens.update(block.diagram[lang].split())
    return tokens


def diagram_lines(lesson: Lesson, lang: str) -> set[str]:
    return {
        line.rstrip()
        for step in lesson.steps
        for block in step.blocks
        if isinstance(block, DiagramBlock)
        for line in block.diagram[lang].splitlines()
    }


def render(lesson_number: int, lang: str, width: int, plain: bool, console: Console) -> str:
    i18n.set_language(lang)
    course = load_course()
    view = LessonView(console, Display(plain=plain, color=False), resolve_see=see_resolver(course))
    view.print_lesson(course.lesson(lesson_number))
    return console.export_text()


@pytest.mark.parametrize("plain", [False, True], ids=["rich", "plain"])
@pytest.mark.parametrize("width", [40, 80, 120])
@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("number", range(1, COURSE_SIZE + 1))
def test_lesson_renders_whole(
    number: int, lang: str, width: int, plain: bool, record: Callable[[int], Console]
) -> None:
    lesson = load_course().lesson(number)
    out = render(number, lang, width, plain, record(width))
    lines = out.splitlines()
    unfolded = "".join(line.strip(BORDERS) for line in lines)
    drawings = diagram_lines(lesson, lang)
    for token in filter(None, (t.strip(BORDERS) for t in expected_tokens(lesson, lang))):
        assert token in unfolded, f"{token!r} missing from lesson {number} ({lang}, {width} columns)"
        if len(token) <= width - 12:
            assert any(token in line for line in lines), f"{token!r} cut across lines at {width} columns"
    source = "".join(prose_of(lesson, lang))
    if "…" not in source:
        assert "…" not in out, "an ellipsis was added: something was truncated"
    for line in lines:
        # Only a diagram wider than the terminal may be wider: it is printed whole, never cropped.
        assert len(line) <= width or line.strip() in {d.strip() for d in drawings}, line
    if plain:
        own_lines = "".join(line for line in lines if line.strip() not in {d.strip() for d in drawings})
        assert not set(own_lines) & set("╔╗╚╝╭╮╰╯═│┌┐└┘"), "plain mode draws no boxes (diagrams aside)"
        for step in lesson.steps:
            assert step.title[lang].split()[0] in out


def test_plain_update_box_becomes_a_labelled_line(record: Callable[[int], Console]) -> None:
    course = load_course()
    with_update = next(
        lesson.number
        for lesson in course.lessons
        if any(isinstance(b, UpdateBlock) for s in lesson.steps for b in s.blocks)
    )
    out = render(with_update, "ru", 80, True, record(80))
    assert "\nОбновление:\n" in "\n" + out
    assert "Источник: " in out
    out = render(with_update, "en", 80, False, record(80))
    assert "╔═  Update  ═" in out


class AsciiFile(io.StringIO):
    """An output that can only take ASCII, as with PYTHONIOENCODING=ascii or a legacy code page."""

    encoding = "ascii"


@pytest.mark.parametrize("number", range(1, COURSE_SIZE + 1))
def test_ascii_output_keeps_to_ascii_and_cyrillic(number: int) -> None:
    console = Console(width=80, file=AsciiFile(), color_system=None, record=True, legacy_windows=False)
    i18n.set_language("ru")
    course = load_course()
    LessonView(console, Display(unicode=False), resolve_see=see_resolver(course)).print_lesson(
        course.lesson(number)
    )
    out = console.export_text()
    strange = {ch for ch in out if ord(ch) > 127 and not ("\u0400" <= ch <= "\u04ff")}
    assert not strange


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_ascii_terminal_does_not_crash(lang: str, tutor: Callable[..., object]) -> None:
    result = tutor("--lang", lang, "learn", "4", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert "KUBE-SERVICES" in result.stdout  # type: ignore[attr-defined]


def test_wide_diagram_is_printed_whole_with_a_hint(record: Callable[[int], Console]) -> None:
    from kproxy_tutor.content.schema import DiagramBlock

    drawing = "┌" + "─" * 60 + "┐\n│ KUBE-SVC-PKJNZ2BPYAP7WCVG → KUBE-SEP-ABCDEFGHIJKLMNOP" + " " * 6 + "│"
    console = record(40)
    LessonView(console, Display()).print_block(DiagramBlock({"ru": drawing, "en": drawing}))
    out = console.export_text()
    assert "62" in out.splitlines()[0]  # the hint names the width
    assert drawing.splitlines()[1] in out.splitlines()


def test_markdown_subset() -> None:
    groups = parse_markdown("Intro line\ncontinues.\n- one\n  more\n- two\n\n1. first\n2. second\n\nEnd.")
    kinds = [[(item.kind, item.marker, item.text) for item in group] for group in groups]
    assert kinds == [
        [("para", "", "Intro line continues.")],
        [("item", "-", "one more"), ("item", "-", "two"), ("item", "1.", "first"), ("item", "2.", "second")],
        [("para", "", "End.")],
    ]


def test_inline_markup_is_styled_not_shown(record: Callable[[int], Console]) -> None:
    view = LessonView(record(80), Display())
    text = view.inline("Run `iptables-save -t nat`, **then** read *every* KUBE-SVC-* chain.")
    assert text.plain == "Run iptables-save -t nat, then read every KUBE-SVC-* chain."
    styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert styles == {"iptables-save -t nat": "bold cyan", "then": "bold", "every": "italic"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_whole_lesson_opens_with_its_title_then_its_summary(
    lang: str, record: Callable[[int], Console]
) -> None:
    lesson = load_course().lesson(2)
    lines = [line for line in render(2, lang, 80, True, record(80)).splitlines() if line.strip()]
    assert lines[0] == ("Урок" if lang == "ru" else "Lesson") + f" 2. {lesson.title[lang]}"
    assert lines[1].split()[0] == lesson.summary[lang].split()[0]


def test_learn_step_without_a_terminal_prints_only_that_step(
    tutor: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    run = tutor
    by_number = run("--lang", "en", "learn", "3", "--step", "8")
    by_id = run("--lang", "en", "learn", "how-it-works", "--step", "conntrack")
    assert by_number.returncode == 0 and by_number.stdout == by_id.stdout
    assert "Step 8 of 16" in by_number.stdout and "Step 9 of 16" not in by_number.stdout
    wrong = run("--lang", "ru", "learn", "3", "--step", "conntrak")
    assert wrong.returncode == 2 and "Может быть, вы имели в виду 'conntrack'?" in wrong.stderr
    past = run("--lang", "en", "learn", "3", "--step", "17")
    assert past.returncode == 2 and "Lesson 3 has steps 1 to 16: there is no step 17." in past.stderr
