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


def progress_store() -> JsonStore:
    return JsonStore(state_dir() / "progress.json", PROGRESS_VERSION, _empty_progress)


def settings_store() -> JsonStore:
    return JsonStore(config_dir() / "settings.json", SETTINGS_VERSION, _empty_settings)


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
