"""The learner's progress and settings: what is stored where, and the shape of each document."""

from __future__ import annotations

from typing import Any

from kproxy_tutor.store import JsonStore, config_dir, state_dir

PROGRESS_VERSION = 1
SETTINGS_VERSION = 1


def _empty_progress() -> dict[str, Any]:
    return {
        "current_lesson": None,  # id of the lesson the learner is in
        "lessons": {},  # lesson id -> {"step": step id, "status": "in_progress"|"done", ...}
        "quiz": {},  # quiz results and the review queue, kept by the quiz engine
        "exercises": {},  # exercise id -> state, kept by the exercise engine
    }


def _empty_settings() -> dict[str, Any]:
    return {"lang": None}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fields_ok(entry: Any, kinds: dict[str, Any]) -> bool:
    """``entry`` is a dict whose known keys (when present) have the types the code reads them as."""
    if not isinstance(entry, dict):
        return False
    return all(check(entry[key]) for key, check in kinds.items() if key in entry)


def _map_of(value: Any, kinds: dict[str, Any]) -> bool:
    return isinstance(value, dict) and all(_fields_ok(item, kinds) for item in value.values())


def _is(kind: type) -> Any:
    return lambda value: isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


_LESSON = {"step": _is(str), "status": _is(str)}
_EXERCISE = {"done": _is(bool), "attempts": _is(int), "hints": _is(int), "active": _is(bool)}
_QUESTION = {"asked": _is(int), "correct": _is(int), "last": _is(str), "last_correct": _is(bool)}
_REVIEW = {"box": _is(int), "due": _is(str), "last": _is(str)}
_QUIZ = {
    "best": lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()),
    "best_exam": _is_number,
    "history": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "questions": lambda v: _map_of(v, _QUESTION),
    "review": lambda v: _map_of(v, _REVIEW),
}


def valid_progress(data: dict[str, Any]) -> bool:
    """The progress document has the shape every reader expects (else it is kept aside as damaged)."""
    current = data.get("current_lesson")
    return (
        (current is None or isinstance(current, str))
        and _map_of(data.get("lessons"), _LESSON)
        and _fields_ok(data.get("quiz"), _QUIZ)
        and _map_of(data.get("exercises"), _EXERCISE)
    )


def valid_settings(data: dict[str, Any]) -> bool:
    lang = data.get("lang")
    return lang is None or isinstance(lang, str)


def progress_store() -> JsonStore:
    return JsonStore(state_dir() / "progress.json", PROGRESS_VERSION, _empty_progress, valid=valid_progress)


def settings_store() -> JsonStore:
    return JsonStore(config_dir() / "settings.json", SETTINGS_VERSION, _empty_settings, valid=valid_settings)


def saved_language() -> str | None:
    """The language saved with ``kproxy-tutor lang``, read without creating anything."""
    import json

    path = config_dir() / "settings.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("lang") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
