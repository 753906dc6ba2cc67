"""Fit lines to a width: prose breaks between words, tool output between arguments; identifiers are never split.

Every screen that prints something a terminal could wrap goes through here, so the terminal never
has to: a line the terminal wraps breaks wherever the width falls, often inside a chain name or an
address. Two kinds of line:

- prose (:func:`wrap_words`, :func:`print_wrapped`): break at ordinary spaces; continuation lines get a
  hanging indent. A no-break space (Babel puts them in Russian numbers: "1 000", "47 %") is never a
  break, nor is a space inside a ``keep`` phrase (a command the learner types) that fits on a line;
- tool output (:func:`wrap_rule`): an ``iptables-save`` rule, an ``nft`` statement or an ``ipvsadm``
  row breaks before an argument (``-m …``, ``-j …``, ``--comment …``) where it can, else at a space;
  continuation lines start with :data:`CONTINUATION`, so a learner can tell one long rule from two.

A token that fits the whole width but not after a continuation line's indent (a 39-character
IPv6 mask at 40 columns) gets a line of its own with less indent (for tool output: a shorter mark,
or none). Only a single token wider than the whole line is cut (at a character boundary): nothing
else could show it, and the terminal would cut it anyway.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from kproxy_tutor.ui.console import glyphs

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.measure import Measurement
    from rich.segment import Segment
    from rich.text import Text

#: Starts each continuation line of a wrapped tool-output line (ASCII terminals get ``>``).
CONTINUATION = "↪ "
ASCII_CONTINUATION = "> "
#: Continuation lines of tool output are indented by this much before the mark.
RULE_INDENT = 2
#: Where a word wider than a whole line is cut, if it holds one of these (after the character).
SEPARATORS = ("/", "-", "_", ".", ":", ",")


def continuation_mark() -> str:
    """The continuation mark for this terminal (``↪ `` or, without Unicode, ``> ``)."""
    mark = glyphs(CONTINUATION)
    return mark if mark == CONTINUATION else ASCII_CONTINUATION


def _as_text(line: Text | str, style: str = "") -> Text:
    from rich.text import Text

    return line.copy() if isinstance(line, Text) else Text(line, style=style)


def _cells(text: str) -> list[int]:
    """Cumulative cell widths: ``out[i]`` is the width of ``text[:i]``."""
    if text.isascii():  # one cell per character
        return list(range(len(text) + 1))
    from rich.cells import get_character_cell_size

    out = [0]
    for ch in text:
        out.append(out[-1] + get_character_cell_size(ch))
    return out


def _token_spans(plain: str, starts: set[int]) -> list[tuple[int, int]]:
    """``(start, end)`` of the pieces between break points: a piece starts at each index in ``starts``."""
    bounds = sorted(i for i in starts if 0 < i < len(plain))
    spans, begin = [], 0
    for b in bounds:
        spans.append((begin, b))
        begin = b
    spans.append((begin, len(plain)))
    return spans


def _word_starts(plain: str) -> set[int]:
    # Only an ordinary space is a break: no-break spaces (U+00A0, U+202F, U+2007) never are.
    return {i for i in range(1, len(plain)) if plain[i] != " " and plain[i - 1] == " "}


def _without_kept(starts: set[int], plain: str, keep: Sequence[str], room: int) -> set[int]:
    """``starts`` minus the break points inside each ``keep`` phrase that fits in ``room`` cells."""
    for phrase in keep:
        if " " not in phrase or len(phrase) > room:
            continue
        at = plain.find(phrase)
        while at >= 0:
            starts -= set(range(at + 1, at + len(phrase)))
            at = plain.find(phrase, at + len(phrase))
    return starts


def _argument_starts(plain: str) -> set[int]:
    """Where an argument of a rule begins: a token starting with ``-`` (``-m``, ``-j``, ``--comment``)."""
    quoted, inside = set(), False
    for i, ch in enumerate(plain):
        if ch == '"':
            inside = not inside
        elif inside:
            quoted.add(i)
    starts = sorted(
        i
        for i in _word_starts(plain)
        if plain[i] == "-" and i not in quoted and not plain[i + 1 : i + 2].isdigit()
    )
    # A match module's first option stays with it: "-m comment --comment …", "-m tcp --dport …".
    words = _word_starts(plain)
    kept = set()
    for a, b in itertools.pairwise(starts):
        if plain.startswith("-m ", a) and plain.startswith("--", b):
            between = [w for w in words if a < w < b]
            if len(between) == 1:  # only the module's name lies between them
                kept.add(b)
    # A negation goes with the argument it negates: "! -s 10.244.0.0/16".
    return {i - 2 if plain[i - 2 : i] == "! " and (i - 2) in words else i for i in starts if i not in kept}


def _fill(
    text: Text, first: int, rest: int, coarse: set[int], fine: set[int], full: int = 0
) -> list[tuple[int, int]]:
    """Greedy line filling over ``text``: ``(start, end)`` of each line.

    Breaks at ``coarse`` points where the line fits; a piece wider than a line is broken at ``fine``
    points. A single word wider than its line but at most ``full`` cells (the width without any
    indent) is a line of its own, wider than ``first``/``rest`` (the caller gives it less indent);
    only a word wider than ``full`` is cut at a character.
    """
    full = max(full, first, rest)
    plain = text.plain
    cells = _cells(plain)

    def width(a: int, b: int) -> int:
        # Spaces at a break are dropped, so they do not count against the line.
        while b > a and plain[b - 1] == " ":
            b -= 1
        return cells[b] - cells[a]

    lines: list[tuple[int, int]] = []
    start = 0
    room = first
    pieces = _token_spans(plain, coarse)
    i = 0
    while i < len(pieces):
        a, b = pieces[i]
        if a != start and width(start, b) > room and width(a, b) <= rest:
            lines.append((start, a))
            start, room = a, rest
            continue
        if width(start, b) <= room:
            i += 1
            continue
        # A piece wider than any line: go on filling this line with its fine pieces (words),
        # and break a single word wider than a line at characters.
        inner = _token_spans(plain[a:b], {f - a for f in fine if a < f < b})
        cut = start
        for ia, ib in inner:
            ia, ib = ia + a, ib + a
            # A word that does not fit starts a new line, even one too wide for any line: its cut
            # then falls inside it, never at a separator of an earlier word ("node-|local").
            if ia != cut and width(cut, ib) > room:
                lines.append((cut, ia))
                cut, room = ia, rest
            if width(cut, ib) > room and width(cut, ib) <= full:
                # Whole on a line of its own, with less indent than the others.
                lines.append((cut, ib))
                cut, room = ib, rest
                continue
            while width(cut, ib) > room:
                end = cut + 1
                while end < ib and cells[end + 1] - cells[cut] <= room:
                    end += 1
                # A word that must be cut is cut after a separator if it has one (``default/`` |
                # ``web/tcp/…``): the pieces stay readable parts of the name.
                split = max((plain.rfind(sep, cut + 1, end) for sep in SEPARATORS), default=-1)
                if split > cut and end < ib:
                    end = split + 1
                    # Not inside a run of one separator (``tcp/_`` | ``_fd00…``): before the run.
                    run = split
                    while run - 1 > cut and plain[run - 1] == plain[split]:
                        run -= 1
                    if plain[end] == plain[split] and run > cut:
                        end = run
                lines.append((cut, end))
                cut, room = end, rest
        start = cut
        i += 1
    lines.append((start, len(plain)))
    kept = [(a, b) for a, b in lines if a < b]
    return kept or [(0, 0)]


def _strip_end(text: Text) -> Text:
    text.rstrip()
    return text


def wrap_words(
    line: Text | str,
    width: int,
    *,
    indent: int = 0,
    hanging: int | None = None,
    style: str = "",
    keep: Sequence[str] = (),
) -> list[Text]:
    """Prose broken between words into lines of at most ``width`` cells.

    ``indent`` spaces start the first line and ``hanging`` (default ``indent``) the others. A line
    break in ``line`` starts a new line (with the hanging indent). No-break spaces and the spaces
    inside a ``keep`` phrase that fits on a line are never broken.
    """
    from rich.text import Text

    text = _as_text(line, style)
    hang = indent if hanging is None else hanging
    if "\n" in text.plain:
        out: list[Text] = []
        for n, part in enumerate(text.split("\n", allow_blank=True)):
            out += wrap_words(part, width, indent=indent if n == 0 else hang, hanging=hang, keep=keep)
        return out
    first, rest = max(width - indent, 1), max(width - hang, 1)
    if text.cell_len <= first:  # it fits: one line
        piece = _strip_end(text)
        return [Text(" " * indent) + piece if indent else piece]
    words = _without_kept(_word_starts(text.plain), text.plain, keep, min(first, rest))
    out = []
    for n, (a, b) in enumerate(_fill(text, first, rest, words, words, full=max(width, 1))):
        piece = _strip_end(text[a:b])
        # A word too wide for the indent takes only what indent is left over.
        pad = max(0, min(indent if n == 0 else hang, width - piece.cell_len))
        out.append(Text(" " * pad) + piece if pad else piece)
    return out or [Text(" " * indent)]


def print_wrapped(
    console: Console,
    text: str | Text,
    style: str = "",
    indent: int = 0,
    hanging: int = 0,
    keep: Sequence[str] = (),
) -> None:
    """Print ``text`` wrapped to the console's width (:func:`wrap_words`).

    ``indent`` spaces start every line; continuation lines get ``hanging`` more.
    """
    width = max(console.width, indent + hanging + 20)
    for line in wrap_words(text, width, indent=indent, hanging=indent + hanging, style=style, keep=keep):
        console.print(line, soft_wrap=True)


def wrap_rule(
    line: Text | str, width: int, *, prefix: Text | str = "", style: str = "", indent: int = RULE_INDENT
) -> list[Text]:
    """A tool-output line broken between its arguments into lines of at most ``width`` cells.

    ``prefix`` (for example a diff's ``+ `` gutter) starts every line; continuation lines then get
    ``indent`` spaces (default :data:`RULE_INDENT`) and the continuation mark.
    """
    from rich.text import Text

    text = _as_text(line, style)
    if "\t" in text.plain:  # nft indents with tabs: measure what the terminal shows
        text.expand_tabs(8)
    head = _as_text(prefix)
    if head.cell_len + text.cell_len <= width:  # most lines fit: no need to look for break points
        return [head + _strip_end(text)]
    mark = Text(" " * indent + continuation_mark(), style="dim")
    first = max(width - head.cell_len, 1)
    rest = max(width - head.cell_len - mark.cell_len, 1)
    plain = text.plain
    out: list[Text] = []
    spans = _fill(text, first, rest, _argument_starts(plain), _word_starts(plain), full=first)
    for n, (a, b) in enumerate(spans):
        piece = _strip_end(text[a:b])
        out.append(head + piece if n == 0 else head + _mark_for(mark, first - piece.cell_len) + piece)
    return out or [head.copy()]


def _mark_for(mark: Text, room: int) -> Text:
    """The continuation mark in at most ``room`` cells: less indent first, then the bare arrow, then nothing."""
    from rich.text import Text

    if mark.cell_len <= room:
        return mark
    shown = _mark_in(mark.plain, room)
    return Text(shown, style=mark.style) if shown else Text("")


def _mark_in(mark: str, room: int) -> str:
    """:func:`_mark_for` for a plain string."""
    from rich.cells import cell_len

    if cell_len(mark) <= room:
        return mark
    arrow = mark.lstrip(" ")
    if cell_len(arrow) <= room:
        return " " * (room - cell_len(arrow)) + arrow
    return ""


def keeps_tokens(line: Text | str, pieces: list[Text]) -> bool:
    """Whether ``pieces`` (from :func:`wrap_rule`) hold every space-separated token of ``line`` whole."""
    original = (line.plain if not isinstance(line, str) else line).split()
    marks = (CONTINUATION.strip(), ASCII_CONTINUATION.strip())
    shown: list[str] = []
    for number, piece in enumerate(pieces):
        words = piece.plain.split()
        if number and words and words[0] in marks:
            words = words[1:]
        shown += words
    return shown == original


def fits(lines: list[Text] | list[str], width: int) -> bool:
    """Whether every line is at most ``width`` cells wide (for tests and assertions)."""
    from rich.cells import cell_len

    return all(cell_len(line if isinstance(line, str) else line.plain) <= width for line in lines)


class Wrapped:
    """Prose that :func:`wrap_words` fits to whatever width it is rendered at (inside a panel, say).

    Rich folds a word wider than the line at any character; this cuts it after a separator
    (``…/kubernetes/`` | ``blob/v1.35.0/…``), so a long URL breaks where it still reads as one.
    """

    def __init__(self, text: Text | str, style: str = "") -> None:
        self.text = _as_text(text, style)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment

        for line in wrap_words(self.text, max(options.max_width, 1)):
            yield from line.render(console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        widest = max((len(word) for word in self.text.plain.split()), default=1)
        return Measurement(min(widest, options.max_width), min(self.text.cell_len, options.max_width))


def wrap_rule_plain(text: str, width: int, indent: int = RULE_INDENT) -> list[str]:
    """:func:`wrap_rule` for a plain ASCII string, as strings: the same lines, found with string
    searches and arithmetic (a big node's explanation wraps about 170,000 rules).

    Anything but printable ASCII words between single spaces, and a word wider than the whole
    width, go through :func:`wrap_rule` itself.
    """
    plain = text.isascii() and text.isprintable()
    if plain and len(text) <= width:
        return [text.rstrip()]
    if not plain or "  " in text or text[0] == " ":
        return [piece.plain for piece in wrap_rule(text, width, indent=indent)]
    text = text.rstrip(" ")
    mark = " " * indent + continuation_mark()
    first = max(width, 1)
    spans = _rule_spans(text, first, max(width - len(mark), 1))
    if spans is None:
        return [piece.plain for piece in wrap_rule(text, width, indent=indent)]
    out = [text[spans[0][0] : spans[0][1]]]
    for a, b in spans[1:]:
        piece = text[a:b]
        room = first - len(piece)  # the mark's characters are one cell each
        out.append((mark if len(mark) <= room else _mark_in(mark, room)) + piece)
    return out


def _rule_spans(text: str, first: int, rest: int) -> list[tuple[int, int]] | None:
    """:func:`_fill`'s lines for single-spaced printable ASCII (no space at either end), or None
    where a word wider than ``first`` would have to be cut. A span a..b ends before the space:
    its width is b - a. The arguments that fit a line are found with one bisection."""
    size = len(text)
    bounds = _fast_argument_starts(text)
    last = len(bounds)
    bounds.append(size)
    lines: list[tuple[int, int]] = []
    # The line holds start..a-1; the next argument is a..bounds[k] (bounds[k - 1] == a).
    start, room, a, k = 0, first, 0, 0
    while size - start > room:
        j = bisect.bisect_right(bounds, start + room + 1, k, last) - 1
        if j >= k:  # the arguments up to bounds[j] fit; the one there does not
            a, k = bounds[j], j + 1
        # The argument a..bounds[k] does not fit on this line.
        end = bounds[k] - 1 if k < last else size
        if a != start and end - a <= rest:
            lines.append((start, a - 1))
            start, room = a, rest
            continue
        # Wider than any line: its words fill this line and the next ones.
        cut, word, b = start, a, bounds[k]
        while word < b:
            space = text.find(" ", word, b)
            stop = space if space >= 0 else end  # the word is word..stop
            if word != cut and stop - cut > room:
                lines.append((cut, word - 1))
                cut, room = word, rest
            if stop - cut > room:
                if stop - cut > first:
                    return None  # cut inside the word: wrap_rule's own way
                lines.append((cut, stop))
                cut, room = stop + 1, rest
            word = stop + 1
        start, a, k = cut, b, k + 1
    lines.append((start, size))
    return [(x, y) for x, y in lines if x < y] or [(0, 0)]


#: Where an argument may start in a rule: after a space, a "-" not followed by a digit.
_ARGUMENT = re.compile(r"(?<= )-(?![0-9])")


def _fast_argument_starts(plain: str) -> list[int]:
    """:func:`_argument_starts` for printable ASCII, sorted, with searches instead of a loop per character."""
    starts = [m.start() for m in _ARGUMENT.finditer(plain)]
    at = plain.find('"')
    while at >= 0 and starts:
        end = plain.find('"', at + 1)
        closing = end if end >= 0 else len(plain)
        starts = [s for s in starts if not at < s < closing]
        at = plain.find('"', end + 1) if end >= 0 else -1
    if "-m " in plain:
        # A match module's first option stays with it: "-m comment --comment …".
        kept = [
            b
            for a, b in itertools.pairwise(starts)
            if plain.startswith("-m ", a) and plain.startswith("--", b) and plain.count(" ", a, b) == 2
        ]
        if kept:
            starts = [s for s in starts if s not in kept]
    if "! -" in plain:
        # A negation goes with the argument it negates: "! -s 10.244.0.0/16".
        starts = [s - 2 if s >= 3 and plain[s - 3 : s] == " ! " else s for s in starts]
    return starts
