"""A shipped Markdown document at the terminal: paragraphs refilled to the width, code lines with the continuation mark."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: A list item: its continuation lines hang under the item's text.
_ITEM = re.compile(r"^(\s*(?:[-*+]|\d+\.)\s+)")


def document_lines(text: str, width: int) -> list[Text]:
    """``text`` (Markdown) with no line wider than ``width``: nothing for the terminal to cut.

    A paragraph or list item is refilled between words (an item's continuation under its text);
    headings, table rows and lines of a code block stay lines of their own, a code line broken
    between arguments with the continuation mark, as rules are.
    """
    from kproxy_tutor.ui.wrap import wrap_rule, wrap_words

    out: list[Text] = []
    paragraph: list[str] = []
    indent = hanging = 0

    def flush() -> None:
        if paragraph:
            out.extend(wrap_words(" ".join(paragraph), width, indent=indent, hanging=hanging))
            paragraph.clear()

    fenced = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```") or fenced:
            flush()
            if stripped.startswith("```"):
                fenced = not fenced
            out.extend(wrap_rule(line, width))
            continue
        item = _ITEM.match(line)
        if not stripped or stripped.startswith(("#", "|")) or (line.startswith("    ") and not paragraph):
            flush()
            out.extend(wrap_rule(line, width) if stripped else [wrap_words("", width)[0]])
            continue
        if item or not paragraph:
            flush()
            indent = len(line) - len(line.lstrip(" "))
            hanging = len(item.group(1)) if item else indent
        paragraph.append(stripped)
    flush()
    return out


def print_document(console: Console, text: str) -> None:
    for piece in document_lines(text, console.width):
        console.print(piece, soft_wrap=True, highlight=False, markup=False)
