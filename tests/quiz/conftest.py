"""Quiz test fixtures: a small question bank on disk, language switching, and scripted right answers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kproxy_tutor import i18n
from kproxy_tutor.quiz.model import FreeText, MultipleChoice, Numeric, Ordering, SingleChoice, TrueFalse
from kproxy_tutor.quiz.session import AskedQuestion


def bi(text: str) -> dict[str, str]:
    return {"ru": f"{text} (ru)", "en": f"{text} (en)"}


def choice(cid: str) -> dict[str, Any]:
    return {"id": cid, "text": bi(f"choice {cid}"), "why": bi(f"why {cid}")}


def base(qid: str, kind: str) -> dict[str, Any]:
    return {
        "id": qid,
        "type": kind,
        "prompt": bi(f"prompt {qid}"),
        "explanation": bi(f"explain {qid}"),
        "source": "test",
    }


def alpha_questions() -> list[dict[str, Any]]:
    """One question of every type, then singles up to ten (the minimum per lesson)."""
    questions = [
        {**base("alpha-single", "single"), "choices": [choice("a"), choice("b"), choice("c")], "answer": "a"},
        {
            **base("alpha-multi", "multiple"),
            "choices": [choice("a"), choice("b"), choice("c"), choice("d")],
            "answer": ["a", "c"],
        },
        {**base("alpha-tf", "truefalse"), "answer": False},
        {
            **base("alpha-order", "order"),
            "choices": [choice("x"), choice("y"), choice("z")],
            "answer": ["x", "y", "z"],
        },
        {**base("alpha-text", "text"), "accept": ["iptables-save -t nat"]},
        {**base("alpha-num", "numeric"), "answer": 0.3333333333, "tolerance": 0.001},
    ]
    for n in range(7, 11):
        questions.append(
            {**base(f"alpha-s{n}", "single"), "choices": [choice("p"), choice("q")], "answer": "q"}
        )
    return questions


def beta_questions() -> list[dict[str, Any]]:
    return [{**base(f"beta-tf{n}", "truefalse"), "answer": n % 2 == 0} for n in range(1, 11)]


def default_quizzes() -> dict[str, dict[str, Any]]:
    return {
        "01-alpha": {"lesson": "alpha", "questions": alpha_questions()},
        "02-beta": {"lesson": "beta", "questions": beta_questions()},
    }


def write_bank(root: Path, quizzes: dict[str, dict[str, Any]]) -> Path:
    """Write course.yaml, a minimal lesson file per quiz, and the quiz files into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    stems = sorted(quizzes)
    (root / "course.yaml").write_text(
        yaml.safe_dump({"format_version": 1, "lessons": stems}), encoding="utf-8"
    )
    for stem, quiz in quizzes.items():
        (root / f"{stem}.yaml").write_text(f"id: {stem.split('-', 1)[1]}\n", encoding="utf-8")
        text = yaml.safe_dump(quiz, allow_unicode=True, sort_keys=False)
        (root / f"{stem}.quiz.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def quizzes() -> dict[str, dict[str, Any]]:
    """The fixture bank as data; tests may change it before calling ``bank_dir``."""
    return copy.deepcopy(default_quizzes())


@pytest.fixture
def bank_dir(tmp_path: Path) -> Callable[[dict[str, dict[str, Any]]], Path]:
    def make(data: dict[str, dict[str, Any]]) -> Path:
        return write_bank(tmp_path / "lessons", data)

    return make


@pytest.fixture
def use_bank(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the tutor's lessons directory at the fixture bank."""
    root = write_bank(tmp_path / "lessons", default_quizzes())
    monkeypatch.setattr("kproxy_tutor.content.quiz.lessons_dir", lambda: root)
    monkeypatch.setattr("kproxy_tutor.resources.lessons_dir", lambda: root)
    return root


@pytest.fixture
def lang() -> Iterator[Callable[[str], None]]:
    """Switch the UI language for one test; the previous one is restored afterwards."""
    before = i18n.current_language()
    yield i18n.set_language
    i18n.set_language(before)


def right_answer(asked: AskedQuestion, menus: bool = False) -> list[object]:
    """What a prompter returns for the right answer to ``asked`` (one item per prompt)."""
    q = asked.question
    if isinstance(q, SingleChoice):
        return [q.answer]
    if isinstance(q, MultipleChoice):
        return [sorted(q.answer)]
    if isinstance(q, TrueFalse):
        return ["true" if q.answer else "false"]
    if isinstance(q, Ordering):
        if menus:
            return list(q.answer[:-1])
        return [" ".join(str(asked.choice_order.index(cid) + 1) for cid in q.answer)]
    if isinstance(q, FreeText):
        return [f"  $ {q.accept[0].upper()}  "]
    if isinstance(q, Numeric):
        return [f"{q.answer:.4f}".replace(".", ",")]
    raise AssertionError(q)


def wrong_answer(asked: AskedQuestion) -> list[object]:
    q = asked.question
    if isinstance(q, SingleChoice):
        return [next(c.id for c in q.options if c.id != q.answer)]
    if isinstance(q, MultipleChoice):
        return [sorted(c.id for c in q.options if c.id not in q.answer)]  # only wrong marks: scores 0
    if isinstance(q, TrueFalse):
        return ["false" if q.answer else "true"]
    if isinstance(q, Ordering):
        return [" ".join(str(i) for i in range(1, len(q.answer) + 1))]  # as shown: never the right order
    if isinstance(q, FreeText):
        return ["no such command"]
    if isinstance(q, Numeric):
        return [str(q.answer + 100)]
    raise AssertionError(q)


def scripted(planned: Sequence[AskedQuestion], wrong: set[int] = frozenset()) -> list[object]:  # type: ignore[assignment]
    """Prompter answers for a whole run: right except at the 1-based positions in ``wrong``."""
    answers: list[object] = []
    for asked in planned:
        answers.extend(wrong_answer(asked) if asked.number in wrong else right_answer(asked))
    return answers
