"""Quiz screens: asking each question type, the verdict with explanations, and the final score."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kproxy_tutor.course_status import DEFAULT_PASS_SHARE
from kproxy_tutor.i18n import (
    _,
    current_language,
    format_decimal,
    format_number,
    format_percent,
    ngettext,
    pick,
)
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
from kproxy_tutor.quiz.session import LESSON, Answer, AskedQuestion, RunResult
from kproxy_tutor.ui.console import display, glyphs, make_console
from kproxy_tutor.ui.progress_view import score_percent
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
    ).format(correct=format_number(correct), total=format_number(total))


def question_count(n: int) -> str:
    """ "3 вопроса" / "3 questions"."""
    return ngettext("{n} question", "{n} questions", n).format(n=format_number(n))


def number_as_typed(value: float) -> str:
    """A right numeric answer as a learner would type it: no ".0" on integers, no digit groups
    (a port is 6432, not 6 432), a decimal comma in Russian."""
    return format_decimal(value, 10, grouping=False)


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
        from kproxy_tutor.ui.wrap import print_wrapped

        # Words, numbers ("1 000") and commands are never split across lines.
        print_wrapped(
            self.console, self.rich_text(text, style), indent=indent, hanging=hanging, keep=_commands(text)
        )

    def blank(self) -> None:
        self.console.print()

    # -- the run ------------------------------------------------------------------------------

    def intro(self, title: str, count: int) -> None:
        self.say(f"{title}: {question_count(count)}", style="bold")

    def header(self, asked: AskedQuestion) -> None:
        heading = _("Question {number} of {total}").format(
            number=format_number(asked.number), total=format_number(asked.total)
        )
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
                "numeric": _("a whole number")
                if isinstance(question, Numeric) and question.whole
                else _("a number"),
            }[question.kind]
            self.say(_("Answer with: {hint}").format(hint=hint), style="dim", indent=2)

    def answer(self, asked: AskedQuestion) -> Response:
        question = asked.question
        self.blank()
        self.header(asked)
        if isinstance(question, SingleChoice):
            return self.prompter.select(_("Your answer:"), self.choices(question, asked.choice_order))
        if isinstance(question, MultipleChoice):
            return self.ask_marks(question, asked.choice_order)
        if isinstance(question, TrueFalse):
            value = self.prompter.select(
                _("Your answer:"), [Choice("true", _("True")), Choice("false", _("False"))]
            )
            return value == "true"
        if isinstance(question, Ordering):
            return self.ask_order(question, asked.choice_order)
        if isinstance(question, Numeric):
            return self.ask_number(question)
        while True:
            text = self.prompter.text(_("Your answer:")).strip()
            if text:
                return text
            self.ask_again()

    def ask_again(self) -> None:
        """An empty answer is a slip of the Enter key, not an answer: say so and ask again."""
        self.say(_("Type your answer, then press Enter (Ctrl-C stops the quiz; answers so far are kept)."))

    def ask_marks(self, question: MultipleChoice, order: Sequence[str]) -> Response:
        while True:
            picked = self.prompter.checkbox(_("Mark every right answer:"), self.choices(question, order))
            if picked:
                return frozenset(picked)
            # Every multiple-choice question has a right answer: nothing marked means Enter came first.
            if self.menus:
                self.say(_("Nothing is marked: mark answers with Space, then press Enter."))
            else:
                self.say(_("Type the numbers of the right answers, separated by spaces."))

    def choices(self, question: Question, order: Sequence[str]) -> list[Choice]:
        by_id = {c.id: c for c in question.choices}
        # Menus and numbered lists cannot style `code`: show it as the explanations do, without
        # the backticks (in plain mode they stay, as typed).
        keep = display().plain
        return [Choice(cid, _without_code_marks(pick(by_id[cid].text), keep)) for cid in order]

    def ask_number(self, question: Numeric) -> Response:
        if question.whole:
            message, hint = (
                _("Your answer (a whole number):"),
                _("Please type a whole number, for example {example}."),
            )
            example = format_number(12)
        else:
            message, hint = (
                _("Your answer (a number):"),
                _("Please type a number, for example {example} or 1/4."),
            )
            example = format_decimal(0.25, 2)
        while True:
            typed = self.prompter.text(message).strip()
            if typed and parse_number(typed) is not None:
                return typed
            if not typed:
                self.ask_again()
            else:
                self.say(hint.format(example=example))

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
                self.ask_again()
                continue
            if sorted(parts) == sorted(str(i) for i in range(1, len(items) + 1)):
                return tuple(items[int(p) - 1].value for p in parts)
            self.say(_("Use each number from 1 to {n} once.").format(n=format_number(len(items))))

    # -- feedback ------------------------------------------------------------------------------

    def verdict(self, answer: Answer) -> None:
        grade = answer.grade
        if not grade.answered:
            self.say(glyphs("✗ ") + _("No answer."), style=WRONG_STYLE)
        elif grade.correct:
            self.say(glyphs("✓ ") + _("Right!"), style=RIGHT_STYLE)
        elif grade.score > 0:
            self.say(
                glyphs("~ ") + _("Partly right ({percent}).").format(percent=format_percent(grade.score)),
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
        # The choice's own lines hang under its text, the reason under them one step further, so
        # without colour a wrapped choice is not taken for the start of its reason.
        self.say(f"{label} {pick(choice.text)}", indent=2, hanging=2)
        if choice.why:
            self.say(pick(choice.why), style="dim", indent=6)

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
        """The questions worth another look, then the score: the last lines, still on screen."""
        missed = result.missed()
        if missed:
            self.blank()
            self.say(_("Worth another look:"), style="bold")
            for asked in missed:
                number = f"{format_number(asked.number)}. "
                self.say(number + pick(asked.question.prompt), hanging=len(number))
                self.say(_("Answer: {answer}").format(answer=right_answer(asked.question)), indent=3)
                self.say(pick(asked.question.explanation), style="dim", indent=3)
        self.blank()
        self.say(score_line(result.correct_count, result.total), style="bold")
        self.score(result)
        unanswered = result.total - result.answered_count
        if unanswered:
            self.say(
                ngettext("{n} question unanswered.", "{n} questions unanswered.", unanswered).format(
                    n=format_number(unanswered)
                )
            )

    def score(self, result: RunResult) -> None:
        """The score, how partial credit made it, and for a lesson quiz whether it passes."""
        percent = score_percent(result.score)
        partly = [a for a in result.answers if not a.grade.correct and a.grade.score > 0]
        if not partly:
            self.say(_("Score: {percent}").format(percent=percent))
        else:
            credit = sum(a.grade.score for a in partly)
            self.say(
                _(
                    "Score: {percent} = ({right} + {credit}) / {total}: a right answer counts 1, "
                    "a partly right one the share it got right."
                ).format(
                    percent=percent,
                    right=format_number(result.correct_count),
                    credit=format_decimal(credit, 2),
                    total=format_number(result.total),
                )
            )
            shares = ", ".join(
                f"{format_number(a.asked.number)} ({format_decimal(a.grade.score, 2)})" for a in partly
            )
            self.say(
                ngettext(
                    "Partly right: question {shares}. A multiple-choice answer counts its right marks "
                    "minus its wrong marks, divided by the number of right choices.",
                    "Partly right: questions {shares}. A multiple-choice answer counts its right marks "
                    "minus its wrong marks, divided by the number of right choices.",
                    len(partly),
                ).format(shares=shares),
                style="dim",
            )
        if result.kind == LESSON and not result.interrupted:
            mark = format_percent(DEFAULT_PASS_SHARE)
            if result.score >= DEFAULT_PASS_SHARE - 1e-9:
                self.say(_("Passed: a lesson quiz needs {percent} or more.").format(percent=mark))
            else:
                self.say(_("Not passed yet: a lesson quiz needs {percent} or more.").format(percent=mark))

    def next_step(self, focus: str | None = None) -> None:
        """One line with the next command (see course_status)."""
        from kproxy_tutor.ui.progress_view import print_next_step

        self.blank()
        print_next_step(self.console, focus)

    def offer_retry(self, missed: int) -> bool:
        """Ask to retry the missed questions; without a terminal the answer is No."""
        if not self.prompter.interactive:
            return False
        return self.prompter.confirm(
            ngettext(
                "Try the {n} missed question again?", "Try the {n} missed questions again?", missed
            ).format(n=format_number(missed)),
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


def _commands(text: str) -> list[str]:
    """The commands named in ``text`` (`kproxy-tutor …` up to the end or a bracket): kept whole."""
    return re.findall(r"kproxy-tutor(?: [^\s(),;]+)+", text)


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
        return number_as_typed(question.answer)
    return ""
