"""One prompter interface: arrow-key menus in a terminal, numbered prompts otherwise, scripts in tests."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from kproxy_tutor.errors import N_, Interrupted, UsageError
from kproxy_tutor.i18n import _, format_number
from kproxy_tutor.ui.console import glyphs


@dataclass(frozen=True)
class Choice:
    """One option of a menu: ``value`` is returned, ``title`` is shown."""

    value: str
    title: str


#: Columns before a choice's text: questionary's " » " pointer, and its "○ " mark in a checkbox.
SELECT_INDENT = 3
CHECKBOX_INDENT = 5


class Prompter(Protocol):
    """Ask the learner something. Ctrl-C and end of input raise :class:`Interrupted`."""

    interactive: bool

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str: ...

    def checkbox(self, message: str, choices: Sequence[Choice]) -> list[str]: ...

    def text(self, message: str, default: str = "") -> str: ...

    def confirm(self, message: str, default: bool = False) -> bool: ...


def wrap_title(title: str, indent: int, width: int | None = None, first: int | None = None) -> str:
    """``title`` broken into lines that fit a menu row, continuation lines indented by ``indent``.

    A menu row starts ``indent`` columns in (after the pointer, or the pointer and a checkbox);
    ``first`` is where the first line starts when that differs (an echoed answer follows its
    question). A row longer than the terminal would be cut off at its edge. Words are never split.
    """
    import shutil
    import textwrap

    columns = width if width is not None else shutil.get_terminal_size().columns
    start = indent if first is None else first
    # When not even the first word fits after the question, the answer starts on the next line.
    first_word = title.split()[0] if title.split() else ""
    lead = "\n" + " " * indent if start > indent and start + len(first_word) > columns - 1 else ""
    start = indent if lead else start
    room = max(columns - 1, 20 + indent)
    lines = textwrap.wrap(
        title,
        room,
        initial_indent=" " * start,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [title]
    # textwrap keeps no-break spaces inside words, as Babel's Russian numbers need ("1 000").
    return lead + "\n".join([lines[0][start:], *lines[1:]])


def _question(message: str, width: int | None = None) -> tuple[str, int]:
    """A prompt's question wrapped at words after questionary's "? ", and the column after it."""
    wrapped = wrap_title(message, 2, width=width, first=2).lstrip("\n")
    last = wrapped.rsplit("\n", 1)[-1]
    return wrapped, (len(last) if "\n" in wrapped else 2 + len(last)) + 1


def _instruction(message: str, text: str) -> str:
    """The keys hint after a menu's question if it fits there whole, else on the lines below."""
    import shutil

    column = _question(message)[1]
    if column + len(text) <= shutil.get_terminal_size().columns - 1:
        return text
    return "\n  " + wrap_title(text, 2, first=2)


class QuestionaryPrompter:
    """Arrow-key menus (questionary) for a learner at a real terminal.

    Once answered, a prompt is erased and written again with the answer wrapped at word
    boundaries: the terminal would otherwise cut a long echoed answer or split its words.
    """

    interactive = True

    def __init__(self, input: object | None = None, output: object | None = None) -> None:
        self._io = {k: v for k, v in (("input", input), ("output", output)) if v is not None}

    def _ask(self, question: object) -> object:
        try:
            answer = question.unsafe_ask()  # type: ignore[attr-defined]
        except (KeyboardInterrupt, EOFError) as exc:
            raise Interrupted() from exc
        if answer is None:
            raise Interrupted()
        return answer

    def _echo(self, message: str, answer: str) -> None:
        """``? message answer`` as questionary shows it, the answer wrapped by words."""
        from prompt_toolkit import print_formatted_text
        from prompt_toolkit.formatted_text import FormattedText
        from questionary.constants import DEFAULT_STYLE

        output = self._io.get("output")
        columns = output.get_size().columns if output is not None else None  # type: ignore[attr-defined]
        question, column = _question(message, columns)
        body = wrap_title(glyphs(answer), SELECT_INDENT, width=columns, first=column)
        text = FormattedText(
            [("class:qmark", "?"), ("class:question", f" {question} "), ("class:answer", body)]
        )
        print_formatted_text(text, style=DEFAULT_STYLE, **({"output": output} if output is not None else {}))

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str:
        import questionary

        q_choices = [
            questionary.Choice(title=wrap_title(glyphs(c.title), SELECT_INDENT), value=c.value)
            for c in choices
        ]
        question = questionary.select(
            _question(message)[0],
            choices=q_choices,
            default=default,
            instruction=_instruction(message, _("(arrows, Enter)")),
            erase_when_done=True,
            **self._io,
        )
        value = str(self._ask(question))
        self._echo(message, next((c.title for c in choices if c.value == value), value))
        return value

    def checkbox(self, message: str, choices: Sequence[Choice]) -> list[str]:
        import questionary

        q_choices = [
            questionary.Choice(title=wrap_title(glyphs(c.title), CHECKBOX_INDENT), value=c.value)
            for c in choices
        ]
        question = questionary.checkbox(
            _question(message)[0],
            choices=q_choices,
            instruction=_instruction(message, _("(arrows, Space to mark, Enter)")),
            erase_when_done=True,
            **self._io,
        )
        values = [str(v) for v in self._ask(question)]  # type: ignore[attr-defined]
        picked = [c.title for c in choices if c.value in values]
        self._echo(message, "; ".join(picked) if picked else _("(nothing marked)"))
        return values

    def text(self, message: str, default: str = "") -> str:
        import questionary

        prompt = questionary.text(_question(message)[0], default=default, erase_when_done=True, **self._io)
        answer = str(self._ask(prompt))
        self._echo(message, answer)
        return answer

    def confirm(self, message: str, default: bool = False) -> bool:
        # A menu of two words in the learner's language (questionary's confirm takes only y/n).
        choices = [Choice("yes", _("Yes")), Choice("no", _("No"))]
        return self.select(message, choices, default="yes" if default else "no") == "yes"


class PlainPrompter:
    """Numbered prompts read line by line: screen readers, --plain, pipes and scripts."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self.interactive = bool(getattr(self._in, "isatty", lambda: False)())

    def _write(self, text: str) -> None:
        self._out.write(glyphs(text))
        self._out.flush()

    def _readline(self, prompt: str) -> str:
        self._write(prompt)
        try:
            line = self._in.readline()
        except KeyboardInterrupt as exc:
            raise Interrupted() from exc
        if not line:  # end of input
            raise Interrupted()
        return line.rstrip("\r\n")

    def _numbered(self, message: str, choices: Sequence[Choice]) -> None:
        self._write(message + "\n")
        for i, choice in enumerate(choices, 1):
            number = f"  {i}. "
            self._write(number + wrap_title(choice.title, len(number)) + "\n")

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str:
        self._numbered(message, choices)
        values = [c.value for c in choices]
        while True:
            answer = self._readline(_("Number: ")).strip()
            if not answer and default is not None:
                return default
            if answer.isascii() and answer.isdigit() and len(answer) < 6 and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1].value
            if answer in values:
                return answer
            self._write(_("Please type a number from 1 to {n}.").format(n=format_number(len(choices))) + "\n")

    def checkbox(self, message: str, choices: Sequence[Choice]) -> list[str]:
        self._numbered(message, choices)
        while True:
            answer = self._readline(_("Numbers separated by spaces: ")).replace(",", " ").split()
            if all(
                a.isascii() and a.isdigit() and len(a) < 6 and 1 <= int(a) <= len(choices) for a in answer
            ):
                picked = sorted({int(a) for a in answer})
                return [choices[i - 1].value for i in picked]
            self._write(_("Please type numbers from 1 to {n}.").format(n=format_number(len(choices))) + "\n")

    def text(self, message: str, default: str = "") -> str:
        answer = self._readline(f"{message} ")
        return answer if answer.strip() else default

    def confirm(self, message: str, default: bool = False) -> bool:
        hint = _("[Y/n]") if default else _("[y/N]")
        yes = {"y", "yes", "д", "да"}
        no = {"n", "no", "н", "нет"}
        while True:
            answer = self._readline(f"{message} {hint} ").strip().lower()
            if not answer:
                return default
            if answer in yes:
                return True
            if answer in no:
                return False


class ScriptedPrompter:
    """Answers given in advance (tests, answer files). Running out of answers is end of input."""

    interactive = False

    def __init__(self, answers: Iterable[object]) -> None:
        self._answers = list(answers)
        self.asked: list[str] = []

    def _next(self, message: str) -> object:
        self.asked.append(message)
        if not self._answers:
            raise Interrupted()
        answer = self._answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str:
        answer = str(self._next(message))
        if answer not in [c.value for c in choices]:
            raise AssertionError(f"scripted answer {answer!r} is not among {[c.value for c in choices]}")
        return answer

    def checkbox(self, message: str, choices: Sequence[Choice]) -> list[str]:
        return [str(v) for v in self._next(message)]  # type: ignore[attr-defined]

    def text(self, message: str, default: str = "") -> str:
        return str(self._next(message))

    def confirm(self, message: str, default: bool = False) -> bool:
        return bool(self._next(message))


def make_prompter(plain: bool = False) -> Prompter:
    """Menus only when both stdin and stdout are terminals; numbered prompts otherwise."""
    if not plain and sys.stdin.isatty() and sys.stdout.isatty():
        return QuestionaryPrompter()
    return PlainPrompter()


def confirm_destructive(prompter: Prompter, message: str, yes: bool) -> bool:
    """Ask before destroying something; default No. Without a terminal, only ``--yes`` agrees."""
    if yes:
        return True
    if not prompter.interactive:
        raise UsageError(N_("This would delete data: confirm with --yes when running without a terminal."))
    return prompter.confirm(message, default=False)
