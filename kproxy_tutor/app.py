"""Use cases shared by the commands, returning plain values (no rich, typer or questionary here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kproxy_tutor.progress import progress_store


@dataclass(frozen=True)
class LessonProgress:
    lesson_id: str
    number: int
    title: dict[str, str]
    status: str  # "not_started" | "in_progress" | "done"
    best_score: float | None = None  # 0..1
    exercises_done: int = 0
    exercises_total: int = 0


@dataclass(frozen=True)
class ProgressSummary:
    lessons: list[LessonProgress] = field(default_factory=list)
    current_lesson: str | None = None
    review_due: int = 0


def _load_course() -> Any | None:
    try:
        from kproxy_tutor.content.loader import load_course
    except ImportError:
        return None
    return load_course()


def progress_summary() -> ProgressSummary:
    data = progress_store().read()
    course = _load_course()
    lessons: list[LessonProgress] = []
    if course is not None:
        quiz_best = data.get("quiz", {}).get("best", {})
        exercises = data.get("exercises", {})
        for number, lesson in enumerate(course.lessons, 1):
            state = data["lessons"].get(lesson.id, {})
            ex_ids = [ex.id for ex in getattr(lesson, "exercises", [])]
            lessons.append(
                LessonProgress(
                    lesson_id=lesson.id,
                    number=number,
                    title=lesson.title,
                    status=state.get("status", "not_started"),
                    best_score=quiz_best.get(lesson.id),
                    exercises_done=sum(1 for e in ex_ids if exercises.get(e, {}).get("done")),
                    exercises_total=len(ex_ids),
                )
            )
    review_due = 0
    try:
        from kproxy_tutor.quiz.review import due_count

        review_due = due_count(data)
    except ImportError:
        pass
    return ProgressSummary(lessons=lessons, current_lesson=data.get("current_lesson"), review_due=review_due)
