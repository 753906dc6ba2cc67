"""Pure grading: a question and a response in, a Grade out; no I/O, no randomness."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from kproxy_tutor.quiz.model import (
    UNANSWERED,
    ChoiceVerdict,
    FreeText,
    Grade,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    Response,
    SingleChoice,
    TrueFalse,
)

#: Shell prompts and privilege prefixes a learner may type before a command; never part of the answer.
_COMMAND_PREFIXES = re.compile(r"^(?:[$#]\s+)?(?:sudo\s+)?")
_QUOTED = re.compile(r"^([`'\"«])(.*)([`'\"»])$")
_QUOTE_PAIRS = {"`": "`", "'": "'", '"': '"', "«": "»"}
#: Spaces people put between digit groups: "262 144", "262 144" (no-break), "262 144" (thin).
_DIGIT_GROUP_SPACES = re.compile(r"[\s\u00a0\u2009\u202f_]")


def normalize_text(text: str, case_sensitive: bool = False) -> str:
    """Trim, collapse inner whitespace, drop a wrapping quote pair and a leading ``$ ``/``sudo ``."""
    value = " ".join(text.split())
    match = _QUOTED.match(value)
    if match and _QUOTE_PAIRS.get(match[1]) == match[3]:
        value = " ".join(match[2].split())
    value = _COMMAND_PREFIXES.sub("", value, count=1)
    return value if case_sensitive else value.casefold()


def parse_number(text: str) -> float | None:
    """Read a number as learners type it: ``0.333``, ``0,333``, ``1/3``, ``262 144``, ``0x4000``.

    Returns None when ``text`` is not a number.
    """
    value = text.strip().lstrip("~≈").strip()
    if not value:
        return None
    value = value.replace("−", "-")  # a typographic minus pasted from a document
    compact = _DIGIT_GROUP_SPACES.sub("", value)
    if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", compact):
        # Past a float's range (about 256 hex digits) it is no answer to any question.
        return float(int(compact, 16)) if len(compact) <= 258 else None
    if "/" in compact:
        top, _sep, bottom = compact.partition("/")
        numerator, denominator = parse_number(top), parse_number(bottom)
        if numerator is None or denominator is None or denominator == 0:
            return None
        try:
            quotient = float(Fraction(numerator) / Fraction(denominator))
        except OverflowError:  # 1e308/1e-308
            return None
        return quotient if math.isfinite(quotient) else None
    # A comma is the Russian decimal separator; "1,5" is one and a half, never a thousands group.
    if compact.count(",") == 1 and "." not in compact:
        compact = compact.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", compact):
        return None
    number = float(compact)
    return number if math.isfinite(number) else None


def grade_single(question: SingleChoice, picked: str) -> Grade:
    verdicts = tuple(
        ChoiceVerdict(
            choice_id=c.id,
            picked=c.id == picked,
            expected=c.id == question.answer,
            correct=(c.id == picked) == (c.id == question.answer),
        )
        for c in question.options
    )
    right = picked == question.answer
    return Grade(score=1.0 if right else 0.0, correct=right, verdicts=verdicts)


def grade_multiple(question: MultipleChoice, picked: frozenset[str]) -> Grade:
    """Partial credit: (right picked − wrong picked) / right, at least 0; correct only if exact."""
    verdicts = tuple(
        ChoiceVerdict(
            choice_id=c.id,
            picked=c.id in picked,
            expected=c.id in question.answer,
            correct=(c.id in picked) == (c.id in question.answer),
        )
        for c in question.options
    )
    right_picked = len(picked & question.answer)
    wrong_picked = len(picked - question.answer)
    score = max(0.0, (right_picked - wrong_picked) / len(question.answer)) if question.answer else 0.0
    exact = picked == question.answer
    return Grade(score=1.0 if exact else score, correct=exact, verdicts=verdicts)


def grade_truefalse(question: TrueFalse, value: bool) -> Grade:
    right = value is question.answer
    return Grade(score=1.0 if right else 0.0, correct=right)


def grade_order(question: Ordering, order: tuple[str, ...]) -> Grade:
    """Right only in exactly the right order; each position gets a verdict to show what moved."""
    verdicts = tuple(
        ChoiceVerdict(
            choice_id=expected,
            picked=i < len(order),
            expected=True,
            correct=i < len(order) and order[i] == expected,
        )
        for i, expected in enumerate(question.answer)
    )
    right = tuple(order) == question.answer
    return Grade(score=1.0 if right else 0.0, correct=right, verdicts=verdicts)


def grade_text(question: FreeText, typed: str) -> Grade:
    given = normalize_text(typed, question.case_sensitive)
    if not given:
        return UNANSWERED
    right = any(given == normalize_text(form, question.case_sensitive) for form in question.accept)
    return Grade(score=1.0 if right else 0.0, correct=right)


def grade_numeric(question: Numeric, typed: str) -> Grade:
    if not typed.strip():
        return UNANSWERED
    number = parse_number(typed)
    if number is None:
        return Grade(score=0.0, correct=False, problem="not_a_number")
    # A tiny relative slack so that "0.1+0.2"-style float noise never fails an exact answer.
    slack = question.tolerance + 1e-9 * max(1.0, abs(question.answer))
    right = abs(number - question.answer) <= slack
    return Grade(score=1.0 if right else 0.0, correct=right)


def grade(question: Question, response: Response) -> Grade:
    """Grade ``response`` to ``question``; None (no answer) scores 0."""
    if response is None:
        return UNANSWERED
    if isinstance(question, SingleChoice) and isinstance(response, str):
        return grade_single(question, response)
    if isinstance(question, MultipleChoice) and isinstance(response, frozenset):
        return grade_multiple(question, response)
    if isinstance(question, TrueFalse) and isinstance(response, bool):
        return grade_truefalse(question, response)
    if isinstance(question, Ordering) and isinstance(response, tuple):
        return grade_order(question, response)
    if isinstance(question, FreeText) and isinstance(response, str):
        return grade_text(question, response)
    if isinstance(question, Numeric) and isinstance(response, str):
        return grade_numeric(question, response)
    raise TypeError(f"a {type(response).__name__} response does not fit a {question.kind} question")
