"""The command line as a learner meets it: help in their language, errors, terminals of every kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kproxy_tutor.resources import locales_dir
from tests.foundation.helpers import run_tutor

HELP_TARGETS = [[], ["lang"], ["progress"], ["progress", "reset"], ["dev"], ["dev", "check"], ["learn"]]


def _english_msgids_with_russian_translation() -> list[str]:
    with open(locales_dir() / "ru" / "LC_MESSAGES" / "kproxy_tutor.po", "rb") as fh:
        catalog = read_po(fh, locale="ru")
    return [m.id for m in catalog if isinstance(m.id, str) and m.id and m.string and m.string != m.id]


def _squash(text: str) -> str:
    # Help text is wrapped inside boxes: compare with box characters and line breaks removed.
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


@pytest.mark.parametrize("target", HELP_TARGETS, ids=lambda t: " ".join(t) or "main")
def test_russian_help_has_no_english_strings_of_ours(target: list[str]) -> None:
    result = run_tutor("--lang", "ru", *target, "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = _squash(result.stdout)
    assert "Использование:" in out
    assert "Параметры" in out
    assert "Usage:" not in out and "Options" not in out and "Commands" not in out
    assert "Show this message and exit." not in out
    for msgid in _english_msgids_with_russian_translation():
        words = _squash(msgid).strip()
        if len(words) >= 12 and "{" not in words:
            assert words not in out, f"English help text shown under --lang ru: {words!r}"


def test_english_help() -> None:
    result = run_tutor("--lang", "en", "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout and "Options" in result.stdout and "Commands" in result.stdout


def test_main_help_lists_commands_in_russian() -> None:
    out = run_tutor("--help").stdout  # Russian is the default
    assert "Команды" in out
    assert "learn" in out and "progress" in out


def test_lang_option_after_the_command() -> None:
    result = run_tutor("lang", "--lang", "en")
    assert "Current language: English (en)" in result.stdout


def test_unknown_command_suggests() -> None:
    result = run_tutor("lnag")
    assert result.returncode == 2
    assert "Неизвестная команда 'lnag'" in result.stderr
    assert "'lang'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("typed", "meant"), [("LEARN", "learn"), ("pro", "progress"), ("lnag", "lang")])
def test_unknown_command_suggests_as_every_name_does(typed: str, meant: str) -> None:
    """The same did-you-mean as objects, lessons and exercises: another case or a prefix is found too."""
    result = run_tutor("--lang", "en", typed)
    assert result.returncode == 2
    assert f"Did you mean '{meant}'?" in result.stderr


def test_unknown_option_in_english() -> None:
    result = run_tutor("--lang", "en", "progress", "--bogus")
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr


@pytest.mark.parametrize(
    ("args", "english", "russian"),
    [
        (("learn", "1", "2", "3"), "Unexpected extra argument: 2 3.", "learn --help"),
        (("rules", "-f"), "Option -f needs a value.", "rules --help"),
        (("--plain=3", "learn"), "Option --plain does not take a value.", "kproxy-tutor --help"),
        (("lab", "upp"), "Unknown command 'upp'. Did you mean 'up'?", "lab --help"),
        (
            ("scale-lab", "--endpoints", "99"),
            "Invalid value for --endpoints: '99'; it must be 50 or less.",
            "scale-lab --help",
        ),
    ],
)
def test_usage_errors_are_worded_from_their_facts_and_point_at_the_command(
    args: tuple[str, ...], english: str, russian: str
) -> None:
    """Each usage error says what was wrong in the learner's language and names the --help to read."""
    result = run_tutor("--lang", "en", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert english in result.stderr and f"See: kproxy-tutor {russian.removeprefix('kproxy-tutor ')}" in (
        result.stderr
    )
    result = run_tutor("--lang", "ru", *args)
    assert result.returncode == 2 and "Ошибка: " in result.stderr
    assert "Справка: kproxy-tutor " + russian.removeprefix("kproxy-tutor ") in result.stderr
    # Nothing of typer's English sentence is left in the Russian one.
    assert english.split(":")[0].split(".")[0] not in result.stderr


def test_version_and_python_m() -> None:
    result = run_tutor("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kproxy-tutor ")


def test_no_arguments_shows_help() -> None:
    result = run_tutor()
    assert result.returncode == 0
    assert "kproxy-tutor" in result.stdout


HOSTILE_ENVIRONMENTS = {
    "no-color": {"NO_COLOR": "1"},
    "dumb": {"TERM": "dumb"},
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "narrow": {"COLUMNS": "40"},
    "all": {"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "ascii", "COLUMNS": "40"},
}


@pytest.mark.parametrize("env_name", sorted(HOSTILE_ENVIRONMENTS))
@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("command", [["--help"], ["lang"], ["progress"], ["learn", "--help"]], ids=" ".join)
def test_hostile_terminals_never_crash_or_cut(env_name: str, lang: str, command: list[str]) -> None:
    result = run_tutor("--lang", lang, *command, env=HOSTILE_ENVIRONMENTS[env_name])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "…" not in result.stdout, "something was truncated with an ellipsis"
    out = result.stdout.replace("\n", " ")
    if command == ["--help"]:
        assert "KPROXY_TUTOR_LANG" in re.sub(r"[\s|│]+", "", out)  # may wrap, never cut
    if "NO_COLOR" in HOSTILE_ENVIRONMENTS[env_name] or "TERM" in HOSTILE_ENVIRONMENTS[env_name]:
        assert "\x1b[3" not in result.stdout  # no colour escapes
    if "PYTHONIOENCODING" in HOSTILE_ENVIRONMENTS[env_name] and lang == "en":
        result.stdout.encode("ascii")  # arrows and boxes fell back to ASCII


def test_plain_mode_has_no_box_drawing() -> None:
    result = run_tutor("--plain", "--lang", "en", "progress")
    assert result.returncode == 0
    assert not re.search(r"[╭╮╰╯│─]", result.stdout)
    assert "\x1b[" not in result.stdout


def test_internal_error_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kproxy_tutor.entry import main

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kproxy_tutor.progress.settings_store", broken)
    assert main(["--lang", "en", "lang", "ru"]) == 70
    err = capsys.readouterr().err
    assert "Internal error: RuntimeError: boom" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["--lang", "en", "--debug", "lang", "ru"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_state_error_exit_code(learner_home: Path) -> None:
    (learner_home / "settings.json").mkdir()  # unreadable as a file
    result = run_tutor("--lang", "en", "lang", "en")
    assert result.returncode == 5
    assert "Error: Cannot read" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize(
    "command", [["--help"], ["quiz", "--help"], ["learn", "2"], ["progress"], ["nosuch"]], ids=" ".join
)
def test_piped_output_has_no_trailing_blanks(lang: str, command: list[str]) -> None:
    """rich pads wrapped lines with spaces a terminal never shows; grep and diff would see them."""
    result = run_tutor("--lang", lang, *command, env={"COLUMNS": "80"})
    assert "Traceback" not in result.stderr
    assert (result.stdout + result.stderr).strip()
    for stream in (result.stdout, result.stderr):
        padded = [line for line in stream.splitlines() if line != line.rstrip(" ")]
        assert not padded, padded[:3]
