"""Render the learner's progress."""

from __future__ import annotations

from kproxy_tutor.app import ProgressSummary
from kproxy_tutor.i18n import _, ngettext, pick
from kproxy_tutor.store import state_dir
from kproxy_tutor.ui.console import glyphs, make_console


def status_label(status: str) -> str:
    return {
        "not_started": _("not started"),
        "in_progress": _("in progress"),
        "done": _("done"),
    }.get(status, status)


def print_progress(summary: ProgressSummary) -> None:
    console = make_console()
    if not summary.lessons:
        console.print(_("No lessons are installed yet."), markup=False)
    for lesson in summary.lessons:
        line = f"{lesson.number}. {pick(lesson.title)}: {status_label(lesson.status)}"
        if lesson.best_score is not None:
            line += "; " + _("best quiz score {percent}%").format(percent=round(lesson.best_score * 100))
        if lesson.exercises_total:
            line += "; " + _("exercises {done}/{total}").format(
                done=lesson.exercises_done, total=lesson.exercises_total
            )
        console.print(glyphs(line), markup=False, overflow="fold")
    if summary.review_due:
        n = summary.review_due
        console.print(
            ngettext(
                "{n} question is due for review: kproxy-tutor quiz --review",
                "{n} questions are due for review: kproxy-tutor quiz --review",
                n,
            ).format(n=n),
            markup=False,
        )
    console.print(
        _("Progress is kept in {path}").format(path=state_dir() / "progress.json"),
        markup=False,
        overflow="fold",
    )
