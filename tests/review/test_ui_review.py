"""UI fixes found by using the tutor as a learner: numbers, help wrapping, menus, dates."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest

from kproxy_tutor.entry import main
from tests.foundation.helpers import run_tutor

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "db-service.yaml"


def _sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str], *lines: str) -> tuple[int, str]:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["--lang", "en", "sandbox", "--keep-going", "--script", str(script)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# -- the sandbox shell's numbers -----------------------------------------------------------------


@pytest.mark.parametrize("digits", ["²", "١"])
def test_sandbox_non_ascii_digits_are_not_a_number(
    digits: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "²".isdigit() is true but int("²") raises: that was an internal error (exit 70).
    code, out = _sandbox(tmp_path, capsys, f"kubectl create deployment web --image nginx --replicas {digits}")
    assert code == 4, out
    assert f"Invalid value for --replicas: {digits!r} is not a number." in out
    assert "Internal error" not in out


def test_sandbox_huge_counts_are_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --replicas 99999999999999 used to freeze the shell and eat all memory; so did curl -n.
    code, out = _sandbox(
        tmp_path,
        capsys,
        "kubectl create deployment web --image nginx --replicas 99999999999999",
        "kubectl create deployment web --image nginx --replicas 2",
        "kubectl expose deployment web --port 80",
        "kubectl scale deployment web --replicas 10001",
        "curl web -n 99999999999 --brief",
    )
    assert code == 4, out
    assert "Invalid value for --replicas: '99999999999999'; the sandbox takes at most 10000." in out
    assert "Invalid value for --replicas: '10001'; the sandbox takes at most 10000." in out
    assert "Invalid value for -n: '99999999999'; the sandbox takes at most 10000." in out


# -- typer's number checks, in the learner's language --------------------------------------------


@pytest.mark.parametrize(
    ("value", "russian"),
    [
        ("0", "Недопустимое значение --count: '0'; должно быть не меньше 1."),
        ("99999999999", "Недопустимое значение --count: '99999999999'; должно быть не больше 1000000."),
        ("abc", "Недопустимое значение --count: 'abc' — не целое число."),
    ],
)
def test_trace_count_errors_are_russian(value: str, russian: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["trace", "-f", str(SCENARIO), "--from", "worker-1", "--to", "db-service", "--count", value])
    err = capsys.readouterr().err
    assert code == 2
    assert russian in err
    assert "Input should" not in err


def test_trace_seed_error_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--lang",
            "en",
            "trace",
            "-f",
            str(SCENARIO),
            "--from",
            "worker-1",
            "--to",
            "db-service",
            "--seed",
            "1.5",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Invalid value for --seed: '1.5' is not a whole number." in err


# -- help on a narrow terminal and its type column ------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_narrow_help_never_splits_identifiers(lang: str) -> None:
    result = run_tutor("--lang", lang, "--help", env={"COLUMNS": "40"})
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    # Each identifier must appear whole on one line, not cut at a hyphen or mid-word.
    assert "KPROXY_TUTOR_LANG," in words
    assert not re.search(r"kube-\s*\n", result.stdout), "kube-proxy split at its hyphen"
    assert "kube-proxy:" in words or "kube-proxy." in words or "kube-proxy" in words
    # An identifier kept whole must still fit: one wider than the description column
    # ("KPROXY_TUTOR_LANG,", "svc,endpointslices,pods,nodes") once stuck out and the terminal cut it.
    assert "svc,endpointslices,pods,nodes" in words
    assert [line for line in result.stdout.splitlines() if len(line.rstrip()) > 40] == []


@pytest.mark.parametrize("plain", [True, False])
def test_help_shows_no_python_type_names(plain: bool) -> None:
    args = ["--plain"] if plain else []
    for command in (["quiz"], ["trace"], ["learn"], ["sandbox"]):
        result = run_tutor(*args, *command, "--help", env={"COLUMNS": "120"})
        assert result.returncode == 0, result.stderr
        for name in ("<bool>", "<str>", "<int>", "<int range>"):
            assert name not in result.stdout, f"{name} in help of {command}"


# -- menus and numbered choices ------------------------------------------------------------------


def test_long_menu_choices_wrap_instead_of_being_cut() -> None:
    from kproxy_tutor.ui.prompts import wrap_title

    title = "Контроллер EndpointSlice находит Pod'ы по selector и записывает их IP в EndpointSlice"
    wrapped = wrap_title(title, 3, width=40)
    lines = wrapped.split("\n")
    assert len(lines) > 1
    assert all(len(line) <= 39 for line in lines)
    assert all(line.startswith("   ") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == title


def test_questionary_menu_gets_wrapped_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    import questionary

    from kproxy_tutor.ui.prompts import Choice, QuestionaryPrompter

    seen: list[str] = []

    class Answered:
        def unsafe_ask(self) -> str:
            return "a"

    def fake_select(message: str, choices: list[questionary.Choice], **_: object) -> Answered:
        seen.extend(str(c.title) for c in choices)
        return Answered()

    monkeypatch.setattr(questionary, "select", fake_select)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: __import__("os").terminal_size((40, 20)))
    long = "kube-proxy на каждой ноде получает через watch новый EndpointSlice с адресами Pod'ов"
    assert QuestionaryPrompter().select("?", [Choice("a", long)]) == "a"
    assert "\n" in seen[0] and "EndpointSlice" in seen[0]


def test_numbered_choices_wrap_with_a_hanging_indent(monkeypatch: pytest.MonkeyPatch) -> None:
    from kproxy_tutor.ui.prompts import Choice, PlainPrompter

    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: __import__("os").terminal_size((40, 20)))
    out = io.StringIO()
    prompter = PlainPrompter(stdin=io.StringIO("1\n"), stdout=out)
    long = "Соединения с уже существующими сервисами, у которых не менялся набор Pod'ов, работают как раньше"
    assert prompter.select("?", [Choice("a", long)]) == "a"
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("  1. ")
    assert all(len(line) <= 40 for line in lines[1:-1])
    assert lines[2].startswith("     ")


def test_quiz_choices_drop_code_marks_outside_plain_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from kproxy_tutor import i18n
    from kproxy_tutor.quiz.model import QuizChoice, SingleChoice
    from kproxy_tutor.ui import console
    from kproxy_tutor.ui.prompts import ScriptedPrompter
    from kproxy_tutor.ui.quiz_view import QuizView

    i18n.set_language("ru")
    question = SingleChoice(
        id="q",
        lesson_id="l",
        prompt={"ru": "?", "en": "?"},
        explanation={"ru": ".", "en": "."},
        options=(QuizChoice("a", {"ru": "Pod'ы по `selector`", "en": "Pods by `selector`"}),),
        answer="a",
    )
    view = QuizView(ScriptedPrompter([]))
    monkeypatch.setattr(console, "_display", console.detect(plain=False))
    assert [c.title for c in view.choices(question, ["a"])] == ["Pod'ы по selector"]
    monkeypatch.setattr(console, "_display", console.detect(plain=True))
    assert [c.title for c in view.choices(question, ["a"])] == ["Pod'ы по `selector`"]


def test_next_review_date_has_one_full_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from kproxy_tutor import i18n
    from kproxy_tutor.ui.prompts import ScriptedPrompter
    from kproxy_tutor.ui.quiz_view import QuizView

    i18n.set_language("ru")
    monkeypatch.setattr("kproxy_tutor.quiz.review.next_due", lambda data: date(2026, 11, 28))
    out = io.StringIO()
    QuizView(ScriptedPrompter([]), console=Console(file=out, width=80)).nothing_due({})
    text = out.getvalue().replace("\u202f", " ")  # babel puts a narrow no-break space before "г."
    assert "Следующее повторение — 28 ноября 2026 г.\n" in text
    assert "г.." not in text


# -- the sandbox shell's own words at a narrow terminal -------------------------------------------


def _terminal_console(width: int) -> tuple[object, io.StringIO]:
    from rich.console import Console

    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=True, no_color=True, highlight=False), out


def test_shell_prose_wraps_between_words_at_a_terminal() -> None:
    from kproxy_tutor.ui.shell_view import ShellView

    console, out = _terminal_console(40)
    line = "  worker-1: PREROUTING#1 → KUBE-SERVICES#1 → KUBE-SVC-PKJNZ2BPYAP7WCVG#4 → DNAT → 10.244.2.2:5432"
    ShellView(console).prose(line)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert len(lines) > 1 and all(len(text) <= 40 for text in lines)
    assert all(text.startswith("    ") for text in lines[1:])  # hanging indent under "  worker-1:"
    tokens = out.getvalue().split()
    for identifier in ("KUBE-SVC-PKJNZ2BPYAP7WCVG#4", "10.244.2.2:5432", "KUBE-SERVICES#1"):
        assert identifier in tokens, f"{identifier} was cut"


def test_shell_tool_output_fits_a_terminal_and_stays_exact_when_piped() -> None:
    from rich.console import Console

    from kproxy_tutor.shell.output import Verbatim
    from kproxy_tutor.ui.shell_view import ShellView
    from kproxy_tutor.ui.wrap import CONTINUATION

    rule = (
        '-A KUBE-SERVICES -d 10.96.0.12/32 -p tcp -m comment --comment "default/db-service cluster IP" -j X'
    )
    # At a terminal a rule wider than it breaks between arguments, continuation lines marked (issue 15).
    console, out = _terminal_console(40)
    ShellView(console).show([Verbatim(rule)])  # type: ignore[arg-type]
    import re

    lines = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).splitlines()  # NO_COLOR keeps the dim style
    assert len(lines) > 1 and all(len(text) <= 40 for text in lines)
    assert all(text.lstrip().startswith(CONTINUATION) for text in lines[1:])
    assert " ".join(text.replace(CONTINUATION, " ") for text in lines).split() == rule.split()
    # Piped, tool output and prose stay one line each: iptables-save output is byte-exact, as on a node.
    piped = io.StringIO()
    view = ShellView(Console(file=piped, width=40))
    view.show([Verbatim(rule)])  # type: ignore[arg-type]
    view.prose("word " * 20)
    assert piped.getvalue().splitlines()[0] == rule
    assert len(piped.getvalue().splitlines()) == 2


def test_exercise_task_wraps_at_a_terminal() -> None:
    from kproxy_tutor.ui.exercise_view import ExerciseView

    console, out = _terminal_console(40)
    ExerciseView(console).say(  # type: ignore[arg-type]
        "Затем найдите в правилах ноды, какой ClusterIP ловит цепочка KUBE-SERVICES для db-service"
    )
    assert all(len(text) <= 40 for text in out.getvalue().splitlines())
    assert "KUBE-SERVICES" in out.getvalue().split()
