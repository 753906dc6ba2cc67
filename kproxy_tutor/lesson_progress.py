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
    """Where `kproxy-tutor learn` continues.

    The lesson being read, at its saved step; else the first lesson not read yet; once every
    lesson is read, the step of the first exercise not solved yet; else the current lesson.
    """
    from kproxy_tutor.course_status import lesson_to_read

    data = progress_store().read()
    ids = [course.lesson_id(entry.number) for entry in course.entries]
    number = lesson_to_read(ids, data)
    if number is not None:
        return Place(number, saved_step(course, number))
    exercise_place = _first_unsolved_exercise(course, data)
    if exercise_place is not None:
        return exercise_place
    lesson_id = data.get("current_lesson")
    current = course.number_of(lesson_id) if isinstance(lesson_id, str) else None
    return Place(current or 1, 0)


def _first_unsolved_exercise(course: Course, data: dict[str, Any]) -> Place | None:
    from kproxy_tutor.content.schema import ExerciseBlock

    exercises = data.get("exercises", {})
    for lesson in course.lessons:
        for index, step in enumerate(lesson.steps):
            for block in step.blocks:
                if isinstance(block, ExerciseBlock) and not exercises.get(block.id, {}).get("done"):
                    return Place(lesson.number, index)
    return None
