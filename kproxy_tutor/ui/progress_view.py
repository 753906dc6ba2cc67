"""Render the learner's progress: totals, each lesson, what is left, and the one next command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.app import ProgressSummary
from kproxy_tutor.course_status import DEFAULT_PASS_SHARE, CourseStatus, NextStep, StepKind
from kproxy_tutor.i18n import _, format_number, format_percent, ngettext, pick
from kproxy_tutor.store import state_dir
from kproxy_tutor.ui.console import glyphs, make_console

if TYPE_CHECKING:
    from rich.console import Console

    from kproxy_tutor.content.loader import Course


def status_label(status: str) -> str:
    return {
        "not_started": _("not started"),
        "in_progress": _("in progress"),
        "done": _("read"),  # a lesson read to its end; "complete" also needs its exercises and quiz
    }.get(status, status)


def _numbers(numbers: list[int]) -> str:
    return ", ".join(format_number(n) for n in numbers)


def pass_mark(status: CourseStatus) -> str:
    """ "70 %" / "70%": the best score from which a lesson quiz counts as passed."""
    return format_percent(status.pass_share)


def score_percent(score: float, pass_share: float = DEFAULT_PASS_SHARE) -> str:
    """A score as a percentage; with a decimal where rounding would reach the pass mark unearned."""
    digits = 1 if score < pass_share and round(score * 100) >= round(pass_share * 100) else 0
    return format_percent(score, digits)


def next_step_text(step: NextStep | None, status: CourseStatus) -> str:
    """One line: the next thing to do, and the command that does it."""
    if step is None:
        return _("Nothing is left to do: the course and the final exam are done.")
    command = step.command
    number = format_number(step.lesson) if step.lesson is not None else ""
    if step.kind == StepKind.CONTINUE:
        text = _("Next: {command} (go on reading lesson {number})")
    elif step.kind == StepKind.READ:
        text = _("Next: {command} (read lesson {number})")
    elif step.kind == StepKind.EXERCISE:
        text = _("Next: {command} (an exercise of lesson {number})")
    elif step.kind == StepKind.QUIZ:
        text = _("Next: {command} (the quiz of lesson {number}; {percent} or more passes)")
    elif step.kind == StepKind.REVIEW:
        text = ngettext(
            "Next: {command} (the {n} question due for review today)",
            "Next: {command} (the {n} questions due for review today)",
            status.review_due,
        )
    else:
        text = _("Next: {command} (the final exam over every lesson)")
    return text.format(
        number=number,
        command=command,
        percent=pass_mark(status),
        n=format_number(status.review_due),
    )


def left_lines(status: CourseStatus) -> list[str]:
    """Whether the course is complete, and if not, what is left of it."""
    if status.complete:
        return [
            _(
                "You have finished the course: every lesson read, every exercise solved, every quiz "
                "passed ({percent} or more). Well done!"
            ).format(percent=pass_mark(status))
        ]
    lines = [_("The course is not finished yet. Left to do:")]
    unread = status.lessons_unread
    if unread:
        lines.append(
            ngettext("Lesson not read yet: {numbers}", "Lessons not read yet: {numbers}", len(unread)).format(
                numbers=_numbers(unread)
            )
        )
    unsolved = status.exercises_unsolved
    if unsolved:
        lines.append(
            ngettext(
                "Exercise not solved yet: {ids}", "Exercises not solved yet: {ids}", len(unsolved)
            ).format(ids=", ".join(unsolved))
        )
    unpassed = status.quizzes_unpassed
    if unpassed:
        lines.append(
            ngettext(
                "Quiz not passed yet ({percent} or more passes): lesson {numbers}",
                "Quizzes not passed yet ({percent} or more passes): lessons {numbers}",
                len(unpassed),
            ).format(percent=pass_mark(status), numbers=_numbers(unpassed))
        )
    return lines


def lesson_end_lines(course: Course, lesson_id: str, course_end: bool) -> list[str]:
    """What the reader says when a lesson is finished: at the course's end, what is left; then
    the next command."""
    from kproxy_tutor.app import current_course_status

    status = current_course_status(course=course)
    lines = left_lines(status) if course_end else []
    lines.append(next_step_text(status.next_step(focus=lesson_id), status))
    return lines


def print_next_step(console: Console, focus: str | None = None) -> None:
    """The one-line pointer printed after a quiz or an exercise."""
    from kproxy_tutor.app import current_course_status
    from kproxy_tutor.errors import ContentError
    from kproxy_tutor.ui.wrap import print_wrapped

    try:
        status = current_course_status()
    except ContentError:
        return  # a broken lesson file is reported where it is read; a pointer is not worth failing
    step = status.next_step(focus=focus)
    keep = [step.command] if step is not None else []
    print_wrapped(console, glyphs(next_step_text(step, status)), style="bold", keep=keep)


def quiz_detail(best: float | None, passed: bool) -> str:
    if best is None:
        return _("quiz not taken yet")
    text = (
        _("best quiz score {percent}, passed") if passed else _("best quiz score {percent}, not passed yet")
    )
    return text.format(percent=format_percent(best))


def print_progress(summary: ProgressSummary) -> None:
    from kproxy_tutor.ui.wrap import print_wrapped

    console = make_console()
    status = summary.course
    if not summary.lessons:
        console.print(_("No lessons are installed yet."), markup=False)
        return
    say = lambda text, **kw: print_wrapped(console, glyphs(text), **kw)  # noqa: E731
    say(_("Your progress"), style="bold")
    say(
        _("Lessons read: {done} of {total}").format(
            done=format_number(status.lessons_read), total=format_number(len(status.lessons))
        ),
        indent=2,
    )
    if status.exercises_total:
        say(
            _("Exercises solved: {done} of {total}").format(
                done=format_number(status.exercises_solved), total=format_number(status.exercises_total)
            ),
            indent=2,
        )
    if status.quizzes_total:
        say(
            _("Quizzes passed: {done} of {total} (a quiz is passed at {percent} or more)").format(
                done=format_number(status.quizzes_passed),
                total=format_number(status.quizzes_total),
                percent=pass_mark(status),
            ),
            indent=2,
        )
    if status.exam_best is not None:
        say(_("Final exam, best score: {percent}").format(percent=score_percent(status.exam_best)), indent=2)
    console.print()
    for lesson in summary.lessons:
        details = [status_label(lesson.status)]
        lesson_status = status.lesson(lesson.lesson_id)
        if lesson_status is not None and lesson_status.outline.has_quiz:
            details.append(quiz_detail(lesson.best_score, lesson.quiz_passed))
        if lesson.exercises_total:
            details.append(
                _("exercises {done}/{total}").format(
                    done=format_number(lesson.exercises_done), total=format_number(lesson.exercises_total)
                )
            )
        say(f"{format_number(lesson.number)}. {pick(lesson.title)}: " + "; ".join(details), hanging=3)
    console.print()
    if summary.review_due:
        n = summary.review_due
        command = "kproxy-tutor quiz --review"
        say(
            ngettext(
                "{n} question is due for review today: {command}",
                "{n} questions are due for review today: {command}",
                n,
            ).format(n=format_number(n), command=command),
            keep=[command],
        )
    else:
        say(_("No questions are due for review today."))
    step = status.next_step()
    say(next_step_text(step, status), style="bold", keep=[step.command] if step else [])
    say(_("Progress is kept in {path}").format(path=state_dir() / "progress.json"), style="dim")
