"""`dev check` for lessons: the shipped content passes, and each kind of broken content is named by file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.content import check
from kproxy_tutor.content.check import check_content
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.entry import main

MakeCourse = Callable[..., Path]


def text_of(problem: Problem) -> str:
    return f"{problem.where}: {problem.message.format(**dict(problem.params))}"


def problems_in(directory: Path) -> list[str]:
    return [text_of(p) for p in check_content(directory)]


WITH_QUIZ_CHECKS = {"test_shipped_content_passes", "test_quiz_checks_are_included"}


@pytest.fixture(autouse=True)
def without_quiz_checks(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    # The fixtures here have no quiz files; the quiz engine's own checks are tested with it.
    if request.function.__name__ not in WITH_QUIZ_CHECKS:
        monkeypatch.setattr(check, "_check_quizzes", lambda directory: [])


def test_shipped_content_passes() -> None:
    problems = [text_of(p) for p in check_content()]
    assert problems == []


def test_minimal_course_passes(make_course: MakeCourse) -> None:
    assert problems_in(make_course("role", "modes")) == []


def test_missing_english_names_file_line_and_field(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - text:
                  ru: "Только по-русски."
        """
    problems = problems_in(make_course("role", role=lesson))
    assert problems == [
        "lessons/01-role.yaml:8: steps[first].blocks[0].text: the en text is missing or empty."
    ]


def test_empty_russian_title(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "  ", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - note: {ru: "Да.", en: "Yes."}
        """
    assert problems_in(make_course("role", role=lesson)) == [
        "lessons/01-role.yaml:2: title: the ru text is missing or empty."
    ]


def test_duplicate_step_and_lesson_ids(make_course: MakeCourse) -> None:
    twice = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: same
            title: {ru: "Шаг", en: "Step"}
            blocks: [{note: {ru: "Да.", en: "Yes."}}]
          - id: same
            title: {ru: "Шаг", en: "Step"}
            blocks: [{note: {ru: "Да.", en: "Yes."}}]
        """
    directory = make_course("role", "other", role=twice, other=twice)
    problems = problems_in(directory)
    assert "lessons/01-role.yaml:8: steps[same].id: duplicate id 'same' (first at line 5)." in problems
    assert "lessons/02-other.yaml:1: id: duplicate id 'role' (first in lessons/01-role.yaml)." in problems


def test_code_needs_a_known_language(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - code: "kubectl get pods"
              - code: "kubectl get pods"
                lang: shell
        """
    problems = problems_in(make_course("role", role=lesson))
    assert len(problems) == 2
    assert problems[0].startswith("lessons/01-role.yaml:8: steps[first].blocks[0].lang: a code block needs")
    assert problems[1].startswith(
        "lessons/01-role.yaml:10: steps[first].blocks[1].lang: unknown code language 'shell'"
    )


def test_dangling_cross_references(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - see: {lesson: nowhere}
              - see: {lesson: role, step: missing}
              - see: {lesson: role, step: first}
        """
    assert problems_in(make_course("role", role=lesson)) == [
        "lessons/01-role.yaml:8: steps[first].blocks[0].see: no lesson has the id 'nowhere'.",
        "lessons/01-role.yaml:9: steps[first].blocks[1].see: lesson 'role' has no step 'missing'.",
    ]


def test_bad_yaml_is_a_problem_with_file_and_line(make_course: MakeCourse) -> None:
    broken = 'id: role\ntitle: {ru: "Роль", en: "Role"\nsummary: x\n'
    problems = problems_in(make_course("role", role=broken))
    assert len(problems) == 1
    assert problems[0].startswith("lessons/01-role.yaml:3: Invalid YAML")


def test_learner_sees_bad_yaml_as_one_line_with_exit_3(
    make_course: MakeCourse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = make_course("role", role="id: role\nsteps: [\n  - id: x\n")
    monkeypatch.setattr("kproxy_tutor.resources.lessons_dir", lambda: directory)
    assert main(["--lang", "en", "learn", "1"]) == 3
    err = capsys.readouterr().err
    assert "lessons/01-role.yaml:" in err and "Invalid YAML" in err
    assert "Traceback" not in err


def test_diagram_rules(make_course: MakeCourse) -> None:
    wide = "x" * 77
    lesson = f"""\
        id: role
        title: {{ru: "Роль", en: "Role"}}
        summary: {{ru: "Кратко.", en: "In short."}}
        steps:
          - id: first
            title: {{ru: "Шаг", en: "Step"}}
            blocks:
              - diagram:
                  ru: |
                    Pod → Service ✅
                    {wide}
                  en: |
                    Pod\t→ Service
        """
    assert problems_in(make_course("role", role=lesson)) == [
        "lessons/01-role.yaml:10: steps[first].blocks[0].diagram.ru: line 1 contains characters not allowed in diagrams: '✅'.",
        "lessons/01-role.yaml:11: steps[first].blocks[0].diagram.ru: line 2 is 77 columns wide; the limit is 76.",
        "lessons/01-role.yaml:13: steps[first].blocks[0].diagram.en: line 1 contains a tab.",
    ]


def test_course_listing_matches_the_files(make_course: MakeCourse) -> None:
    directory = make_course(
        "role",
        course="format_version: 1\nlessons:\n  - 01-role\n  - 02-gone\n",
        extra={"03-stray.yaml": "id: stray\n", "01-role.quiz.yaml": "lesson: role\n"},
    )
    assert problems_in(directory) == [
        "lessons/course.yaml:4: lessons[1]: lesson '02-gone' is listed, but lessons/02-gone.yaml does not exist.",
        "lessons/03-stray.yaml: The lesson file is not listed in course.yaml.",
    ]


def test_unknown_fields_and_missing_update_source(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            titel: {ru: "Шаг", en: "Step"}
            blocks:
              - update: {ru: "Новое.", en: "New."}
              - note: {ru: "Да.", en: "Yes.", de: "Ja."}
        """
    problems = problems_in(make_course("role", role=lesson))
    assert problems == [
        "lessons/01-role.yaml:6: steps[first].titel: unknown field; expected one of: id, title, blocks.",
        "lessons/01-role.yaml:5: steps[first].title: required field is missing.",
        "lessons/01-role.yaml:8: steps[first].blocks[0].source: an update needs a source (where the current facts are documented).",
        "lessons/01-role.yaml:9: steps[first].blocks[1].note.de: unknown language; expected ru, en.",
    ]


def test_table_shape(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - table:
                  columns: {ru: ["А", "Б"], en: ["A"]}
                  rows:
                    - ["`--x`", {ru: "да"}]
        """
    problems = problems_in(make_course("role", role=lesson))
    assert problems == [
        "lessons/01-role.yaml:9: steps[first].blocks[0].table.columns: the languages have different numbers of columns.",
        "lessons/01-role.yaml:11: steps[first].blocks[0].table.rows[0][1]: the en text is missing or empty.",
    ]


def test_quiz_checks_are_included(make_course: MakeCourse, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []

    def fake_check_quizzes(directory: Path) -> list[Problem]:
        seen.append(directory)
        return [Problem("lessons/01-role.quiz.yaml:3", "quiz problem")]

    monkeypatch.setattr("kproxy_tutor.content.quiz.check_quizzes", fake_check_quizzes)
    directory = make_course("role")
    assert problems_in(directory) == ["lessons/01-role.quiz.yaml:3: quiz problem"]
    assert seen == [directory]


def test_dev_check_names_content_problems(make_course: MakeCourse, monkeypatch: pytest.MonkeyPatch) -> None:
    from kproxy_tutor.devcheck import run_checks

    directory = make_course("role", role="id: role\n")
    monkeypatch.setattr("kproxy_tutor.resources.lessons_dir", lambda: directory)
    found = [text_of(p) for p in run_checks() if p.where.startswith("lessons/")]
    assert "lessons/01-role.yaml:1: title: required field is missing." in found
