"""`quiz --answers FILE`: the line format, its errors with line numbers, and whole runs from a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kproxy_tutor.content.quiz import load_bank
from kproxy_tutor.entry import main
from kproxy_tutor.errors import UsageError
from kproxy_tutor.progress import progress_store
from kproxy_tutor.quiz.answers import load_answers, parse_lines

RIGHT = """\
# lesson alpha, every question type
alpha-single: a
alpha-multi: c, a
alpha-tf: неверно
alpha-order: x y z

alpha-text:   sudo iptables-save -t NAT
alpha-num: 1/3
alpha-s7: q
alpha-s8: q
alpha-s9: q
alpha-s10: q
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_lines_skips_comments_and_blanks() -> None:
    parsed = parse_lines("# c\n\n a: 1 \nb:\nc : x y\n", "f")
    assert {k: (v.line, v.text) for k, v in parsed.items()} == {"a": (3, "1"), "b": (4, ""), "c": (5, "x y")}


def test_responses_are_typed(use_bank: Path, tmp_path: Path) -> None:
    responses = load_answers(write(tmp_path, RIGHT), load_bank())
    assert responses["alpha-multi"] == frozenset({"a", "c"})
    assert responses["alpha-order"] == ("x", "y", "z")
    assert responses["alpha-tf"] is False
    assert responses["alpha-num"] == "1/3"


def test_all_right_from_a_file(use_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--lang", "en", "quiz", "1", "--answers", str(write(tmp_path, RIGHT)), "--seed", "9"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "10 right answers out of 10" in out
    assert "Question 1 of 10 (alpha-" in out  # answers from a file show which question they answered
    data = progress_store().read()["quiz"]
    assert data["best"]["alpha"] == 1.0 and data["history"][0]["answered"] == 10


def test_missing_and_wrong_answers_exit_1(
    use_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        RIGHT.replace("alpha-s10: q\n", "")
        .replace("alpha-single: a", "alpha-single: b")
        .replace("alpha-num: 1/3", "alpha-num:")
    )
    code = main(["--lang", "ru", "quiz", "alpha", "--answers", str(write(tmp_path, text))])
    out = capsys.readouterr().out
    assert code == 1
    assert "Правильно 7 ответов из 10" in out
    assert "2 вопроса остались без ответа." in out
    (run,) = progress_store().read()["quiz"]["history"]
    assert (run["answered"], run["correct"]) == (8, 7)
    assert sorted(run["missed"]) == ["alpha-num", "alpha-s10", "alpha-single"]


def test_answers_for_other_questions_are_ignored(use_bank: Path, tmp_path: Path) -> None:
    path = write(tmp_path, RIGHT + "beta-tf1: false\n")
    assert main(["quiz", "alpha", "--answers", str(path)]) == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("this line has no colon", "Expected 'question-id: answer', got 'this line has no colon'."),
        ("alpha-nope: a", "There is no question with the id 'alpha-nope'."),
        ("alpha-single: d", "The question 'alpha-single' has no choice 'd'; its choices are: a, b, c."),
        ("alpha-single: a, b", "The question 'alpha-single' takes exactly one choice, got 'a, b'."),
        ("alpha-order: x y", "The question 'alpha-order' needs every choice once, in order: x y z."),
        ("alpha-tf: maybe", "The question 'alpha-tf' needs true or false, got 'maybe'."),
        ("alpha-num: a third", "The question 'alpha-num' needs a number, got 'a third'."),
        ("alpha-s7: p", "The question 'alpha-s7' is answered twice (first on line 9)."),
    ],
)
def test_malformed_file_exits_2_naming_the_line(
    use_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    qid = line.split(":")[0]
    twice = "answered twice" in message
    # The question's own line becomes a comment (line numbers stay), and the bad line is line 13.
    lines = [f"# {x}" if x.startswith(f"{qid}:") and not twice else x for x in RIGHT.splitlines()]
    assert len(lines) == 12
    lines.append(line)
    path = write(tmp_path, "\n".join(lines) + "\n")
    code = main(["--lang", "en", "quiz", "1", "--answers", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:13: {message}" in err
    assert "Traceback" not in err
    assert "history" not in progress_store().read()["quiz"]  # nothing was asked or saved


def test_malformed_file_in_russian(
    use_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "alpha-single a\n")
    assert main(["--lang", "ru", "quiz", "1", "--answers", str(path)]) == 2
    assert f"Ошибка: {path}:1: Ожидалась строка вида 'id-вопроса: ответ'" in capsys.readouterr().err


def test_missing_file(use_bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "quiz", "--answers", str(tmp_path / "nope.txt")]) == 2
    assert "nope.txt: File not found." in capsys.readouterr().err


def test_usage_error_type() -> None:
    with pytest.raises(UsageError) as info:
        parse_lines("ok: 1\n\nbad\n", "f.txt")
    assert info.value.location == "f.txt:3"


def test_list_shows_ids_without_answers(use_bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "quiz", "1", "--list", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert (
        "alpha-multi:" in out
        and "a: choice a (en)" in out
        and "Answer with: choice ids separated by commas" in out
    )
    assert "explain" not in out and "why" not in out  # no answers given away
    assert "history" not in progress_store().read()["quiz"]


def test_help_documents_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "quiz", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "'question-id: answer'" in out and "'multi-id: a, c'" in out and "'order-id: b a c'" in out
    assert main(["--lang", "ru", "quiz", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "'id-вопроса: ответ'" in out and "Тест для самопроверки" in out
