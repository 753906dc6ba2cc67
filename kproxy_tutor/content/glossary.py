"""The course glossary (``lessons/glossary.yaml``): one term per concept, in both languages.

Loading gives typed records; :func:`check_glossary` is the `dev check` part: every term is taught
in a step that exists, the variants the glossary rejects appear nowhere in the Russian texts of the
lessons, quizzes and UI catalog, and no quiz question uses a term before the lesson that teaches it.
:func:`find_term`, :func:`suggestions` and :func:`search_lessons` serve the ``glossary`` and
``search`` commands.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from kproxy_tutor.content.schema import (
    LANGUAGES,
    Bilingual,
    DiagramBlock,
    ExerciseBlock,
    Lesson,
    NoteBlock,
    TableBlock,
    TextBlock,
    UpdateBlock,
)
from kproxy_tutor.content.yamlio import line_of
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, ContentError

GLOSSARY_FILE = "glossary.yaml"
FORMAT_VERSION = 1
TERM_KEYS = ("term", "ru", "en", "definition", "taught_in", "introduced_in", "accept", "reject")
#: Raw YAML keys whose texts are code, not prose: never checked for wording.
_CODE_KEYS = {"code", "diagram", "solution", "setup", "accept", "id", "source", "lang", "scenario"}
#: Quotations of the course («…») and inline code keep their wording.
_EXEMPT = re.compile(r"«[^»]*»|`[^`]*`")


class Place(NamedTuple):
    """A lesson step, by ids (stable) — shown to learners as ``learn N``, step k."""

    lesson: str
    step: str


class Term(NamedTuple):
    """One concept: its names, a one-line definition, where it is taught and how it may be spelt."""

    id: str
    name: Bilingual
    definition: Bilingual
    taught_in: Place
    #: Spellings that count as the term, per language (a trailing ``*`` matches any ending).
    accept: Mapping[str, tuple[str, ...]]
    #: Variants the course does not use (regular expressions, case-insensitive, Russian texts).
    reject: tuple[str, ...] = ()
    #: Where the term is first glossed in passing, before the step that teaches it (optional).
    introduced_in: Place | None = None
    line: int = 0

    @property
    def first_place(self) -> Place:
        return self.introduced_in or self.taught_in


class StyleRule(NamedTuple):
    """A wording rule that is not a term: a rejected variant and what to write instead."""

    reject: str
    use: Bilingual
    line: int = 0


class Glossary(NamedTuple):
    terms: tuple[Term, ...]
    style: tuple[StyleRule, ...] = ()


def _bilingual(node: Any, where: str, line: int, problems: list[Problem], label: str) -> Bilingual:
    if not isinstance(node, dict) or not all(
        isinstance(node.get(lang), str) and node[lang].strip() for lang in LANGUAGES
    ):
        problems.append(
            Problem(
                f"{label}:{line}",
                N_("{field}: expected a map with the texts in both languages (ru, en)."),
                (("field", where),),
            )
        )
        return {}
    return {lang: node[lang].strip() for lang in LANGUAGES}


def _place(node: Any, where: str, line: int, problems: list[Problem], label: str) -> Place | None:
    if isinstance(node, dict) and isinstance(node.get("lesson"), str) and isinstance(node.get("step"), str):
        return Place(node["lesson"], node["step"])
    problems.append(
        Problem(f"{label}:{line}", N_("{field}: expected {{lesson: ID, step: ID}}."), (("field", where),))
    )
    return None


def parse_glossary(data: Any, label: str, problems: list[Problem]) -> Glossary:
    """Typed records from the YAML data; each problem is appended with its file:line and field."""
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        problems.append(Problem(label, N_("The glossary needs format_version and a list of terms.")))
        return Glossary(())
    terms: list[Term] = []
    seen: dict[str, int] = {}
    raw_terms = data["terms"]
    for index, raw in enumerate(raw_terms):
        line = line_of(raw_terms, index)
        if not isinstance(raw, dict) or not isinstance(raw.get("term"), str):
            problems.append(
                Problem(
                    f"{label}:{line}",
                    N_("{field}: expected a map with term, ru, en, definition and taught_in."),
                    (("field", f"terms[{index}]"),),
                )
            )
            continue
        term_id = raw["term"]
        where = f"terms[{term_id}]"
        for key in raw:
            if key not in TERM_KEYS:
                problems.append(
                    Problem(
                        f"{label}:{line_of(raw, str(key))}",
                        N_("{field}: unknown field; expected one of: {known}."),
                        (("field", f"{where}.{key}"), ("known", ", ".join(TERM_KEYS))),
                    )
                )
        if term_id in seen:
            problems.append(
                Problem(
                    f"{label}:{line}",
                    N_("{field}: duplicate id {id!r} (first at line {line})."),
                    (("field", where), ("id", term_id), ("line", str(seen[term_id]))),
                )
            )
        seen.setdefault(term_id, line)
        name = _bilingual(
            {lang: raw.get(lang) for lang in LANGUAGES}, f"{where}.ru/en", line, problems, label
        )
        definition = _bilingual(
            raw.get("definition"), f"{where}.definition", line_of(raw, "definition"), problems, label
        )
        taught = _place(
            raw.get("taught_in"), f"{where}.taught_in", line_of(raw, "taught_in"), problems, label
        )
        introduced = (
            _place(
                raw["introduced_in"], f"{where}.introduced_in", line_of(raw, "introduced_in"), problems, label
            )
            if "introduced_in" in raw
            else None
        )
        accept_raw = raw.get("accept") if isinstance(raw.get("accept"), dict) else {}
        accept = {
            lang: tuple(str(s) for s in accept_raw.get(lang) or () if str(s).strip()) for lang in LANGUAGES
        }
        reject = tuple(str(r) for r in raw.get("reject") or ())
        for pattern in reject:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(
                    Problem(
                        f"{label}:{line_of(raw, 'reject')}",
                        N_("{field}: the pattern {pattern!r} is not a valid regular expression: {problem}"),
                        (("field", f"{where}.reject"), ("pattern", pattern), ("problem", str(exc))),
                    )
                )
        if taught is None or not name or not definition:
            continue
        terms.append(Term(term_id, name, definition, taught, accept, reject, introduced, line))
    style: list[StyleRule] = []
    raw_style = data.get("style") or []
    for index, raw in enumerate(raw_style if isinstance(raw_style, list) else []):
        line = line_of(raw_style, index)
        if isinstance(raw, dict) and isinstance(raw.get("reject"), str):
            use = _bilingual(raw.get("use"), f"style[{index}].use", line, problems, label)
            style.append(StyleRule(raw["reject"], use, line))
        else:
            problems.append(
                Problem(
                    f"{label}:{line}",
                    N_("{field}: expected {{reject: PATTERN, use: {{ru, en}}}}."),
                    (("field", f"style[{index}]"),),
                )
            )
    return Glossary(tuple(terms), tuple(style))


@cache
def _load(path: Path, mtime: float) -> Glossary:
    problems: list[Problem] = []
    glossary = parse_glossary(_read(path), f"lessons/{path.name}", problems)
    if problems:
        first = problems[0]
        raise ContentError(first.message, location=first.where, **dict(first.params))
    return glossary


def load_glossary(directory: Path | None = None) -> Glossary:
    """The shipped glossary (empty when the file is absent); a broken one is a ContentError."""
    from kproxy_tutor.resources import lessons_dir

    path = (directory or lessons_dir()) / GLOSSARY_FILE
    if not path.is_file():
        return Glossary(())
    return _load(path, path.stat().st_mtime)


def _read(path: Path) -> Any:
    from kproxy_tutor.content.loader import read_yaml

    return read_yaml(path)


# -- matching ------------------------------------------------------------------------------------


def _spelling_pattern(spelling: str) -> re.Pattern[str]:
    stem, prefix = (spelling[:-1], True) if spelling.endswith("*") else (spelling, False)
    # An exact spelling still takes a Russian ending after an apostrophe or a hyphen (Pod'ы, CNI-плагин).
    ending = r"[\w']*" if prefix else r"(?:['-]\w+)?"
    flags = 0 if any(ch.isupper() for ch in stem) else re.IGNORECASE
    # A spelling of several words matches any run of spaces between them.
    body = r"\s+".join(re.escape(part) for part in stem.split())
    return re.compile(rf"(?<![\w-]){body}{ending}(?![\w-])", flags)


@cache
def _patterns(spellings: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(_spelling_pattern(s) for s in spellings)


def mentions(term: Term, text: str, lang: str) -> bool:
    """Whether ``text`` (in ``lang``) uses the term, by any accepted spelling."""
    spellings = term.accept.get(lang) or (term.name.get(lang, ""),)
    return any(p.search(text) for p in _patterns(tuple(spellings)))


@cache
def _reject_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?:{pattern})", re.IGNORECASE)


def rejected_in(glossary: Glossary, text: str) -> Iterator[tuple[str, str]]:
    """(variant found, what to write instead) for every rejected variant in a Russian ``text``."""
    prose = _EXEMPT.sub(lambda m: " " * len(m.group(0)), text)
    for term in glossary.terms:
        for pattern in term.reject:
            for match in _reject_pattern(pattern).finditer(prose):
                yield match.group(0), term.name["ru"]
    for rule in glossary.style:
        for match in _reject_pattern(rule.reject).finditer(prose):
            yield match.group(0), rule.use["ru"]


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").replace("'", "").split())


def _names(term: Term) -> list[str]:
    names = [term.id, *term.name.values()]
    for spellings in term.accept.values():
        names.extend(s.rstrip("*") for s in spellings)
    return [n for n in names if n.strip()]


def find_term(glossary: Glossary, query: str) -> Term | None:
    """The term whose id, name or accepted spelling is ``query`` (any language, any case)."""
    wanted = _fold(query)
    if not wanted:
        return None
    for term in glossary.terms:
        if any(_fold(name) == wanted for name in _names(term)):
            return term
    for term in glossary.terms:  # a prefix spelling (``endpoint*``) covers its forms
        for spellings in term.accept.values():
            # Only an ending (endpoints, нодами), not another word that starts the same way.
            if any(
                s.endswith("*") and wanted.startswith(_fold(s[:-1])) and len(wanted) - len(_fold(s[:-1])) <= 3
                for s in spellings
            ):
                return term
    return None


def suggestions(glossary: Glossary, query: str, lang: str, limit: int = 3) -> list[Term]:
    """Terms whose names are close to a misspelt ``query`` (did you mean …?)."""
    # A variant the course rejects points at the term it stands for (маскарадинг → masquerade).
    rejected = [
        t for t in glossary.terms if any(_reject_pattern(p).fullmatch(query.strip()) for p in t.reject)
    ]
    candidates: dict[str, Term] = {}
    for term in glossary.terms:
        for name in (
            term.name[lang],
            term.name["en"],
            term.id,
            *(s.rstrip("*") for s in term.accept.get(lang, ())),
        ):
            candidates.setdefault(_fold(name), term)
    close = difflib.get_close_matches(_fold(query), list(candidates), n=limit * 3, cutoff=0.6)
    found: list[Term] = list(rejected)
    for name in close:
        if candidates[name] not in found:
            found.append(candidates[name])
    return found[:limit]


# -- searching lessons ---------------------------------------------------------------------------


class Hit(NamedTuple):
    """A step that contains every searched word: where it is and a line to show."""

    lesson: Lesson
    step_index: int
    snippet: str


def step_texts(lesson: Lesson, index: int, lang: str) -> Iterator[str]:
    """The prose a learner reads on a step, in ``lang`` (titles, text, notes, tables, tasks)."""
    step = lesson.steps[index]
    yield step.title.get(lang, "")
    for block in step.blocks:
        if isinstance(block, TextBlock | NoteBlock | UpdateBlock):
            yield block.text.get(lang, "")
        elif isinstance(block, TableBlock):
            yield " ".join(block.columns.get(lang, ()))
            yield from (cell.get(lang, "") for row in block.rows for cell in row)
        elif isinstance(block, DiagramBlock) and block.caption:
            yield block.caption.get(lang, "")
        elif isinstance(block, ExerciseBlock):
            yield block.task.get(lang, "")


def search_lessons(lessons: Iterable[Lesson], words: Iterable[str], lang: str) -> list[Hit]:
    """Steps whose text in ``lang`` contains every word (case and ё/е folded), in course order."""
    wanted = [_fold(w) for w in words if _fold(w)]
    if not wanted:
        return []
    hits = []
    for lesson in lessons:
        for index in range(len(lesson.steps)):
            paragraphs = [
                p for text in step_texts(lesson, index, lang) for p in text.splitlines() if p.strip()
            ]
            folded = _fold(" ".join(paragraphs))
            if all(w in folded for w in wanted):
                # The title is shown anyway: the snippet comes from the body when it can.
                body = paragraphs[1:] or paragraphs
                line = next((p for p in body if _fold(wanted[0]) in _fold(p)), body[0] if body else "")
                hits.append(Hit(lesson, index, _snippet(line, wanted[0])))
    return hits


def _snippet(line: str, word: str, width: int = 160) -> str:
    """A piece of ``line`` around ``word``, without Markdown marks, cut at word boundaries."""
    text = re.sub(r"[*`]", "", line).strip().lstrip("-0123456789. ")
    at = _fold(text).find(word)
    if len(text) <= width:
        return text
    start = max(0, at - width // 3) if at >= 0 else 0
    if start:
        start = text.find(" ", start) + 1 or start
    piece = text[start : start + width]
    if start + width < len(text):
        piece = piece[: piece.rfind(" ")] if " " in piece else piece
        piece += " …"
    return ("… " if start else "") + piece


# -- dev check -----------------------------------------------------------------------------------


def _ru_texts(node: Any, path: str = "") -> Iterator[tuple[str, int, str]]:
    """(field, line, Russian text) for every prose ``ru`` value of raw YAML data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _CODE_KEYS:
                continue
            here = f"{path}.{key}" if path else str(key)
            if key == "ru" and isinstance(value, str):
                yield here, line_of(node, "ru"), value
            else:
                yield from _ru_texts(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _ru_texts(value, f"{path}[{index}]")


def _variant_problems(glossary: Glossary, where: str, field: str, text: str) -> list[Problem]:
    return [
        Problem(
            where,
            N_("{field}: {variant!r} is a variant the glossary rejects; write {term!r}."),
            (("field", field), ("variant", variant), ("term", instead)),
        )
        for variant, instead in rejected_in(glossary, text)
    ]


def check_glossary(directory: Path, lessons: list[Lesson], catalog: Path | None = None) -> list[Problem]:
    """Every glossary problem: its own file, taught-in steps, rejected variants, quiz prerequisites."""
    from kproxy_tutor.content.loader import file_label

    path = directory / GLOSSARY_FILE
    if not path.is_file():
        return []
    label = file_label(path)
    problems: list[Problem] = []
    try:
        data = _read(path)
    except ContentError as exc:
        return [
            Problem(exc.location or label, exc.message, tuple((k, str(v)) for k, v in exc.params.items()))
        ]
    glossary = parse_glossary(data, label, problems)
    by_id = {lesson.id: lesson for lesson in lessons}
    for term in glossary.terms:
        for kind, place in (("taught_in", term.taught_in), ("introduced_in", term.introduced_in)):
            if place is None:
                continue
            lesson = by_id.get(place.lesson)
            if lesson is None or lesson.step_index(place.step) is None:
                problems.append(
                    Problem(
                        f"{label}:{term.line}",
                        N_(
                            "{field}: the term is taught in lesson {lesson!r}, step {step!r}, which does not exist."
                        ),
                        (
                            ("field", f"terms[{term.id}].{kind}"),
                            ("lesson", place.lesson),
                            ("step", place.step),
                        ),
                    )
                )
    # Rejected variants in the Russian texts of lessons and quizzes.
    for source in sorted(directory.glob("*.yaml")):
        if source.name == GLOSSARY_FILE:
            continue
        try:
            raw = _read(source)
        except ContentError:
            continue  # the lesson and quiz checks report it
        for field, line, text in _ru_texts(raw):
            problems.extend(_variant_problems(glossary, f"{file_label(source)}:{line}", field, text))
    problems.extend(_catalog_problems(glossary, catalog))
    problems.extend(_prerequisite_problems(glossary, directory, lessons))
    return problems


def _catalog_problems(glossary: Glossary, catalog: Path | None) -> list[Problem]:
    from babel.messages.pofile import read_po

    if catalog is None:
        from kproxy_tutor.i18n import DOMAIN
        from kproxy_tutor.resources import locales_dir

        catalog = locales_dir() / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not catalog.is_file():
        return []
    with open(catalog, "rb") as fh:
        messages = read_po(fh, locale="ru")
    problems = []
    for message in messages:
        if not message.id or not message.string:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        for text in strings:
            problems.extend(_variant_problems(glossary, f"{catalog.name} (ru)", msgid, text))
    return problems


def _question_texts(node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(language, text) of what a learner reads before answering: the prompt and the choices."""
    prompt = node.get("prompt")
    for lang in LANGUAGES:
        if isinstance(prompt, dict) and isinstance(prompt.get(lang), str):
            yield lang, prompt[lang]
    for choice in node.get("choices") or ():
        text = choice.get("text") if isinstance(choice, dict) else None
        for lang in LANGUAGES:
            if isinstance(text, dict) and isinstance(text.get(lang), str):
                yield lang, text[lang]


def later_terms(
    glossary: Glossary, texts: Iterable[tuple[str, str]], asked_in: int, lessons: list[Lesson]
) -> list[tuple[Term, int, int]]:
    """(term, lesson number, step number) for each term ``texts`` use that is first taught after ``asked_in``."""
    numbers = {lesson.id: lesson for lesson in lessons}
    texts = list(texts)
    found = []
    for term in glossary.terms:
        first = term.first_place
        lesson = numbers.get(first.lesson)
        if lesson is None or lesson.number <= asked_in:
            continue
        if any(mentions(term, text, lang) for lang, text in texts):
            found.append((term, lesson.number, (lesson.step_index(first.step) or 0) + 1))
    return found


def _prerequisite_problems(glossary: Glossary, directory: Path, lessons: list[Lesson]) -> list[Problem]:
    from kproxy_tutor.content.loader import file_label

    numbers = {lesson.id: lesson.number for lesson in lessons}
    steps = {lesson.id: lesson for lesson in lessons}
    problems = []
    for source in sorted(directory.glob("*.quiz.yaml")):
        try:
            raw = _read(source)
        except ContentError:
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
            continue
        asked_in = numbers.get(str(raw.get("lesson")))
        if asked_in is None:
            continue
        for node in raw["questions"]:
            if not isinstance(node, dict):
                continue
            texts = list(_question_texts(node))
            for term in glossary.terms:
                first = term.first_place
                taught = numbers.get(first.lesson)
                if taught is None or taught <= asked_in:
                    continue
                if any(mentions(term, text, lang) for lang, text in texts):
                    lesson = steps[first.lesson]
                    step = lesson.step_index(first.step)
                    problems.append(
                        Problem(
                            f"{file_label(source)}:{line_of(node, 'prompt')}",
                            N_(
                                "{field}: the question (lesson {asked}) uses the term {term!r}, which is first "
                                "taught in lesson {lesson}, step {step}."
                            ),
                            (
                                ("field", f"questions[{node.get('id')}]"),
                                ("asked", str(asked_in)),
                                ("term", term.name["en"]),
                                ("lesson", str(taught)),
                                ("step", str((step or 0) + 1)),
                            ),
                        )
                    )
    return problems
