"""Screens walked as a learner at 40 columns: nothing for the terminal to wrap, a next step on each."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.foundation.helpers import run_tutor


def _too_wide(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if len(line.rstrip()) > width]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_lessons_list_fits_40_columns_with_its_indents(lang: str, tmp_path: Path) -> None:
    env = {"KPROXY_TUTOR_HOME": str(tmp_path), "COLUMNS": "40"}
    result = run_tutor("--lang", lang, "lessons", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert _too_wide(result.stdout, 40) == []
    # A lesson's id or details go on under the title's indent, never back at column 0.
    body = lines[: lines.index("")]
    assert all(line.startswith("  ") for line in body), body


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_exercise_list_ends_with_the_command_to_open_one(lang: str, tmp_path: Path) -> None:
    env = {"KPROXY_TUTOR_HOME": str(tmp_path), "COLUMNS": "40"}
    result = run_tutor("--lang", lang, "exercise", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].strip().endswith("kproxy-tutor exercise role-first-request")
    assert "kproxy-tutor exercise ID" in result.stdout


SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "db-service.yaml"


def _at_terminal(*args: str, columns: int = 40) -> tuple[int, list[str]]:
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["NO_COLOR"] = "1"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", "--lang", "ru", *args],
        dimensions=(24, columns),
        env=env,
        encoding="utf-8",
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before.replace("\r", ""))  # styles, not text
    return child.exitstatus, [line for line in shown.splitlines() if line]


def test_an_error_at_a_narrow_terminal_breaks_between_words() -> None:
    code, lines = _at_terminal("trace", "-f", str(SCENARIO), "--from", "nosuch", "--to", "db-service")
    assert code == 2
    assert _too_wide("\n".join(lines), 40) == [], lines
    assert "Deployment'а," in " ".join(lines).split(), lines


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_rules_at_a_narrow_terminal_break_between_arguments(mode: str) -> None:
    code, lines = _at_terminal("rules", "-f", str(SCENARIO), "--mode", mode)
    assert code == 0
    assert _too_wide("\n".join(lines), 40) == [], lines
    words = " ".join(lines).split()
    assert "↪" in words
    assert "KUBE-SVC-PKJNZ2BPYAP7WCVG" in words or "@service-ips" in words


def test_a_long_trace_is_paced_within_a_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from rich.console import Console
    from rich.text import Text

    from kproxy_tutor.ui import trace_view

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    out = io.StringIO()
    lines = [Text(f"  line {n}") for n in range(150)]
    trace_view.print_lines(Console(file=out, width=80), lines, animate=True)
    assert out.getvalue().count("line ") == 150
    assert len(slept) == 150 and sum(slept) <= trace_view.MAX_ANIMATION_SECONDS + 0.01
    slept.clear()
    trace_view.print_lines(Console(file=io.StringIO(), width=80), lines[:8], animate=True)
    assert slept == [trace_view.PAUSE_SECONDS] * 8  # a short trace keeps its steady pace


def test_an_exercise_task_does_not_give_its_answer_away() -> None:
    from kproxy_tutor.content.loader import load_course

    for lesson in load_course().lessons:
        for block in lesson.exercises:
            for text in block.task.values():
                for line in block.solution:
                    if line.startswith("answer "):
                        value = line.split(" ", 1)[1]
                        assert f"`{value}`" not in text, (block.id, value)


@pytest.mark.parametrize("plain", [False, True])
def test_exercise_text_shows_code_marks_only_in_plain_mode(plain: bool, tmp_path: Path) -> None:
    env = {"KPROXY_TUTOR_HOME": str(tmp_path)}
    flag = ("--plain",) if plain else ()
    listed = run_tutor("--lang", "en", *flag, "exercise", env=env)
    task = run_tutor("--lang", "en", *flag, "exercise", "how-scale-probability", env=env)
    assert task.returncode == 1  # not solved: the commands ended first
    for out in (listed.stdout, task.stdout):
        assert ("`database`" in out) == plain, out
        assert "database" in out


def test_russian_translations_group_thousands_with_a_no_break_space() -> None:
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "locales" / "ru" / "LC_MESSAGES" / "kproxy_tutor.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    strings = [s for m in catalog if m.id for s in ([m.string] if isinstance(m.string, str) else m.string)]
    # "1 000" with an ordinary space is broken by the help's wrapping into "1" and "000".
    assert [s for s in strings if re.search(r"\b\d{1,3} \d{3}\b", s)] == []


def test_no_quiz_question_leans_on_the_one_before() -> None:
    """Questions are shuffled: "Same four Pods…" once came first, with nothing before it."""
    lessons = Path(__file__).resolve().parents[2] / "lessons"
    leaning = re.compile(r'^\s+(ru|en): "(Same|The same|Те же|Та же|Тот же|То же)\b')
    found = [
        f"{path.name}:{number}"
        for path in sorted(lessons.glob("*.quiz.yaml"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if leaning.match(line)
    ]
    assert found == []


@pytest.mark.parametrize("width", [40, 80])
def test_shipped_documents_fit_the_terminal_word_for_word(width: int) -> None:
    from kproxy_tutor.resources import docs_dir
    from kproxy_tutor.ui.doc_view import document_lines
    from kproxy_tutor.ui.wrap import ASCII_CONTINUATION, CONTINUATION

    marks = {CONTINUATION.strip(), ASCII_CONTINUATION.strip()}
    paths = sorted(docs_dir().glob("*.md"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = [line.plain for line in document_lines(text, width)]
        assert _too_wide("\n".join(lines), width) == [], path.name
        shown = [word for line in lines for word in line.split() if word not in marks]
        # Nothing lost or added; only a word wider than the whole line (a long URL) is cut.
        assert "".join(shown) == "".join(word for word in text.split() if word not in marks), path.name
        whole = [word for word in text.split() if len(word) <= width - 4 and word not in marks]
        assert set(whole) <= set(shown), path.name
