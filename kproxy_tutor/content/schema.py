"""The lesson schema as typed records: what a loaded lesson looks like to the engine and the UI.

The records are NamedTuples rather than frozen dataclasses: they are as immutable and typed, and
creating the classes costs a fifth of the time, which counts when a learner opens a lesson.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

#: A text a learner reads, in every language: ``{"ru": "…", "en": "…"}``.
Bilingual = Mapping[str, str]

LANGUAGES = ("ru", "en")
#: Languages a code block may be tagged with (the renderer has a highlighter for each).
CODE_LANGS = ("bash", "yaml", "json", "text", "iptables", "nft", "ipvsadm", "ini")
#: Longest diagram line, so a diagram fits in 80 columns with a margin.
DIAGRAM_MAX_WIDTH = 76
#: Besides ASCII and Cyrillic, only these single-width glyphs, each with a one-character ASCII fallback.
DIAGRAM_EXTRA_CHARS = frozenset("→←↓↑↔─│┌┐└┘├┤┬┴┼")


class TextBlock(NamedTuple):
    """Prose in the Markdown subset (paragraphs, lists, **bold**, *italic*, `code`)."""

    text: Bilingual
    line: int = 0


class CodeBlock(NamedTuple):
    """A command, manifest or rule dump; language-neutral code has the same text in both languages."""

    code: Bilingual
    lang: str
    line: int = 0


class DiagramBlock(NamedTuple):
    """A monospace drawing, printed exactly as written."""

    diagram: Bilingual
    caption: Bilingual | None = None
    line: int = 0
    #: Line of the first drawing line per language, so `dev check` can name the exact line.
    first_lines: Mapping[str, int] = MappingProxyType({})


class TableBlock(NamedTuple):
    """Columns per language; each cell is bilingual (a plain string is the same in both)."""

    columns: Mapping[str, tuple[str, ...]]
    rows: tuple[tuple[Bilingual, ...], ...]
    line: int = 0


class UpdateBlock(NamedTuple):
    """Where the course is outdated: the current state of things, and where that is documented."""

    text: Bilingual
    source: str
    line: int = 0


class NoteBlock(NamedTuple):
    """A side note: a tip or a warning."""

    text: Bilingual
    line: int = 0


class SeeBlock(NamedTuple):
    """A cross-reference to another lesson, or to one of its steps."""

    lesson: str
    step: str | None = None
    line: int = 0


class ExerciseCheck(NamedTuple):
    """One declarative check of an exercise: its kind (``service_exists``…) and parameters.

    ``params`` is a plain dict (not a mapping proxy) so parsed lessons can be pickled into the cache.
    """

    kind: str
    params: Mapping[str, object]
    line: int = 0


class ExerciseBlock(NamedTuple):
    """A sandbox exercise: a prepared cluster, a task, and checks run on the sandbox's state."""

    id: str
    scenario: str
    task: Bilingual
    checks: tuple[ExerciseCheck, ...]
    #: Exactly three: a nudge, a pointer, then the command.
    hints: tuple[Bilingual, ...]
    #: Shell commands that solve it (``kubectl apply -f -`` may take YAML lines up to ``EOF``).
    solution: tuple[str, ...]
    debrief: Bilingual
    #: Shell commands run on the scenario before the learner starts (to prepare the cluster).
    setup: tuple[str, ...] = ()
    #: The node the learner starts on (default: the scenario's).
    node: str | None = None
    line: int = 0


Block = TextBlock | CodeBlock | DiagramBlock | TableBlock | UpdateBlock | NoteBlock | SeeBlock | ExerciseBlock


class Step(NamedTuple):
    """One screen of a lesson."""

    id: str
    title: Bilingual
    blocks: tuple[Block, ...]
    line: int = 0


class Lesson(NamedTuple):
    """A lesson file: ``number`` is its place in course.yaml (1-based), ``slug`` its file name stem."""

    id: str
    title: Bilingual
    summary: Bilingual
    steps: tuple[Step, ...]
    number: int = 0
    slug: str = ""
    path: Path | None = None
    #: The exercise blocks of every step, in order (app.progress_summary counts them).
    exercises: tuple[ExerciseBlock, ...] = ()

    def step_index(self, step_id: str) -> int | None:
        """Position of the step with ``step_id``, or None."""
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        return None


class LessonEntry(NamedTuple):
    """One line of course.yaml: where the lesson is, before it is parsed."""

    number: int
    slug: str
    path: Path
    line: int = 0
