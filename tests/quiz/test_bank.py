"""The question bank: loading, validation with file:line and field, and the real bank's validity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kproxy_tutor.content.quiz import MIN_QUESTIONS_PER_LESSON, QUIZ_SUFFIX, check_quizzes, load_bank
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import ContentError, UsageError
from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, Ordering, SingleChoice, TrueFalse
from kproxy_tutor.resources import lessons_dir

MakeBank = Callable[[dict[str, dict[str, Any]]], Path]


def render(problem: Problem) -> str:
    return f"{problem.where}: {problem.message.format(**dict(problem.params))}"


def line_containing(path: Path, needle: str, after: str = "") -> int:
    """1-based number of the first line containing ``needle`` after the line containing ``after``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


def test_fixture_bank_is_valid_and_typed(bank_dir: MakeBank, quizzes: dict[str, Any]) -> None:
    root = bank_dir(quizzes)
    assert check_quizzes(root) == []
    bank = load_bank(root)
    assert [(q.number, q.lesson_id, len(q.questions)) for q in bank.quizzes] == [
        (1, "alpha", 10),
        (2, "beta", 10),
    ]
    kinds = {q.id: type(q) for q in bank.questions()}
    assert kinds["alpha-single"] is SingleChoice and kinds["alpha-multi"] is MultipleChoice
    assert kinds["alpha-tf"] is TrueFalse and kinds["alpha-order"] is Ordering
    assert kinds["alpha-text"] is FreeText and kinds["alpha-num"] is Numeric
    multi = bank.question("alpha-multi")
    assert isinstance(multi, MultipleChoice) and multi.answer == frozenset({"a", "c"})


def test_find_by_number_id_and_stem(bank_dir: MakeBank, quizzes: dict[str, Any]) -> None:
    bank = load_bank(bank_dir(quizzes))
    assert bank.find("2").lesson_id == "beta"
    assert bank.find("alpha").number == 1
    assert bank.find("02-beta").lesson_id == "beta"
    with pytest.raises(UsageError) as info:
        bank.find("9")
    assert "1 (alpha)" in str(info.value)


def _set(quizzes: dict[str, Any], qid: str, **changes: Any) -> None:
    for quiz in quizzes.values():
        for question in quiz["questions"]:
            if question["id"] == qid:
                for key, value in changes.items():
                    if value is None:
                        question.pop(key, None)
                    else:
                        question[key] = value


def _drop_why_en(quizzes: dict[str, Any]) -> None:
    del quizzes["01-alpha"]["questions"][0]["choices"][1]["why"]["en"]


def _duplicate_id(quizzes: dict[str, Any]) -> None:
    quizzes["02-beta"]["questions"][3]["id"] = "alpha-tf"


@pytest.mark.parametrize(
    ("mutate", "expected", "needle", "after"),
    [
        (
            lambda q: _set(q, "alpha-single", answer="z"),
            "alpha-single.answer: 'z' is not one of",
            "answer:",
            "alpha-single",
        ),
        (
            lambda q: _set(q, "alpha-order", answer=["x", "x", "z"]),
            "alpha-order.answer: the order must list every choice exactly once (missing: y; repeated: x)",
            "answer:",
            "alpha-order",
        ),
        (
            lambda q: _set(q, "alpha-multi", answer=["a", "e"]),
            "alpha-multi.answer: 'e' is not one of",
            "answer:",
            "alpha-multi",
        ),
        (
            lambda q: _set(q, "alpha-single", answer=["a"]),
            "alpha-single.answer: must be one choice id",
            "answer:",
            "alpha-single",
        ),
        (_drop_why_en, "alpha-single.choices[b].why: the en text is missing", "ru: why b", "alpha-single"),
        (
            lambda q: _set(q, "alpha-tf", explanation={"ru": "", "en": "x"}),
            "alpha-tf.explanation: the ru text",
            "ru: ''",
            "alpha-tf",
        ),
        (
            lambda q: _set(q, "alpha-tf", answer="yes"),
            "alpha-tf.answer: must be true or false",
            "answer:",
            "alpha-tf",
        ),
        (
            lambda q: _set(q, "alpha-num", answer="1/3"),
            "alpha-num.answer: must be a number",
            "answer:",
            "alpha-num",
        ),
        (
            lambda q: _set(q, "alpha-num", tolerance=-1),
            "alpha-num.tolerance: must be zero or more",
            "tolerance:",
            "alpha-num",
        ),
        (
            lambda q: _set(q, "alpha-text", accept=[]),
            "alpha-text.accept: must be a list of accepted",
            "accept:",
            "alpha-text",
        ),
        (
            lambda q: _set(q, "alpha-single", explenation="typo"),
            "alpha-single.explenation: unknown field",
            "explenation:",
            "",
        ),
        (
            lambda q: _set(q, "alpha-single", type="essay"),
            "alpha-single.type: must be one of",
            "type: essay",
            "",
        ),
        (
            lambda q: _set(q, "alpha-single", source=None),
            "alpha-single.source: required field is missing",
            "alpha-single",
            "",
        ),
        (
            _duplicate_id,
            "alpha-tf: the question id 'alpha-tf' is also used in lessons/01-alpha.quiz.yaml",
            "",
            "",
        ),
    ],
)
def test_problems_name_file_line_and_field(
    bank_dir: MakeBank,
    quizzes: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
    needle: str,
    after: str,
) -> None:
    mutate(quizzes)
    root = bank_dir(quizzes)
    problems = [render(p) for p in check_quizzes(root)]
    matching = [p for p in problems if expected in p]
    assert matching, problems
    if needle:
        line = line_containing(root / "01-alpha.quiz.yaml", needle, after)
        assert matching[0].startswith(f"lessons/01-alpha.quiz.yaml:{line}: "), matching
    # A learner gets the same problem as a content error, never a traceback.
    with pytest.raises(ContentError) as info:
        load_bank(root)
    assert info.value.location and info.value.location.startswith("lessons/0")


def test_course_wide_rules(bank_dir: MakeBank, quizzes: dict[str, Any]) -> None:
    quizzes["01-alpha"]["lesson"] = "gamma"
    del quizzes["02-beta"]["questions"][MIN_QUESTIONS_PER_LESSON - 1]
    root = bank_dir(quizzes)
    (root / "03-delta.yaml").write_text("id: delta\n", encoding="utf-8")
    (root / "course.yaml").write_text(
        "format_version: 1\nlessons: [01-alpha, 02-beta, 03-delta]\n", encoding="utf-8"
    )
    problems = [render(p) for p in check_quizzes(root)]
    assert any("lessons/01-alpha.quiz.yaml: The lesson 'gamma' does not exist" in p for p in problems), (
        problems
    )
    assert "lessons/02-beta.quiz.yaml: The quiz has 9 questions; each lesson needs at least 10." in problems
    assert "lessons/course.yaml: Lesson 03-delta has no quiz file (03-delta.quiz.yaml)." in problems
    assert len(problems) == 3


def test_wrong_lesson_for_the_file_and_unlisted_quiz(bank_dir: MakeBank, quizzes: dict[str, Any]) -> None:
    quizzes["02-beta"]["lesson"] = "alpha"
    root = bank_dir(quizzes)
    (root / f"09-extra{QUIZ_SUFFIX}").write_text(
        (root / f"01-alpha{QUIZ_SUFFIX}").read_text().replace("alpha-", "extra-")
    )
    problems = [render(p) for p in check_quizzes(root)]
    assert any("The quiz is for lesson 'alpha', but 02-beta.yaml is lesson 'beta'." in p for p in problems), (
        problems
    )
    assert "lessons/09-extra.quiz.yaml: This quiz file is not listed in course.yaml." in problems


def test_broken_yaml_is_reported_with_its_line(bank_dir: MakeBank, quizzes: dict[str, Any]) -> None:
    root = bank_dir(quizzes)
    path = root / "01-alpha.quiz.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = "  bad: [unclosed"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [render(p) for p in check_quizzes(root)]
    assert any(p.startswith(f"{path}:") and "Invalid YAML" in p for p in problems), problems
    with pytest.raises(ContentError):
        load_bank(root)


def test_real_bank_is_valid() -> None:
    """Every question shipped in lessons/ passes the checks (the bank is written alongside the engine)."""
    if not any(lessons_dir().glob(f"*{QUIZ_SUFFIX}")):
        pytest.skip("no quiz files in lessons/ yet")
    problems = [render(p) for p in check_quizzes()]
    assert problems == [], "\n".join(problems)
    bank = load_bank()
    assert len(bank.questions()) >= MIN_QUESTIONS_PER_LESSON * len(bank.quizzes)
