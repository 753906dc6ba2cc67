"""Question types and the learner's responses and grades, as immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

#: A bilingual content text: ``{"ru": "…", "en": "…"}``.
Text = Mapping[str, str]

QUESTION_TYPES = ("single", "multiple", "truefalse", "order", "text", "numeric")


@dataclass(frozen=True)
class QuizChoice:
    """One option of a choice or ordering question; ``why`` says why it is right or wrong."""

    id: str
    text: Text
    why: Text | None = None


@dataclass(frozen=True)
class Question:
    """What every question has. ``id`` is stable: history and review are keyed by it."""

    kind: ClassVar[str] = ""

    id: str
    lesson_id: str
    prompt: Text
    explanation: Text
    source: str = ""

    @property
    def choices(self) -> tuple[QuizChoice, ...]:
        return ()

    def choice(self, choice_id: str) -> QuizChoice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


@dataclass(frozen=True)
class SingleChoice(Question):
    kind: ClassVar[str] = "single"

    options: tuple[QuizChoice, ...] = ()
    answer: str = ""

    @property
    def choices(self) -> tuple[QuizChoice, ...]:
        return self.options


@dataclass(frozen=True)
class MultipleChoice(Question):
    kind: ClassVar[str] = "multiple"

    options: tuple[QuizChoice, ...] = ()
    answer: frozenset[str] = frozenset()

    @property
    def choices(self) -> tuple[QuizChoice, ...]:
        return self.options


@dataclass(frozen=True)
class TrueFalse(Question):
    kind: ClassVar[str] = "truefalse"

    answer: bool = True


@dataclass(frozen=True)
class Ordering(Question):
    """Put the items in order; ``answer`` is the ids in the right order."""

    kind: ClassVar[str] = "order"

    options: tuple[QuizChoice, ...] = ()
    answer: tuple[str, ...] = ()

    @property
    def choices(self) -> tuple[QuizChoice, ...]:
        return self.options


@dataclass(frozen=True)
class FreeText(Question):
    """A short typed answer: a command, a chain name, a flag."""

    kind: ClassVar[str] = "text"

    accept: tuple[str, ...] = ()
    case_sensitive: bool = False


@dataclass(frozen=True)
class Numeric(Question):
    kind: ClassVar[str] = "numeric"

    answer: float = 0.0
    tolerance: float = 0.0  # absolute

    @property
    def whole(self) -> bool:
        """The answer is a whole number (a count, a port, a mark): hints ask for one, not a fraction."""
        return float(self.answer).is_integer() and float(self.tolerance).is_integer()


#: What a learner can answer: a choice id (single), a set of ids (multiple), a bool (truefalse),
#: ids in order (order), typed text (text, numeric), or None when the question was not answered.
Response = str | frozenset[str] | bool | tuple[str, ...] | None


@dataclass(frozen=True)
class ChoiceVerdict:
    """How one choice (or, for ordering, one position) fared in the learner's answer."""

    choice_id: str
    picked: bool  # the learner chose it (ordering: put something at this position)
    expected: bool  # it should have been chosen (ordering: always True)
    correct: bool  # the learner did the right thing with this choice or position


@dataclass(frozen=True)
class Grade:
    """The result of grading one response: ``score`` in 0..1, ``correct`` only if fully right."""

    score: float
    correct: bool
    answered: bool = True
    verdicts: tuple[ChoiceVerdict, ...] = field(default_factory=tuple)
    #: Why a typed answer could not be graded as given ("not_a_number"), else None.
    problem: str | None = None


UNANSWERED = Grade(score=0.0, correct=False, answered=False)
