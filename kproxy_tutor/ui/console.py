"""The one console factory: colour, plain mode, narrow widths and encodings that lack Unicode."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: One-character fallbacks keep diagrams aligned on terminals that cannot show Unicode.
ASCII_FALLBACK = str.maketrans(
    {
        "→": ">", "←": "<", "↓": "v", "↑": "^", "↔": "-",
        "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+",
        "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+",
        "✓": "+", "✗": "x", "•": "*", "…": ".", "—": "-", "–": "-",
        "«": '"', "»": '"', "“": '"', "”": '"', "’": "'", "▶": ">", "█": "#", "░": ".",
        "§": "S", "×": "x", "−": "-", "≈": "~", "≤": "<", "≥": ">", "·": ".",
        "\u00a0": " ", "\u202f": " ",  # Babel's no-break spaces in Russian numbers ("1 000")
    }
)  # fmt: skip


@dataclass(frozen=True)
class Display:
    """How output may look on this terminal; decided once per run by :func:`detect`."""

    plain: bool = False  # --plain: no colour, no boxes, no animation, linear text
    color: bool = True
    unicode: bool = True  # the output encoding can show arrows and box drawing
    interactive: bool = True  # a terminal: animation and arrow-key menus are possible

    @property
    def boxes(self) -> bool:
        return not self.plain

    @property
    def animate(self) -> bool:
        return self.interactive and not self.plain


_display = Display()


def _encoding_has_unicode(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "→┌─│".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def can_show_cyrillic() -> bool:
    """Both output streams can encode Russian text (not so on ascii or latin-1)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "Ёё".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            return False
    return True


def _sane_columns() -> None:
    """Drop COLUMNS/LINES that are not a usable size (``COLUMNS=0`` made every line empty)."""
    for name in ("COLUMNS", "LINES"):
        value = os.environ.get(name)
        if value is not None and not (
            value.isascii() and value.isdigit() and 0 < int(value[:6]) <= 10_000 and len(value) <= 6
        ):
            del os.environ[name]


def _broken_pipe() -> None:
    """rich's default exits with status 1; the reader going away is not a failure (like cat, exit 0)."""
    raise BrokenPipeError


def detect(plain: bool = False, stream: TextIO | None = None) -> Display:
    """Decide the display from the flags and environment (NO_COLOR, TERM=dumb, encoding, tty)."""
    global _display
    _sane_columns()
    stream = stream or sys.stdout
    term = os.environ.get("TERM", "")
    dumb = term in ("dumb", "unknown")
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    env_plain = os.environ.get("KPROXY_TUTOR_PLAIN", "") not in ("", "0")
    plain = plain or env_plain
    _display = Display(
        plain=plain,
        color=not (plain or dumb or ("NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "")),
        unicode=_encoding_has_unicode(stream),
        interactive=is_tty and not dumb,
    )
    # Last line of defence: a glyph we did not map must not crash the print.
    for s in (sys.stdout, sys.stderr):
        reconfigure = getattr(s, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # closed or unusual streams
                reconfigure(errors="replace")
    return _display


def display() -> Display:
    return _display


def glyphs(text: str) -> str:
    """``text`` with arrows and box characters replaced when the output cannot show them."""
    return text if _display.unicode else text.translate(ASCII_FALLBACK)


class _TrimmedLines:
    """The process's stdout or stderr, looked up at each write, with trailing blanks cut off every line.

    rich pads and word-wraps with spaces that a terminal never shows; in a pipe or a file they
    would be there for ``grep``, ``diff`` and screen readers. A line still open when rich
    flushes (a prompt such as ``Answer: ``) is written as it is.
    """

    __slots__ = ("_open", "_stderr")

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._open = ""

    def _stream(self) -> TextIO:
        return sys.stderr if self._stderr else sys.stdout

    def write(self, text: str) -> int:
        head, newline, rest = (self._open + text).rpartition("\n")
        if newline:
            self._stream().write("\n".join(line.rstrip(" ") for line in head.split("\n")) + "\n")
        self._open = rest
        return len(text)

    def flush(self) -> None:
        stream = self._stream()
        if self._open:
            stream.write(self._open)
            self._open = ""
        stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream(), name)


def output_stream(stderr: bool = False) -> TextIO | None:
    """Where a console should write: None (rich's own choice) at a terminal, else stdout or stderr
    without trailing blanks."""
    return None if _display.interactive else _TrimmedLines(stderr)  # type: ignore[return-value]


def make_console(stderr: bool = False, width: int | None = None, file: TextIO | None = None) -> Console:
    """A rich Console honouring the detected display."""
    from rich.console import Console

    d = _display
    if file is None:
        file = output_stream(stderr)
    console = Console(
        stderr=stderr,
        file=file,
        width=width,
        no_color=not d.color,
        color_system=None if d.plain else "auto",
        highlight=False,
        emoji=False,
        safe_box=True,
        force_interactive=False if not d.animate else None,
        markup=True,
    )
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return console
