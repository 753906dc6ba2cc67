"""Answer files for ``quiz --answers FILE``: one ``question-id: answer`` per line, ``#`` comments.

Choice answers name choice ids (``a, c`` for several; ``b a c`` for an order); true/false
answers are ``true``/``false`` (also ``yes``/``no``, ``верно``/``неверно``); text and numbers
are written as typed. See docs/quiz-answers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kproxy_tutor.content.quiz import Bank
from kproxy_tutor.errors import N_, UsageError, file_error
from kproxy_tutor.quiz.grading import parse_number
from kproxy_tutor.quiz.model import (
    FreeText,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    Response,
    SingleChoice,
    TrueFalse,
)
from kproxy_tutor.quiz.session import AskedQuestion

_TRUE = {"true", "yes", "y", "t", "1", "верно", "да", "правда"}
_FALSE = {"false", "no", "n", "f", "0", "неверно", "нет", "ложь"}
_LINE = re.compile(r"^(?P<id>[^\s:]+)\s*:\s*(?P<answer>.*)$")


@dataclass(frozen=True)
class AnswerLine:
    line: int
    text: str


def parse_lines(text: str, where: str) -> dict[str, AnswerLine]:
    """Split an answers file into ``{question id: answer text}``; a bad line is a UsageError."""
    answers: dict[str, AnswerLine] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise UsageError(
                N_("Expected 'question-id: answer', got {text!r}."), location=f"{where}:{number}", text=line
            )
        question_id = match["id"]
        if question_id in answers:
            raise UsageError(
                N_("The question {id!r} is answered twice (first on line {first})."),
                location=f"{where}:{number}",
                id=question_id,
                first=answers[question_id].line,
            )
        answers[question_id] = AnswerLine(number, match["answer"].strip())
    return answers


def _choice_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def to_response(question: Question, text: str, location: str) -> Response:
    """The response ``text`` stands for, checked against ``question``; a mismatch is a UsageError."""
    if not text:
        return None  # "id:" with nothing after it: left unanswered on purpose
    if isinstance(question, TrueFalse):
        value = text.casefold()
        if value in _TRUE | _FALSE:
            return value in _TRUE
        raise UsageError(
            N_("The question {id!r} needs true or false, got {text!r}."),
            location=location,
            id=question.id,
            text=text,
        )
    if isinstance(question, FreeText):
        return text
    if isinstance(question, Numeric):
        if parse_number(text) is None:
            raise UsageError(
                N_("The question {id!r} needs a number, got {text!r}."),
                location=location,
                id=question.id,
                text=text,
            )
        return text
    ids = _choice_ids(text)
    known = [c.id for c in question.choices]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UsageError(
            N_("The question {id!r} has no choice {choice!r}; its choices are: {choices}."),
            location=location,
            id=question.id,
            choice=unknown[0],
            choices=", ".join(known),
        )
    if isinstance(question, SingleChoice):
        if len(ids) != 1:
            raise UsageError(
                N_("The question {id!r} takes exactly one choice, got {text!r}."),
                location=location,
                id=question.id,
                text=text,
            )
        return ids[0]
    if isinstance(question, MultipleChoice):
        return frozenset(ids)
    if isinstance(question, Ordering):
        if sorted(ids) != sorted(known):
            raise UsageError(
                N_("The question {id!r} needs every choice once, in order: {choices}."),
                location=location,
                id=question.id,
                choices=" ".join(known),
            )
        return tuple(ids)
    raise TypeError(question.kind)


def load_answers(path: Path, bank: Bank) -> dict[str, Response]:
    """Read and check an answers file against the question bank, before any question is asked."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(UsageError, str(path), exc) from exc
    responses: dict[str, Response] = {}
    for question_id, entry in parse_lines(text, str(path)).items():
        location = f"{path}:{entry.line}"
        question = bank.question(question_id)
        if question is None:
            raise UsageError(
                N_("There is no question with the id {id!r}."), location=location, id=question_id
            )
        responses[question_id] = to_response(question, entry.text, location)
    return responses


class FileAnswerer:
    """Answers from a file; a question the file does not answer stays unanswered."""

    def __init__(self, responses: dict[str, Response]) -> None:
        self.responses = responses

    def answer(self, asked: AskedQuestion) -> Response:
        return self.responses.get(asked.question.id)
