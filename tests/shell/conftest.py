"""Fixtures for the sandbox shell: scripted sessions rendered to plain text, and golden files."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kproxy_tutor import i18n
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden" / "shell"


def plain_console(buffer: io.StringIO):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(
        file=buffer,
        width=200,
        color_system=None,
        no_color=True,
        highlight=False,
        emoji=False,
        force_terminal=False,
        force_interactive=False,
        legacy_windows=False,
    )


@pytest.fixture
def language() -> Iterator[Callable[[str], None]]:
    """Switch the UI language for one test and restore it afterwards."""
    before = i18n.current_language()
    yield i18n.set_language
    i18n.set_language(before)


@pytest.fixture
def run_shell(language: Callable[[str], None]) -> Callable[..., tuple[int, str, Session]]:
    """Run a script of shell lines; returns (exit code, everything printed, the session)."""

    def run(
        script: str,
        scenario: str | None = None,
        lang: str = "en",
        keep_going: bool = False,
        session: Session | None = None,
    ) -> tuple[int, str, Session]:
        from kproxy_tutor.ui.shell_repl import run_script
        from kproxy_tutor.ui.shell_view import ShellView

        language(lang)
        session = session or Session(find_scenario(scenario) if scenario else None)
        buffer = io.StringIO()
        console = plain_console(buffer)
        code = run_script(session, script.splitlines(), ShellView(console, console), keep_going)
        return code, buffer.getvalue(), session

    return run


@pytest.fixture
def golden(update_goldens: bool) -> Callable[[str, str], None]:
    """Compare ``text`` with ``tests/golden/shell/NAME.txt`` exactly (``--update-goldens`` rewrites it)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / f"{name}.txt"
        if update_goldens:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden {path}; run pytest --update-goldens and check the file"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path}"

    return check
