"""Goldens of the second edition's new lesson steps, both languages, at 80 columns.

Regenerate after an intended change with ``pytest tests/lessons/test_step_goldens.py --update-goldens``
and read the diff: it is what a learner sees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from kproxy_tutor import i18n
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.ui.console import Display
from kproxy_tutor.ui.lesson_session import see_resolver
from kproxy_tutor.ui.lesson_view import LessonView

GOLDEN = Path(__file__).parent / "golden"
NEW_STEPS = [
    ("network", "endpoint-conditions"),
    ("network", "topology"),
    ("network", "no-rules"),
    ("how-it-works", "no-endpoints"),
    ("how-it-works", "traffic-policy-local"),
    ("how-it-works", "dual-stack"),
    ("modes", "iptables-filter"),
    ("modes", "nftables-objects"),
]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize(("lesson_id", "step_id"), NEW_STEPS)
def test_new_step_matches_its_golden(
    lesson_id: str, step_id: str, lang: str, record: Callable[[int], Console], update_goldens: bool
) -> None:
    i18n.set_language(lang)
    course = load_course()
    number = course.number_of(lesson_id)
    assert number is not None
    lesson = course.lesson(number)
    index = lesson.step_index(step_id)
    assert index is not None
    console = record(80)
    LessonView(console, Display(plain=False, color=False), resolve_see=see_resolver(course)).print_step(
        lesson, index
    )
    out = console.export_text()
    assert all(len(line) <= 80 for line in out.splitlines())
    path = GOLDEN / f"{lesson_id}-{step_id}.{lang}.txt"
    if update_goldens:
        path.write_text(out, encoding="utf-8")
    assert path.is_file(), f"no golden {path.name}: run pytest --update-goldens"
    assert out == path.read_text(encoding="utf-8")
