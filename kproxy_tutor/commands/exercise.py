"""`kproxy-tutor exercise`: open a lesson's sandbox exercise directly, or list them."""

from __future__ import annotations

from typing import Annotated

import typer

from kproxy_tutor import completion_values as values
from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "exercise",
        help=_(
            "Do a sandbox exercise of the lessons: a prepared cluster, a task, and the sandbox shell with "
            "check, hint, task, answer and solution. Without ID, list the exercises. Without a terminal "
            "the commands are read from standard input."
        ),
    )
    def exercise(
        exercise_id: Annotated[
            str | None,
            typer.Argument(
                metavar="ID",
                help=_("The exercise id (see the list)."),
                show_default=False,
                autocompletion=values.exercises,
            ),
        ] = None,
    ) -> int:
        return run_exercise_command(exercise_id)


def run_exercise_command(exercise_id: str | None) -> int:
    import re
    import sys

    from kproxy_tutor import runtime
    from kproxy_tutor.content.loader import load_course
    from kproxy_tutor.errors import N_, ExitCode, UsageError
    from kproxy_tutor.exercises import record
    from kproxy_tutor.i18n import pick
    from kproxy_tutor.ui.console import make_console
    from kproxy_tutor.ui.exercise_view import run_exercise, stream_reader

    console = make_console()
    found = [(lesson, block) for lesson in load_course().lessons for block in lesson.exercises]
    if exercise_id is None:
        for lesson, block in found:
            done = _("done") if record.entry(block.id).get("done") else ""
            first = pick(block.task).split(". ")[0].rstrip(".") + "."
            if not runtime.current().plain:  # `code` marks are for the lesson's screen
                first = re.sub(r"`([^`\n]*)`", r"\1", first)
            line = f"{lesson.number}  {block.id:<28} {done:<8} {first}"
            if console.is_terminal:  # fit the terminal: the task breaks between words under itself
                from kproxy_tutor.ui.wrap import wrap_words

                hanging = 4 if console.width < 70 else len(line) - len(first)
                for piece in wrap_words(line, console.width, hanging=hanging):
                    console.print(piece, highlight=False, soft_wrap=True)
            else:
                console.print(line, highlight=False, soft_wrap=True)
        todo = next((block.id for _lesson, block in found if not record.entry(block.id).get("done")), None)
        if todo is not None:
            from kproxy_tutor.ui.wrap import print_wrapped

            command = f"kproxy-tutor exercise {todo}"
            console.print()
            print_wrapped(
                console,
                _("Open one: kproxy-tutor exercise ID, for example {command}").format(command=command),
                keep=[command, "kproxy-tutor exercise ID"],
            )
        return int(ExitCode.OK)
    lesson, match = next(
        ((lesson, block) for lesson, block in found if block.id == exercise_id), (None, None)
    )
    if match is None:
        from kproxy_tutor.suggest import close_match

        suggestion = close_match(exercise_id, [block.id for _lesson, block in found])
        if suggestion is not None:
            raise UsageError(
                N_("There is no exercise {id!r}. Did you mean {suggestion!r}?"),
                id=exercise_id,
                suggestion=suggestion,
            )
        raise UsageError(
            N_("There is no exercise {id!r}. Exercises: {ids}."),
            id=exercise_id,
            ids=", ".join(block.id for _lesson, block in found),
        )
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive and beside_shell():
        from kproxy_tutor.ui.exercise_pane import run_exercise_pane

        # The step the exercise belongs to: the lesson opens there.
        step = next((n for n, s in enumerate(lesson.steps, 1) if match in s.blocks), None)
        command = f"kproxy-tutor learn {lesson.number}" + (f" --step {step}" if step else "")
        # No-break spaces keep the command on one line of the task pane (shown as plain spaces).
        after = _("Back to the lesson: {command}").format(command=command.replace(" ", "\u00a0"))
        solved = run_exercise_pane(match, after, from_lesson=False)
        if solved:
            console.print(after.replace("\u00a0", " "), highlight=False)
            from kproxy_tutor.ui.progress_view import print_next_step

            print_next_step(console, focus=lesson.id)
        else:
            console.print(
                _("The exercise is not done yet; your sandbox is saved for next time."), highlight=False
            )
        return int(ExitCode.OK if solved else ExitCode.FAILURE)
    from kproxy_tutor.shell.script import bounded_lines

    reader = None if interactive else stream_reader(bounded_lines(sys.stdin))
    done = run_exercise(match, console, reader, from_lesson=False)
    if done and lesson is not None:
        from kproxy_tutor.ui.progress_view import print_next_step

        print_next_step(console, focus=lesson.id)
    return int(ExitCode.OK if done else ExitCode.FAILURE)


def beside_shell() -> bool:
    """The task beside its shell: a large enough terminal, not --plain, not TERM=dumb."""
    from kproxy_tutor import runtime
    from kproxy_tutor.ui.console import display
    from kproxy_tutor.ui.exercise_pane import fits_pane

    return not runtime.current().plain and display().interactive and fits_pane()
