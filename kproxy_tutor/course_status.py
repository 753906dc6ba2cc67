"""How far the learner is: what of the course is done, what is left, and the one next thing to do.

Pure functions over the course outline and the progress document (no I/O, no UI), so every
screen (the linear reader, the full-screen reader, `progress`, the end of a quiz) says the same.
The course is complete only when every lesson is read, every exercise solved and every quiz
passed; a quiz counts as passed at :data:`DEFAULT_PASS_SHARE` of the best score or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from kproxy_tutor.quiz.review import due_count

#: A lesson quiz counts as passed from this best score on (0..1).
DEFAULT_PASS_SHARE = 0.7

NOT_STARTED, IN_PROGRESS, DONE = "not_started", "in_progress", "done"
PROGRAM = "kproxy-tutor"


@dataclass(frozen=True)
class LessonOutline:
    """What a lesson asks of the learner: reading it, its exercises (in step order), its quiz."""

    number: int
    lesson_id: str
    title: Mapping[str, str]
    exercises: tuple[str, ...] = ()
    has_quiz: bool = True


@dataclass(frozen=True)
class LessonStatus:
    outline: LessonOutline
    reading: str  # NOT_STARTED, IN_PROGRESS or DONE
    solved: tuple[str, ...]  # ids of the solved exercises, in step order
    best_score: float | None  # best lesson-quiz score, 0..1; None if never taken
    pass_share: float = DEFAULT_PASS_SHARE

    @property
    def number(self) -> int:
        return self.outline.number

    @property
    def read(self) -> bool:
        return self.reading == DONE

    @property
    def unsolved(self) -> tuple[str, ...]:
        return tuple(e for e in self.outline.exercises if e not in self.solved)

    @property
    def quiz_passed(self) -> bool:
        if not self.outline.has_quiz:
            return True
        return self.best_score is not None and self.best_score >= self.pass_share - 1e-9

    @property
    def complete(self) -> bool:
        return self.read and not self.unsolved and self.quiz_passed


class StepKind(StrEnum):
    CONTINUE = "continue"  # go on reading the lesson in progress
    READ = "read"  # open a lesson not read yet
    EXERCISE = "exercise"
    QUIZ = "quiz"
    REVIEW = "review"
    EXAM = "exam"


@dataclass(frozen=True)
class NextStep:
    """The one next thing to do, and the command that does it."""

    kind: StepKind
    lesson: int | None = None
    exercise: str | None = None

    @property
    def command(self) -> str:
        if self.kind == StepKind.CONTINUE:
            return f"{PROGRAM} learn"
        if self.kind == StepKind.READ:
            return f"{PROGRAM} learn {self.lesson}"
        if self.kind == StepKind.EXERCISE:
            return f"{PROGRAM} exercise {self.exercise}"
        if self.kind == StepKind.QUIZ:
            return f"{PROGRAM} quiz {self.lesson}"
        if self.kind == StepKind.REVIEW:
            return f"{PROGRAM} quiz --review"
        return f"{PROGRAM} quiz --all"


@dataclass(frozen=True)
class CourseStatus:
    lessons: tuple[LessonStatus, ...]
    current_lesson: str | None = None
    review_due: int = 0
    exam_best: float | None = None
    pass_share: float = DEFAULT_PASS_SHARE

    # -- totals ---------------------------------------------------------------------------------

    @property
    def lessons_read(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.read)

    @property
    def exercises_total(self) -> int:
        return sum(len(lesson.outline.exercises) for lesson in self.lessons)

    @property
    def exercises_solved(self) -> int:
        return sum(len(lesson.solved) for lesson in self.lessons)

    @property
    def quizzes_total(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.outline.has_quiz)

    @property
    def quizzes_passed(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.outline.has_quiz and lesson.quiz_passed)

    @property
    def complete(self) -> bool:
        return bool(self.lessons) and all(lesson.complete for lesson in self.lessons)

    # -- what is left ---------------------------------------------------------------------------

    @property
    def lessons_unread(self) -> list[int]:
        return [lesson.number for lesson in self.lessons if not lesson.read]

    @property
    def exercises_unsolved(self) -> list[str]:
        return [e for lesson in self.lessons for e in lesson.unsolved]

    @property
    def quizzes_unpassed(self) -> list[int]:
        return [lesson.number for lesson in self.lessons if not lesson.quiz_passed]

    def lesson(self, key: str | int | None) -> LessonStatus | None:
        """The status of the lesson with this id or number."""
        return next((s for s in self.lessons if key in (s.outline.lesson_id, s.number)), None)

    # -- the one next thing ---------------------------------------------------------------------

    def next_step(self, focus: str | int | None = None) -> NextStep | None:
        """What to do next, as one command; None once the course and the final exam are done.

        First what is left in the lesson in focus (default: the current lesson), so a lesson is
        finished before the next one; then the reviews due; then the first lesson in course order
        with something left; then the final exam.
        """
        in_focus = self.lesson(focus if focus is not None else self.current_lesson)
        if in_focus is not None:
            step = self._left_in(in_focus)
            if step is not None:
                return step
        if self.review_due:
            return NextStep(StepKind.REVIEW)
        for lesson in self.lessons:
            step = self._left_in(lesson)
            if step is not None:
                return step
        if self.lessons and (self.exam_best is None or self.exam_best < self.pass_share - 1e-9):
            return NextStep(StepKind.EXAM)
        return None

    def _left_in(self, lesson: LessonStatus) -> NextStep | None:
        if not lesson.read:
            current = lesson.outline.lesson_id == self.current_lesson and lesson.reading == IN_PROGRESS
            return NextStep(StepKind.CONTINUE if current else StepKind.READ, lesson.number)
        if lesson.unsolved:
            return NextStep(StepKind.EXERCISE, lesson.number, lesson.unsolved[0])
        if not lesson.quiz_passed:
            return NextStep(StepKind.QUIZ, lesson.number)
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def course_status(
    outline: Sequence[LessonOutline],
    progress: Mapping[str, Any],
    today: date | None = None,
    pass_share: float = DEFAULT_PASS_SHARE,
) -> CourseStatus:
    """The learner's status over ``outline`` from the progress document ``progress``."""
    lessons_data = _mapping(progress.get("lessons"))
    exercises_data = _mapping(progress.get("exercises"))
    quiz = _mapping(progress.get("quiz"))
    best = _mapping(quiz.get("best"))
    lessons = []
    for item in outline:
        status = _mapping(lessons_data.get(item.lesson_id)).get("status")
        reading = status if status in (IN_PROGRESS, DONE) else NOT_STARTED
        solved = tuple(e for e in item.exercises if _mapping(exercises_data.get(e)).get("done") is True)
        lessons.append(LessonStatus(item, reading, solved, _score(best.get(item.lesson_id)), pass_share))
    current = progress.get("current_lesson")
    return CourseStatus(
        lessons=tuple(lessons),
        current_lesson=current if isinstance(current, str) else None,
        review_due=due_count(progress, today),
        exam_best=_score(quiz.get("best_exam")),
        pass_share=pass_share,
    )


def lesson_to_read(lesson_ids: Sequence[str | None], progress: Mapping[str, Any]) -> int | None:
    """The lesson (1-based) `learn` opens: the current one while it is being read, else the first
    lesson not read yet; None when every lesson is read.

    Takes only the lessons' ids, so the reader can decide without parsing every lesson file.
    """
    lessons_data = _mapping(progress.get("lessons"))
    current = progress.get("current_lesson")

    def read(lesson_id: str | None) -> bool:
        return lesson_id is not None and _mapping(lessons_data.get(lesson_id)).get("status") == DONE

    for number, lesson_id in enumerate(lesson_ids, 1):
        if lesson_id is not None and lesson_id == current and not read(lesson_id):
            return number
    return next((n for n, lesson_id in enumerate(lesson_ids, 1) if not read(lesson_id)), None)
