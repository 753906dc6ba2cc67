"""Render a lesson step: prose, lists, tables, code, diagrams, update and note boxes, cross-references."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from kproxy_tutor.content.schema import (
    Bilingual,
    Block,
    CodeBlock,
    DiagramBlock,
    ExerciseBlock,
    Lesson,
    NoteBlock,
    SeeBlock,
    TableBlock,
    TextBlock,
    UpdateBlock,
)
from kproxy_tutor.i18n import _, ngettext, pick
from kproxy_tutor.ui import console as console_module
from kproxy_tutor.ui.console import ASCII_FALLBACK, Display

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.measure import Measurement
    from rich.segment import Segment
    from rich.text import Text

#: Code and diagrams sit this many columns in from the prose.
CODE_INDENT = 2
_INLINE = re.compile(r"(`+)(.+?)\1|\*\*(.+?)\*\*|(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])")
_ITEM = re.compile(r"^(\s*)([-*]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s*#{1,6}\s")
INLINE_CODE_STYLE = "bold cyan"
# Prose signs beyond the console's glyph table; in prose a longer replacement is fine.
_PROSE_FALLBACK = str.maketrans(
    {"§": "S", "×": "x", "−": "-", "≈": "~", "≤": "<=", "≥": ">=", "·": "-", "±": "+-", "„": '"', "‘": "'"}
)
_UNMAPPED = re.compile(r"[^\x00-\x7f\u0400-\u04ff]")


class SeeTarget(NamedTuple):
    """What a cross-reference points at, for its line of text."""

    number: int
    lesson_title: Bilingual
    step_title: Bilingual | None = None


ResolveSee = Callable[[SeeBlock], "SeeTarget | None"]


class _Item:
    """A parsed piece of the Markdown subset: a paragraph, heading or list item."""

    __slots__ = ("kind", "level", "marker", "text")

    def __init__(self, kind: str, text: str, marker: str = "", level: int = 0) -> None:
        self.kind = kind  # "para" | "heading" | "item"
        self.text = text
        self.marker = marker
        self.level = level


def parse_markdown(source: str) -> list[list[_Item]]:
    """Split prose into groups (paragraphs, headings, runs of list items) separated by blank lines."""
    groups: list[list[_Item]] = []
    group: list[_Item] = []
    current: _Item | None = None
    for line in source.splitlines():
        if not line.strip():
            current = None
            if group and group[-1].kind != "item":
                groups.append(group)
                group = []
            continue
        item = _ITEM.match(line)
        if item:
            if group and group[-1].kind != "item":
                groups.append(group)
                group = []
            current = _Item("item", item.group(3).strip(), item.group(2), len(item.group(1)) // 2)
            group.append(current)
        elif _HEADING.match(line):
            if group:
                groups.append(group)
            groups.append([_Item("heading", line.lstrip("# ").strip())])
            group, current = [], None
        elif current is not None:
            # A continuation line of the paragraph or list item above (a soft line break).
            current.text += " " + line.strip()
        else:
            if group:
                groups.append(group)
            current = _Item("para", line.strip())
            group = [current]
    if group:
        groups.append(group)
    return groups


class LessonView:
    """Prints lesson steps to a console, following the display (plain, Unicode, width)."""

    def __init__(
        self, console: Console, display: Display | None = None, resolve_see: ResolveSee | None = None
    ) -> None:
        self.console = console
        self.display = display or console_module.display()
        self.resolve_see = resolve_see

    # -- text helpers ----------------------------------------------------------------------

    def glyphs(self, text: str) -> str:
        """``text`` as this output can show it: ASCII fallbacks when it cannot encode Unicode."""
        if self.display.unicode:
            return text
        text = text.translate(ASCII_FALLBACK).translate(_PROSE_FALLBACK)
        # Cyrillic stays: the encodings that lack arrows (cp866, cp1251) still have it.
        return _UNMAPPED.sub("?", text)

    def inline(self, source: str, style: str = "") -> Text:
        """Markdown inline markup (**bold**, *italic*, `code`) as a Text that wraps and never crops."""
        from rich.text import Text

        text = Text(style=style, overflow="fold", no_wrap=False)
        plain = self.display.plain
        position = 0
        for match in _INLINE.finditer(source):
            text.append(self.glyphs(source[position : match.start()]))
            code, bold, italic = match.group(2), match.group(3), match.group(4)
            if code is not None:
                text.append(self.glyphs(code), style="" if plain else INLINE_CODE_STYLE)
            elif bold is not None:
                text.append(self.glyphs(bold), style="bold")
            else:
                text.append(self.glyphs(italic), style="italic")
            position = match.end()
        text.append(self.glyphs(source[position:]))
        return text

    def prose(self, source: str) -> list[RenderableType]:
        """Paragraphs and lists, with hanging indents for list items."""
        out: list[RenderableType] = []
        for group in parse_markdown(source):
            if out:
                out.append("")
            if group[0].kind == "heading":
                out.append(self.inline(group[0].text, style="bold"))
                continue
            if group[0].kind == "para":
                out.append(self.inline(group[0].text))
                continue
            for level, items in _runs_by_level(group):
                # One marker width per run, so "9." and "10." items start their text together.
                width = max(len(self._marker(item.marker)) for item in items) + 1
                for item in items:
                    prefix = " " * (2 * level) + self._marker(item.marker).ljust(width)
                    out.append(Hanging(prefix, self.inline(item.text)))
        return out

    def _marker(self, marker: str) -> str:
        if marker in ("-", "*"):
            return "-" if self.display.plain else self.glyphs("•")
        return marker

    # -- screens ---------------------------------------------------------------------------

    def print_step(self, lesson: Lesson, index: int) -> None:
        """One step with its header: lesson title, step k of n, step title."""
        from rich.rule import Rule
        from rich.text import Text

        step = lesson.steps[index]
        dim = "" if self.display.plain else "dim"
        header = _("Lesson {number}. {title}").format(number=lesson.number, title=pick(lesson.title))
        counter = _("Step {k} of {n}").format(k=index + 1, n=len(lesson.steps))
        parts: list[tuple[RenderableType, dict[str, bool]]] = []
        if not self.display.plain:
            parts.append((Rule(characters=self.glyphs("─"), style="dim"), {}))
        parts += [(self.inline(header, style=dim), {}), (self.inline(counter, style=dim), {})]
        parts.append((self.inline(pick(step.title), style="bold"), {}))
        for block in step.blocks:
            parts.append((Text(), {}))
            parts.extend(self.block_renderables(block))
        parts.append((Text(), {}))
        self._print_all(parts)

    def print_lesson(self, lesson: Lesson) -> None:
        """The whole lesson, every step in order (no terminal: pipes, files, screen readers)."""
        title = _("Lesson {number}. {title}").format(number=lesson.number, title=pick(lesson.title))
        self.console.print(self.inline(title, style="bold"))
        self.console.print(self.inline(pick(lesson.summary), style="italic"))
        self.console.print()
        for index in range(len(lesson.steps)):
            self.print_step(lesson, index)

    def print_block(self, block: Block) -> None:
        self._print_all(list(self.block_renderables(block)))

    def _print_all(self, parts: list[tuple[RenderableType, dict[str, bool]]]) -> None:
        """Print in as few calls as possible (each call measures the terminal again)."""
        from rich.console import Group

        batch: list[RenderableType] = []
        for renderable, options in parts:
            if not options:
                batch.append(renderable)
                continue
            if batch:
                self.console.print(Group(*batch))
                batch = []
            self.console.print(renderable, **options)
        if batch:
            self.console.print(Group(*batch))

    def block_renderables(self, block: Block) -> Iterator[tuple[RenderableType, dict[str, bool]]]:
        """What to print for ``block``, with print options (wide diagrams must not be cropped)."""
        if isinstance(block, TextBlock):
            for part in self.prose(pick(block.text)):
                yield part, {}
        elif isinstance(block, CodeBlock):
            yield from self._code(block)
        elif isinstance(block, DiagramBlock):
            yield from self._diagram(block)
        elif isinstance(block, TableBlock):
            from kproxy_tutor.ui.lesson_table import table_renderables

            for part in table_renderables(self, block):
                yield part, {}
        elif isinstance(block, UpdateBlock):
            from kproxy_tutor.content.sources import format_sources

            # One source per line ("label: URL"), so a URL starts its own line and stays openable.
            source = _("Source: {source}").format(source="\n".join(format_sources(block.source)))
            yield self._boxed(_("Update"), pick(block.text), "yellow", source), {}
        elif isinstance(block, NoteBlock):
            yield self._boxed(_("Note"), pick(block.text), "blue", None), {}
        elif isinstance(block, SeeBlock):
            yield self._see(block), {}
        elif isinstance(block, ExerciseBlock):
            # How to open it outside the menus too. (The exercise engine is not imported here:
            # it pulls in the whole sandbox, which reading a lesson does not need.)
            footer = _("Sandbox: kproxy-tutor exercise {id}").format(id=block.id)
            yield self._boxed(_("Exercise"), pick(block.task), "green", footer), {}

    def _code(self, block: CodeBlock) -> Iterator[tuple[RenderableType, dict[str, bool]]]:
        from rich.padding import Padding
        from rich.text import Text

        from kproxy_tutor.ui.highlight import highlight

        code = self.glyphs(pick(block.code))
        if self.display.plain:
            yield Text(_("Code ({lang}):").format(lang=block.lang)), {}
            yield Padding(Text(code, overflow="fold"), (0, 0, 0, 2 * CODE_INDENT), expand=False), {}
            return
        yield Padding(highlight(code, block.lang), (0, 0, 0, CODE_INDENT), expand=False), {}

    def _diagram(self, block: DiagramBlock) -> Iterator[tuple[RenderableType, dict[str, bool]]]:
        from rich.cells import cell_len
        from rich.padding import Padding
        from rich.text import Text

        drawing = self.glyphs(pick(block.diagram))
        if self.display.plain:
            yield Text(_("Diagram:")), {}
        width = max((cell_len(line) for line in drawing.splitlines()), default=0)
        text = Text(drawing, no_wrap=True, overflow="ignore")
        if width + CODE_INDENT <= self.console.width:
            yield Padding(text, (0, 0, 0, CODE_INDENT), expand=False), {}
        else:
            # Wrapping or cropping would break the drawing: print it whole and say how wide it is.
            hint = ngettext(
                "(The diagram is {width} column wide: widen the terminal to see it aligned.)",
                "(The diagram is {width} columns wide: widen the terminal to see it aligned.)",
                width,
            )
            yield Text(hint.format(width=width), style="dim", overflow="fold"), {}
            yield text, {"soft_wrap": True}
        if block.caption:
            yield self.inline(pick(block.caption), style="italic"), {}

    def _boxed(self, title: str, body: str, colour: str, footer: str | None) -> RenderableType:
        from rich import box
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        parts = self.prose(body)
        if footer:
            from kproxy_tutor.ui.wrap import Wrapped

            parts += ["", Wrapped(self.glyphs(footer), style="dim")]
        if self.display.plain:
            # Linear text for screen readers: a label line, then the text.
            return Group(Text(title + ":", style="bold"), *parts)
        return Panel(
            Group(*parts),
            title=Text(f" {title} ", style=f"bold {colour}"),
            title_align="left",
            border_style=colour,
            box=box.DOUBLE if colour == "yellow" else box.ROUNDED,
            padding=(0, 1),
        )

    def _see(self, block: SeeBlock) -> Text:
        target = self.resolve_see(block) if self.resolve_see else None
        if target is None:
            line = _("See the lesson “{lesson}”.").format(lesson=block.lesson)
        elif target.step_title is None:
            line = _("See lesson {number}, “{lesson}”.").format(
                number=target.number, lesson=pick(target.lesson_title)
            )
        else:
            line = _("See lesson {number}, “{lesson}”, step “{step}”.").format(
                number=target.number, lesson=pick(target.lesson_title), step=pick(target.step_title)
            )
        arrow = "" if self.display.plain else "→ "
        return self.inline(self.glyphs(arrow) + line, style="" if self.display.plain else "cyan")


class Hanging:
    """A list item: the marker, then the text, its wrapped lines indented under the text's start."""

    def __init__(self, prefix: str, body: Text) -> None:
        self.prefix = prefix
        self.body = body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment

        indent = len(self.prefix)
        lines = console.render_lines(
            self.body, options.update_width(max(options.max_width - indent, 1)), pad=False
        )
        for number, line in enumerate(lines):
            yield Segment(self.prefix if number == 0 else " " * indent)
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        inner = Measurement.get(console, options, self.body)
        return Measurement(inner.minimum + len(self.prefix), inner.maximum + len(self.prefix))


def _runs_by_level(items: list[_Item]) -> Iterator[tuple[int, list[_Item]]]:
    """Consecutive list items of the same nesting level."""
    run: list[_Item] = []
    for item in items:
        if run and item.level != run[0].level:
            yield run[0].level, run
            run = []
        run.append(item)
    if run:
        yield run[0].level, run
