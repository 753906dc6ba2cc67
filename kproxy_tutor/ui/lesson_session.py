"""The reading loop: show a step, ask what next, move, save the place; or print a lesson whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor import i18n, lesson_progress
from kproxy_tutor.content.loader import Course
from kproxy_tutor.content.schema import ExerciseBlock, SeeBlock, Step
from kproxy_tutor.errors import ContentError
from kproxy_tutor.i18n import _, pick
from kproxy_tutor.lesson_nav import Action, Move, Navigator, Place
from kproxy_tutor.ui.lesson_view import LessonView, ResolveSee, SeeTarget
from kproxy_tutor.ui.prompts import Choice, Prompter

if TYPE_CHECKING:
    from rich.console import Console

    from kproxy_tutor.ui.console import Display

CANCEL = "cancel"


def see_resolver(course: Course) -> ResolveSee:
    """A cross-reference's lesson number and titles; None when it cannot be resolved."""

    def resolve(block: SeeBlock) -> SeeTarget | None:
        number = course.number_of(block.lesson)
        if number is None:
            return None
        try:
            lesson = course.lesson(number)
        except ContentError:
            return None  # a broken neighbour must not stop this lesson; dev check reports it
        index = lesson.step_index(block.step) if block.step else None
        step_title = lesson.steps[index].title if index is not None else None
        return SeeTarget(number, lesson.title, step_title)

    return resolve


EXERCISE = "exercise:"


def extra_choices(step: Step) -> list[Choice]:
    """Choices a step adds to the menu: one per exercise ("open the sandbox here")."""
    from kproxy_tutor.exercises import record

    choices = []
    for block in step.blocks:
        if isinstance(block, ExerciseBlock):
            entry = record.entry(block.id)
            if entry.get("done"):
                title = _("Do the exercise again ({id}, done)")
            elif entry.get("active"):
                title = _("Continue the exercise ({id})")
            else:
                title = _("Do the exercise ({id})")
            choices.append(Choice(EXERCISE + block.id, title.format(id=block.id)))
    return choices


class LessonSession:
    """One reading session at a terminal: every move is saved, so quitting keeps the place."""

    def __init__(
        self,
        course: Course,
        place: Place,
        prompter: Prompter,
        console: Console,
        display: Display | None = None,
    ) -> None:
        self.course = course
        self.nav = Navigator(course, place)
        self.prompter = prompter
        self.console = console
        self.view = LessonView(console, display, resolve_see=see_resolver(course))

    @property
    def place(self) -> Place:
        return self.nav.place

    def run(self) -> None:
        self.resume_exercise()
        while True:
            lesson = self.course.lesson(self.place.lesson)
            self.view.print_step(lesson, self.place.step)
            # Saved once shown (the screen comes first) and before asking: Ctrl-C keeps the place.
            self.save()
            answer = self.ask()
            if answer == Action.QUIT:
                self.say(_("Your place is saved. To continue: kproxy-tutor learn"))
                return
            if answer == Action.NEXT:
                if self.finish(self.nav.next()):
                    return
            elif answer == Action.BACK:
                self.nav.back()
            elif answer == Action.CONTENTS:
                self.contents()
            elif answer == Action.LANGUAGE:
                self.switch_language()
            else:
                self.run_extra(answer)

    def save(self) -> None:
        lesson = self.course.lesson(self.place.lesson)
        lesson_progress.record_place(lesson.id, lesson.steps[self.place.step].id)

    def say(self, text: str) -> None:
        self.console.print(self.view.inline(text, style="bold"))

    def ask(self) -> str:
        lesson = self.course.lesson(self.place.lesson)
        titles = {
            Action.NEXT: self.next_title(),
            Action.BACK: _("Back"),
            Action.CONTENTS: _("Contents"),
            Action.LANGUAGE: _("Switch language ({language})").format(
                language=i18n.NATIVE_NAMES[other_language()]
            ),
            Action.QUIT: _("Quit"),
        }
        choices = [Choice(action.value, titles[action]) for action in self.nav.actions()]
        choices[1:1] = extra_choices(lesson.steps[self.place.step])
        return self.prompter.select(_("What next?"), choices, default=Action.NEXT.value)

    def next_title(self) -> str:
        if not self.nav.at_lesson_end:
            return _("Next")
        if self.nav.at_course_end:
            return _("Finish the last lesson")
        following = self.course.lesson(self.place.lesson + 1)
        return _("Next lesson: {title}").format(title=pick(following.title))

    def finish(self, move: Move) -> bool:
        """Record a finished lesson; True when the whole course is done and the session ends."""
        if move.finished_lesson is None:
            return False
        lesson_progress.mark_done(self.course.lesson(move.finished_lesson).id)
        self.console.print()
        for line in lesson_end_lines(self.course, move):
            self.say(line)
        return move.course_done

    def contents(self) -> None:
        """Jump to a step of this lesson or to another lesson."""
        message, choices = self.contents_menu()
        self.go_to_entry(self.prompter.select(message, choices, default=f"step:{self.place.step}"))

    def contents_menu(self) -> tuple[str, list[Choice]]:
        """The Contents menu: its title, and one entry per step of this lesson and per other lesson."""
        here = self.course.lesson(self.place.lesson)
        choices = [
            Choice(f"step:{i}", self.step_entry(i, pick(step.title))) for i, step in enumerate(here.steps)
        ]
        from kproxy_tutor.ui.progress_view import status_label

        states = lesson_progress.lesson_states()
        for lesson in self.course.lessons:
            if lesson.number == here.number:
                continue
            title = _("Lesson {number}. {title}").format(number=lesson.number, title=pick(lesson.title))
            status = status_label(states.get(lesson.id, "not_started"))
            choices.append(Choice(f"lesson:{lesson.number}", f"{title} ({status})"))
        choices.append(Choice(CANCEL, _("Back to the step")))
        return _("Contents: lesson {number}").format(number=here.number), choices

    def go_to_entry(self, answer: str) -> None:
        """Carry out a Contents choice (``step:N``, ``lesson:N`` or cancel)."""
        kind, _sep, value = answer.partition(":")
        if kind == "step":
            self.nav.go_to(Place(self.place.lesson, int(value)))
        elif kind == "lesson":
            number = int(value)
            self.nav.go_to(Place(number, lesson_progress.saved_step(self.course, number)))

    def step_entry(self, index: int, title: str) -> str:
        current = index == self.place.step
        if self.view.display.plain:
            # Numbered prompts number the entries themselves; the place is said in words.
            return f"{title} ({_('you are here')})" if current else title
        return f"{self.view.glyphs('▶ ') if current else '  '}{index + 1}. {title}"

    def switch_language(self) -> None:
        """Show the same step in the other language, and keep that language for next time."""
        from kproxy_tutor import runtime
        from kproxy_tutor.progress import settings_store

        lang = other_language()
        i18n.set_language(lang)
        runtime.current().lang = lang
        settings_store().update(lambda data: data.__setitem__("lang", lang))

    def run_extra(self, answer: str) -> None:
        """Carry out a choice added by :func:`extra_choices`: open the exercise's sandbox."""
        if not answer.startswith(EXERCISE):
            raise AssertionError(f"unhandled menu choice {answer!r}")
        step = self.course.lesson(self.place.lesson).steps[self.place.step]
        exercise = next(
            b for b in step.blocks if isinstance(b, ExerciseBlock) and b.id == answer[len(EXERCISE) :]
        )
        self.open_exercise(exercise)

    def open_exercise(self, exercise: ExerciseBlock) -> None:
        from kproxy_tutor.ui.exercise_view import run_exercise

        self.console.print()
        run_exercise(exercise, self.console)
        self.console.print()

    def resume_exercise(self) -> None:
        """`learn` continues inside an exercise the learner left unfinished on this step."""
        from kproxy_tutor.exercises import record

        step = self.course.lesson(self.place.lesson).steps[self.place.step]
        for block in step.blocks:
            if isinstance(block, ExerciseBlock) and record.is_active(block.id):
                self.say(_("You were in the middle of an exercise; here it is again."))
                self.open_exercise(block)
                return


def lesson_end_lines(course: Course, move: Move) -> list[str]:
    """What the learner is told on passing a lesson's last step (the linear view and the reader alike).

    The course's last step is not the course's end: at the last lesson the lines say what is left,
    and every lesson end names the one next command.
    """
    if move.finished_lesson is None:
        return []
    from kproxy_tutor.ui.progress_view import lesson_end_lines as status_lines

    finished = course.lesson(move.finished_lesson)
    lines = [_("Lesson {number} done.").format(number=finished.number)]
    return lines + status_lines(course, finished.id, course_end=move.course_done)


def other_language() -> str:
    current = i18n.current_language()
    return next(lang for lang in i18n.SUPPORTED if lang != current)


def print_lesson_step(course: Course, place: Place, console: Console) -> None:
    """One step (``learn N --step K`` without a terminal), as the reader shows it."""
    view = LessonView(console, resolve_see=see_resolver(course))
    view.print_step(course.lesson(place.lesson), place.step)


def print_whole_lesson(course: Course, number: int, console: Console, display: Display | None = None) -> None:
    """The lesson from start to end, without menus (no terminal: a pipe, a file, a script)."""
    view = LessonView(console, display, resolve_see=see_resolver(course))
    view.print_lesson(course.lesson(number))
