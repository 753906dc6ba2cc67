"""`kproxy-tutor lessons`: the course's lessons with the learner's state and best quiz score."""

from __future__ import annotations

from kproxy_tutor.app import ProgressSummary
from kproxy_tutor.i18n import _, format_number, pick
from kproxy_tutor.ui.console import glyphs, make_console
from kproxy_tutor.ui.progress_view import next_step_text, quiz_detail, status_label
from kproxy_tutor.ui.wrap import print_wrapped


def print_lessons(summary: ProgressSummary) -> None:
    from rich.text import Text

    console = make_console()
    if not summary.lessons:
        console.print(_("No lessons are installed yet."), markup=False)
        return
    for lesson in summary.lessons:
        current = lesson.lesson_id == summary.current_lesson
        # The mark is a word as well as a glyph, so it survives --plain and screen readers.
        line = Text(glyphs("▶ ") if current else "  ", style="bold")
        line.append(
            f"{format_number(lesson.number)}. {glyphs(pick(lesson.title))}", style="bold" if current else ""
        )
        line.append(f" ({lesson.lesson_id})", style="dim")
        print_wrapped(console, line, hanging=5)
        details = [status_label(lesson.status)]
        if current:
            details.append(_("you are here"))
        if lesson.best_score is not None:
            details.append(quiz_detail(lesson.best_score, lesson.quiz_passed))
        if lesson.exercises_total:
            details.append(
                _("exercises {done}/{total}").format(
                    done=format_number(lesson.exercises_done), total=format_number(lesson.exercises_total)
                )
            )
        print_wrapped(console, glyphs("; ".join(details)), indent=5)
    console.print()
    print_wrapped(
        console,
        _("Open a lesson: kproxy-tutor learn NUMBER (or ID)"),
        style="dim",
        keep=["kproxy-tutor learn"],
    )
    step = summary.course.next_step()
    keep = [step.command] if step is not None else []
    print_wrapped(console, glyphs(next_step_text(step, summary.course)), style="bold", keep=keep)
