"""Word wrapping that never splits a word, a number or a command a learner must type.

Rich breaks lines at any Unicode space, the no-break spaces Babel puts in Russian numbers
("1 000", "47 %") included. Here those spaces, and the spaces inside given commands, are
swapped for private-use characters of the same width while rich wraps, then put back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_NO_BREAK = {"\u00a0": "\ue000", "\u202f": "\ue001", "\u2007": "\ue002"}
_KEPT_SPACE = "\ue003"
_PROTECT = str.maketrans(_NO_BREAK)
_RESTORE = str.maketrans({v: k for k, v in _NO_BREAK.items()} | {_KEPT_SPACE: " "})


def wrap_text(console: Console, text: Text, width: int, keep: Sequence[str] = ()) -> list[Text]:
    """``text`` in lines of at most ``width`` cells, without trailing spaces.

    Lines break at ordinary spaces only: never inside a word, at a no-break space, or inside one
    of the ``keep`` strings (commands) that fits on a line. Only a word wider than the whole line
    is folded, as there is no other way to show it.
    """
    protected = text.copy()
    plain = protected.plain.translate(_PROTECT)
    for phrase in keep:
        if " " in phrase and len(phrase) <= width:
            plain = plain.replace(phrase, phrase.replace(" ", _KEPT_SPACE))
    protected.plain = plain  # same length: the styles stay where they were
    lines = []
    for line in protected.wrap(console, max(width, 1), overflow="fold"):
        line.plain = line.plain.translate(_RESTORE)
        line.rstrip()
        lines.append(line)
    return lines


def print_wrapped(
    console: Console,
    text: str | Text,
    style: str = "",
    indent: int = 0,
    hanging: int = 0,
    keep: Sequence[str] = (),
) -> None:
    """Print ``text`` wrapped to the console, indented; ``hanging`` indents continuation lines more."""
    from rich.text import Text

    body = Text(text, style=style) if isinstance(text, str) else text
    width = max(20, console.width - indent - hanging)
    for i, line in enumerate(wrap_text(console, body, width, keep)):
        pad = indent + (hanging if i else 0)
        console.print(Text(" " * pad) + line if pad else line, soft_wrap=True)
