"""The full-screen reader for `kproxy-tutor learn` at a terminal (prompt_toolkit): header, scrolling body, footer.

Why prompt_toolkit and not Textual: it is installed already (questionary needs it) and it loads in
about half the time (about 125 ms against 230 ms for ``textual.app``, measured on a development
machine); even so the first screen is painted before it is imported (:func:`reader_screen.paint`), so a
learner sees the step as soon as the lesson is parsed. Keys typed meanwhile wait in the terminal.

The session logic is :class:`LessonSession`'s: the same navigator, the same saving at every step,
the same Contents menu and exercises; only the screen differs. Without a terminal, with --plain or
TERM=dumb the linear :class:`LessonSession` runs instead.
"""

from __future__ import annotations

import io
import shutil
import sys
from typing import TYPE_CHECKING, Any

from kproxy_tutor import i18n, lesson_progress
from kproxy_tutor.content.schema import ExerciseBlock, Lesson
from kproxy_tutor.i18n import _, pick
from kproxy_tutor.lesson_nav import Action, Move
from kproxy_tutor.ui import reader_screen as screen
from kproxy_tutor.ui.lesson_session import EXERCISE, LessonSession, lesson_end_lines, other_language
from kproxy_tutor.ui.lesson_view import LessonView
from kproxy_tutor.ui.prompts import Choice

if TYPE_CHECKING:
    from rich.console import Console

#: Leave the reader: the course is finished.
FINISHED = "finished"


def render_console(width: int, plain: bool, color: bool) -> Console:
    """A console that renders into memory at ``width`` (its output is never printed as is)."""
    from rich.console import Console

    return Console(
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None if plain else "standard",
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )


class ReaderSession(LessonSession):
    """Reading at a terminal, one step per screen; every move is saved as in the linear session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.top = 0
        self.left = 0
        #: Lines shown instead of a step: a finished lesson or course (None: the step).
        self.message: list[str] | None = None
        self.message_done = False
        self._pages: dict[tuple[str, int, int, int, str], screen.StepPage] = {}
        #: The Contents menu while it is open: its title and entries (None: closed).
        self.menu: tuple[str, list[Choice]] | None = None
        self.menu_index = 0
        self.menu_row = 0
        self.saved_top = 0
        self._last_width = 0
        self.painted = False

    # -- layout ------------------------------------------------------------------------------

    def page(self, width: int) -> screen.StepPage:
        """What the body shows now, laid out at ``width``: the step, a lesson's end, or Contents."""
        if self.menu is not None:
            return self._menu_page(self._view(width), width)  # it changes with every key: not kept
        kind = "message" if self.message is not None else "step"
        key = (kind, self.place.lesson, self.place.step, width, i18n.current_language())
        if key not in self._pages:
            if len(self._pages) > 32:
                self._pages.clear()
            view = self._view(width)
            if self.message is not None:
                self._pages[key] = self._message_page(view, width)
            else:
                lesson = self.course.lesson(self.place.lesson)
                self._pages[key] = screen.lay_out_step(view, lesson, self.place.step, width)
        return self._pages[key]

    def _view(self, width: int) -> LessonView:
        display = self.view.display
        console = render_console(width, display.plain, display.color)
        return LessonView(console, display, resolve_see=self.view.resolve_see)

    def _menu_page(self, view: LessonView, width: int) -> screen.StepPage:
        from rich.text import Text

        from kproxy_tutor.ui.wrap import wrap_words

        assert self.menu is not None
        title, choices = self.menu
        header = screen.render_lines(view.console, view.inline(title, style="bold"), width)
        body = []
        pointer = view.glyphs("› ")
        for index, choice in enumerate(choices):
            chosen = index == self.menu_index
            line = Text(pointer if chosen else "  ", style="bold") + Text(
                view.glyphs(choice.title), style="reverse" if chosen and not view.display.plain else ""
            )
            body += [screen.text_line(t, view.console) for t in wrap_words(line, width, hanging=5)]
            if chosen:
                self.menu_row = len(body) - 1
        return screen.StepPage(header, body, width)

    def _message_page(self, view: LessonView, width: int) -> screen.StepPage:
        from rich.text import Text

        assert self.message is not None
        header = screen.render_lines(view.console, view.inline(self.message[0], style="bold"), width)
        body = []
        for text in self.message[1:]:
            body += screen.render_lines(view.console, Text(text), width)
        return screen.StepPage(header, body, width)

    def keys(self, page: screen.StepPage) -> list[str]:
        if self.menu is not None:
            return [_("↑↓: choose"), _("Enter: open"), _("Esc: back to the step")]
        if self.message is not None:
            if self.message_done:
                return [_("Enter or q: leave")]
            return [_("Enter: next lesson"), _("p: back"), _("q: quit")]
        keys = [_("Enter: next")]
        if page.width >= 60:  # narrow screens keep their rows for the text; arrows need no telling
            keys.append(_("↑↓ PgUp PgDn: scroll"))
        if page.has_wide:
            keys.append(_("←→: wide lines"))
        if self.exercises():
            keys.append(_("e: exercise"))
        keys += [
            _("p: back"),
            _("c: contents"),
            _("l: {language}").format(language=i18n.NATIVE_NAMES[other_language()]),
            _("q: quit"),
        ]
        return keys

    def layout(self, width: int, height: int) -> tuple[screen.StepPage, list[screen.Line], int]:
        """The page at ``width``, the footer and the body's rows at this height (the top kept in range)."""
        page = self.page(width)
        if self._last_width and width != self._last_width:
            # A resize: keep the same share of the text above the screen.
            kind = "message" if self.message is not None else "step"
            key = (kind, self.place.lesson, self.place.step, self._last_width, i18n.current_language())
            old = self._pages.get(key)
            if old is not None and old.body:
                self.top = round(self.top * len(page.body) / len(old.body))
        self._last_width = width
        display = self.view.display
        console = render_console(width, display.plain, display.color)
        position = screen.Position(
            self.place.lesson, len(self.course), self.place.step, self.course.step_count(self.place.lesson)
        )
        rows = max(height - len(page.header) - 4, 1)  # a first guess: a two-line footer
        footer: list[screen.Line] = []
        for _pass in range(2):
            # The footer says which lines are shown, and its own height decides how many.
            top = screen.clamp_top(self.top, len(page.body), rows)
            texts = screen.footer_texts(
                position,
                top,
                rows,
                len(page.body),
                [k.replace(" ", "\u00a0") for k in self.keys(page)],
                not display.unicode,
            )
            footer = screen.fit_footer([self.glyphs(t) for t in texts], width, console)
            rows = screen.body_rows(page, footer, height)
        self.top = screen.clamp_top(self.top, len(page.body), rows)
        self.left = 0 if page.widest <= width else max(0, min(self.left, page.widest - width + 1))
        return page, footer, rows

    def glyphs(self, text: str) -> str:
        """The view's ASCII fallbacks, keeping the no-break spaces that hold a key to its label."""
        return "\u00a0".join(self.view.glyphs(part) for part in text.split("\u00a0"))

    def frame(self, width: int, height: int) -> list[screen.Line]:
        page, footer, _rows = self.layout(width, height)
        display = self.view.display
        console = render_console(width, display.plain, display.color)
        return screen.frame(page, footer, height, self.top, self.left, console, not display.unicode)

    # -- moves ---------------------------------------------------------------------------------

    def exercises(self) -> list[ExerciseBlock]:
        if self.message is not None:
            return []
        step = self.course.lesson(self.place.lesson).steps[self.place.step]
        return [b for b in step.blocks if isinstance(b, ExerciseBlock)]

    def moved(self) -> None:
        self.top = self.left = 0
        self.save()

    def go_next(self) -> bool:
        """Enter: the next step, or the lesson's end message; True when the reader should close."""
        if self.message is not None:
            if self.message_done:
                return True
            self.message = None
            self.moved()
            return False
        move = self.nav.next()
        if move.finished_lesson is not None:
            self.show_end(move)
            return False
        self.moved()
        return False

    def show_end(self, move: Move) -> None:
        finished = self.course.lesson(move.finished_lesson or self.place.lesson)
        lesson_progress.mark_done(finished.id)
        lines = lesson_end_lines(self.course, move)
        header = _("Lesson {number}. {title}").format(number=finished.number, title=pick(finished.title))
        self.message = [header, *lines]
        self.message_done = move.course_done
        if not move.course_done:
            following: Lesson = self.course.lesson(self.place.lesson)
            self.message.append("")
            self.message.append(
                _("Next lesson: {title}").format(
                    title=_("Lesson {number}. {title}").format(
                        number=following.number, title=pick(following.title)
                    )
                )
            )
        self.top = 0
        self.save()

    def go_back(self) -> None:
        if self.message is not None:
            self.message = None
            if not self.message_done:
                self.nav.back()
            self.message_done = False
        else:
            self.nav.back()
        self.moved()

    def open_menu(self) -> None:
        """Contents inside the reader: the linear view's entries, chosen with the arrows."""
        self.menu = self.contents_menu()
        values = [choice.value for choice in self.menu[1]]
        here = f"step:{self.place.step}"
        self.menu_index = values.index(here) if here in values else 0
        self.saved_top, self.top = self.top, 0

    def menu_move(self, delta: int, width: int, height: int) -> None:
        assert self.menu is not None
        self.menu_index = max(0, min(self.menu_index + delta, len(self.menu[1]) - 1))
        self.page(width)  # finds the chosen entry's row
        rows = self.page_rows(width, height)
        if self.menu_row < self.top:
            self.top = self.menu_row
        elif self.menu_row >= self.top + rows:
            self.top = self.menu_row - rows + 1

    def menu_choose(self) -> None:
        assert self.menu is not None
        choice = self.menu[1][self.menu_index].value
        self.menu = None
        before = self.place
        self.go_to_entry(choice)
        if self.place == before:
            self.top = self.saved_top  # nothing moved: the step as it was left
        else:
            self.moved()

    def menu_close(self) -> None:
        self.menu = None
        self.top = self.saved_top

    def scroll(self, delta: int, width: int, height: int) -> None:
        page, _footer, rows = self.layout(width, height)
        self.top = screen.clamp_top(self.top + delta, len(page.body), rows)

    def page_rows(self, width: int, height: int) -> int:
        return self.layout(width, height)[2]

    def slide(self, delta: int) -> None:
        self.left = max(0, self.left + delta)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        self.resume_exercise()
        while True:
            outcome = self.read()
            if outcome in (Action.QUIT, FINISHED):
                # The last words go on the normal screen: the toolkit has left the alternate one,
                # and saying so again costs nothing (a loaded machine once showed a blank screen).
                sys.stdout.write(screen.RESTORE)
                sys.stdout.flush()
            if outcome == Action.QUIT:
                self.say(_("Your place is saved. To continue: kproxy-tutor learn"))
                return
            if outcome == FINISHED:
                for line in self.message or []:
                    self.say(line)
                return
            if outcome.startswith(EXERCISE):
                self.run_extra(outcome)

    def open_exercise(self, exercise: ExerciseBlock) -> None:
        from kproxy_tutor.ui.exercise_pane import fits_pane, run_exercise_pane

        if not fits_pane():
            super().open_exercise(exercise)
            return

        solved = run_exercise_pane(exercise, self.next_words())
        if solved:
            self.go_next()

    def next_words(self) -> str:
        """What Enter leads to after this step, in words (for the solved exercise's screen)."""
        if not self.nav.at_lesson_end:
            lesson = self.course.lesson(self.place.lesson)
            return _("Next: step {k}, {title}").format(
                k=self.place.step + 2, title=pick(lesson.steps[self.place.step + 1].title)
            )
        return self.next_title()

    def read(self) -> str:
        """Run the screen until the learner leaves it; the action that left it."""
        if not self.painted:
            self.painted = True
            size = shutil.get_terminal_size()
            lines = self.frame(size.columns, size.lines)
            screen.paint(sys.stdout.write, lines, self.view.display.color)
            sys.stdout.flush()
        try:
            from kproxy_tutor.ui.reader_keys import run_reader

            return run_reader(self)
        except BaseException:
            # Ctrl-C before the toolkit took the keys, or an error: never leave the learner on a
            # blank alternate screen with a hidden cursor (harmless if the toolkit restored it).
            sys.stdout.write(screen.RESTORE)
            sys.stdout.flush()
            raise
