"""Grading of every question type, as pure functions."""

from __future__ import annotations

import pytest

from kproxy_tutor.quiz.grading import grade, normalize_text, parse_number
from kproxy_tutor.quiz.model import (
    FreeText,
    MultipleChoice,
    Numeric,
    Ordering,
    QuizChoice,
    SingleChoice,
    TrueFalse,
)

T = {"ru": "т", "en": "t"}


def options(*ids: str) -> tuple[QuizChoice, ...]:
    return tuple(QuizChoice(i, T, T) for i in ids)


SINGLE = SingleChoice("s", "l", T, T, options=options("a", "b", "c"), answer="b")
MULTI = MultipleChoice("m", "l", T, T, options=options("a", "b", "c", "d"), answer=frozenset({"a", "b", "c"}))
TF = TrueFalse("tf", "l", T, T, answer=False)
ORDER = Ordering("o", "l", T, T, options=options("x", "y", "z"), answer=("x", "y", "z"))
TEXT = FreeText("t", "l", T, T, accept=("iptables-save -t nat", "KUBE-SERVICES"))
CASE = FreeText("c", "l", T, T, accept=("KUBE-SVC",), case_sensitive=True)
NUM = Numeric("n", "l", T, T, answer=0.3333333333, tolerance=0.001)
EXACT = Numeric("e", "l", T, T, answer=16384, tolerance=0)


def test_single() -> None:
    assert grade(SINGLE, "b").correct and grade(SINGLE, "b").score == 1.0
    wrong = grade(SINGLE, "a")
    assert not wrong.correct and wrong.score == 0.0
    verdicts = {v.choice_id: v for v in wrong.verdicts}
    assert verdicts["a"].picked and not verdicts["a"].expected and not verdicts["a"].correct
    assert verdicts["b"].expected and not verdicts["b"].picked
    assert verdicts["c"].correct  # not picked, not expected


@pytest.mark.parametrize(
    ("picked", "score", "correct"),
    [
        ({"a", "b", "c"}, 1.0, True),
        ({"a", "b"}, 2 / 3, False),  # partial: two of three right ones
        ({"a", "b", "d"}, 1 / 3, False),  # (2 right - 1 wrong) / 3
        ({"a", "d"}, 0.0, False),  # (1 - 1) / 3
        ({"d"}, 0.0, False),  # floored at 0, never negative
        (set(), 0.0, False),
        ({"a", "b", "c", "d"}, 2 / 3, False),  # all marked is not exact
    ],
)
def test_multiple_partial_credit(picked: set[str], score: float, correct: bool) -> None:
    result = grade(MULTI, frozenset(picked))
    assert result.score == pytest.approx(score)
    assert result.correct is correct
    assert {v.choice_id for v in result.verdicts if v.picked} == picked


def test_truefalse() -> None:
    assert grade(TF, False).correct
    assert not grade(TF, True).correct


def test_order() -> None:
    assert grade(ORDER, ("x", "y", "z")).correct
    wrong = grade(ORDER, ("y", "x", "z"))
    assert not wrong.correct and wrong.score == 0.0
    assert [v.correct for v in wrong.verdicts] == [False, False, True]


@pytest.mark.parametrize(
    "typed",
    [
        "iptables-save -t nat",
        "  iptables-save   -t  nat ",
        "IPTABLES-SAVE -T NAT",
        "$ iptables-save -t nat",
        "sudo iptables-save -t nat",
        "$ sudo iptables-save -t nat",
        "`iptables-save -t nat`",
        '"kube-services"',
        "iptables-save\t-t nat",
    ],
)
def test_text_accepts_variants(typed: str) -> None:
    assert grade(TEXT, typed).correct


@pytest.mark.parametrize("typed", ["iptables-save", "iptables -t nat", "sudo", "iptables-save -t filter"])
def test_text_rejects_other_commands(typed: str) -> None:
    assert not grade(TEXT, typed).correct


def test_text_case_sensitive_and_empty() -> None:
    assert grade(CASE, " KUBE-SVC ").correct
    assert not grade(CASE, "kube-svc").correct
    empty = grade(TEXT, "   ")
    assert not empty.answered and empty.score == 0


def test_normalize_text_keeps_unpaired_quotes() -> None:
    assert normalize_text('"abc') == '"abc'
    assert normalize_text("«A  b»") == "a b"


@pytest.mark.parametrize(
    ("typed", "correct"),
    [
        ("0.3333", True),
        ("0,3333", True),  # a Russian decimal comma
        ("1/3", True),
        (" 0,334 ", True),  # within 0.001
        ("0.335", False),  # outside
        (".3333", True),
        ("≈0,333", True),
        ("0.3", False),
    ],
)
def test_numeric_tolerance_and_forms(typed: str, correct: bool) -> None:
    assert grade(NUM, typed).correct is correct


def test_numeric_exact_and_not_a_number() -> None:
    assert grade(EXACT, "16384").correct
    assert grade(EXACT, "16 384").correct
    assert grade(EXACT, "0x4000").correct
    assert not grade(EXACT, "16383").correct
    bad = grade(EXACT, "много")
    assert not bad.correct and bad.problem == "not_a_number" and bad.answered
    assert not grade(EXACT, "").answered


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,5", 1.5), ("-2", -2.0), ("1e3", 1000.0), ("3/4", 0.75), ("−1", -1.0), ("262 144", 262144.0)],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1/0", "1,2,3", "1.2.3", "nan", "inf", "/"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


def test_no_answer_scores_zero() -> None:
    for question in (SINGLE, MULTI, TF, ORDER, TEXT, NUM):
        result = grade(question, None)
        assert not result.answered and not result.correct and result.score == 0


def test_mismatched_response_type_is_a_bug() -> None:
    with pytest.raises(TypeError):
        grade(SINGLE, frozenset({"a"}))
