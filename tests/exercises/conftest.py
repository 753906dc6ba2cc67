"""Fixtures for the exercise tests: the shipped course's exercises, looked up by id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kproxy_tutor import i18n
from kproxy_tutor.content.loader import forget_courses, load_course
from kproxy_tutor.content.schema import ExerciseBlock, Lesson


def all_exercises() -> list[tuple[Lesson, ExerciseBlock]]:
    return [(lesson, block) for lesson in load_course().lessons for block in lesson.exercises]


def exercise(exercise_id: str) -> ExerciseBlock:
    return next(block for _lesson, block in all_exercises() if block.id == exercise_id)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    previous = i18n.current_language()
    i18n.set_language("en")
    yield
    i18n.set_language(previous)
    forget_courses()
