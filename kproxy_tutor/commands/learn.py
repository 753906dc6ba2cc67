"""`kproxy-tutor learn` and `kproxy-tutor lessons`: read the lessons and see where you are."""

from __future__ import annotations

from typing import Annotated

import typer

from kproxy_tutor import completion_values as values
from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "learn",
        help=_(
            "Read the lessons step by step, resuming where you stopped. LESSON opens a lesson by its "
            "number or id (kproxy-tutor learn 4, kproxy-tutor learn modes). Your place is saved at "
            "every step. At a terminal a step fills the screen: arrows, PgUp/PgDn, Space, Home/End "
            "and j/k scroll it, Enter goes on, p goes back, c opens the contents, l switches the "
            "language, e opens the step's exercise beside its shell, q quits. With --plain (numbered "
            "menus) or TERM=dumb the lesson is printed line by line; without a terminal "
            "(output to a pipe or a file) the whole lesson is printed."
        ),
    )
    def learn(
        lesson: Annotated[
            str | None,
            typer.Argument(
                metavar=_("LESSON"),
                help=_("Lesson number or id (default: where you stopped, else lesson 1)."),
                show_default=False,
                autocompletion=values.lessons,
            ),
        ] = None,
        step: Annotated[
            str | None,
            typer.Option(
                "--step",
                metavar=_("STEP"),
                help=_(
                    "Open this step of the lesson: its number or id (kproxy-tutor learn 3 --step 8). "
                    "Without a terminal only that step is printed."
                ),
                show_default=False,
                autocompletion=values.steps,
            ),
        ] = None,
    ) -> None:
        open_lesson(lesson, step)

    @app.command("lessons", help=_("List the lessons with your progress and best quiz scores."))
    def lessons() -> None:
        from kproxy_tutor.app import progress_summary
        from kproxy_tutor.ui.lessons_list import print_lessons

        print_lessons(progress_summary())


def is_interactive(plain: bool) -> bool:
    """Menus need a terminal for output; in plain mode they also need typed input from a terminal."""
    import sys

    if not sys.stdout.isatty():
        return False
    return not (plain and not sys.stdin.isatty())


def open_lesson(key: str | None, step: str | None = None) -> None:
    from kproxy_tutor import lesson_progress, runtime
    from kproxy_tutor.content.loader import load_course
    from kproxy_tutor.lesson_nav import Place
    from kproxy_tutor.ui.console import make_console

    course = load_course()
    if key is None:
        place = lesson_progress.resume_place(course)
    else:
        number = course.find(key)
        place = Place(number, lesson_progress.saved_step(course, number))
    if step is not None:
        place = Place(place.lesson, course.find_step(place.lesson, step))
    plain = runtime.current().plain
    console = make_console()
    if not is_interactive(plain):
        from kproxy_tutor.ui.lesson_session import print_lesson_step, print_whole_lesson

        if step is not None:
            print_lesson_step(course, place, console)
        else:
            print_whole_lesson(course, place.lesson, console)
        return
    from kproxy_tutor.ui.prompts import make_prompter

    if full_screen(plain):
        from kproxy_tutor.ui.reader_app import ReaderSession

        ReaderSession(course, place, make_prompter(plain=plain), console).run()
        return
    from kproxy_tutor.ui.lesson_session import LessonSession

    LessonSession(course, place, make_prompter(plain=plain), console).run()


#: The smallest terminal the full-screen reader draws in; a smaller one reads linearly.
READER_MIN = (20, 10)


def full_screen(plain: bool) -> bool:
    """The full-screen reader needs a terminal on both ends, not --plain and not TERM=dumb."""
    import shutil
    import sys

    from kproxy_tutor.ui.console import display

    if plain or not display().interactive or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    size = shutil.get_terminal_size((0, 0))
    return size.columns >= READER_MIN[0] and size.lines >= READER_MIN[1]
