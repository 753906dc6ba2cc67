"""Spaced repetition: Leitner boxes over simulated days, and `quiz --review`."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from kproxy_tutor.commands.quiz import run_quiz
from kproxy_tutor.content.quiz import load_bank
from kproxy_tutor.progress import progress_store
from kproxy_tutor.quiz.review import (
    INTERVALS,
    box_of,
    due_count,
    due_ids,
    next_due,
    next_entry,
    record_answers,
)
from kproxy_tutor.quiz.selection import select
from kproxy_tutor.quiz.session import plan
from kproxy_tutor.ui.prompts import ScriptedPrompter
from tests.quiz.conftest import scripted

DAY0 = date(2030, 3, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_boxes_move_up_on_right_and_back_to_one_on_wrong() -> None:
    data: dict[str, Any] = {"quiz": {}}
    record_answers(data, [("q-right", True), ("q-wrong", False)], DAY0)
    assert box_of(data, "q-right") == 2 and box_of(data, "q-wrong") == 1
    assert due_ids(data, DAY0) == ["q-wrong"]  # box 1: due at once, the same day
    assert due_ids(data, day(1)) == ["q-wrong"]
    assert due_ids(data, day(2)) == ["q-wrong", "q-right"]  # box 2: after two; most overdue first

    # Keep answering q-right correctly whenever it is due: it climbs to box 5 and stays there.
    today, expected_boxes = day(2), [3, 4, 5, 5]
    for expected in expected_boxes:
        assert "q-right" in due_ids(data, today)
        record_answers(data, [("q-right", True)], today)
        assert box_of(data, "q-right") == expected
        interval = INTERVALS[expected - 1]
        assert "q-right" not in due_ids(data, today + timedelta(days=interval - 1))
        assert "q-right" in due_ids(data, today + timedelta(days=interval))
        today += timedelta(days=interval)
    assert box_of(data, "q-right") == 5

    record_answers(data, [("q-right", False)], today)  # one mistake: back to box 1
    assert box_of(data, "q-right") == 1
    assert data["quiz"]["review"]["q-right"]["due"] == today.isoformat()  # due again at once


def test_next_entry_intervals() -> None:
    assert [next_entry({"box": b}, True, DAY0)["due"] for b in range(1, 6)] == [
        day(2).isoformat(),
        day(4).isoformat(),
        day(8).isoformat(),
        day(16).isoformat(),
        day(16).isoformat(),
    ]
    assert next_entry({"box": "junk"}, True, DAY0)["box"] == 2


def test_due_count_tolerates_missing_and_damaged_data() -> None:
    assert due_count({}) == 0
    assert (
        due_count({"quiz": {"review": {"a": {"due": "not a date"}, "b": "x", "c": {"due": "2000-01-01"}}}})
        == 1
    )
    assert next_due({"quiz": {}}) is None


def test_review_moves_questions_between_boxes_over_days(
    use_bank: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lang: Callable[[str], None],
) -> None:
    lang("ru")
    # Day 0: lesson quiz, two of ten wrong.
    rng = random.Random(11)
    planned = plan(select(load_bank(), rng, {}, "alpha").questions, rng)
    wrong_ids = {planned[0].question.id, planned[4].question.id}
    monkeypatch.setattr(
        "kproxy_tutor.ui.prompts.make_prompter",
        lambda plain=False: ScriptedPrompter(scripted(planned, wrong={1, 5})),
    )
    assert run_quiz("alpha", False, False, None, 11, None, today=DAY0) == 0
    data = progress_store().read()
    # The questions missed today are due today: box 1 waits for no one.
    assert set(due_ids(data, DAY0)) == wrong_ids
    assert due_count(data, day(2)) == 10

    # Day 0 review, right after the quiz: the two wrong questions come back; answer them right.
    rng = random.Random(3)
    review_planned = plan(
        select(load_bank(), rng, progress_store().read(), review=True, today=DAY0).questions, rng
    )
    assert {a.question.id for a in review_planned} == wrong_ids
    monkeypatch.setattr(
        "kproxy_tutor.ui.prompts.make_prompter",
        lambda plain=False: ScriptedPrompter(scripted(review_planned)),
    )
    assert run_quiz(None, False, True, None, 3, None, today=DAY0) == 0
    data = progress_store().read()
    assert all(box_of(data, qid) == 2 for qid in wrong_ids)
    assert due_count(data, DAY0) == 0
    assert due_count(data, day(1)) == 0
    assert due_count(data, day(2)) == 10  # box 2 everywhere: due after two days
    capsys.readouterr()

    # Day 0 again: nothing left to review today.
    assert run_quiz(None, False, True, None, 1, None, today=DAY0) == 0
    assert "На сегодня повторять нечего." in capsys.readouterr().out
    assert data["quiz"]["history"][-1]["kind"] == "review"
    assert data["quiz"]["best"] == {"alpha": 0.8}  # a review does not change a lesson's best score


def test_review_skips_questions_removed_from_the_course(use_bank: Path) -> None:
    progress_store().update(
        lambda d: record_answers(d, [("gone-question", False), ("alpha-tf", False)], DAY0)
    )
    selection = select(load_bank(), random.Random(1), progress_store().read(), review=True, today=day(5))
    assert [q.id for q in selection.questions] == ["alpha-tf"]
