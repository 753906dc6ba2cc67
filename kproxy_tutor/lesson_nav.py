"""Moving through the course: where the learner is and where each action takes them (no I/O, no UI)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple, Protocol


class Action(StrEnum):
    """What the learner can do on a step screen."""

    NEXT = "next"
    BACK = "back"
    CONTENTS = "contents"
    LANGUAGE = "language"
    QUIT = "quit"


class Place(NamedTuple):
    """A lesson number (1-based, the course order) and a step index (0-based) in it."""

    lesson: int
    step: int


class Move(NamedTuple):
    """The result of an action: the new place, and whether a lesson or the course was finished."""

    place: Place
    finished_lesson: int | None = None  # the lesson whose last step was just passed
    course_done: bool = False


class StepCounts(Protocol):
    """What navigation needs of the course: how many lessons, and how many steps each has."""

    def __len__(self) -> int: ...

    def step_count(self, lesson: int) -> int: ...


class Navigator:
    """The learner's place in the course and the moves from it.

    Passing the last step of a lesson finishes that lesson and opens the next one; passing the
    last step of the course finishes the course and stays there. Back from a lesson's first step
    goes to the previous lesson's last step.
    """

    def __init__(self, course: StepCounts, place: Place) -> None:
        self.course = course
        self.place = self.clamp(place)

    def clamp(self, place: Place) -> Place:
        """The nearest valid place (a saved step may have been removed from the content)."""
        lesson = min(max(place.lesson, 1), len(self.course))
        steps = self.course.step_count(lesson)
        return Place(lesson, min(max(place.step, 0), max(steps - 1, 0)))

    @property
    def at_lesson_end(self) -> bool:
        return self.place.step >= self.course.step_count(self.place.lesson) - 1

    @property
    def at_course_start(self) -> bool:
        return self.place == Place(1, 0)

    @property
    def at_course_end(self) -> bool:
        return self.place.lesson == len(self.course) and self.at_lesson_end

    def actions(self) -> list[Action]:
        """The actions offered here, in menu order."""
        actions = [Action.NEXT]
        if not self.at_course_start:
            actions.append(Action.BACK)
        actions += [Action.CONTENTS, Action.LANGUAGE, Action.QUIT]
        return actions

    def next(self) -> Move:
        here = self.place
        if not self.at_lesson_end:
            self.place = Place(here.lesson, here.step + 1)
            return Move(self.place)
        if here.lesson < len(self.course):
            self.place = Place(here.lesson + 1, 0)
            return Move(self.place, finished_lesson=here.lesson)
        return Move(here, finished_lesson=here.lesson, course_done=True)

    def back(self) -> Move:
        here = self.place
        if here.step > 0:
            self.place = Place(here.lesson, here.step - 1)
        elif here.lesson > 1:
            previous = here.lesson - 1
            self.place = Place(previous, max(self.course.step_count(previous) - 1, 0))
        return Move(self.place)

    def go_to(self, place: Place) -> Move:
        self.place = self.clamp(place)
        return Move(self.place)
