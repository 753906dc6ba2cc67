"""Exercises in the progress document, and the saved sandbox of an exercise left unfinished.

``data["exercises"][id] = {"done": bool, "attempts": n, "hints": k, "active": bool}``: attempts
counts ``check`` runs, hints the highest hint shown; ``active`` means the learner started it and
has not finished it, so ``learn`` reopens it with the sandbox saved in the state directory.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from kproxy_tutor.progress import progress_store
from kproxy_tutor.store import state_dir


def state_path(exercise_id: str) -> Path:
    return state_dir() / "exercises" / f"{exercise_id}.yaml"


def entry(exercise_id: str) -> dict[str, Any]:
    value = progress_store().read().get("exercises", {}).get(exercise_id, {})
    return dict(value) if isinstance(value, dict) else {}


def update(exercise_id: str, **changes: Any) -> None:
    """Set fields of the exercise's entry (``attempts`` and ``hints`` only grow)."""

    def change(data: dict[str, Any]) -> None:
        exercises = data.setdefault("exercises", {})
        current = exercises.get(exercise_id)
        item = current if isinstance(current, dict) else {}
        item.setdefault("done", False)
        item.setdefault("attempts", 0)
        item.setdefault("hints", 0)
        for key, value in changes.items():
            if key in ("attempts", "hints"):
                item[key] = max(int(item.get(key, 0)), int(value))
            elif key == "done":
                item[key] = bool(item.get(key)) or bool(value)  # once done, always done
            else:
                item[key] = value
        exercises[exercise_id] = item

    progress_store().update(change)


def add_attempt(exercise_id: str, passed: bool) -> None:
    attempts = int(entry(exercise_id).get("attempts", 0)) + 1
    if passed:
        update(exercise_id, attempts=attempts, done=True, active=False)
        forget_state(exercise_id)
    else:
        update(exercise_id, attempts=attempts)


def is_active(exercise_id: str) -> bool:
    item = entry(exercise_id)
    return bool(item.get("active")) and not item.get("done")


def forget_state(exercise_id: str) -> None:
    with contextlib.suppress(OSError):
        state_path(exercise_id).unlink()
