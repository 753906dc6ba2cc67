"""A quiz run: which questions, in which order, with which choice order; asking and grading them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kproxy_tutor.errors import Interrupted
from kproxy_tutor.quiz.grading import grade
from kproxy_tutor.quiz.model import Grade, Ordering, Question, Response

#: Kinds of run, as saved in the history.
LESSON, EXAM, REVIEW, RETRY = "lesson", "exam", "review", "retry"
DEFAULT_EXAM_COUNT = 20
DEFAULT_REVIEW_COUNT = 20


@dataclass(frozen=True)
class AskedQuestion:
    """A question as asked in this run: its position and the shuffled order of its choices."""

    question: Question
    number: int  # 1-based position in the run
    total: int
    choice_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    asked: AskedQuestion
    response: Response
    grade: Grade


@dataclass
class RunResult:
    """What happened in one run; questions never reached (Ctrl-C) count as unanswered."""

    kind: str
    lesson_id: str | None
    seed: int
    planned: tuple[AskedQuestion, ...]
    answers: list[Answer] = field(default_factory=list)
    interrupted: bool = False

    @property
    def total(self) -> int:
        return len(self.planned)

    @property
    def correct_count(self) -> int:
        return sum(1 for a in self.answers if a.grade.correct)

    @property
    def answered_count(self) -> int:
        return sum(1 for a in self.answers if a.grade.answered)

    @property
    def score(self) -> float:
        """Mean score over every planned question, partial credit included (0..1)."""
        return sum(a.grade.score for a in self.answers) / self.total if self.total else 0.0

    def missed(self) -> list[AskedQuestion]:
        """Questions answered wrongly, partly, or not at all, in the order they were planned."""
        right = {a.asked.question.id for a in self.answers if a.grade.correct}
        return [asked for asked in self.planned if asked.question.id not in right]

    def grade_of(self, question_id: str) -> Answer | None:
        return next((a for a in self.answers if a.asked.question.id == question_id), None)


class Answerer(Protocol):
    """Gets the learner's response to one question; raises Interrupted on Ctrl-C or end of input."""

    def answer(self, asked: AskedQuestion) -> Response: ...


def new_seed() -> int:
    """A fresh seed for a run without ``--seed``; saved with the run so it can be replayed."""
    return random.SystemRandom().randrange(1, 2**31)


def _shuffled_choices(question: Question, rng: random.Random) -> tuple[str, ...]:
    ids = [c.id for c in question.choices]
    rng.shuffle(ids)
    if isinstance(question, Ordering) and len(ids) > 1 and tuple(ids) == question.answer:
        # Showing the items already in the right order would give the answer away.
        ids = ids[1:] + ids[:1]
    return tuple(ids)


def plan(questions: Sequence[Question], rng: random.Random) -> tuple[AskedQuestion, ...]:
    """Ask ``questions`` in the given order, each with its choices shuffled by ``rng``."""
    total = len(questions)
    return tuple(
        AskedQuestion(q, number, total, _shuffled_choices(q, rng)) for number, q in enumerate(questions, 1)
    )


def draw(questions: Sequence[Question], count: int | None, rng: random.Random) -> list[Question]:
    """``count`` questions (all when None) in random order."""
    chosen = list(questions)
    rng.shuffle(chosen)
    return chosen[:count] if count is not None else chosen


def draw_exam(by_lesson: Sequence[Sequence[Question]], count: int, rng: random.Random) -> list[Question]:
    """A final exam: questions taken from every lesson in turn, so no lesson is left out, then mixed."""
    pools = [draw(pool, None, rng) for pool in by_lesson if pool]
    chosen: list[Question] = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    rng.shuffle(chosen)
    return chosen


def run(
    kind: str,
    lesson_id: str | None,
    seed: int,
    planned: Sequence[AskedQuestion],
    answerer: Answerer,
    on_answer: Callable[[Answer], None] | None = None,
) -> RunResult:
    """Ask every planned question in turn. Ctrl-C ends the run early; what was answered is kept."""
    result = RunResult(kind=kind, lesson_id=lesson_id, seed=seed, planned=tuple(planned))
    for asked in planned:
        try:
            response = answerer.answer(asked)
            answer = Answer(asked, response, grade(asked.question, response))
            result.answers.append(answer)
            if on_answer is not None:
                on_answer(answer)
        except (Interrupted, KeyboardInterrupt):
            # Ctrl-C between prompts arrives as a bare KeyboardInterrupt: treat it the same way.
            result.interrupted = True
            break
    return result
