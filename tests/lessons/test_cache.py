"""The parsed-content cache: used when nothing changed, bypassed when the file or its place changed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kproxy_tutor.content import loader
from kproxy_tutor.content.cache import cache_dir, cached


def test_cached_parses_once_per_content_and_context(tmp_path: Path) -> None:
    source = tmp_path / "01-role.yaml"
    source.write_text("id: role\n")
    calls: list[str] = []

    def parse() -> str:
        calls.append(source.read_text())
        return source.read_text().upper()

    assert cached(source, "1", parse) == "ID: ROLE\n"
    assert cached(source, "1", parse) == "ID: ROLE\n"
    assert len(calls) == 1
    source.write_text("id: roles\n")
    assert cached(source, "1", parse) == "ID: ROLES\n"
    assert cached(source, "2", parse) == "ID: ROLES\n"  # another place in the course
    assert len(calls) == 3
    assert len(list(cache_dir().glob("01-role-*.pickle"))) == 1  # replaced, not piled up


def test_damaged_cache_is_parsed_again(tmp_path: Path) -> None:
    source = tmp_path / "course.yaml"
    source.write_text("x")
    assert cached(source, "", lambda: 1) == 1
    for entry in cache_dir().glob("course-*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert cached(source, "", lambda: 2) == 2


def test_cached_lessons_equal_fresh_ones(make_course: Callable[..., Path]) -> None:
    directory = make_course("role", "modes")
    first = loader.load_course(directory).lessons
    loader.forget_courses()
    again = loader.load_course(directory).lessons
    assert again == first
    assert len(list(cache_dir().glob("*.pickle"))) == 3  # course.yaml and two lessons


def test_a_cached_lesson_opens_without_the_yaml_parser(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kproxy_tutor.content.loader import load_course\n"
        "course = load_course()\n"
        "course.lesson(course.find('modes'))\n"
        "print('yaml' in sys.modules)\n"
    )
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))

    def run() -> str:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout

    assert run().strip() == "True"
    assert run().strip() == "False"
