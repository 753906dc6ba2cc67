"""Numbers for the learner's language, formatted by Babel; none formatted by hand in ui/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from kproxy_tutor import i18n
from kproxy_tutor.i18n import format_decimal, format_number, format_percent
from kproxy_tutor.quiz.grading import parse_number
from kproxy_tutor.ui.wrap import print_wrapped, wrap_words

NBSP = "\u00a0"
UI = Path(__file__).resolve().parents[2] / "kproxy_tutor" / "ui"


@pytest.mark.parametrize(
    ("lang", "thousand", "hundred_thousand", "third", "share", "quarter"),
    [
        ("ru", f"1{NBSP}000", f"100{NBSP}000", f"33,3{NBSP}%", f"47{NBSP}%", "0,25"),
        ("en", "1,000", "100,000", "33.3%", "47%", "0.25"),
    ],
)
def test_babel_formats_for_each_language(
    lang: str, thousand: str, hundred_thousand: str, third: str, share: str, quarter: str
) -> None:
    assert format_number(1000, lang) == thousand
    assert format_number(100000.0, lang) == hundred_thousand  # a float without fraction: no ".0"
    assert format_percent(1 / 3, 1, lang) == third
    assert format_percent(0.47, lang=lang) == share
    assert format_decimal(0.25, 2, lang) == quarter


def test_the_current_language_is_the_default() -> None:
    before = i18n.current_language()
    try:
        i18n.set_language("ru")
        assert format_number(1000) == f"1{NBSP}000"
        i18n.set_language("en")
        assert format_number(1000) == "1,000"
    finally:
        i18n.set_language(before)


def test_decimals_and_grouping_options() -> None:
    assert format_decimal(3, 1, "ru", fixed=True) == "3,0"
    assert format_decimal(6432, 0, "ru", grouping=False) == "6432"
    assert format_decimal(0.123456, 3, "en") == "0.123"
    # Changing decimals for one call leaves Babel's shared patterns alone.
    assert format_percent(0.4567, 2, "en") == "45.67%" and format_percent(0.4567, lang="en") == "46%"
    assert format_decimal(1.23456, 1, "en") == "1.2" and format_number(1.23456, "en") == "1.235"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_formatted_number_reads_back_as_typed(lang: str) -> None:
    assert parse_number(format_number(262144, lang).replace(",", " ")) == 262144
    assert parse_number(format_decimal(0.25, 2, lang)) == 0.25


def test_wrapping_never_breaks_a_russian_number_or_a_command() -> None:
    text = f"В этой цепочке проверено 12{NBSP}345 правил, это 33,3{NBSP}%: kproxy-tutor quiz --review"
    for width in range(20, 60):
        lines = [line.plain for line in wrap_words(Text(text), width, keep=["kproxy-tutor quiz --review"])]
        assert " ".join(lines).split() == text.split(), width  # nothing lost, nothing added
        assert all(len(line) <= width for line in lines), width
        joined = "\n".join(lines)
        assert f"12{NBSP}345" in joined and f"33,3{NBSP}%" in joined
        if width >= len("kproxy-tutor quiz --review"):
            assert "kproxy-tutor quiz --review" in joined


HAND_FORMATTING = re.compile(r":,\}|:,\.\d*f\}|:\.\d+%\}|:\d*,d?\}|%\}\"|\{percent\}%|\{n\}%")


def test_ui_formats_no_numbers_by_hand() -> None:
    """Counts and shares shown to the learner go through Babel (i18n.format_*), never f"{n:,}"."""
    found = []
    for path in sorted(UI.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HAND_FORMATTING.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


_word = st.text(alphabet="абвгдежзabcdefкп-1234567890,%", min_size=1, max_size=12)
_number = st.integers(min_value=1000, max_value=10**9).map(lambda n: format_number(n, "ru"))


@given(words=st.lists(st.one_of(_word, _number), min_size=1, max_size=40), width=st.integers(20, 100))
def test_wrapped_text_keeps_every_word_and_fits(words: list[str], width: int) -> None:
    text = " ".join(words)
    lines = [line.plain for line in wrap_words(Text(text), width)]
    assert " ".join(lines).split(" ") == text.split(" ")  # the same words, no-break spaces kept
    if all(len(word) <= width for word in words):
        assert all(len(line) <= width for line in lines)


def test_printed_text_keeps_its_line_breaks_and_indents() -> None:
    out = io.StringIO()
    console = Console(file=out, width=30, color_system=None)
    print_wrapped(console, "первая строка\nвторая строка, длинная, чтобы перенестись", indent=2, hanging=2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "  первая строка"
    assert all(line.startswith("    ") for line in lines[1:]) and len(lines) >= 3
    assert all(len(line) <= 30 for line in lines)
