"""Saving quiz runs in the progress document: best scores, run history, per-question stats, review boxes.

The ``quiz`` part of progress.json looks like this::

    best:      {lesson_id: 0.83}            best lesson-quiz score, 0..1 (shown by `lessons`)
    best_exam: 0.75                         best final-exam score
    history:   [{at, kind, lesson, seed, total, answered, correct, score, interrupted, missed}]
    questions: {question_id: {asked, correct, last, last_correct}}
    review:    {question_id: {box, due, last}}   see quiz/review.py
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kproxy_tutor.progress import progress_store
from kproxy_tutor.quiz import review
from kproxy_tutor.quiz.session import EXAM, LESSON, RETRY, RunResult

#: Older runs are dropped beyond this, so the progress file stays small.
HISTORY_LIMIT = 200


def _history_entry(result: RunResult, now: datetime) -> dict[str, Any]:
    return {
        "at": now.isoformat(timespec="seconds"),
        "kind": result.kind,
        "lesson": result.lesson_id,
        "seed": result.seed,
        "total": result.total,
        "answered": result.answered_count,
        "correct": result.correct_count,
        "score": round(result.score, 4),
        "interrupted": result.interrupted,
        "missed": [asked.question.id for asked in result.missed()],
    }


def apply_run(data: dict[str, Any], result: RunResult, today: date, now: datetime) -> None:
    """Record ``result`` in the progress document ``data``, in place."""
    quiz = data.setdefault("quiz", {})
    history = quiz.setdefault("history", [])
    history.append(_history_entry(result, now))
    del history[:-HISTORY_LIMIT]
    if result.kind == RETRY:
        # A retry comes right after the explanations were shown: it proves little, so it moves
        # no review box and no best score.
        return
    stats = quiz.setdefault("questions", {})
    answered = [a for a in result.answers if a.grade.answered]
    for answer in answered:
        entry = stats.setdefault(answer.asked.question.id, {"asked": 0, "correct": 0})
        entry["asked"] = int(entry.get("asked", 0)) + 1
        entry["correct"] = int(entry.get("correct", 0)) + (1 if answer.grade.correct else 0)
        entry["last"] = today.isoformat()
        entry["last_correct"] = answer.grade.correct
    review.record_answers(data, [(a.asked.question.id, a.grade.correct) for a in answered], today)
    if result.kind == LESSON and result.lesson_id:
        best = quiz.setdefault("best", {})
        best[result.lesson_id] = max(float(best.get(result.lesson_id, 0.0)), round(result.score, 4))
    elif result.kind == EXAM:
        quiz["best_exam"] = max(float(quiz.get("best_exam", 0.0)), round(result.score, 4))


def save_run(result: RunResult, today: date | None = None, now: datetime | None = None) -> None:
    """Record ``result`` in the learner's progress file (atomically, under its lock)."""
    moment = now or datetime.now().astimezone()
    day = today or moment.date()
    progress_store().update(lambda data: apply_run(data, result, day, moment))


def best_score(data: dict[str, Any], lesson_id: str) -> float | None:
    value = data.get("quiz", {}).get("best", {}).get(lesson_id)
    return float(value) if isinstance(value, int | float) else None
