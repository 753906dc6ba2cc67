"""Second UX review: OS errors in the learner's language, usage exit codes, yes/no menus, one
"interrupted" line, and the exercise shell's word for exit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from kproxy_tutor.entry import main
from kproxy_tutor.errors import CANNOT_READ, Msg, SandboxInputError, file_error, file_problem
from kproxy_tutor.i18n import current_language, set_language
from kproxy_tutor.ui.errors import message_of
from kproxy_tutor.ui.prompts import QuestionaryPrompter, ScriptedPrompter

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "db-service.yaml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# -- 1. why a file cannot be read, in the learner's language -------------------------------------


@pytest.fixture
def binary_file(tmp_path: Path) -> Path:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00kind: Service\n")
    return path


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["rules", "-f", "{dir}"], 4),
        (["sandbox", "--script", "{dir}"], 4),
        (["quiz", "--answers", "{dir}"], 2),
    ],
)
def test_a_directory_is_refused_in_russian(
    args: list[str], code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--lang", "ru", *(a.format(dir=tmp_path) for a in args)]
    got, out = _run(capsys, *argv)
    assert got == code, out
    assert f"{tmp_path}: Не удаётся прочитать файл: это каталог, а не файл." in out
    assert "Errno" not in out and "Is a directory" not in out


def test_a_binary_file_is_refused_in_russian(binary_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--lang", "ru", "rules", "-f", str(binary_file))
    assert code == 4, out
    assert f"{binary_file}: Не удаётся прочитать файл: это не текст в UTF-8." in out
    assert "codec" not in out and "0xff" not in out


def test_a_binary_file_in_the_sandbox_shell(
    binary_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text(f"kubectl apply -f {binary_file}\nload {tmp_path}\n", encoding="utf-8")
    code, out = _run(capsys, "--lang", "en", "sandbox", "--keep-going", "--script", str(script))
    assert code == 4, out
    assert f"{binary_file}: Cannot read the file: it is not UTF-8 text." in out
    assert f"{tmp_path}: Cannot read the file: it is a directory, not a file." in out


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "-f", "{missing}"],
        ["sandbox", "--script", "{missing}"],
        ["quiz", "--answers", "{missing}"],
    ],
)
def test_file_not_found_has_one_wording(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    _code, out = _run(capsys, "--lang", "en", *(a.format(missing=missing) for a in args))
    assert f"Error: {missing}: File not found." in out


def test_file_problem_names_each_case() -> None:
    cases = {
        FileNotFoundError(2, "x"): "it does not exist",
        IsADirectoryError(21, "x"): "it is a directory, not a file",
        PermissionError(13, "x"): "permission denied",
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"): "it is not UTF-8 text",
        OSError(5, "Input/output error"): "it cannot be read",
    }
    for exc, msgid in cases.items():
        problem = file_problem(exc)
        assert isinstance(problem, Msg) and problem == msgid


def test_message_of_translates_msg_parameters_only() -> None:
    error = file_error(SandboxInputError, "x.yaml", PermissionError(13, "Permission denied"))
    plain = SandboxInputError(CANNOT_READ, reason="permission denied")  # a str, not a Msg: as it is
    before = current_language()
    set_language("ru")
    try:
        assert message_of(error) == "Не удаётся прочитать файл: доступ запрещён."
        assert message_of(plain) == "Не удаётся прочитать файл: permission denied."
    finally:
        set_language(before)
    assert str(error) == "x.yaml: Cannot read the file: permission denied."


# -- 2. a wrong option value is a usage error (exit 2) -------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["rules", "-f", str(SCENARIO), "--mode", "x"],
            "Unknown proxy mode 'x': use iptables, nftables or ipvs.",
        ),
        (["rules", "-f", str(SCENARIO), "--table", "raw"], "Unknown table 'raw': use nat, filter or mangle."),
        (
            ["rules", "-f", str(SCENARIO), "--format", "xml"],
            "Unknown format 'xml' for iptables mode: use save, restore.",
        ),
        (
            ["rules", "-f", str(SCENARIO), "--mode", "nftables", "--format", "xml"],
            "Unknown format 'xml' for nftables mode: use list, transaction, transaction-sorted.",
        ),
        (
            ["trace", "-f", str(SCENARIO), "--from", "web", "--to", "db-service:5432", "--mode", "bogus"],
            "Unknown proxy mode 'bogus': use iptables, nftables or ipvs.",
        ),
        (["sandbox", "--scenario", "nope"], "There is no scenario 'nope'. Scenarios: "),
        (["sandbox", "--mode", "foo"], "Unknown proxy mode 'foo': use iptables, nftables or ipvs."),
    ],
)
def test_bad_option_values_are_usage_errors(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "--lang", "en", *args)
    assert code == 2, out
    assert expected in out


def test_mode_typed_in_the_sandbox_shell_is_still_sandbox_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("mode foo\n", encoding="utf-8")
    code, out = _run(capsys, "--lang", "en", "sandbox", "--script", str(script))
    assert code == 4, out


def test_rules_help_lists_every_table(capsys: pytest.CaptureFixture[str]) -> None:
    from kproxy_tutor.sandbox.iptables.dump import TABLES

    _code, out = _run(capsys, "--lang", "en", "--plain", "rules", "--help")
    assert "|".join(["nat", "filter", "mangle"]) in out
    assert sorted(TABLES) == sorted(["nat", "filter", "mangle"])


# -- 3. yes/no is a menu of two words in the learner's language ----------------------------------


def _confirm(keys: str, default: bool = False) -> bool:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return QuestionaryPrompter(input=pipe, output=DummyOutput()).confirm("Delete?", default=default)


def test_confirm_is_a_menu_with_no_as_default() -> None:
    assert _confirm("\r") is False
    assert _confirm("\x1b[A\r") is True  # up from No is Yes
    assert _confirm("\r", default=True) is True


def test_confirm_menu_words_are_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], str | None]] = []

    def fake_select(
        self: QuestionaryPrompter, message: str, choices: list, default: str | None = None
    ) -> str:  # type: ignore[type-arg]
        seen.append(([c.title for c in choices], default))
        return "no"

    monkeypatch.setattr(QuestionaryPrompter, "select", fake_select)
    before = current_language()
    set_language("ru")
    try:
        assert QuestionaryPrompter().confirm("Удалить?") is False
    finally:
        set_language(before)
    assert seen == [(["Да", "Нет"], "no")]


# -- 4. Ctrl-C in a quiz: one line ---------------------------------------------------------------


def test_quiz_interrupted_says_so_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("kproxy_tutor.ui.prompts.make_prompter", lambda plain=False: ScriptedPrompter([]))
    code, out = _run(capsys, "--lang", "ru", "quiz", "--seed", "1")
    assert code == 130, out
    assert out.count("Тест прерван. Данные ответы сохранены.") == 1
    assert "Прервано" not in out


def test_other_interruptions_still_say_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kproxy_tutor.errors import Interrupted

    def interrupted(*args: object, **kwargs: object) -> int:
        raise Interrupted()

    monkeypatch.setattr("kproxy_tutor.commands.sandbox.run_sandbox", interrupted)
    code, out = _run(capsys, "--lang", "ru", "sandbox")
    assert code == 130, out
    assert out.count("Прервано. Прогресс до этого момента сохранён.") == 1


# -- 5. the exercise shell says where exit goes --------------------------------------------------


def _exercise_text(from_lesson: bool) -> str:
    from kproxy_tutor.ui.exercise_view import run_exercise, stream_reader
    from tests.exercises.conftest import exercise

    out = io.StringIO()
    term = Console(file=out, width=200, color_system=None)
    before = current_language()
    set_language("en")
    try:
        run_exercise(exercise("network-expose-db"), term, stream_reader(["exit"]), from_lesson=from_lesson)
    finally:
        set_language(before)
    return out.getvalue()


def test_exercise_shell_from_a_lesson_returns_to_it() -> None:
    text = _exercise_text(True)
    assert "exit returns to the lesson." in text
    assert "leaves the exercise" not in text


def test_exercise_shell_on_its_own_just_leaves() -> None:
    text = _exercise_text(False)
    assert "exit leaves the exercise." in text
    assert "lesson" not in text.split("In this shell:")[1].split("\n")[0]


def test_exercise_command_words_exit_as_leaving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("exit\n"))
    code, out = _run(capsys, "--lang", "ru", "exercise", "network-expose-db")
    assert code == 1, out
    assert "exit выходит из упражнения." in out
    assert "возвращает к уроку" not in out
