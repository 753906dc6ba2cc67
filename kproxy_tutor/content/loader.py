"""Load the course: course.yaml, then each lesson file only when it is needed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kproxy_tutor.content.schema import Lesson, LessonEntry
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, ContentError, UsageError

COURSE_FILE = "course.yaml"
FORMAT_VERSION = 1
# Lesson files are parsed one at a time, but resolving `learn modes` or a saved lesson id to a
# file must not parse all of them: the top-level id line is read with a regex instead.
_ID_LINE = re.compile(r"^id:[ \t]*([\"']?)([A-Za-z0-9_.-]+)\1[ \t]*(?:#.*)?$", re.MULTILINE)


def file_label(path: Path) -> str:
    """How problems name a content file: ``lessons/05-install.yaml``."""
    return f"{path.parent.name}/{path.name}"


@dataclass
class Findings:
    """Problems found in one file. Strict findings raise at the first problem (for learners)."""

    path: Path
    strict: bool = True
    problems: list[Problem] = field(default_factory=list)

    def add(self, at_line: int, field_path: str, message: str, /, **params: Any) -> None:
        location = f"{file_label(self.path)}:{at_line}" if at_line else file_label(self.path)
        if self.strict:
            raise ContentError(message, location=location, field=field_path, **params)
        pairs = (("field", field_path), *((k, str(v)) for k, v in params.items()))
        self.problems.append(Problem(location, message, pairs))


def _fast_loader() -> type | None:
    """A SafeLoader on libyaml that keeps line numbers: ten times faster than the pure one."""
    import yaml

    from kproxy_tutor.content import yamlio

    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None
    loader = type("_CLineLoader", (base,), {})
    # The constructors are yamlio's own, so both loaders build the same LineDict/LineList values.
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yamlio._construct_mapping)
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, yamlio._construct_sequence)
    return loader


_FAST: list[type | None] = []


def read_yaml(path: Path) -> Any:
    """Parse ``path`` with line numbers; a problem is a ContentError naming file and line."""
    import yaml

    from kproxy_tutor.content.yamlio import load_yaml

    if not _FAST:
        _FAST.append(_fast_loader())
    loader = _FAST[0]
    if loader is None:
        return load_yaml(path)
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        # Let the pure loader word the error (file:line), so it is worded in one place.
        try:
            return load_yaml(path)
        except ContentError as exc:
            # Name the file as every other content problem does: lessons/NN-slug.yaml:line.
            if exc.location and exc.location.startswith(str(path)):
                exc.location = file_label(path) + exc.location[len(str(path)) :]
            raise


def parse_course_file(directory: Path, findings: Findings) -> tuple[LessonEntry, ...]:
    """The lessons listed in course.yaml, in order."""
    from kproxy_tutor.content.yamlio import line_of

    path = directory / COURSE_FILE
    data = read_yaml(path)
    if not isinstance(data, dict):
        findings.add(1, "course", N_("{field}: expected a map with format_version and lessons."))
        return ()
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        findings.add(
            line_of(data, "format_version"),
            "format_version",
            N_("{field}: unsupported format version {value!r}; this tutor reads version {expected}."),
            value=version,
            expected=FORMAT_VERSION,
        )
    for key in data:
        if key not in ("format_version", "lessons"):
            findings.add(line_of(data, key), str(key), N_("{field}: unknown field."))
    slugs = data.get("lessons")
    if not isinstance(slugs, list) or not slugs:
        findings.add(line_of(data, "lessons"), "lessons", N_("{field}: expected a non-empty list."))
        return ()
    entries: list[LessonEntry] = []
    seen: dict[str, int] = {}
    for index, slug in enumerate(slugs):
        line = line_of(slugs, index)
        where = f"lessons[{index}]"
        if not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
            findings.add(line, where, N_("{field}: expected a file name without .yaml, like 01-role."))
            continue
        if slug in seen:
            findings.add(
                line,
                where,
                N_("{field}: {id!r} is listed twice (first at line {line})."),
                id=slug,
                line=seen[slug],
            )
            continue
        seen[slug] = line
        entries.append(
            LessonEntry(number=len(entries) + 1, slug=slug, path=directory / f"{slug}.yaml", line=line)
        )
    return tuple(entries)


def parse_lesson_file(entry: LessonEntry, findings: Findings) -> Lesson | None:
    """Parse and validate one lesson file (None when it is too broken to use)."""
    from kproxy_tutor.content.parse import parse_lesson

    data = read_yaml(entry.path)
    return parse_lesson(data, entry, findings)


class Course:
    """The course in order. Lessons are parsed on first use and kept for the rest of the run."""

    def __init__(self, directory: Path, entries: tuple[LessonEntry, ...]) -> None:
        self.directory = directory
        self.entries = entries
        self._lessons: dict[int, Lesson] = {}
        self._ids: dict[int, str | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def lesson(self, number: int) -> Lesson:
        """The lesson at ``number`` (1-based), parsed strictly: a problem raises ContentError."""
        if number not in self._lessons:
            from kproxy_tutor.content.cache import cached

            entry = self.entries[number - 1]
            lesson = cached(
                entry.path, repr(tuple(entry)), lambda: parse_lesson_file(entry, Findings(entry.path))
            )
            assert lesson is not None  # strict findings raise instead of returning None
            self._lessons[number] = lesson
            self._ids[number] = lesson.id
        return self._lessons[number]

    def step_count(self, number: int) -> int:
        return len(self.lesson(number).steps)

    @property
    def lessons(self) -> list[Lesson]:
        """Every lesson (parses all of them: for lists, not for showing one lesson)."""
        return [self.lesson(entry.number) for entry in self.entries]

    def lesson_id(self, number: int) -> str | None:
        """The id of lesson ``number`` read from its ``id:`` line, without parsing the file."""
        if number not in self._ids:
            try:
                text = self.entries[number - 1].path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            match = _ID_LINE.search(text)
            self._ids[number] = match.group(2) if match else None
        return self._ids[number]

    def number_of(self, lesson_id: str) -> int | None:
        """The number of the lesson with ``lesson_id``, or None."""
        for entry in self.entries:
            if self.lesson_id(entry.number) == lesson_id:
                return entry.number
        return None

    def find(self, key: str) -> int:
        """Resolve what a learner typed (``4``, ``modes`` or ``04-modes``) to a lesson number."""
        key = key.strip()
        if key.isascii() and key.isdigit() and len(key) <= 6 and 1 <= int(key) <= len(self.entries):
            return int(key)
        for entry in self.entries:
            if key == entry.slug:
                return entry.number
        number = self.number_of(key)
        if number is not None:
            return number
        valid = ", ".join(f"{e.number} {self.lesson_id(e.number) or e.slug}" for e in self.entries)
        from kproxy_tutor.suggest import close_match

        names = [
            *(e.slug for e in self.entries),
            *(i for e in self.entries if (i := self.lesson_id(e.number))),
        ]
        suggestion = close_match(key, names)
        if suggestion is not None:
            raise UsageError(
                N_("There is no lesson {key!r}. Did you mean {suggestion!r}?"), key=key, suggestion=suggestion
            )
        raise UsageError(N_("There is no lesson {key!r}. Lessons: {lessons}."), key=key, lessons=valid)

    def find_step(self, number: int, key: str) -> int:
        """Resolve ``--step`` (``8`` or a step id such as ``conntrack``) in lesson ``number`` to a 0-based index."""
        lesson = self.lesson(number)
        key = key.strip()
        count = len(lesson.steps)
        if key.isascii() and key.isdigit() and len(key) <= 6:
            if 1 <= int(key) <= count:
                return int(key) - 1
            raise UsageError(
                N_("Lesson {number} has steps 1 to {count}: there is no step {key}."),
                number=number,
                count=count,
                key=key,
            )
        index = lesson.step_index(key)
        if index is not None:
            return index
        from kproxy_tutor.suggest import close_match

        ids = [step.id for step in lesson.steps]
        suggestion = close_match(key, ids)
        if suggestion is not None:
            raise UsageError(
                N_("Lesson {number} has no step {key!r}. Did you mean {suggestion!r}?"),
                number=number,
                key=key,
                suggestion=suggestion,
            )
        raise UsageError(
            N_("Lesson {number} has no step {key!r}. Its steps: 1 to {count}, or {ids}."),
            number=number,
            key=key,
            count=count,
            ids=", ".join(ids),
        )


_COURSES: dict[Path, Course] = {}


def load_course(directory: Path | None = None) -> Course:
    """The course in ``directory`` (default: the shipped lessons), read once per process."""
    from kproxy_tutor.resources import lessons_dir

    directory = (directory or lessons_dir()).resolve()
    if directory not in _COURSES:
        from kproxy_tutor.content.cache import cached

        course_path = directory / COURSE_FILE
        entries = cached(
            course_path, str(directory), lambda: parse_course_file(directory, Findings(course_path))
        )
        _COURSES[directory] = Course(directory, entries)
    return _COURSES[directory]


def forget_courses() -> None:
    """Drop the per-process cache (tests, and `dev check` after files changed)."""
    _COURSES.clear()
