"""Russian plural forms of the quiz's counts, number formatting, and other small view texts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kproxy_tutor.i18n import ngettext
from kproxy_tutor.ui.quiz_view import number_as_typed, question_count, score_line


@pytest.mark.parametrize(
    ("n", "score", "questions"),
    [
        (1, "Правильно 1 ответ из 111", "1 вопрос"),
        (2, "Правильно 2 ответа из 111", "2 вопроса"),
        (5, "Правильно 5 ответов из 111", "5 вопросов"),
        (11, "Правильно 11 ответов из 111", "11 вопросов"),
        (21, "Правильно 21 ответ из 111", "21 вопрос"),
        (22, "Правильно 22 ответа из 111", "22 вопроса"),
        (111, "Правильно 111 ответов из 111", "111 вопросов"),
    ],
)
def test_russian_plurals(lang: Callable[[str], None], n: int, score: str, questions: str) -> None:
    lang("ru")
    assert score_line(n, 111) == score
    assert question_count(n) == questions


@pytest.mark.parametrize(
    ("n", "unanswered", "retry"),
    [
        (1, "1 вопрос остался без ответа.", "Ещё раз ответить на 1 вопрос, который не получился?"),
        (3, "3 вопроса остались без ответа.", "Ещё раз ответить на 3 вопроса, которые не получились?"),
        (11, "11 вопросов осталось без ответа.", "Ещё раз ответить на 11 вопросов, которые не получились?"),
    ],
)
def test_other_russian_counts(lang: Callable[[str], None], n: int, unanswered: str, retry: str) -> None:
    lang("ru")
    assert ngettext("{n} question unanswered.", "{n} questions unanswered.", n).format(n=n) == unanswered
    assert (
        ngettext("Try the {n} missed question again?", "Try the {n} missed questions again?", n).format(n=n)
        == retry
    )


def test_english(lang: Callable[[str], None]) -> None:
    lang("en")
    assert score_line(1, 3) == "1 right answer out of 3"
    assert score_line(2, 3) == "2 right answers out of 3"
    assert question_count(1) == "1 question" and question_count(21) == "21 questions"


def test_numbers_use_the_russian_decimal_comma(lang: Callable[[str], None]) -> None:
    lang("ru")
    assert number_as_typed(0.3333333333) == "0,3333333333" and number_as_typed(16384.0) == "16384"
    assert number_as_typed(262144) == "262144"  # typed as one number: no digit groups
    assert question_count(1000) == "1\u00a0000 вопросов"  # a count has them (Babel)
    lang("en")
    assert number_as_typed(0.25) == "0.25"
    assert question_count(1000) == "1,000 questions"


def test_order_example_never_gives_the_answer_away() -> None:
    from itertools import permutations

    from kproxy_tutor.ui.quiz_view import _order_example

    for n in (2, 3, 4):
        identity = list(range(1, n + 1))
        for right in permutations(identity):
            if list(right) == identity:
                continue  # never shown: the items are not presented in their right order
            example = [int(x) for x in _order_example(n, list(right)).split()]
            assert sorted(example) == identity and example != list(right)
