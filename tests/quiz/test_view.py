"""The quiz screens: prompts for each question type and the feedback after an answer."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.console import Console

from kproxy_tutor.quiz.grading import grade
from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, QuizChoice, TrueFalse
from kproxy_tutor.quiz.session import Answer, AskedQuestion
from kproxy_tutor.ui.prompts import PlainPrompter, QuestionaryPrompter
from kproxy_tutor.ui.quiz_view import QuizView


def bi(text: str) -> dict[str, str]:
    return {"ru": f"{text} ru", "en": f"{text} en"}


TF = TrueFalse("tf", "l", bi("prompt"), bi("explain"), answer=False)
NUM = Numeric("num", "l", bi("prompt"), bi("explain"), answer=0.25, tolerance=0.001)
MULTI = MultipleChoice(
    "multi",
    "l",
    bi("prompt"),
    bi("explain"),
    options=tuple(QuizChoice(c, bi(f"text {c}"), bi(f"why {c}")) for c in "abcd"),
    answer=frozenset({"a", "b"}),
)


def recording_console() -> Console:
    return Console(file=io.StringIO(), width=80, color_system=None, record=True)


def test_truefalse_with_arrow_keys(lang: Callable[[str], None]) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    lang("ru")
    with create_pipe_input() as pipe:
        pipe.send_text("\x1b[B\r")  # down to "Неверно", Enter
        view = QuizView(QuestionaryPrompter(input=pipe, output=DummyOutput()), console=recording_console())
        assert view.answer(AskedQuestion(TF, 1, 1)) is False


def test_number_is_asked_again_until_it_is_a_number(lang: Callable[[str], None]) -> None:
    lang("ru")
    out = io.StringIO()
    console = recording_console()
    view = QuizView(PlainPrompter(stdin=io.StringIO("треть\n0,25\n"), stdout=out), console=console)
    assert view.answer(AskedQuestion(NUM, 1, 1)) == "0,25"
    assert "Введите число, например 0,25 или 1/4." in console.export_text()
    assert out.getvalue().count("Ваш ответ (число):") == 2


def test_multiple_feedback_explains_every_choice_in_the_order_shown(lang: Callable[[str], None]) -> None:
    lang("en")
    console = recording_console()
    view = QuizView(PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()), console=console)
    asked = AskedQuestion(MULTI, 1, 1, ("d", "c", "b", "a"))
    response = frozenset({"a", "c"})
    view.feedback(Answer(asked, response, grade(MULTI, response)))
    text = console.export_text()
    assert "✗ Wrong." in text  # (1 right - 1 wrong) / 2 = 0: no credit, so not "partly right"
    lines = [line.strip() for line in text.splitlines()]
    labels = [line for line in lines if line.startswith(("✓", "✗")) and ":" in line]
    assert labels == [
        "✓ not marked, and wrong: text d en",
        "✗ marked, but wrong: text c en",
        "✗ not marked, but right: text b en",
        "✓ marked, and right: text a en",
    ]
    assert "why c en" in lines and "explain en" in lines


def test_a_wrapped_choice_hangs_under_its_text_and_its_reason_one_step_further(
    lang: Callable[[str], None],
) -> None:
    """Without colour, the second line of a long choice must not look like the start of its reason."""
    lang("en")
    long = MultipleChoice(
        "long",
        "l",
        bi("prompt"),
        bi("explain"),
        options=(QuizChoice("a", bi("a choice long enough to wrap " * 3), bi("the reason for it " * 3)),),
        answer=frozenset({"a"}),
    )
    console = Console(file=io.StringIO(), width=50, color_system=None, record=True)
    view = QuizView(PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()), console=console)
    response = frozenset({"a"})
    view.feedback(Answer(AskedQuestion(long, 1, 1, ("a",)), response, grade(long, response)))
    lines = console.export_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  ✓ marked, and right:"))
    reason = next(i for i, line in enumerate(lines) if line.lstrip().startswith("the reason"))
    assert start + 1 < reason
    assert all(line.startswith("    ") and not line.startswith("     ") for line in lines[start + 1 : reason])
    assert lines[reason].startswith("      the reason")


@pytest.mark.parametrize(("plain", "expected"), [(True, "`code`"), (False, "code")])
def test_code_spans(plain: bool, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kproxy_tutor.ui.console import Display

    monkeypatch.setattr("kproxy_tutor.ui.quiz_view.display", lambda: Display(plain=plain))
    view = QuizView(PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()), console=recording_console())
    assert view.rich_text("a `code` b").plain == f"a {expected} b"


def test_partly_right_shows_the_credit(lang: Callable[[str], None]) -> None:
    lang("ru")
    console = recording_console()
    view = QuizView(PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()), console=console)
    response = frozenset({"a"})
    view.feedback(Answer(AskedQuestion(MULTI, 1, 1, ("a", "b", "c", "d")), response, grade(MULTI, response)))
    assert "Частично верно (50\u00a0%)." in console.export_text()


PODS = Numeric("pods", "l", bi("how many Pods"), bi("explain"), answer=4, tolerance=0)
TEXT = FreeText("cmd", "l", bi("which command"), bi("explain"), accept=("iptables-save",))


def test_an_empty_answer_asks_again_instead_of_scoring(lang: Callable[[str], None]) -> None:
    lang("ru")
    for question, lines, expected in [
        (TEXT, "\n   \niptables-save\n", "iptables-save"),
        (NUM, "\n0,25\n", "0,25"),
    ]:
        out, console = io.StringIO(), recording_console()
        view = QuizView(PlainPrompter(stdin=io.StringIO(lines), stdout=out), console=console)
        assert view.answer(AskedQuestion(question, 1, 1)) == expected
        assert "Введите ответ и нажмите Enter" in console.export_text()
    out, console = io.StringIO(), recording_console()
    view = QuizView(PlainPrompter(stdin=io.StringIO("\n1 2\n"), stdout=out), console=console)
    assert view.answer(AskedQuestion(MULTI, 1, 1, ("a", "b", "c", "d"))) == frozenset({"a", "b"})
    assert "Введите номера верных ответов через пробел." in console.export_text()


def test_a_count_question_asks_for_a_whole_number(lang: Callable[[str], None]) -> None:
    lang("ru")
    out, console = io.StringIO(), recording_console()
    view = QuizView(PlainPrompter(stdin=io.StringIO("четыре\n4\n"), stdout=out), console=console)
    assert view.answer(AskedQuestion(PODS, 1, 1)) == "4"
    text = console.export_text()
    assert "Введите целое число, например 12." in text
    assert "0,25" not in text and "1/4" not in text  # no fraction hint on a Pod count
    assert "Ваш ответ (целое число):" in out.getvalue()


def test_the_score_line_explains_partial_credit(lang: Callable[[str], None]) -> None:
    from kproxy_tutor.quiz.session import RunResult

    lang("en")
    partly = frozenset({"a"})  # one of the two right marks: half a point
    planned = tuple(AskedQuestion(q, i, 3, ("a", "b", "c", "d")) for i, q in enumerate([MULTI, TF, PODS], 1))
    answers = [
        Answer(planned[0], partly, grade(MULTI, partly)),
        Answer(planned[1], False, grade(TF, False)),
        Answer(planned[2], "5", grade(PODS, "5")),
    ]
    console = recording_console()
    QuizView(PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()), console=console).summary(
        RunResult("lesson", "l", 1, planned, answers)
    )
    text = " ".join(console.export_text().split())
    assert "1 right answer out of 3" in text
    assert "Score: 50% = (1 + 0.5) / 3" in text
    assert "Partly right: question 1 (0.5)." in text
    assert "Passed: a lesson quiz needs 70% or more." not in text
    assert "Not passed yet: a lesson quiz needs 70% or more." in text


def test_a_score_just_under_the_pass_mark_is_not_rounded_up(lang: Callable[[str], None]) -> None:
    from kproxy_tutor.ui.progress_view import score_percent

    lang("en")
    assert score_percent(0.697) == "69.7%" and score_percent(0.7) == "70%" and score_percent(0.47) == "47%"
