"""Render a lesson table: a grid when every word fits its column, otherwise one "column: value" line each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kproxy_tutor.content.schema import TableBlock
from kproxy_tutor.i18n import current_language, pick

if TYPE_CHECKING:
    from rich.console import RenderableType

    from kproxy_tutor.ui.lesson_view import LessonView

_MARKUP = re.compile(r"[`*]")


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in _MARKUP.sub("", text).split()), default=0)


def min_widths(block: TableBlock, columns: tuple[str, ...]) -> list[int]:
    """Per column, the width of its longest word: narrower would fold a word (an identifier)."""
    needed = [_longest_word(name) for name in columns]
    for row in block.rows:
        for index, cell in enumerate(row[: len(needed)]):
            needed[index] = max(needed[index], _longest_word(pick(cell)))
    return needed


def _natural_widths(block: TableBlock, columns: tuple[str, ...]) -> list[int]:
    """Per column, the width its longest cell would take on one line."""
    from rich.cells import cell_len

    natural = [cell_len(_MARKUP.sub("", name)) for name in columns]
    for row in block.rows:
        for index, cell in enumerate(row[: len(natural)]):
            natural[index] = max(natural[index], cell_len(_MARKUP.sub("", pick(cell))))
    return natural


def _chrome(count: int) -> int:
    # A border and a space of padding on each side of every column, plus the closing border.
    return 3 * count + 1


def grid_fits(needed: list[int], width: int) -> bool:
    """True when a grid with these column widths fits in ``width``."""
    return sum(needed) + _chrome(len(needed)) <= width


def column_widths(needed: list[int], natural: list[int], width: int) -> list[int]:
    """Give each column its longest word, then share the rest by how much more each could use.

    Done here rather than by rich, whose shrinking may take a column below its longest word.
    """
    available = width - _chrome(len(needed))
    natural = [max(n, m) for n, m in zip(natural, needed, strict=True)]
    if sum(natural) <= available:
        return natural
    spare = available - sum(needed)
    wants = [n - m for n, m in zip(natural, needed, strict=True)]
    total = sum(wants) or 1
    widths = [m + spare * w // total for m, w in zip(needed, wants, strict=True)]
    # Integer division leaves a few columns over: give them out from the left.
    for index in range(available - sum(widths)):
        widths[index % len(widths)] += 1
    return widths


def table_renderables(view: LessonView, block: TableBlock) -> Iterator[RenderableType]:
    columns = block.columns.get(current_language()) or next(iter(block.columns.values()), ())
    needed = min_widths(block, columns)
    if view.display.plain or not grid_fits(needed, view.console.width):
        yield from _vertical(view, block, columns)
        return
    from rich import box
    from rich.table import Table

    widths = column_widths(needed, _natural_widths(block, columns), view.console.width)
    table = Table(box=box.SQUARE, show_header=True, header_style="bold", expand=False)
    for name, column_width in zip(columns, widths, strict=True):
        table.add_column(view.inline(name), overflow="fold", width=column_width)
    for row in block.rows:
        table.add_row(*(view.inline(pick(cell)) for cell in row))
    yield table


def _vertical(view: LessonView, block: TableBlock, columns: tuple[str, ...]) -> Iterator[RenderableType]:
    """Narrow terminals and screen readers: each row as a heading line and "column: value" lines."""
    from rich.padding import Padding
    from rich.text import Text

    for number, row in enumerate(block.rows):
        if number:
            yield ""
        if not row:
            continue
        head = view.inline(pick(row[0]), style="bold")
        if not view.display.plain:
            head = Text(view.glyphs("• "), style="bold") + head
        yield head
        for name, cell in zip(columns[1:], row[1:], strict=False):
            line = view.inline(f"{name}: ", style="italic") + view.inline(pick(cell))
            yield Padding(line, (0, 0, 0, 2))
