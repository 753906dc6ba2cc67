"""Whole quiz runs with a scripted prompter: questions asked, feedback shown, results saved."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from kproxy_tutor.content.quiz import load_bank
from kproxy_tutor.entry import main
from kproxy_tutor.progress import progress_store
from kproxy_tutor.quiz.model import Ordering
from kproxy_tutor.quiz.selection import select
from kproxy_tutor.quiz.session import AskedQuestion, draw_exam, plan
from kproxy_tutor.ui.prompts import ScriptedPrompter
from tests.quiz.conftest import scripted


def planned_run(
    seed: int, lesson: str | None = None, count: int | None = None, exam: bool = False
) -> tuple[AskedQuestion, ...]:
    """The run the command will ask for these options (same seed, same selection)."""
    rng = random.Random(seed)
    selection = select(load_bank(), rng, progress_store().read(), lesson, exam=exam, count=count)
    return plan(selection.questions, rng)


class InteractiveScript(ScriptedPrompter):
    interactive = True  # so the retry offer is made


def use_prompter(monkeypatch: pytest.MonkeyPatch, prompter: ScriptedPrompter) -> None:
    monkeypatch.setattr("kproxy_tutor.ui.prompts.make_prompter", lambda plain=False: prompter)


def quiz_data() -> dict[str, Any]:
    return progress_store().read()["quiz"]


def test_scripted_run_end_to_end(
    use_bank: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = planned_run(5, "1")
    assert len(planned) == 10 and {a.question.lesson_id for a in planned} == {"alpha"}
    wrong_one = next(a for a in planned if a.question.id == "alpha-single").number
    prompter = ScriptedPrompter(scripted(planned, wrong={wrong_one}))
    use_prompter(monkeypatch, prompter)

    assert main(["--lang", "ru", "quiz", "1", "--seed", "5"]) == 0

    out = capsys.readouterr().out
    assert "Вопрос 1 из 10" in out and "Вопрос 10 из 10" in out
    assert "Правильно 9 ответов из 10" in out
    assert "Результат: 90\u00a0%" in out
    assert "Неправильно." in out and out.count("Правильно!") == 9
    assert (
        "explain alpha-single (ru)" in out and "why a (ru)" in out
    )  # explanation and the right choice's why
    assert "Стоит вернуться к этим вопросам:" in out
    assert not prompter._answers  # every scripted answer was used: nothing asked twice
    data = quiz_data()
    assert data["best"] == {"alpha": 0.9}
    (run,) = data["history"]
    assert run["kind"] == "lesson" and run["seed"] == 5 and run["missed"] == ["alpha-single"]
    assert (run["total"], run["answered"], run["correct"], run["interrupted"]) == (10, 10, 9, False)
    assert data["questions"]["alpha-single"] == {
        "asked": 1,
        "correct": 0,
        "last": data["questions"]["alpha-single"]["last"],
        "last_correct": False,
    }
    assert data["review"]["alpha-single"]["box"] == 1
    assert data["review"]["alpha-multi"]["box"] == 2


def test_same_seed_same_quiz_and_choice_order(use_bank: Path) -> None:
    first, second = planned_run(42, "alpha"), planned_run(42, "alpha")
    assert [(a.question.id, a.choice_order) for a in first] == [
        (a.question.id, a.choice_order) for a in second
    ]
    others = {tuple(a.question.id for a in planned_run(seed, "alpha")) for seed in range(5)}
    assert len(others) > 1  # different seeds really change the order


def test_order_question_is_never_shown_in_its_right_order(use_bank: Path) -> None:
    for seed in range(30):
        for asked in planned_run(seed, "alpha"):
            if isinstance(asked.question, Ordering):
                assert asked.choice_order != asked.question.answer


def test_partial_multiple_and_best_is_kept(
    use_bank: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = planned_run(3, "alpha", count=1)
    answers = scripted(planned)
    use_prompter(monkeypatch, ScriptedPrompter(answers))
    assert main(["quiz", "alpha", "--count", "1", "--seed", "3"]) == 0
    assert quiz_data()["best"]["alpha"] == 1.0
    use_prompter(monkeypatch, ScriptedPrompter(scripted(planned, wrong={1})))
    assert main(["quiz", "alpha", "--count", "1", "--seed", "3"]) == 0
    data = quiz_data()
    assert data["best"]["alpha"] == 1.0  # a worse run does not lower the best score
    assert [h["score"] for h in data["history"]] == [1.0, 0.0]


def test_retry_offer_asks_the_missed_questions_again(
    use_bank: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = planned_run(8, "alpha", count=3)
    retry_order = [planned[0], planned[2]]
    retry_planned = tuple(
        AskedQuestion(a.question, i, 2, a.choice_order) for i, a in enumerate(retry_order, 1)
    )
    answers = [*scripted(planned, wrong={1, 3}), True]
    # Order questions in a retry are reshuffled: answer them by looking at what is shown then.
    prompter = InteractiveScript(answers)
    use_prompter(monkeypatch, prompter)
    monkeypatch.setattr("kproxy_tutor.quiz.session.plan", _plan_with_answers(prompter, retry_planned))
    assert main(["--lang", "en", "quiz", "1", "--count", "3", "--seed", "8"]) == 0
    out = capsys.readouterr().out
    assert "Try the 2 missed questions again?" in prompter.asked
    assert "2 right answers out of 2" in out
    data = quiz_data()
    assert [h["kind"] for h in data["history"]] == ["lesson", "retry"]
    assert data["best"]["alpha"] == pytest.approx(planned_score(planned, {1, 3}), abs=1e-4)
    assert data["history"][1]["correct"] == 2


def planned_score(planned: tuple[AskedQuestion, ...], wrong: set[int]) -> float:
    return (len(planned) - len(wrong)) / len(planned)


def _plan_with_answers(prompter: ScriptedPrompter, retry_planned: tuple[AskedQuestion, ...]) -> Any:
    """Wrap plan(): when the retry is planned, queue right answers for exactly what it will show."""
    from kproxy_tutor.quiz import session
    from tests.quiz.conftest import right_answer

    original = session.plan
    calls = []

    def wrapped(questions: Any, rng: random.Random) -> tuple[AskedQuestion, ...]:
        result = original(questions, rng)
        calls.append(result)
        if len(calls) == 2:
            assert [a.question.id for a in result] == [a.question.id for a in retry_planned]
            for asked in result:
                prompter._answers.extend(right_answer(asked))
        return result

    return wrapped


def test_ctrl_c_keeps_the_answers_given(
    use_bank: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = planned_run(2, "1")
    answers = [*scripted(planned[:2]), KeyboardInterrupt()]
    use_prompter(monkeypatch, ScriptedPrompter(answers))
    assert main(["quiz", "1", "--seed", "2"]) == 130
    captured = capsys.readouterr()
    assert "Тест прерван. Данные ответы сохранены." in captured.out
    (run,) = quiz_data()["history"]
    assert run["interrupted"] is True
    assert (run["total"], run["answered"], run["correct"]) == (10, 2, 2)
    assert quiz_data()["best"]["alpha"] == pytest.approx(0.2)
    assert sorted(quiz_data()["review"]) == sorted(a.question.id for a in planned[:2])


def test_end_of_input_is_an_interruption_too(use_bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_prompter(monkeypatch, ScriptedPrompter([]))  # Ctrl-D at the first question
    assert main(["quiz", "--seed", "1"]) == 130
    assert quiz_data()["history"][0]["answered"] == 0


def test_default_quiz_is_the_current_lesson(use_bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    progress_store().update(lambda d: d.__setitem__("current_lesson", "beta"))
    assert {a.question.lesson_id for a in planned_run(1)} == {"beta"}
    progress_store().update(lambda d: d.__setitem__("current_lesson", "no-such-lesson"))
    assert {a.question.lesson_id for a in planned_run(1)} == {"alpha"}


def test_exam_draws_from_every_lesson(use_bank: Path) -> None:
    planned = planned_run(4, exam=True, count=6)
    lessons = [a.question.lesson_id for a in planned]
    assert len(planned) == 6 and lessons.count("alpha") == 3 and lessons.count("beta") == 3
    bank = load_bank()
    assert len(draw_exam([q.questions for q in bank.quizzes], 100, random.Random(1))) == 20


def test_exam_run_saves_best_exam(use_bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planned = planned_run(6, exam=True, count=4)
    use_prompter(monkeypatch, ScriptedPrompter(scripted(planned)))
    assert main(["quiz", "--all", "--count", "4", "--seed", "6"]) == 0
    data = quiz_data()
    assert data["best_exam"] == 1.0 and "best" not in data
    assert data["history"][0]["kind"] == "exam"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quiz", "1", "--all"], "Урок нельзя указывать вместе с --all или --review."),
        (["quiz", "--all", "--review"], "Укажите что-то одно: --all или --review."),
        (["quiz", "--count", "0"], "--count должно быть не меньше 1."),
        (["quiz", "7"], "Для урока '7' теста нет. Тесты есть для уроков: 1 (alpha), 2 (beta)."),
    ],
)
def test_usage_errors(
    use_bank: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--lang", "ru", *args]) == 2
    assert message in capsys.readouterr().err


def test_lessons_summary_shows_the_best_score() -> None:
    """progress_summary() (used by `kproxy-tutor lessons`) reads the best score this engine saves."""
    from datetime import date, datetime

    from kproxy_tutor.app import progress_summary
    from kproxy_tutor.content.quiz import load_bank as load_real
    from kproxy_tutor.quiz.record import apply_run
    from kproxy_tutor.quiz.session import run

    bank = load_real()
    if not bank.quizzes:
        pytest.skip("no quiz files in lessons/ yet")
    quiz = bank.quizzes[0]
    planned = plan(quiz.questions[:4], random.Random(1))

    class Half:
        def answer(self, asked: AskedQuestion) -> Any:
            return None if asked.number > 2 else _right(asked)

    result = run("lesson", quiz.lesson_id, 1, planned, Half())
    progress_store().update(lambda d: apply_run(d, result, date(2030, 1, 1), datetime(2030, 1, 1)))
    summary = progress_summary()
    lesson = next(entry for entry in summary.lessons if entry.lesson_id == quiz.lesson_id)
    assert lesson.best_score == pytest.approx(0.5)


def _right(asked: AskedQuestion) -> Any:
    from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, SingleChoice, TrueFalse

    q = asked.question
    if isinstance(q, SingleChoice | MultipleChoice | TrueFalse | Ordering):
        return q.answer
    if isinstance(q, FreeText):
        return q.accept[0]
    if isinstance(q, Numeric):
        return str(q.answer)
    raise AssertionError(q)
