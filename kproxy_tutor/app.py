"""Use cases shared by the commands, returning plain values (no rich, typer or questionary here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kproxy_tutor.course_status import CourseStatus, LessonOutline, course_status
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
    quiz_passed: bool = False


@dataclass(frozen=True)
class ProgressSummary:
    lessons: list[LessonProgress] = field(default_factory=list)
    current_lesson: str | None = None
    review_due: int = 0
    #: What is done and left over the whole course, and the next thing to do.
    course: CourseStatus = field(default_factory=lambda: CourseStatus(lessons=()))


def _load_course() -> Any | None:
    try:
        from kproxy_tutor.content.loader import load_course
    except ImportError:
        return None
    return load_course()


def course_outline(course: Any) -> list[LessonOutline]:
    """What each lesson of ``course`` asks: reading, its exercises, its quiz (parses every lesson)."""
    outline = []
    for entry in course.entries:
        lesson = course.lesson(entry.number)
        quiz_file = entry.path.with_name(entry.path.name.removesuffix(".yaml") + ".quiz.yaml")
        outline.append(
            LessonOutline(
                number=entry.number,
                lesson_id=lesson.id,
                title=lesson.title,
                exercises=tuple(ex.id for ex in lesson.exercises),
                has_quiz=quiz_file.is_file(),
            )
        )
    return outline


def current_course_status(
    progress_data: dict[str, Any] | None = None, today: date | None = None, course: Any | None = None
) -> CourseStatus:
    """The learner's status over ``course`` (default: the installed one; empty without one)."""
    data = progress_data if progress_data is not None else progress_store().read()
    course = course if course is not None else _load_course()
    outline = course_outline(course) if course is not None else []
    return course_status(outline, data, today)


def progress_summary(today: date | None = None) -> ProgressSummary:
    data = progress_store().read()
    status = current_course_status(data, today)
    lessons = [
        LessonProgress(
            lesson_id=lesson.outline.lesson_id,
            number=lesson.number,
            title=dict(lesson.outline.title),
            status=lesson.reading,
            best_score=lesson.best_score,
            exercises_done=len(lesson.solved),
            exercises_total=len(lesson.outline.exercises),
            quiz_passed=lesson.outline.has_quiz and lesson.quiz_passed,
        )
        for lesson in status.lessons
    ]
    return ProgressSummary(
        lessons=lessons, current_lesson=status.current_lesson, review_due=status.review_due, course=status
    )
