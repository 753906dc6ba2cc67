"""The reader's prompt_toolkit application: one window showing the session's frame, and its keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.lesson_nav import Action
from kproxy_tutor.ui import reader_screen as screen
from kproxy_tutor.ui.lesson_session import EXERCISE

if TYPE_CHECKING:
    from prompt_toolkit.key_binding import KeyPressEvent

    from kproxy_tutor.ui.reader_app import ReaderSession


def run_reader(session: ReaderSession) -> str:
    """Show the session's screens until an action leaves them (quit, contents, an exercise, the end)."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import ANSI
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.layout import Layout, Window
    from prompt_toolkit.layout.controls import FormattedTextControl

    from kproxy_tutor.ui.reader_app import FINISHED

    app: Application[str]

    def size() -> tuple[int, int]:
        shown = app.output.get_size()
        return shown.columns, shown.rows

    def text() -> ANSI:
        width, height = size()
        return ANSI(screen.frame_ansi(session.frame(width, height), session.view.display.color))

    keys = KeyBindings()

    def scroll(delta: int) -> None:
        session.scroll(delta, *size())

    def page(sign: int) -> None:
        width, height = size()
        rows = max(session.page_rows(width, height) - 1, 1)
        if session.menu is not None:
            session.menu_move(sign * rows, width, height)
        else:
            scroll(sign * rows)

    @keys.add("down")
    @keys.add("j")
    @keys.add("c-n")
    def _down(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_move(1, *size())
        else:
            scroll(1)

    @keys.add("up")
    @keys.add("k")
    @keys.add("c-p")
    def _up(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_move(-1, *size())
        else:
            scroll(-1)

    @keys.add("pagedown")
    @keys.add("c-f")
    def _page_down(event: KeyPressEvent) -> None:
        page(1)

    @keys.add("space")
    def _space(event: KeyPressEvent) -> None:
        if session.menu is not None:
            return
        before = session.top
        page(1)
        if session.top == before and session.message is None:
            # Already at the bottom: Space goes on to the next step, as paging on would.
            _next(event)

    @keys.add("pageup")
    @keys.add("c-b")
    @keys.add("b")
    def _page_up(event: KeyPressEvent) -> None:
        page(-1)

    @keys.add("home")
    @keys.add("g")
    def _home(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_move(-(10**6), *size())
        else:
            session.top = 0

    @keys.add("end")
    @keys.add("G")
    def _end(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_move(10**6, *size())
        else:
            scroll(10**9)

    @keys.add("left")
    @keys.add("h")
    def _left(event: KeyPressEvent) -> None:
        session.slide(-screen.SIDE_STEP)

    @keys.add("right")
    def _right(event: KeyPressEvent) -> None:
        session.slide(screen.SIDE_STEP)

    @keys.add("enter")
    @keys.add("c-j")  # Enter typed before the toolkit set the terminal raw arrives as a newline
    @keys.add("n")
    def _next(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_choose()
        elif session.go_next():
            event.app.exit(result=FINISHED)

    @keys.add("p")
    @keys.add("backspace")
    def _back(event: KeyPressEvent) -> None:
        if session.menu is None:
            session.go_back()

    @keys.add("c")
    def _contents(event: KeyPressEvent) -> None:
        if session.menu is not None:
            session.menu_close()
        elif session.message is None:
            session.open_menu()

    @keys.add("L")
    @keys.add("l")
    def _language(event: KeyPressEvent) -> None:
        if session.menu is None:
            session.switch_language()

    @keys.add("e")
    def _exercise(event: KeyPressEvent) -> None:
        blocks = session.exercises() if session.menu is None else []
        if blocks:
            from kproxy_tutor.exercises import record

            pending = [b for b in blocks if not record.entry(b.id).get("done")] or blocks
            event.app.exit(result=EXERCISE + pending[0].id)

    @keys.add("q")
    @keys.add("escape", eager=True)
    @keys.add("c-c")
    @keys.add("c-d")
    def _quit(event: KeyPressEvent) -> None:
        if session.menu is not None and event.key_sequence[0].key != "c-c":
            session.menu_close()
        elif session.message is not None and session.message_done:
            event.app.exit(result=FINISHED)
        else:
            event.app.exit(result=Action.QUIT.value)

    app = Application(
        layout=Layout(Window(FormattedTextControl(text, show_cursor=False), wrap_lines=False)),
        key_bindings=keys,
        full_screen=True,
        mouse_support=False,
        erase_when_done=False,
    )
    return app.run()
