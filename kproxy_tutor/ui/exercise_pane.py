"""An exercise beside its shell (80x24 and larger): the task and its checks stay in view while commands run.

The shell is the sandbox's own: :class:`ExerciseLoop` runs each line exactly as the linear exercise
does, and :class:`ShellView` prints into a console as wide as the shell pane, whose output is
captured and shown below (or, on wide screens, beside) the task. What the exercise says about
itself (check results, hints, the solution, the debrief) goes to the task pane; the checks are
re-evaluated after every command (without counting an attempt), so they tick off as they pass.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from kproxy_tutor.content.schema import ExerciseBlock
from kproxy_tutor.exercises import record
from kproxy_tutor.exercises.runner import CheckReport
from kproxy_tutor.i18n import _, pick
from kproxy_tutor.shell.script import Block, is_document_end, strip_heredoc, wants_document
from kproxy_tutor.ui import reader_screen as screen
from kproxy_tutor.ui.console import display, glyphs
from kproxy_tutor.ui.exercise_view import ExerciseLoop, ExerciseView, result_lines, verdict_line
from kproxy_tutor.ui.wrap import wrap_rule, wrap_words

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: The pane needs at least this much room (columns, rows); below it the exercise runs as a linear shell.
PANE_MIN = (80, 24)
#: From this width on the task stands beside the shell, not above it.
SIDE_BY_SIDE = 120
#: The task pane takes at most this share of the rows when it stands above the shell.
TASK_SHARE = 0.5


def capture_console(width: int) -> Console:
    from rich.console import Console

    shown = display()
    return Console(
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None if shown.plain else "standard",
        no_color=not shown.color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )


class PaneView(ExerciseView):
    """The exercise's own words go to the task pane; everything else to the shell pane."""

    def __init__(self, console: Console, from_lesson: bool = True) -> None:
        super().__init__(console, from_lesson)
        #: The task pane's notes: (text, style), newest last.
        self.notes: list[tuple[str, str]] = []
        self.last_report: CheckReport | None = None

    def note(self, text: str, style: str = "") -> None:
        self.notes.append((text, style))
        self.say(text, style)  # the shell's scrollback keeps them all; the task pane the newest

    def task(self, exercise: ExerciseBlock) -> None:
        self.say(_("The task is shown above the shell (or beside it)."), "dim")

    def report(self, report: CheckReport) -> None:
        self.last_report = report
        for text, style in result_lines(
            report
        ):  # which checks pass is in the task pane; why, in the shell too
            self.say(text, style)
        self.note(*verdict_line(report))

    def hint(self, text: str, number: int, total: int) -> None:
        self.note(_("Hint {k} of {n}: {text}").format(k=number, n=total, text=text), "cyan")

    def solution(self, exercise: ExerciseBlock) -> None:
        self.note(_("Solution:") + " " + " ; ".join(exercise.solution), "bold")

    def debrief(self, exercise: ExerciseBlock) -> None:
        self.note(pick(exercise.debrief), "green")


class ExercisePane:
    """The screen's state: the loop, the captured shell output, the task pane's lines."""

    def __init__(self, exercise: ExerciseBlock, next_words: str, from_lesson: bool = True) -> None:
        self.exercise = exercise
        self.next_words = next_words
        self.from_lesson = from_lesson
        self.console = capture_console(80)
        self.view = PaneView(self.console, from_lesson)
        self.loop = ExerciseLoop(exercise, self.view)
        self.output: list[Text] = []
        self.document: list[str] | None = None
        self.pending = ""
        self.solved = False
        self.left = False
        self.back = 0  # shell rows scrolled back from the bottom
        self.task_top = 0
        self.seen_notes = 0
        self.notes_mark = 0

    def start(self) -> None:
        self.loop.resume()
        record.update(self.exercise.id, active=True)
        self.view.say(self.help_text(), "dim")
        self.flush()
        self.seen_notes = len(self.view.notes)

    def help_text(self) -> str:
        if self.from_lesson:
            return _(
                "check tests your work, hint gives a hint, answer VALUE records an answer; "
                "exit or Ctrl-D returns to the lesson. PgUp/PgDn scroll the shell, "
                "Ctrl-Up/Ctrl-Down the task."
            )
        return _(
            "check tests your work, hint gives a hint, answer VALUE records an answer; "
            "exit or Ctrl-D leaves the exercise. PgUp/PgDn scroll the shell, "
            "Ctrl-Up/Ctrl-Down the task."
        )

    # -- output ----------------------------------------------------------------------------

    def set_width(self, width: int) -> None:
        self.console.width = max(width, 20)

    def flush(self) -> None:
        from rich.text import Text

        file = self.console.file
        assert isinstance(file, io.StringIO)
        captured = file.getvalue()
        file.seek(0)
        file.truncate()
        if captured:
            self.output += [Text.from_ansi(line) for line in captured.rstrip("\n").split("\n")]
            del self.output[:-2000]
            self.back = 0

    def echo(self, text: str) -> None:
        from rich.text import Text

        self.output.append(Text(text, style="bold"))

    # -- input -----------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        if self.solved:
            return (_("Enter: continue the lesson") if self.from_lesson else _("Enter: leave")) + " "
        if self.document is not None:
            return "> "
        return f"({self.loop.run.session.node}) exercise $ "

    def submit(self, line: str) -> bool:
        """One typed line; True when the screen should close."""
        if self.solved:
            return True
        self.echo(self.prompt + line)
        if self.document is not None:
            if is_document_end(line):
                document = "\n".join(self.document) + "\n"
                self.document = None
                return self.run(Block(self.pending, document))
            self.document.append(line)
            return False
        if wants_document(line):
            self.document, self.pending = [], strip_heredoc(line)
            return False
        return self.run(Block(line, None))

    def run(self, block: Block) -> bool:
        self.notes_mark = len(self.view.notes)
        outcome = self.loop.handle(block)
        self.flush()
        if outcome is True:
            self.solved = True
            return False
        if outcome is False:
            self.left = True
            return True
        return False

    def leave(self) -> None:
        """Ctrl-D: what the linear exercise does at the end of input (save, say so)."""
        if self.document is not None:
            self.document = None
            return
        self.loop.leave()
        self.flush()
        self.left = True

    # -- the task pane -----------------------------------------------------------------------

    def task_lines(self, width: int) -> list[Text]:
        from rich.text import Text

        out: list[Text] = []

        from kproxy_tutor.ui.lesson_view import LessonView

        inline = LessonView(self.console).inline

        def words(text: str, style: str = "", hanging: int = 0) -> None:
            # The lessons' inline markup (`code`, **bold**) reads as on the lesson's screen.
            for paragraph in text.split("\n"):
                out.extend(wrap_words(inline(paragraph, style=style), width, hanging=hanging))

        words(_("Exercise: {id}").format(id=self.exercise.id), "bold")
        words(pick(self.exercise.task))
        out.append(Text())
        results = self.loop.run.evaluate()
        done = sum(result.passed for result in results)
        words(_("Checks: {done} of {total} pass").format(done=done, total=len(results)), "bold")
        for result in results:
            params = {k: _(v) if k in result.translated else v for k, v in result.params.items()}
            try:
                reason = _(result.reason).format(**params)
            except (KeyError, IndexError, ValueError):
                reason = result.reason.format(**params)
            mark = glyphs("✓ ") if result.passed else glyphs("○ ")
            words(mark + reason, "green" if result.passed else "", hanging=2)
        # What the last command said about the exercise (a check's verdict and the debrief, a
        # hint); after other commands the newest of those stays.
        notes = self.view.notes[self.notes_mark :] or self.view.notes[-1:]
        for text, style in notes:
            words(text, style, hanging=2)
        if self.solved:
            out.append(Text())
            words(_("Solved. {next}").format(next=self.next_words), "bold green")
            words(
                _("Press Enter to continue the lesson.") if self.from_lesson else _("Press Enter to leave."),
                "bold",
            )
        return out

    def shell_lines(self, width: int) -> list[Text]:
        out: list[Text] = []
        for line in self.output:
            if line.cell_len <= width:
                out.append(line)
            else:
                out += wrap_rule(line, width)
        return out


def _rows_ansi(lines: list[Text], console: Console, color: bool) -> str:
    return screen.frame_ansi([screen.text_line(line, console) for line in lines], color)


def fits_pane() -> bool:
    """Whether the terminal is large enough for the task beside its shell (else the linear shell)."""
    import shutil

    size = shutil.get_terminal_size((0, 0))
    return size.columns >= PANE_MIN[0] and size.lines >= PANE_MIN[1]


def run_exercise_pane(exercise: ExerciseBlock, next_words: str, from_lesson: bool = True) -> bool:
    """Do ``exercise`` beside its shell; True when it was solved and the learner pressed Enter."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.formatted_text import ANSI
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.layout import HSplit, Layout, VSplit, Window
    from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
    from prompt_toolkit.layout.dimension import Dimension
    from prompt_toolkit.layout.processors import BeforeInput

    from kproxy_tutor.ui.exercise_view import _Completer
    from kproxy_tutor.ui.shell_repl import history_path

    pane = ExercisePane(exercise, next_words, from_lesson)
    color = display().color
    ascii_only = not display().unicode
    running: list[Application[bool]] = []

    def size() -> tuple[int, int]:
        if not running:  # the layout is built before the application exists
            import shutil

            columns, lines = shutil.get_terminal_size()
            return columns, lines
        shown = running[0].output.get_size()
        return shown.columns, shown.rows

    def beside() -> bool:
        return size()[0] >= SIDE_BY_SIDE

    def task_width() -> int:
        width = size()[0]
        return width * 2 // 5 - 1 if beside() else width

    def shell_width() -> int:
        width = size()[0]
        return width - task_width() - 1 if beside() else width

    def task_height() -> int:
        height = size()[1]
        if beside():
            return height - 1
        lines = len(pane.task_lines(task_width()))
        return max(3, min(lines, int(height * TASK_SHARE)))

    def task_text() -> ANSI:
        # Beside the shell, a column of space before the divider.
        width, rows = task_width() - (1 if beside() else 0), task_height()
        lines = pane.task_lines(width)
        if pane.solved or len(pane.view.notes) != pane.seen_notes:
            # A new check result, hint or the way on: bring the newest words into view.
            pane.seen_notes = len(pane.view.notes)
            pane.task_top = max(len(lines) - rows, 0)
        pane.task_top = max(0, min(pane.task_top, max(len(lines) - rows, 0)))
        shown = lines[pane.task_top : pane.task_top + rows]
        if pane.task_top and shown:
            from rich.text import Text

            # Say that the task's beginning is above, and how to see it.
            shown[0] = Text(glyphs("↑ ") + _("more above: Ctrl-Up"), style="dim")
        return ANSI(_rows_ansi(shown, pane.console, color))

    def shell_rows() -> int:
        height = size()[1]
        return height - 2 if beside() else height - task_height() - 2

    def shell_text() -> ANSI:
        width = shell_width()
        pane.set_width(width)
        lines = pane.shell_lines(width)
        rows = max(shell_rows(), 1)
        pane.back = max(0, min(pane.back, max(len(lines) - rows, 0)))
        end = len(lines) - pane.back
        shown = lines[max(end - rows, 0) : end]
        return ANSI(_rows_ansi(shown, pane.console, color))

    pane.set_width(shell_width())  # the first words are wrapped for the pane they appear in
    pane.start()

    def rule_text() -> ANSI:
        return ANSI("\x1b[2m" + ("-" if ascii_only else "─") * size()[0] + "\x1b[0m")

    Completer.register(_Completer)
    path = history_path()
    buffer = Buffer(
        history=FileHistory(str(path)) if path is not None else InMemoryHistory(),
        completer=_Completer(pane.loop.run),  # type: ignore[arg-type]
        complete_while_typing=False,
        multiline=False,
    )

    def accept(buf: Buffer) -> bool:
        line = buf.text
        if line.strip() and not pane.solved:
            buf.append_to_history()
        if pane.submit(line):
            running[0].exit(result=pane.solved)
        return False  # keep the buffer object; it is reset below

    buffer.accept_handler = accept
    keys = KeyBindings()

    @keys.add("c-d")
    def _eof(event: KeyPressEvent) -> None:
        if buffer.text:
            return
        pane.leave()
        if pane.left:
            event.app.exit(result=False)

    @keys.add("c-c")
    def _clear(event: KeyPressEvent) -> None:
        buffer.reset()
        pane.document = None

    @keys.add("pageup")
    def _back(event: KeyPressEvent) -> None:
        pane.back += max(shell_rows() - 1, 1)

    @keys.add("pagedown")
    def _forward(event: KeyPressEvent) -> None:
        pane.back = max(pane.back - max(shell_rows() - 1, 1), 0)

    @keys.add("c-up")
    @keys.add("escape", "up")
    def _task_up(event: KeyPressEvent) -> None:
        pane.task_top = max(pane.task_top - 1, 0)

    @keys.add("c-down")
    @keys.add("escape", "down")
    def _task_down(event: KeyPressEvent) -> None:
        pane.task_top += 1

    def prompt_text() -> str:
        return glyphs(pane.prompt)

    task_window = Window(
        FormattedTextControl(task_text, show_cursor=False),
        height=lambda: Dimension.exact(task_height()),
        width=lambda: Dimension.exact(task_width()),
        wrap_lines=False,
    )
    shell_window = Window(FormattedTextControl(shell_text, show_cursor=False), wrap_lines=False)
    input_window = Window(
        BufferControl(buffer, input_processors=[BeforeInput(prompt_text)]), height=1, wrap_lines=False
    )
    shell_side = HSplit([shell_window, input_window])
    stacked = HSplit([task_window, Window(FormattedTextControl(rule_text), height=1), shell_side])
    side = VSplit(
        [
            HSplit([task_window]),
            Window(char="|" if ascii_only else "│", width=1),
            shell_side,
        ]
    )
    # One of the two arrangements at a time, sharing the same windows.
    from prompt_toolkit.layout import DynamicContainer, Float, FloatContainer
    from prompt_toolkit.layout.menus import CompletionsMenu

    arrangement = DynamicContainer(lambda: side if beside() else stacked)
    # Tab shows the shell's completions in a menu at the cursor, as in the sandbox's own prompt.
    root = FloatContainer(
        arrangement, floats=[Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8))]
    )
    app = Application(
        layout=Layout(root, focused_element=input_window),
        key_bindings=keys,
        full_screen=True,
        mouse_support=False,
    )
    running.append(app)
    result = bool(app.run())
    return result and pane.solved
