"""Spaced repetition over quiz questions: Leitner boxes kept in the progress document.

Each question a learner has answered sits in a box from 1 to 5. A right answer moves it one box
up, a wrong one back to box 1; the box decides how many days pass before it is asked again.
Box 1 is due at once, so the questions missed today can be reviewed today (`quiz --review`).
Entries are keyed by the stable question id, so editing a question's text keeps its history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

#: Days until the next review for boxes 1..5: a missed question (box 1) is due the same day.
INTERVALS = (0, 2, 4, 8, 16)
FIRST_BOX = 1
LAST_BOX = len(INTERVALS)


def _today(today: date | None) -> date:
    return today or date.today()


def _entries(progress_data: Mapping[str, Any]) -> Mapping[str, Any]:
    quiz = progress_data.get("quiz")
    review = quiz.get("review") if isinstance(quiz, Mapping) else None
    return review if isinstance(review, Mapping) else {}


def _due_date(entry: Any) -> date | None:
    if not isinstance(entry, Mapping):
        return None
    try:
        return date.fromisoformat(str(entry.get("due")))
    except ValueError:
        return None


def next_entry(entry: Mapping[str, Any] | None, correct: bool, today: date) -> dict[str, Any]:
    """The box entry after one answer: up one box when right, back to box 1 when wrong."""
    box = entry.get("box", 0) if isinstance(entry, Mapping) else 0
    if not isinstance(box, int) or isinstance(box, bool):
        box = 0
    # A question seen for the first time and answered right starts in box 2: it is already known.
    box = min(max(box, FIRST_BOX) + 1, LAST_BOX) if correct else FIRST_BOX
    return {
        "box": box,
        "due": (today + timedelta(days=INTERVALS[box - 1])).isoformat(),
        "last": today.isoformat(),
    }


def record_answers(
    progress_data: dict[str, Any], answers: Iterable[tuple[str, bool]], today: date | None = None
) -> None:
    """Move each answered question (id, right?) to its new box, in place."""
    day = _today(today)
    review = progress_data.setdefault("quiz", {}).setdefault("review", {})
    for question_id, correct in answers:
        review[question_id] = next_entry(review.get(question_id), correct, day)


def due_ids(progress_data: Mapping[str, Any], today: date | None = None) -> list[str]:
    """Ids of the questions due on ``today`` or earlier: the most overdue and lowest box first."""
    day = _today(today)
    due: list[tuple[date, int, str]] = []
    for question_id, entry in _entries(progress_data).items():
        when = _due_date(entry)
        if when is not None and when <= day:
            box = entry.get("box")
            due.append((when, box if isinstance(box, int) else FIRST_BOX, str(question_id)))
    return [question_id for _when, _box, question_id in sorted(due)]


def due_count(progress_data: Mapping[str, Any], today: date | None = None) -> int:
    """How many questions are due for review on ``today`` (default: the real today)."""
    return len(due_ids(progress_data, today))


def next_due(progress_data: Mapping[str, Any]) -> date | None:
    """The earliest date any question is due, or None when nothing is scheduled."""
    dates = [d for d in (_due_date(e) for e in _entries(progress_data).values()) if d is not None]
    return min(dates, default=None)


def box_of(progress_data: Mapping[str, Any], question_id: str) -> int | None:
    entry = _entries(progress_data).get(question_id)
    return entry.get("box") if isinstance(entry, Mapping) else None
