"""`dev check` for lessons: schema, both languages, unique ids, cross-references, diagrams, quizzes."""

from __future__ import annotations

import re
from pathlib import Path

from kproxy_tutor.content.glossary import GLOSSARY_FILE, check_glossary
from kproxy_tutor.content.loader import (
    COURSE_FILE,
    Course,
    Findings,
    file_label,
    parse_course_file,
    read_yaml,
)
from kproxy_tutor.content.parse import parse_lesson
from kproxy_tutor.content.schema import (
    DIAGRAM_EXTRA_CHARS,
    DIAGRAM_MAX_WIDTH,
    DiagramBlock,
    Lesson,
    NoteBlock,
    SeeBlock,
    TextBlock,
    UpdateBlock,
)
from kproxy_tutor.content.sources import repository_files, source_problems
from kproxy_tutor.content.yamlio import line_of
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, ContentError, Msg

QUIZ_SUFFIX = ".quiz.yaml"
#: Inline code inside bold: the reader prints such backticks literally.
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")
#: Which generated quiz questions each lesson gets (see kproxy_tutor/quiz/generated.py).
GENERATED_FILE = "generated.yaml"


def _from_error(exc: ContentError) -> Problem:
    return Problem(
        exc.location or "",
        exc.message,
        tuple((k, v if isinstance(v, Msg) else str(v)) for k, v in exc.params.items()),
    )


def check_content(directory: Path | None = None) -> list[Problem]:
    """Every problem in the lessons of ``directory`` (default: the shipped lessons), as values."""
    from kproxy_tutor.resources import lessons_dir

    directory = directory or lessons_dir()
    course_findings = Findings(directory / COURSE_FILE, strict=False)
    try:
        entries = parse_course_file(directory, course_findings)
    except ContentError as exc:
        return [_from_error(exc), *_check_quizzes(directory)]
    problems = list(course_findings.problems)
    lessons: list[Lesson] = []
    course = Course(directory, entries)
    for entry in entries:
        if not entry.path.is_file():
            course_findings.problems.clear()
            course_findings.add(
                entry.line,
                f"lessons[{entry.number - 1}]",
                N_("{field}: lesson {slug!r} is listed, but {file} does not exist."),
                slug=entry.slug,
                file=file_label(entry.path),
            )
            problems.extend(course_findings.problems)
            continue
        findings = Findings(entry.path, strict=False)
        try:
            lesson = parse_lesson(read_yaml(entry.path), entry, findings)
        except ContentError as exc:
            problems.append(_from_error(exc))
            continue
        problems.extend(findings.problems)
        if lesson is None:
            continue
        lessons.append(lesson)
        if lesson.id and course.lesson_id(entry.number) != lesson.id:
            findings.problems.clear()
            findings.add(1, "id", N_("{field}: write the lesson id on its own line at the top: id: NAME"))
            problems.extend(findings.problems)
    problems.extend(_unlisted_files(directory, {e.path.name for e in entries}))
    problems.extend(_duplicate_lessons(lessons))
    for lesson in lessons:
        problems.extend(_lesson_problems(lesson, lessons))
    problems.extend(_check_quizzes(directory))
    problems.extend(_check_quiz_sources(directory))
    problems.extend(check_glossary(directory, lessons))
    problems.extend(_check_exercises(directory, lessons))
    return problems


def own_files(directory: Path) -> frozenset[str]:
    """Names of this project's files: the source tree (when there is one) and the lessons' folder."""
    package_root = Path(__file__).resolve().parents[2]
    names = set(repository_files(directory.parent))
    if (package_root / "pyproject.toml").is_file():
        names |= repository_files(package_root)
    return frozenset(names)


def _check_quiz_sources(directory: Path) -> list[Problem]:
    """Every quiz question cites public URLs (the quiz parser only checks that a source is there)."""
    problems: list[Problem] = []
    own = own_files(directory)
    for path in sorted(directory.glob(f"*{QUIZ_SUFFIX}")):
        try:
            data = read_yaml(path)
        except ContentError:
            continue  # the quiz checks report it
        questions = data.get("questions") if isinstance(data, dict) else None
        if not isinstance(questions, list):
            continue
        findings = Findings(path, strict=False)
        for index, node in enumerate(questions):
            if not isinstance(node, dict) or "source" not in node:
                continue  # a missing source is the quiz parser's finding
            label = node.get("id") if isinstance(node.get("id"), str) else index
            for problem in source_problems(node.get("source"), own):
                findings.add(
                    line_of(node, "source"),
                    f"questions[{label}].source",
                    problem.message,
                    **dict(problem.params),
                )
        problems.extend(findings.problems)
    return problems


def _check_exercises(directory: Path, lessons: list[Lesson]) -> list[Problem]:
    """Exercises run their reference solutions; generated questions are computed once."""
    from kproxy_tutor.exercises.verify import check_exercises
    from kproxy_tutor.quiz.generated import check_generated

    return [*check_exercises(lessons), *check_generated(directory, lessons)]


def _unlisted_files(directory: Path, listed: set[str]) -> list[Problem]:
    problems = []
    for path in sorted(directory.glob("*.yaml")):
        if (
            path.name in (COURSE_FILE, GENERATED_FILE, GLOSSARY_FILE)
            or path.name.endswith(QUIZ_SUFFIX)
            or path.name in listed
        ):
            continue
        problems.append(
            Problem(
                file_label(path),
                N_("The lesson file is not listed in {course}."),
                (("course", COURSE_FILE),),
            )
        )
    return problems


def _duplicate_lessons(lessons: list[Lesson]) -> list[Problem]:
    problems = []
    first: dict[str, Lesson] = {}
    for lesson in lessons:
        if not lesson.id:
            continue
        earlier = first.get(lesson.id)
        if earlier is not None and earlier.path is not None and lesson.path is not None:
            problems.append(
                Problem(
                    f"{file_label(lesson.path)}:1",
                    N_("{field}: duplicate id {id!r} (first in {other})."),
                    (("field", "id"), ("id", lesson.id), ("other", file_label(earlier.path))),
                )
            )
        first.setdefault(lesson.id, lesson)
    return problems


def _lesson_problems(lesson: Lesson, lessons: list[Lesson]) -> list[Problem]:
    assert lesson.path is not None
    findings = Findings(lesson.path, strict=False)
    by_id = {other.id: other for other in lessons}
    own = own_files(lesson.path.parent)
    for step in lesson.steps:
        for index, block in enumerate(step.blocks):
            where = f"steps[{step.id}].blocks[{index}]"
            if isinstance(block, SeeBlock):
                target = by_id.get(block.lesson)
                if target is None:
                    findings.add(
                        block.line,
                        f"{where}.see",
                        N_("{field}: no lesson has the id {id!r}."),
                        id=block.lesson,
                    )
                elif block.step is not None and target.step_index(block.step) is None:
                    findings.add(
                        block.line,
                        f"{where}.see",
                        N_("{field}: lesson {lesson!r} has no step {id!r}."),
                        lesson=block.lesson,
                        id=block.step,
                    )
            elif isinstance(block, DiagramBlock):
                check_diagram(block, where, findings)
            if isinstance(block, TextBlock | NoteBlock | UpdateBlock):
                for lang, text in block.text.items():
                    # Bold spans pair up left to right: code between two of them is not inside either.
                    if any("`" in bold.group(1) for bold in _BOLD.finditer(text)):
                        findings.add(
                            block.line,
                            f"{where}.{lang}",
                            N_(
                                "{field}: `code` inside **bold** is printed with its backticks; take it out of the bold."
                            ),
                        )
            if isinstance(block, UpdateBlock) and block.source:
                for problem in source_problems(block.source, own):
                    findings.add(block.line, f"{where}.source", problem.message, **dict(problem.params))
    return findings.problems


def check_diagram(block: DiagramBlock, where: str, findings: Findings) -> None:
    """Diagrams stay aligned everywhere: single-width characters only, no tabs, at most 76 columns."""
    for lang, text in block.diagram.items():
        field = f"{where}.diagram.{lang}"
        first = block.first_lines.get(lang, 0)
        for offset, line in enumerate(text.splitlines()):
            at = first + offset if first else block.line
            if "\t" in line:
                findings.add(at, field, N_("{field}: line {n} contains a tab."), n=offset + 1)
            bad = sorted({ch for ch in line if not _diagram_char(ch) and ch != "\t"})
            if bad:
                findings.add(
                    at,
                    field,
                    N_("{field}: line {n} contains characters not allowed in diagrams: {chars}."),
                    n=offset + 1,
                    chars=" ".join(repr(ch) for ch in bad),
                )
            if len(line) > DIAGRAM_MAX_WIDTH:
                findings.add(
                    at,
                    field,
                    N_("{field}: line {n} is {width} columns wide; the limit is {limit}."),
                    n=offset + 1,
                    width=len(line),
                    limit=DIAGRAM_MAX_WIDTH,
                )


def _diagram_char(ch: str) -> bool:
    return (" " <= ch <= "~") or ("\u0400" <= ch <= "\u04ff") or ch in DIAGRAM_EXTRA_CHARS


def _check_quizzes(directory: Path) -> list[Problem]:
    """The quiz engine's own checks, when it is installed."""
    try:
        from kproxy_tutor.content.quiz import check_quizzes
    except ImportError:
        return []
    return list(check_quizzes(directory))
