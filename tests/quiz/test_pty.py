"""The quiz in a real pseudo-terminal: arrow keys, Enter, and Ctrl-C, as a learner uses it."""

from __future__ import annotations

import json
import os
import random
import sys
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


def answer(child: pexpect.spawn, asked: AskedQuestion, right: bool) -> None:
    """Drive questionary's menus with arrow keys for the right (or a wrong) answer."""
    q = asked.question
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
        keys = "".join((SPACE if right and cid in q.answer else "") + DOWN for cid in asked.choice_order)
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
