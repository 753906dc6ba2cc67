"""Quiz screens: asking each question type, the verdict with explanations, and the final score."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kproxy_tutor.i18n import _, current_language, ngettext, pick
from kproxy_tutor.quiz.grading import parse_number
from kproxy_tutor.quiz.model import (
    FreeText,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    Response,
    SingleChoice,
    TrueFalse,
)
from kproxy_tutor.quiz.session import Answer, AskedQuestion, RunResult
from kproxy_tutor.ui.console import display, glyphs, make_console
from kproxy_tutor.ui.prompts import Choice, Prompter, QuestionaryPrompter

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

CODE_STYLE = "bold cyan"
RIGHT_STYLE = "bold green"
WRONG_STYLE = "bold red"


def score_line(correct: int, total: int) -> str:
    """ "Правильно 2 ответа из 3" / "2 right answers out of 3"."""
    return ngettext(
        "{correct} right answer out of {total}", "{correct} right answers out of {total}", correct
    ).format(correct=correct, total=total)


def question_count(n: int) -> str:
    """ "3 вопроса" / "3 questions"."""
    return ngettext("{n} question", "{n} questions", n).format(n=n)


def percent(score: float) -> int:
    return round(score * 100)


def format_number(value: float) -> str:
    """A number as a learner would write it: no ".0" on integers, a decimal comma in Russian."""
    text = str(int(value)) if value == int(value) else f"{value:.10g}"
    return text.replace(".", ",") if current_language() == "ru" else text


class QuizView:
    """Talks to the learner during a quiz: it is the Answerer of an interactive run."""

    def __init__(self, prompter: Prompter, console: Console | None = None, show_ids: bool = False) -> None:
        self.prompter = prompter
        self.show_ids = show_ids
        self.console = console or make_console()
        # Arrow-key menus can build an order one pick at a time; numbered prompts take "3 1 2".
        self.menus = isinstance(prompter, QuestionaryPrompter)

    # -- output helpers ---------------------------------------------------------------------

    def rich_text(self, text: str, style: str = "") -> Text:
        """``text`` with `code` spans styled; in plain mode the backticks stay, as typed."""
        from rich.text import Text

        text = glyphs(text)
        if display().plain:
            return Text(text, style=style)
        result = Text(style=style)
        for i, part in enumerate(re.split(r"`([^`]*)`", text)):
            result.append(part, style=CODE_STYLE if i % 2 else "")
        return result

    def say(self, text: str, style: str = "", indent: int = 0, hanging: int = 0) -> None:
        """Print ``text`` wrapped to the terminal, indented, without trailing spaces on any line.

        ``hanging`` indents the continuation lines further, so a numbered item's text lines up.
        """
        from rich.text import Text

        body = self.rich_text(text, style)
        width = max(20, self.console.width - indent - hanging)
        for i, line in enumerate(body.wrap(self.console, width, overflow="fold")):
            line.rstrip()
            pad = indent + (hanging if i else 0)
            self.console.print(Text(" " * pad) + line if pad else line, soft_wrap=True)

    def blank(self) -> None:
        self.console.print()

    # -- the run ------------------------------------------------------------------------------

    def intro(self, title: str, count: int) -> None:
        self.say(f"{title}: {question_count(count)}", style="bold")

    def header(self, asked: AskedQuestion) -> None:
        heading = _("Question {number} of {total}").format(number=asked.number, total=asked.total)
        if self.show_ids:
            heading += f" ({asked.question.id})"
        self.say(heading, style="bold")
        self.say(pick(asked.question.prompt))

    def list_questions(self, title: str, planned: Sequence[AskedQuestion]) -> None:
        """Every question with its id and choice ids, for writing an answers file by hand."""
        self.intro(title, len(planned))
        for asked in planned:
            self.blank()
            self.say(f"{asked.question.id}:", style="bold")
            self.say(pick(asked.question.prompt), indent=2)
            question = asked.question
            by_id = {c.id: c for c in question.choices}
            for cid in asked.choice_order:
                self.say(f"{cid}: {pick(by_id[cid].text)}", indent=4)
            hint = {
                "single": _("one choice id"),
                "multiple": _("choice ids separated by commas"),
                "order": _("every choice id, in order, separated by spaces"),
                "truefalse": _("true or false"),
                "text": _("text"),
                "numeric": _("a number"),
            }[question.kind]
            self.say(_("Answer with: {hint}").format(hint=hint), style="dim", indent=2)

    def answer(self, asked: AskedQuestion) -> Response:
        question = asked.question
        self.blank()
        self.header(asked)
        if isinstance(question, SingleChoice):
            return self.prompter.select(_("Your answer:"), self.choices(question, asked.choice_order))
        if isinstance(question, MultipleChoice):
            picked = self.prompter.checkbox(
                _("Mark every right answer:"), self.choices(question, asked.choice_order)
            )
            return frozenset(picked)
        if isinstance(question, TrueFalse):
            value = self.prompter.select(
                _("Your answer:"), [Choice("true", _("True")), Choice("false", _("False"))]
            )
            return value == "true"
        if isinstance(question, Ordering):
            return self.ask_order(question, asked.choice_order)
        if isinstance(question, Numeric):
            return self.ask_number()
        text = self.prompter.text(_("Your answer:")).strip()
        return text or None

    def choices(self, question: Question, order: Sequence[str]) -> list[Choice]:
        by_id = {c.id: c for c in question.choices}
        # Menus and numbered lists cannot style `code`: show it as the explanations do, without
        # the backticks (in plain mode they stay, as typed).
        keep = display().plain
        return [Choice(cid, _without_code_marks(pick(by_id[cid].text), keep)) for cid in order]

    def ask_number(self) -> Response:
        while True:
            typed = self.prompter.text(_("Your answer (a number):")).strip()
            if not typed or parse_number(typed) is not None:
                return typed or None
            self.say(_("Please type a number, for example 0,25 or 1/4."))

    def ask_order(self, question: Ordering, order: Sequence[str]) -> Response:
        items = self.choices(question, order)
        if self.menus:
            chosen: list[str] = []
            remaining = list(items)
            while len(remaining) > 1:
                message = _("What comes next? ({position} of {count})").format(
                    position=len(chosen) + 1, count=len(items)
                )
                value = self.prompter.select(message, remaining)
                chosen.append(value)
                remaining = [c for c in remaining if c.value != value]
            return (*chosen, remaining[0].value)
        for i, item in enumerate(items, 1):
            self.say(f"{i}. {item.title}", indent=2, hanging=len(f"{i}. "))
        example = _order_example(len(items), [order.index(cid) + 1 for cid in question.answer])
        while True:
            typed = self.prompter.text(
                _("Type the numbers in the right order, separated by spaces (like {example}):").format(
                    example=example
                )
            )
            parts = typed.replace(",", " ").split()
            if not parts:
                return None
            if sorted(parts) == sorted(str(i) for i in range(1, len(items) + 1)):
                return tuple(items[int(p) - 1].value for p in parts)
            self.say(_("Use each number from 1 to {n} once.").format(n=len(items)))

    # -- feedback ------------------------------------------------------------------------------

    def verdict(self, answer: Answer) -> None:
        grade = answer.grade
        if not grade.answered:
            self.say(glyphs("✗ ") + _("No answer."), style=WRONG_STYLE)
        elif grade.correct:
            self.say(glyphs("✓ ") + _("Right!"), style=RIGHT_STYLE)
        elif grade.score > 0:
            self.say(
                glyphs("~ ") + _("Partly right ({percent}%).").format(percent=percent(grade.score)),
                style=WRONG_STYLE,
            )
        else:
            self.say(glyphs("✗ ") + _("Wrong."), style=WRONG_STYLE)

    def feedback(self, answer: Answer) -> None:
        """The verdict, what was right, each relevant choice's why, and the explanation."""
        if self.show_ids:
            # Answers from a file were not typed here: show the question they answer.
            self.blank()
            self.header(answer.asked)
        self.verdict(answer)
        question = answer.asked.question
        if isinstance(question, SingleChoice):
            self.single_feedback(question, answer)
        elif isinstance(question, MultipleChoice):
            self.multiple_feedback(question, answer)
        elif not answer.grade.correct:
            self.say(_("The right answer: {answer}").format(answer=right_answer(question)))
        self.say(pick(question.explanation))

    def why(self, question: Question, choice_id: str, label: str) -> None:
        choice = question.choice(choice_id)
        if choice is None:
            return
        self.say(f"{label} {pick(choice.text)}", indent=2)
        if choice.why:
            self.say(pick(choice.why), style="dim", indent=4)

    def single_feedback(self, question: SingleChoice, answer: Answer) -> None:
        picked = answer.response if isinstance(answer.response, str) else None
        if picked is not None and picked != question.answer:
            self.why(question, picked, glyphs("✗ ") + _("Your answer:"))
        self.why(question, question.answer, glyphs("✓ ") + _("The right answer:"))

    def multiple_feedback(self, question: MultipleChoice, answer: Answer) -> None:
        # In the order the learner saw the choices.
        shown = {cid: i for i, cid in enumerate(answer.asked.choice_order)}
        for verdict in sorted(answer.grade.verdicts, key=lambda v: shown.get(v.choice_id, 0)):
            if verdict.picked and verdict.expected:
                label = glyphs("✓ ") + _("marked, and right:")
            elif verdict.picked:
                label = glyphs("✗ ") + _("marked, but wrong:")
            elif verdict.expected:
                label = glyphs("✗ ") + _("not marked, but right:")
            else:
                label = glyphs("✓ ") + _("not marked, and wrong:")
            self.why(question, verdict.choice_id, label)

    def summary(self, result: RunResult) -> None:
        self.blank()
        self.say(score_line(result.correct_count, result.total), style="bold")
        self.say(_("Score: {percent}%").format(percent=percent(result.score)))
        unanswered = result.total - result.answered_count
        if unanswered:
            self.say(
                ngettext("{n} question unanswered.", "{n} questions unanswered.", unanswered).format(
                    n=unanswered
                )
            )
        missed = result.missed()
        if not missed:
            return
        self.blank()
        self.say(_("Worth another look:"), style="bold")
        for asked in missed:
            self.say(f"{asked.number}. {pick(asked.question.prompt)}")
            self.say(_("Answer: {answer}").format(answer=right_answer(asked.question)), indent=3)
            self.say(pick(asked.question.explanation), style="dim", indent=3)

    def offer_retry(self, missed: int) -> bool:
        """Ask to retry the missed questions; without a terminal the answer is No."""
        if not self.prompter.interactive:
            return False
        return self.prompter.confirm(
            ngettext(
                "Try the {n} missed question again?", "Try the {n} missed questions again?", missed
            ).format(n=missed),
            default=False,
        )

    def nothing_due(self, progress_data: Mapping[str, Any]) -> None:
        from babel.dates import format_date

        from kproxy_tutor.quiz.review import next_due

        self.say(_("Nothing is due for review today."))
        upcoming = next_due(progress_data)
        if upcoming is not None:
            when = format_date(upcoming, format="long", locale=current_language())
            sentence = _("The next review is on {date}.").format(date=when)
            # A Russian long date ends with "г.": the sentence's own full stop would double it.
            self.say(sentence[:-1] if sentence.endswith("..") else sentence)
        else:
            self.say(_("Questions enter the review queue once you answer them in a quiz: kproxy-tutor quiz"))


def _without_code_marks(text: str, keep: bool) -> str:
    return text if keep else re.sub(r"`([^`]*)`", r"\1", text)


def _order_example(n: int, right: list[int]) -> str:
    """An example of the "3 1 2" input that is never the right answer itself."""
    numbers = list(range(1, n + 1))
    # The items are never shown in their right order, so ``numbers`` itself is a safe last resort.
    candidates = [numbers[::-1], numbers[1:] + numbers[:1], [2, 1, *numbers[2:]], numbers]
    return " ".join(str(i) for i in next(c for c in candidates if c != right))


def right_answer(question: Question) -> str:
    """The right answer in words, for feedback and the summary."""
    if isinstance(question, SingleChoice):
        choice = question.choice(question.answer)
        return pick(choice.text) if choice else question.answer
    if isinstance(question, MultipleChoice | Ordering):
        ids = (
            question.answer
            if isinstance(question, Ordering)
            else [c.id for c in question.options if c.id in question.answer]
        )
        texts = [pick(c.text) for cid in ids if (c := question.choice(cid)) is not None]
        joiner = glyphs(" → ") if isinstance(question, Ordering) else "; "
        return joiner.join(texts)
    if isinstance(question, TrueFalse):
        return _("True") if question.answer else _("False")
    if isinstance(question, FreeText):
        return " | ".join(question.accept[:3])
    if isinstance(question, Numeric):
        return format_number(question.answer)
    return ""
