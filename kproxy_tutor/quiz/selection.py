"""Which questions a quiz asks: one lesson's, a final exam across lessons, or the review queue."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kproxy_tutor.content.quiz import Bank, QuizFile
from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.quiz.model import Question
from kproxy_tutor.quiz.review import due_ids
from kproxy_tutor.quiz.session import (
    DEFAULT_EXAM_COUNT,
    DEFAULT_REVIEW_COUNT,
    EXAM,
    LESSON,
    REVIEW,
    draw,
    draw_exam,
)


@dataclass(frozen=True)
class Selection:
    kind: str  # LESSON, EXAM or REVIEW
    questions: list[Question]
    quiz: QuizFile | None = None  # the lesson's quiz, for a LESSON run

    @property
    def lesson_id(self) -> str | None:
        return self.quiz.lesson_id if self.quiz is not None else None


def lesson_quiz(bank: Bank, lesson: str | None, progress_data: Mapping[str, Any]) -> QuizFile:
    """The quiz asked for; by default the current lesson's, else lesson 1's (the first quiz)."""
    if lesson is not None:
        return bank.find(lesson)
    current = progress_data.get("current_lesson")
    found = bank.for_lesson(current) if isinstance(current, str) else None
    return found or bank.quizzes[0]


def select(
    bank: Bank,
    rng: random.Random,
    progress_data: Mapping[str, Any],
    lesson: str | None = None,
    exam: bool = False,
    review: bool = False,
    count: int | None = None,
    today: date | None = None,
) -> Selection:
    """Choose the questions of a run; the same ``rng`` state gives the same choice."""
    if exam and review:
        raise UsageError(N_("Use either --all or --review, not both."))
    if lesson is not None and (exam or review):
        raise UsageError(N_("A lesson cannot be given together with --all or --review."))
    if count is not None and count < 1:
        raise UsageError(N_("--count must be 1 or more."))
    if review:
        # Questions removed from the course since they were scheduled are skipped.
        due = [q for q in (bank.question(i) for i in due_ids(progress_data, today)) if q is not None]
        # The most overdue are taken first; among those, the order is mixed.
        chosen = due[: count or DEFAULT_REVIEW_COUNT]
        rng.shuffle(chosen)
        return Selection(REVIEW, chosen)
    if exam:
        pools = [quiz.questions for quiz in bank.quizzes]
        return Selection(EXAM, draw_exam(pools, count or DEFAULT_EXAM_COUNT, rng))
    quiz = lesson_quiz(bank, lesson, progress_data)
    return Selection(LESSON, draw(quiz.questions, count, rng), quiz)
