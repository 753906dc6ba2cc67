"""Fixtures for the lesson engine: small course directories, recording consoles, a clean language."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from kproxy_tutor import i18n, runtime
from kproxy_tutor.content import loader

MINIMAL_LESSON = """\
id: {id}
title: {{ru: "Урок {id}", en: "Lesson {id}"}}
summary: {{ru: "Кратко.", en: "In short."}}
steps:
  - id: first
    title: {{ru: "Первый шаг", en: "First step"}}
    blocks:
      - text: {{ru: "Текст **один**.", en: "Text **one**."}}
  - id: second
    title: {{ru: "Второй шаг", en: "Second step"}}
    blocks:
      - code: "iptables-save -t nat"
        lang: bash
  - id: third
    title: {{ru: "Третий шаг", en: "Third step"}}
    blocks:
      - note: {{ru: "Заметка.", en: "A note."}}
"""


@pytest.fixture(autouse=True)
def clean_language(learner_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Russian UI, a fresh run, empty content caches for every test; restored afterwards."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    saved_lang, saved_run = i18n.current_language(), runtime.current()
    i18n.set_language("ru")
    runtime.start(runtime.Run(lang="ru"))
    loader.forget_courses()
    yield
    i18n.set_language(saved_lang)
    runtime.start(saved_run)
    loader.forget_courses()


@pytest.fixture
def make_course(tmp_path: Path) -> Callable[..., Path]:
    """Write a course: ``make_course(role=MINIMAL, **files)`` -> the lessons directory.

    Keyword names are lesson ids; values are YAML text (default: a three-step lesson).
    ``course`` overrides course.yaml; ``extra`` adds files as they are.
    """

    def make(*ids: str, course: str | None = None, extra: dict[str, str] | None = None, **texts: str) -> Path:
        directory = tmp_path / "lessons"
        directory.mkdir(exist_ok=True)
        slugs = []
        for number, lesson_id in enumerate(ids, 1):
            slug = f"{number:02d}-{lesson_id}"
            slugs.append(slug)
            body = texts.get(lesson_id) or MINIMAL_LESSON.format(id=lesson_id)
            (directory / f"{slug}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
        listing = "".join(f"  - {slug}\n" for slug in slugs)
        (directory / "course.yaml").write_text(
            course if course is not None else f"format_version: 1\nlessons:\n{listing}", encoding="utf-8"
        )
        for name, text in (extra or {}).items():
            (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return directory

    return make


@pytest.fixture
def record() -> Callable[[int], Console]:
    """A console that records plain text at a given width (no colour, as with NO_COLOR)."""

    def make(width: int) -> Console:
        return Console(
            width=width,
            file=io.StringIO(),
            color_system=None,
            record=True,
            highlight=False,
            emoji=False,
            markup=False,
            legacy_windows=False,
        )

    return make


@pytest.fixture
def tutor(learner_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m kproxy_tutor`` with output to a pipe, as a script or a pager would."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ, KPROXY_TUTOR_HOME=str(learner_home), COLUMNS="80")
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "kproxy_tutor", *args],
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
        )

    return run
