"""Every shell command of the golden transcripts, at a 40, 80 and 120 column terminal: nothing wider, nothing split.

The same script runs twice: once at a terminal of the given width, once unwrapped (a pipe). Lines
are broken only at spaces, so the words of both runs must be the same, in the same order: a name,
an address or a chain split across two lines would show up as two words that are not in the
unwrapped run. Only a word wider than the room a line has may be cut.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.cells import cell_len
from rich.console import Console

from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session
from kproxy_tutor.ui.shell_repl import run_script
from kproxy_tutor.ui.shell_view import ShellView
from kproxy_tutor.ui.wrap import ASCII_CONTINUATION, CONTINUATION
from tests.shell.test_kubectl_forms import FORMS
from tests.shell.test_scenario_goldens import SCRIPTS

WIDTHS = (40, 80, 120)
#: The widest prefix a continuation line can have: the diff gutter, indent and mark.
ROOM = len("      - ") + 2 + len(CONTINUATION)
TRANSCRIPTS = {
    **SCRIPTS,
    **{f"kubectl-{name}": (scenario, "en", script) for name, (scenario, script) in FORMS.items()},
}


def terminal(buffer: io.StringIO, width: int) -> Console:
    return Console(
        file=buffer,
        width=width,
        force_terminal=True,
        color_system=None,
        no_color=True,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        force_interactive=False,
    )


def transcript(name: str, console: Callable[[io.StringIO], Console], lang: str) -> str:
    scenario, _lang, script = TRANSCRIPTS[name]
    session = Session(find_scenario(scenario) if scenario else None)
    buffer = io.StringIO()
    out = console(buffer)
    run_script(session, script.splitlines(), ShellView(out, out), keep_going=True)
    return buffer.getvalue()


def words(text: str) -> list[str]:
    """The words of ``text``, with each continuation line's gutter and mark taken off."""
    out = []
    for line in text.replace("\x1b[2J\x1b[H", "").splitlines():  # `clear` at a terminal
        for mark in (CONTINUATION, ASCII_CONTINUATION):
            head, found, rest = line.partition(mark)
            if found and not head.strip(" +-~="):
                line = rest
                break
        out += line.split()
    return out


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_nothing_wider_than_the_terminal_and_no_word_split(
    name: str, width: int, lang: str, language: Callable[[str], None]
) -> None:
    language(lang)
    wrapped = transcript(name, lambda b: terminal(b, width), lang)
    plain = transcript(
        name,
        lambda b: Console(file=b, width=1000, force_terminal=False, color_system=None, highlight=False),
        lang,
    )
    too_wide = [line for line in wrapped.splitlines() if cell_len(line) > width]
    assert not too_wide, f"{len(too_wide)} lines wider than {width}: {too_wide[:3]}"
    if all(cell_len(w) <= width - ROOM for w in words(plain)):
        assert words(wrapped) == words(plain)
    else:  # a word wider than a line may be cut: compare the words that fit
        short = [w for w in words(plain) if cell_len(w) <= width - ROOM]
        assert all(w in wrapped for w in short)
