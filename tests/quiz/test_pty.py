"""The quiz in a real pseudo-terminal: arrow keys, Enter, and Ctrl-C, as a learner uses it."""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.content.quiz import load_bank
from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, Ordering, SingleChoice, TrueFalse
from kproxy_tutor.quiz.selection import select
from kproxy_tutor.quiz.session import AskedQuestion, plan

pexpect = pytest.importorskip("pexpect")
pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pty"),
]

DOWN, ENTER, SPACE = "\x1b[B", "\r", " "
ARGS = ["-m", "kproxy_tutor", "quiz", "1", "--count", "3", "--seed", "1"]


def planned_lesson_one() -> tuple[AskedQuestion, ...]:
    """The three questions `quiz 1 --count 3 --seed 1` asks, computed the way the command does."""
    bank = load_bank()
    if not bank.quizzes or bank.quizzes[0].number != 1:
        pytest.skip("lesson 1 has no quiz yet")
    rng = random.Random(1)
    return plan(select(bank, rng, {}, "1", count=3).questions, rng)


def spawn(home: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "KPROXY_TUTOR_HOME": str(home),
        "NO_COLOR": "1",
        "TERM": "xterm",
        "KPROXY_TUTOR_LANG": "ru",
        # No terminal answers cursor-position queries here; without this each prompt waits for one.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("KPROXY_TUTOR_PLAIN", None)
    return pexpect.spawn(sys.executable, ARGS, env=env, dimensions=(40, 100), encoding="utf-8", timeout=20)


def answer(child: pexpect.spawn, asked: AskedQuestion, right: bool, header: bool = True) -> None:
    """Drive questionary's menus with arrow keys for the right (or a wrong) answer."""
    q = asked.question
    if header:
        child.expect_exact(f"Вопрос {asked.number} из {asked.total}")
    if isinstance(q, SingleChoice | TrueFalse):
        if isinstance(q, TrueFalse):
            shown, target = ["true", "false"], ("true" if q.answer == right else "false")
        else:
            shown = list(asked.choice_order)
            target = q.answer if right else next(c for c in shown if c != q.answer)
        child.expect_exact("Ваш ответ:")
        child.send(DOWN * shown.index(target) + ENTER)
    elif isinstance(q, MultipleChoice):
        child.expect_exact("Отметьте все правильные ответы:")
        # A wrong answer marks only wrong choices (nothing marked would be asked again).
        keys = "".join((SPACE if (cid in q.answer) == right else "") + DOWN for cid in asked.choice_order)
        child.send(keys + ENTER)
    elif isinstance(q, Ordering):
        remaining = list(asked.choice_order)
        target = list(q.answer) if right else list(asked.choice_order)
        for position, cid in enumerate(target[:-1], 1):
            child.expect_exact(f"Что идёт дальше? ({position} из {len(target)})")
            child.send(DOWN * remaining.index(cid) + ENTER)
            remaining.remove(cid)
    elif isinstance(q, FreeText | Numeric):
        child.expect_exact("Ваш ответ")
        typed = (q.accept[0] if isinstance(q, FreeText) else str(q.answer)) if right else "12345"
        child.send(typed + ENTER)
    child.expect_exact("Правильно!" if right else "Неправильно.")


def read_quiz(home: Path) -> dict:
    return json.loads((home / "progress.json").read_text(encoding="utf-8"))["quiz"]


def test_three_questions_with_arrow_keys(tmp_path: Path) -> None:
    planned = planned_lesson_one()
    child = spawn(tmp_path)
    child.expect_exact("Тест по уроку 1")
    child.expect_exact("3 вопроса")
    for asked, right in zip(planned, (True, False, True), strict=True):
        answer(child, asked, right)
    child.expect_exact("Правильно 2 ответа из 3")
    child.expect_exact("Результат: 67\u00a0%")
    child.expect_exact("Ещё раз ответить на 1 вопрос, который не получился?")
    child.send(ENTER)  # the default is No
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    quiz = read_quiz(tmp_path)
    lesson_id = planned[0].question.lesson_id
    assert quiz["best"] == {lesson_id: pytest.approx(2 / 3, abs=1e-4)}
    assert quiz["history"][0]["missed"] == [planned[1].question.id]


def test_ctrl_c_mid_quiz_exits_130_and_keeps_the_answers(tmp_path: Path) -> None:
    planned = planned_lesson_one()
    child = spawn(tmp_path)
    answer(child, planned[0], right=True)
    child.expect_exact("Вопрос 2 из 3")
    child.expect_exact("Ваш ответ" if not isinstance(planned[1].question, MultipleChoice | Ordering) else "?")
    child.sendcontrol("c")
    child.expect_exact("Тест прерван. Данные ответы сохранены.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    (run,) = read_quiz(tmp_path)["history"]
    assert run["interrupted"] is True
    assert (run["total"], run["answered"], run["correct"]) == (3, 1, 1)


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\r")


def screen_text(raw: str) -> str:
    """What a terminal shows of ``raw``, line by line (escape sequences dropped)."""
    return ANSI.sub("", raw)


def spawn_quiz(home: Path, *args: str, columns: int = 80) -> pexpect.spawn:
    env = {
        **os.environ,
        "KPROXY_TUTOR_HOME": str(home),
        "NO_COLOR": "1",
        "TERM": "xterm",
        "KPROXY_TUTOR_LANG": "ru",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("KPROXY_TUTOR_PLAIN", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", "quiz", *args],
        env=env,
        dimensions=(24, columns),
        encoding="utf-8",
        timeout=20,
    )


def find_run(
    lesson: str, count: int, wanted: Callable[[tuple[AskedQuestion, ...]], bool]
) -> tuple[int, tuple[AskedQuestion, ...]]:
    """A seed whose run (computed as the command does) has what the test needs."""
    bank = load_bank()
    for seed in range(1, 500):
        rng = random.Random(seed)
        planned = plan(select(bank, rng, {}, lesson, count=count).questions, rng)
        if wanted(planned):
            return seed, planned
    pytest.skip("no run of lesson 1 has the questions this test needs")


def long_single(asked: AskedQuestion) -> bool:
    q = asked.question
    return isinstance(q, SingleChoice) and len(q.choice(q.answer).text["ru"]) > 100  # type: ignore[union-attr]


def test_quiz_at_80_columns_wraps_answers_asks_again_and_says_what_next(tmp_path: Path) -> None:
    """A long chosen answer and the explanations wrap at words: no word lost or split at 80 columns;
    an empty answer is asked again; a Pod count hints at a whole number; the last line is a command."""
    seed, planned = find_run(
        "1",
        3,
        lambda p: long_single(p[0]) and any(isinstance(a.question, Numeric) and a.question.whole for a in p),
    )
    child = spawn_quiz(tmp_path, "1", "--count", "3", "--seed", str(seed))
    for asked in planned:
        q = asked.question
        if asked is planned[0]:
            child.expect_exact(f"Вопрос {asked.number} из {asked.total}")
            child.expect_exact("Ваш ответ:")
            child.send(DOWN * asked.choice_order.index(q.answer) + ENTER)  # type: ignore[attr-defined]
            child.expect_exact("Правильно!")
            shown = screen_text(child.before)
            echo = shown[shown.rindex("? Ваш ответ: ") :].splitlines()
            echo = [line for line in echo if line.strip() and not line.startswith(("✓", "✗"))]
            title = q.choice(q.answer).text["ru"].replace("`", "")  # type: ignore[attr-defined, union-attr]
            words = " ".join(echo).split()[3:]  # after "? Ваш ответ:"
            assert words == title.split()  # every word, none cut or split
            assert all(len(line) <= 80 for line in echo)
            child.expect_exact(f"Вопрос {asked.number + 1} из")
            feedback = screen_text(child.before)
            assert all(len(line) <= 80 for line in feedback.splitlines())
            explanation = " ".join(q.explanation["ru"].replace("`", "").split())
            assert explanation in " ".join(feedback.split())
        elif isinstance(q, Numeric):
            child.expect_exact("Ваш ответ (целое число):")  # its header may be read already
            child.send(ENTER)  # an empty answer is not scored
            child.expect_exact("Введите ответ и нажмите Enter")
            child.expect_exact("Ваш ответ (целое число):")
            child.send("четыре" + ENTER)
            child.expect_exact("Введите целое число, например 12.")
            child.send(str(int(q.answer) + 1) + ENTER)
            child.expect_exact("Неправильно.")
        else:
            answer(child, asked, right=False, header=asked.number != 2)
    child.expect_exact("Ещё раз ответить")
    child.send(ENTER)  # No
    child.expect_exact("Дальше: kproxy-tutor learn 1 (прочитать урок 1)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (run,) = read_quiz(tmp_path)["history"]
    assert run["answered"] == 3  # the empty Enter was not an answer


def test_questions_missed_in_a_quiz_are_offered_for_review_the_same_day(learner_home: Path) -> None:
    from kproxy_tutor.app import course_outline
    from kproxy_tutor.content.loader import load_course
    from kproxy_tutor.progress import progress_store

    first = course_outline(load_course())[0]

    def lesson_one_read(data: dict) -> None:
        data["lessons"][first.lesson_id] = {"status": "done", "step": "x"}
        data["exercises"].update({e: {"done": True} for e in first.exercises})

    progress_store().update(lesson_one_read)
    seed, planned = find_run("1", 4, lambda p: True)
    child = spawn_quiz(learner_home, "1", "--count", "4", "--seed", str(seed))
    for asked in planned:
        answer(child, asked, right=asked.number != 2)  # 3 of 4: passed, one missed
    child.expect_exact("Сдан: для теста урока нужно 70\u00a0% или больше.")
    child.expect_exact("Ещё раз ответить")
    child.send(ENTER)  # No
    child.expect_exact("Дальше: kproxy-tutor quiz --review (1 вопрос на повторение сегодня)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    child = spawn_quiz(learner_home, "--review")
    child.expect_exact("Повторение: 1 вопрос")
    missed = planned[1].question
    child.expect_exact("Вопрос 1 из 1")
    child.expect_exact(missed.prompt["ru"].replace("`", "")[:20])  # the question missed a minute ago
    child.sendcontrol("c")  # enough: the missed question was asked today
    child.expect(pexpect.EOF)
    child.close()
