"""The learner's place in the lessons, as kept in the progress file (current lesson, step, done)."""

from __future__ import annotations

from typing import Any

from kproxy_tutor.content.loader import Course
from kproxy_tutor.lesson_nav import Place
from kproxy_tutor.progress import progress_store

IN_PROGRESS = "in_progress"
DONE = "done"


def record_place(lesson_id: str, step_id: str) -> None:
    """Save where the learner is now (atomically); a finished lesson stays finished."""

    def change(data: dict[str, Any]) -> None:
        data["current_lesson"] = lesson_id
        entry = data["lessons"].setdefault(lesson_id, {})
        entry["step"] = step_id
        entry.setdefault("status", IN_PROGRESS)

    progress_store().update(change)


def mark_done(lesson_id: str) -> None:
    """The learner passed the last step of the lesson."""

    def change(data: dict[str, Any]) -> None:
        data["lessons"].setdefault(lesson_id, {})["status"] = DONE

    progress_store().update(change)


def lesson_states() -> dict[str, str]:
    """Lesson id -> "in_progress" or "done", for the lessons the learner has opened."""
    lessons = progress_store().read().get("lessons", {})
    return {lesson_id: str(entry.get("status", IN_PROGRESS)) for lesson_id, entry in lessons.items()}


def saved_step(course: Course, number: int) -> int:
    """The step the learner last saw in lesson ``number`` (0 if none or no longer there)."""
    lesson = course.lesson(number)
    entry = progress_store().read().get("lessons", {}).get(lesson.id, {})
    if entry.get("status") == DONE:
        return 0  # reopening a finished lesson starts it over
    index = lesson.step_index(str(entry.get("step", "")))
    return index if index is not None else 0


def resume_place(course: Course) -> Place:
    """Where `kproxy-tutor learn` continues: the saved lesson and step, or the first step."""
    data = progress_store().read()
    lesson_id = data.get("current_lesson")
    number = course.number_of(lesson_id) if isinstance(lesson_id, str) else None
    if number is None:
        return Place(1, 0)
    lesson = course.lesson(number)
    step_id = data.get("lessons", {}).get(lesson_id, {}).get("step")
    index = lesson.step_index(step_id) if isinstance(step_id, str) else None
    return Place(number, index or 0)
