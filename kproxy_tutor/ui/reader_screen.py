"""The full-screen reader's layout, terminal-free: a step as lines that fit a width, and the frame shown.

A step is laid out once per width and language into :class:`Line` records (rich segments), so the
same lines serve the first paint, the prompt_toolkit screen and the screen-fit tests. Every line is
at most the width, except a diagram line wider than the screen: it is never wrapped (that would
break the drawing) but shown through a sideways window (``←``/``→``), with a mark at the cut edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from kproxy_tutor.content.schema import CodeBlock, DiagramBlock, Lesson
from kproxy_tutor.i18n import _, ngettext, pick
from kproxy_tutor.ui.lesson_view import CODE_INDENT, LessonView
from kproxy_tutor.ui.wrap import ASCII_CONTINUATION, CONTINUATION, wrap_rule, wrap_words

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.segment import Segment
    from rich.text import Text

#: Below this the reader still draws, but the body gets no more than what is left.
MIN_BODY_ROWS = 3
#: Cells of the progress bar in the footer.
BAR_CELLS = 10
#: What starts the continuation of a wrapped code line (for tests and screen readers of the screen).
CONTINUATION_MARKS = (CONTINUATION.strip(), ASCII_CONTINUATION.strip())
#: How far one ←/→ press moves a wide diagram.
SIDE_STEP = 8


class Line(NamedTuple):
    """One screen row: rich segments and their width in cells; ``wide`` lines may exceed the width."""

    segments: tuple[Segment, ...]
    cells: int
    wide: bool = False

    @property
    def plain(self) -> str:
        return "".join(segment.text for segment in self.segments)


def text_line(text: Text, console: Console) -> Line:
    segments = tuple(segment for segment in text.render(console) if segment.text != "\n")
    return Line(segments, text.cell_len)


def render_lines(console: Console, renderable: RenderableType, width: int) -> list[Line]:
    """``renderable`` laid out by rich at ``width``: every row at most ``width`` cells."""
    from rich.segment import Segment

    options = console.options.update(width=width, max_width=width, min_width=width, no_wrap=False)
    out = []
    for row in console.render_lines(renderable, options, pad=False, new_lines=False):
        segments = tuple(Segment.simplify(s for s in row if s.text))
        out.append(Line(segments, Segment.get_line_length(list(segments))))
    # Trailing padding rich adds to panels and tables is part of the row; strip it from plain rows.
    return [_rstrip(line) for line in out]


def _rstrip(line: Line) -> Line:
    from rich.segment import Segment

    segments = list(line.segments)
    while segments and not segments[-1].text.strip() and segments[-1].style is None:
        segments.pop()
    if segments and segments[-1].style is None and segments[-1].text != segments[-1].text.rstrip():
        last = segments[-1]
        segments[-1] = Segment(last.text.rstrip(), last.style, last.control)
    return Line(tuple(segments), Segment.get_line_length(segments), line.wide)


@dataclass
class StepPage:
    """A laid-out step: the fixed header rows and the body rows that scroll."""

    header: list[Line]
    body: list[Line]
    width: int

    @property
    def has_wide(self) -> bool:
        return any(line.wide for line in self.body)

    @property
    def widest(self) -> int:
        return max((line.cells for line in self.body), default=0)


def header_texts(lesson: Lesson, index: int) -> tuple[str, str, str]:
    """The header's words, as the linear view prints them: lesson, step k of n, step title."""
    header = _("Lesson {number}. {title}").format(number=lesson.number, title=pick(lesson.title))
    counter = _("Step {k} of {n}").format(k=index + 1, n=len(lesson.steps))
    return header, counter, pick(lesson.steps[index].title)


def lay_out_step(view: LessonView, lesson: Lesson, index: int, width: int) -> StepPage:
    """Lesson ``index``'s step at ``width``: header rows and body rows (diagrams may be ``wide``)."""
    from rich.text import Text

    console = view.console
    dim = "" if view.display.plain else "dim"
    header_words, counter, title = header_texts(lesson, index)
    first = view.inline(header_words, style=dim)
    count = view.inline(counter, style=dim)
    if first.cell_len + 2 + count.cell_len <= width:
        header = render_lines(console, first + Text("  ") + count, width)
    else:
        # "Step 4 of 13" is never broken: it goes on a line of its own.
        header = render_lines(console, first, width) + render_lines(console, count, width)
    header += render_lines(console, view.inline(title, style="bold"), width)
    body: list[Line] = []
    for block in lesson.steps[index].blocks:
        if body:
            body.append(Line((), 0))
        if isinstance(block, CodeBlock):
            body += code_lines(view, block, width)
        elif isinstance(block, DiagramBlock):
            body += diagram_lines(view, block, width)
        else:
            for renderable, _options in view.block_renderables(block):
                body += render_lines(console, renderable if renderable != "" else Text(), width)
    return StepPage(header, body, width)


def code_lines(view: LessonView, block: CodeBlock, width: int) -> list[Line]:
    """A code block, each line broken between its arguments with the continuation mark."""
    from rich.text import Text

    from kproxy_tutor.ui.highlight import highlight

    code = view.glyphs(pick(block.code))
    styled = Text(code) if view.display.plain else highlight(code, block.lang)
    out = []
    for line in styled.split("\n", allow_blank=True):
        pieces = fit_code_line(line, width)
        if pieces is None:
            # A name wider than the screen (an nftables endpoint chain at 40 columns): the line
            # stays whole and is read through the sideways window, like a wide diagram.
            whole = text_line(Text(" " * CODE_INDENT) + line, view.console)
            out.append(whole._replace(wide=True))
        else:
            out += [text_line(piece, view.console) for piece in pieces]
    return out


def fit_code_line(line: Text, width: int) -> list[Text] | None:
    """One code line in ``width``: indented, broken between arguments; less indent if a token needs it.

    At 40 columns a long selector (``kubernetes.io/service-name=db-service``) does not fit after the
    block's indent and the continuation mark's; giving up the indents keeps it whole.
    """
    from rich.text import Text

    from kproxy_tutor.ui.wrap import keeps_tokens

    pieces: list[Text] = []
    for indent, rule_indent in ((CODE_INDENT, 2), (0, 2), (0, 0)):
        pieces = [Text(" " * indent) + p for p in wrap_rule(line, max(width - indent, 1), indent=rule_indent)]
        if keeps_tokens(line, pieces):
            return pieces
    return None


def diagram_lines(view: LessonView, block: DiagramBlock, width: int) -> list[Line]:
    """A drawing exactly as written; lines wider than ``width`` are marked for sideways scrolling."""
    from rich.cells import cell_len
    from rich.text import Text

    drawing = view.glyphs(pick(block.diagram))
    rows = drawing.split("\n")
    widest = max((cell_len(row) for row in rows), default=0) + CODE_INDENT
    out = []
    if widest > width:
        note = ngettext(
            "The diagram is {width} column wide: ← and → move it sideways.",
            "The diagram is {width} columns wide: ← and → move it sideways.",
            widest,
        ).format(width=widest)
        out += [text_line(t, view.console) for t in wrap_words(Text(note, style="dim italic"), width)]
    for row in rows:
        text = Text(" " * CODE_INDENT + row)
        line = text_line(text, view.console)
        out.append(line._replace(wide=line.cells > width))
    if block.caption:
        out += render_lines(view.console, view.inline(pick(block.caption), style="italic"), width)
    return out


# -- the frame ---------------------------------------------------------------------------------


@dataclass
class Position:
    """Where the reader is in the course, for the footer."""

    lesson: int
    lessons: int
    step: int  # 0-based
    steps: int


def progress_bar(done: int, total: int, cells: int = BAR_CELLS, ascii_only: bool = False) -> str:
    filled = round(cells * done / total) if total else cells
    full, empty = ("#", ".") if ascii_only else ("█", "░")
    return full * filled + empty * (cells - filled)


def footer_texts(
    position: Position, top: int, rows: int, total: int, keys: list[str], ascii_only: bool
) -> list[str]:
    """The footer's two parts: where you are, and the keys."""
    where = _("Lesson {n} of {total}").format(n=position.lesson, total=position.lessons)
    step = _("step {k} of {n}").format(k=position.step + 1, n=position.steps)
    bar = progress_bar(position.step + 1, position.steps, ascii_only=ascii_only)
    last = min(top + rows, total)
    if total > rows:
        lines = _("lines {first}-{last} of {total}").format(first=top + 1, last=last, total=total)
        more = " ↓" if last < total else ""
        where_line = f"{where}, {step} {bar} · {lines}{more}"
    else:
        where_line = f"{where}, {step} {bar}"
    return [where_line, "\u00a0· ".join(keys)]


def crop(line: Line, left: int, width: int, ascii_only: bool = False) -> Line:
    """A wide line seen through a window ``width`` cells wide starting at cell ``left``.

    The cut edges show ``‹``/``›`` so a learner knows there is more of the drawing that way.
    """
    from rich.segment import Segment

    if line.cells <= width and left == 0:
        return line
    more_left, more_right = ("<", ">") if ascii_only else ("‹", "›")
    segments = list(line.segments)
    _before, window = Segment.divide(segments, [left, line.cells])
    window_cells = Segment.get_line_length(window)
    has_right = window_cells > width
    room = width - (1 if left else 0) - (1 if has_right else 0)
    shown = next(iter(Segment.divide(window, [room]))) if room > 0 else []
    out = ([Segment(more_left, None)] if left else []) + shown
    if has_right:
        out.append(Segment(more_right, None))
    return Line(tuple(out), Segment.get_line_length(out), wide=False)


def fit_footer(texts: list[str], width: int, console: Console) -> list[Line]:
    from rich.text import Text

    out = []
    for text in texts:
        out += [text_line(t, console) for t in wrap_words(Text(text, style="dim"), width, hanging=2)]
    return out


def rule(width: int, console: Console, ascii_only: bool) -> Line:
    from rich.text import Text

    return text_line(Text(("-" if ascii_only else "─") * width, style="dim"), console)


def frame(
    page: StepPage,
    footer: list[Line],
    height: int,
    top: int,
    left: int,
    console: Console,
    ascii_only: bool = False,
) -> list[Line]:
    """The rows of the screen: header, a rule, the body window from ``top``, a rule, the footer."""
    width = page.width
    rows = body_rows(page, footer, height)
    out = [*page.header, rule(width, console, ascii_only)]
    for line in page.body[top : top + rows]:
        out.append(crop(line, left, width, ascii_only) if line.wide else line)
    out += [Line((), 0)] * (rows - len(page.body[top : top + rows]))
    out += [rule(width, console, ascii_only), *footer]
    return out[:height] if height > 0 else out


def body_rows(page: StepPage, footer: list[Line], height: int) -> int:
    """Rows left for the body once header, the two rules and footer are drawn."""
    return max(height - len(page.header) - len(footer) - 2, MIN_BODY_ROWS)


def clamp_top(top: int, total: int, rows: int) -> int:
    return max(0, min(top, max(total - rows, 0)))


# -- output ------------------------------------------------------------------------------------


def ansi(line: Line, color: bool) -> str:
    """One row as ANSI text (colour dropped under NO_COLOR; bold and italic stay)."""
    from rich.color import ColorSystem

    out = []
    for segment in line.segments:
        # No-break spaces only hold words together while wrapping; prompt_toolkit would mark them.
        text = segment.text.replace("\u00a0", " ")
        style = segment.style
        if style is None:
            out.append(text)
            continue
        if not color:
            style = style.without_color
        out.append(style.render(text, color_system=ColorSystem.STANDARD))
    return "".join(out)


def frame_ansi(lines: list[Line], color: bool) -> str:
    return "\n".join(ansi(line, color) for line in lines)


#: Back to the normal screen with a visible cursor (what :func:`paint` changed).
RESTORE = "\x1b[?25h\x1b[?1049l"


def paint(write: Callable[[str], object], lines: list[Line], color: bool) -> None:
    """Draw a frame on the alternate screen directly (the first paint, before the toolkit loads)."""
    write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")
    write("\r\n".join(ansi(line, color) for line in lines))


def iter_plain(lines: list[Line]) -> Iterator[str]:
    for line in lines:
        yield line.plain
