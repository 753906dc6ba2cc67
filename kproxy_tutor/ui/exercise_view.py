"""An exercise at the terminal: the task, the sandbox shell with check/hint/solution/task/answer, the debrief.

The sandbox commands run exactly as in ``kproxy-tutor sandbox``; this loop only adds the exercise's
words and keeps the learner's progress (attempts, hints, the sandbox saved when they leave).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kproxy_tutor.content.schema import ExerciseBlock
from kproxy_tutor.errors import TutorError
from kproxy_tutor.exercises import record
from kproxy_tutor.exercises.runner import EXERCISE_WORDS, CheckReport, ExerciseRun, restore_state, save_state
from kproxy_tutor.i18n import _, ngettext, pick
from kproxy_tutor.shell.output import ExitRequest
from kproxy_tutor.shell.parser import split_line
from kproxy_tutor.shell.script import Block, is_document_end, strip_heredoc, wants_document
from kproxy_tutor.ui.errors import message_of
from kproxy_tutor.ui.shell_view import ShellView

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document
    from rich.console import Console

#: Reads one line with the given prompt; raises EOFError at the end of input.
ReadLine = Callable[[str], str]


class ExerciseView:
    def __init__(self, console: Console, from_lesson: bool = True) -> None:
        self.shell = ShellView(console)
        #: Opened from a lesson (exit goes back to it), or on its own with `kproxy-tutor exercise ID`.
        self.from_lesson = from_lesson

    def say(self, text: str, style: str = "") -> None:
        import re

        from kproxy_tutor import runtime

        if not runtime.current().plain:  # `code` marks read as on the lesson's screen: not shown
            text = re.sub(r"`([^`\n]*)`", r"\1", text)
        for line in text.split("\n"):
            self.shell.prose(line, style)

    def task(self, exercise: ExerciseBlock) -> None:
        self.say(_("Exercise: {id}").format(id=exercise.id), "bold")
        self.say(pick(exercise.task))
        if self.from_lesson:
            text = _(
                "In this shell: check tests your work, hint gives a hint, task shows the task again, "
                "answer VALUE records an answer, solution opens after three failed checks; exit "
                "returns to the lesson."
            )
        else:
            text = _(
                "In this shell: check tests your work, hint gives a hint, task shows the task again, "
                "answer VALUE records an answer, solution opens after three failed checks; exit "
                "leaves the exercise."
            )
        self.say(text, "dim")

    def report(self, report: CheckReport) -> None:
        for text, style in result_lines(report):
            self.say(text, style)
        self.say(*verdict_line(report))

    def hint(self, text: str, number: int, total: int) -> None:
        self.say(_("Hint {k} of {n}: {text}").format(k=number, n=total, text=text), "cyan")

    def solution(self, exercise: ExerciseBlock) -> None:
        self.say(_("Solution:"), "bold")
        for line in exercise.solution:
            self.say(f"  {line}")

    def debrief(self, exercise: ExerciseBlock) -> None:
        self.say(pick(exercise.debrief), "green")


class _Completer:
    """The shell's completion plus the exercise's own words."""

    def __init__(self, run: ExerciseRun) -> None:
        self.run = run

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        from prompt_toolkit.completion import Completion

        from kproxy_tutor.shell.completion import complete

        text = document.text_before_cursor
        word, candidates = complete(self.run.session, text)
        if " " not in text.strip():
            candidates = sorted({*candidates, *(w for w in EXERCISE_WORDS if w.startswith(text.strip()))})
        for candidate in candidates:
            yield Completion(candidate, start_position=-len(word))

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent) -> Any:
        for completion in self.get_completions(document, complete_event):
            yield completion


def terminal_reader(run: ExerciseRun) -> ReadLine:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from kproxy_tutor.ui.shell_repl import history_path

    Completer.register(_Completer)
    path = history_path()
    prompt: PromptSession[str] = PromptSession(
        history=FileHistory(str(path)) if path is not None else InMemoryHistory(),
        completer=_Completer(run),  # type: ignore[arg-type]
        complete_while_typing=False,
    )
    return prompt.prompt


def stream_reader(lines: Iterable[str]) -> ReadLine:
    """Lines from a pipe or a script, as if typed."""
    source = iter(lines)

    def read(_prompt: str) -> str:
        try:
            return next(source).rstrip("\r\n")
        except StopIteration:
            raise EOFError from None

    return read


class ExerciseLoop:
    """Reads commands until the task is done or the learner leaves; returns whether it is done."""

    def __init__(self, exercise: ExerciseBlock, view: ExerciseView, run: ExerciseRun | None = None) -> None:
        self.exercise = exercise
        self.view = view
        self.run = run or ExerciseRun(exercise)
        self.solution_shown = False

    def resume(self) -> None:
        """Bring back the sandbox the learner left, if the exercise is unfinished."""
        path = record.state_path(self.exercise.id)
        entry = record.entry(self.exercise.id)
        if not entry.get("done") and path.is_file() and restore_state(self.run.session, path):
            self.view.say(_("Your sandbox from last time is back; reset starts the exercise over."), "dim")
        # Only unfinished exercises are resumed, so every recorded attempt was a failed check.
        self.run.failures = 0 if entry.get("done") else int(entry.get("attempts", 0))
        self.run.hints_shown = min(int(entry.get("hints", 0)), len(self.exercise.hints))

    def start(self, read: ReadLine) -> bool:
        self.resume()
        record.update(self.exercise.id, active=True)
        self.view.task(self.exercise)
        while True:
            try:
                line = read(f"({self.run.session.node}) exercise $ ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return self.leave()
            document = None
            if wants_document(line):
                document = self._document(read)
                line = strip_heredoc(line)
            outcome = self.handle(Block(line, document))
            if outcome is not None:
                return outcome

    def handle(self, block: Block) -> bool | None:
        """One command; True/False when the loop ends (done / left), None to go on."""
        try:
            words = split_line(block.line)
        except TutorError as error:
            self.view.shell.error(message_of(error))
            return None
        if words and words[0] in EXERCISE_WORDS:
            return self.exercise_word(words)
        try:
            outputs = self.run.execute(block)
        except TutorError as error:
            text = message_of(error)
            self.view.shell.error(
                f"{error.location}: {text}" if error.location else text, getattr(error, "usage", None)
            )
            return None
        self.view.shell.show(outputs)
        if any(isinstance(o, ExitRequest) for o in outputs):
            return self.leave()
        self.save()
        return None

    def exercise_word(self, words: list[str]) -> bool | None:
        word = words[0]
        if word == "task":
            self.view.task(self.exercise)
        elif word == "answer":
            value = " ".join(words[1:]).strip()
            if not value:
                self.view.shell.error(_("Type the value after the word: answer VALUE."))
                return None
            self.run.give_answer(value)
            self.view.say(_("Answer noted: {value}. Type check to test it.").format(value=value))
        elif word == "hint":
            hint = self.run.next_hint()
            if hint is None:
                self.view.say(_("No more hints. The solution opens after three failed checks."), "yellow")
            else:
                self.view.hint(pick(hint), self.run.hints_shown, len(self.exercise.hints))
                record.update(self.exercise.id, hints=self.run.hints_shown)
        elif word == "solution":
            if self.run.solution_open:
                self.view.solution(self.exercise)
            else:
                left = 3 - self.run.failures
                self.view.say(
                    ngettext(
                        "The solution opens after {n} more failed check; try hint first.",
                        "The solution opens after {n} more failed checks; try hint first.",
                        left,
                    ).format(n=left),
                    "yellow",
                )
        elif word == "check":
            return self.check()
        return None

    def check(self) -> bool | None:
        report = self.run.check()
        self.view.report(report)
        record.add_attempt(self.exercise.id, report.passed)
        if report.passed:
            self.view.debrief(self.exercise)
            return True
        if self.run.solution_open and not self.solution_shown:
            self.solution_shown = True
            self.view.solution(self.exercise)
        return None

    def save(self) -> None:
        path = record.state_path(self.exercise.id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_state(self.run.session, path)
        except (OSError, TutorError):
            pass  # a read-only state directory: the exercise still works, only resuming does not

    def leave(self) -> bool:
        if self.run.done:
            return True
        self.save()
        self.view.say(_("The exercise is not done yet; your sandbox is saved for next time."), "dim")
        return False

    @staticmethod
    def _document(read: ReadLine) -> str:
        lines: list[str] = []
        while True:
            try:
                text = read("> ")
            except (EOFError, KeyboardInterrupt):
                break
            if is_document_end(text):
                break
            lines.append(text)
        return "\n".join(lines) + "\n"


def run_exercise(
    exercise: ExerciseBlock, console: Console, read: ReadLine | None = None, *, from_lesson: bool = True
) -> bool:
    """Do ``exercise`` at the terminal (or from ``read``); True when its checks passed.

    ``from_lesson`` is False for `kproxy-tutor exercise ID`: there exit leaves, with no lesson to return to.
    """
    view = ExerciseView(console, from_lesson)
    loop = ExerciseLoop(exercise, view)
    return loop.start(read or terminal_reader(loop.run))


def result_lines(report: CheckReport) -> list[tuple[str, str]]:
    """Each check of a report as a ``+``/``-`` line with its reason, and the style to show it in."""
    lines = []
    for result in report.results:
        mark = "+" if result.passed else "-"
        params = {k: _(v) if k in result.translated else v for k, v in result.params.items()}
        lines.append((f"{mark} {_(result.reason).format(**params)}", "green" if result.passed else "red"))
    return lines


def verdict_line(report: CheckReport) -> tuple[str, str]:
    """The report's verdict: done, or how many checks have failed so far."""
    if report.passed:
        return _("Check passed: the task is done."), "bold green"
    return (
        ngettext(
            "Not yet ({n} failed check so far).",
            "Not yet ({n} failed checks so far).",
            report.failures,
        ).format(n=report.failures),
        "yellow",
    )
