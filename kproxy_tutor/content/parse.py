"""Turn a lesson's YAML data into schema objects, reporting each problem with its line and field."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kproxy_tutor.content.schema import (
    CODE_LANGS,
    LANGUAGES,
    Bilingual,
    Block,
    CodeBlock,
    DiagramBlock,
    ExerciseBlock,
    ExerciseCheck,
    Lesson,
    LessonEntry,
    NoteBlock,
    SeeBlock,
    Step,
    TableBlock,
    TextBlock,
    UpdateBlock,
)
from kproxy_tutor.content.yamlio import LineDict, line_of
from kproxy_tutor.errors import N_

if TYPE_CHECKING:
    from kproxy_tutor.content.loader import Findings

ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LESSON_KEYS = ("id", "title", "summary", "steps")
STEP_KEYS = ("id", "title", "blocks")
#: Block kind -> the other keys it may have.
BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    "text": (),
    "code": ("lang",),
    "diagram": ("caption",),
    "table": (),
    "update": ("source",),
    "note": (),
    "see": (),
    "exercise": (),
}
#: The fields of an exercise block, and those it must have.
EXERCISE_KEYS = ("id", "scenario", "node", "setup", "task", "checks", "hints", "solution", "debrief")
HINT_COUNT = 3


def _unknown_keys(node: dict[str, Any], allowed: tuple[str, ...], where: str, f: Findings) -> None:
    for key in node:
        if key not in allowed:
            f.add(
                line_of(node, str(key)),
                f"{where}.{key}" if where else str(key),
                N_("{field}: unknown field; expected one of: {known}."),
                known=", ".join(allowed),
            )


def bilingual(
    parent: dict[str, Any],
    key: str,
    where: str,
    f: Findings,
    *,
    plain_ok: bool = False,
    keep_indent: bool = False,
) -> Bilingual:
    """Read ``parent[key]`` as ``{ru, en}`` (a plain string too when ``plain_ok``)."""
    line = line_of(parent, key)
    value = parent.get(key)
    if value is None:
        f.add(line, where, N_("{field}: required field is missing."))
        return {}
    if isinstance(value, str) and plain_ok:
        value = {lang: value for lang in LANGUAGES}
    if not isinstance(value, dict):
        f.add(line, where, N_("{field}: expected a map with the texts in both languages (ru, en)."))
        return {}
    result: dict[str, str] = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            at = line_of(value, lang) if lang in value else line
            f.add(at, where, N_("{field}: the {lang} text is missing or empty."), lang=lang)
            continue
        # Code and diagrams keep their leading indentation; prose is trimmed.
        result[lang] = text.rstrip() if keep_indent else text.strip()
        if keep_indent:
            result[lang] = result[lang].lstrip("\n")
    for other in value:
        if other not in LANGUAGES:
            f.add(
                line_of(value, str(other)),
                f"{where}.{other}",
                N_("{field}: unknown language; expected {languages}."),
                languages=", ".join(LANGUAGES),
            )
    return result


def check_id(parent: dict[str, Any], where: str, f: Findings) -> str:
    value = parent.get("id")
    if value is None:
        f.add(parent.line if hasattr(parent, "line") else 0, where, N_("{field}: required field is missing."))
        return ""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        f.add(
            line_of(parent, "id"),
            where,
            N_("{field}: invalid id {id!r}: use lowercase Latin letters, digits and hyphens."),
            id=value,
        )
        return str(value)
    return value


def _list(parent: dict[str, Any], key: str, where: str, f: Findings) -> list[Any]:
    value = parent.get(key)
    if not isinstance(value, list) or not value:
        f.add(line_of(parent, key), where, N_("{field}: expected a non-empty list."))
        return []
    return value


def parse_lesson(data: Any, entry: LessonEntry, f: Findings) -> Lesson | None:
    if not isinstance(data, dict):
        f.add(1, "lesson", N_("{field}: expected a map with id, title, summary and steps."))
        return None
    _unknown_keys(data, LESSON_KEYS, "", f)
    lesson_id = check_id(data, "id", f)
    title = bilingual(data, "title", "title", f)
    summary = bilingual(data, "summary", "summary", f)
    steps: list[Step] = []
    seen: dict[str, int] = {}
    raw_steps = _list(data, "steps", "steps", f)
    for index, raw in enumerate(raw_steps):
        line = line_of(raw_steps, index)
        if not isinstance(raw, dict):
            f.add(line, f"steps[{index}]", N_("{field}: expected a map with id, title and blocks."))
            continue
        step_id = raw.get("id")
        where = f"steps[{step_id}]" if isinstance(step_id, str) else f"steps[{index}]"
        step_id = check_id(raw, f"{where}.id", f)
        if step_id in seen:
            f.add(
                line_of(raw, "id"),
                f"{where}.id",
                N_("{field}: duplicate id {id!r} (first at line {line})."),
                id=step_id,
                line=seen[step_id],
            )
        seen.setdefault(step_id, line_of(raw, "id"))
        steps.append(parse_step(raw, step_id, where, line, f))
    return Lesson(
        id=lesson_id,
        title=title,
        summary=summary,
        steps=tuple(steps),
        number=entry.number,
        slug=entry.slug,
        path=entry.path,
        exercises=tuple(b for step in steps for b in step.blocks if isinstance(b, ExerciseBlock)),
    )


def parse_step(raw: dict[str, Any], step_id: str, where: str, line: int, f: Findings) -> Step:
    _unknown_keys(raw, STEP_KEYS, where, f)
    title = bilingual(raw, "title", f"{where}.title", f)
    blocks: list[Block] = []
    raw_blocks = _list(raw, "blocks", f"{where}.blocks", f)
    for index, block in enumerate(raw_blocks):
        parsed = parse_block(block, f"{where}.blocks[{index}]", line_of(raw_blocks, index), f)
        if parsed is not None:
            blocks.append(parsed)
    return Step(id=step_id, title=title, blocks=tuple(blocks), line=line)


def parse_block(raw: Any, where: str, line: int, f: Findings) -> Block | None:
    kinds = [k for k in BLOCK_KEYS if isinstance(raw, dict) and k in raw]
    if len(kinds) != 1:
        f.add(line, where, N_("{field}: a block needs exactly one of: {kinds}."), kinds=", ".join(BLOCK_KEYS))
        return None
    assert isinstance(raw, dict)
    kind = kinds[0]
    _unknown_keys(raw, (kind, *BLOCK_KEYS[kind]), where, f)
    here = f"{where}.{kind}"
    if kind == "text":
        return TextBlock(bilingual(raw, kind, here, f), line)
    if kind == "note":
        return NoteBlock(bilingual(raw, kind, here, f), line)
    if kind == "code":
        code = bilingual(raw, kind, here, f, plain_ok=True, keep_indent=True)
        lang = raw.get("lang")
        if lang is None:
            f.add(
                line,
                f"{where}.lang",
                N_("{field}: a code block needs a language tag; known: {known}."),
                known=", ".join(CODE_LANGS),
            )
        elif lang not in CODE_LANGS:
            f.add(
                line_of(raw, "lang"),
                f"{where}.lang",
                N_("{field}: unknown code language {lang!r}; known: {known}."),
                lang=lang,
                known=", ".join(CODE_LANGS),
            )
        return CodeBlock(code, str(lang or "text"), line)
    if kind == "diagram":
        diagram = bilingual(raw, kind, here, f, keep_indent=True)
        caption = bilingual(raw, "caption", f"{where}.caption", f) if "caption" in raw else None
        value = raw[kind]
        # A block scalar (`ru: |`) starts on the line after its key.
        first = {lang: line_of(value, lang) + 1 for lang in diagram} if isinstance(value, dict) else {}
        return DiagramBlock(diagram, caption, line, first)
    if kind == "update":
        text = bilingual(raw, kind, here, f)
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            f.add(
                line_of(raw, "source"),
                f"{where}.source",
                N_("{field}: an update needs a source (where the current facts are documented)."),
            )
            source = ""
        return UpdateBlock(text, source.strip(), line)
    if kind == "see":
        return parse_see(raw, here, line, f)
    if kind == "exercise":
        return parse_exercise(raw["exercise"], here, line, f)
    return parse_table(raw, here, line, f)


def parse_see(raw: dict[str, Any], where: str, line: int, f: Findings) -> SeeBlock | None:
    target = raw["see"]
    if not isinstance(target, dict) or not isinstance(target.get("lesson"), str):
        f.add(line, where, N_("{field}: expected {{lesson: ID}} or {{lesson: ID, step: ID}}."))
        return None
    _unknown_keys(target, ("lesson", "step"), where, f)
    step = target.get("step")
    return SeeBlock(target["lesson"], str(step) if step is not None else None, line_of(raw, "see"))


def parse_table(raw: dict[str, Any], where: str, line: int, f: Findings) -> TableBlock | None:
    table = raw["table"]
    if not isinstance(table, dict):
        f.add(line, where, N_("{field}: expected a map with columns and rows."))
        return None
    _unknown_keys(table, ("columns", "rows"), where, f)
    columns_raw = table.get("columns")
    columns: dict[str, tuple[str, ...]] = {}
    if not isinstance(columns_raw, dict):
        f.add(
            line_of(table, "columns"),
            f"{where}.columns",
            N_("{field}: expected the column names in both languages (ru: [...], en: [...])."),
        )
    else:
        for lang in LANGUAGES:
            names = columns_raw.get(lang)
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) and n.strip() for n in names)
            ):
                f.add(
                    line_of(columns_raw, lang),
                    f"{where}.columns",
                    N_("{field}: the {lang} text is missing or empty."),
                    lang=lang,
                )
                continue
            columns[lang] = tuple(n.strip() for n in names)
        if len({len(c) for c in columns.values()}) > 1:
            f.add(
                line_of(table, "columns"),
                f"{where}.columns",
                N_("{field}: the languages have different numbers of columns."),
            )
    width = max((len(c) for c in columns.values()), default=0)
    rows: list[tuple[Bilingual, ...]] = []
    raw_rows = _list(table, "rows", f"{where}.rows", f)
    for r, row in enumerate(raw_rows):
        row_where = f"{where}.rows[{r}]"
        if not isinstance(row, list):
            f.add(line_of(raw_rows, r), row_where, N_("{field}: expected a list of cells."))
            continue
        if width and len(row) != width:
            f.add(
                line_of(raw_rows, r),
                row_where,
                N_("{field}: {count} cells, but the table has {columns} columns."),
                count=len(row),
                columns=width,
            )
        cells = tuple(
            bilingual(_holder(cell, line_of(row, c)), "cell", f"{row_where}[{c}]", f, plain_ok=True)
            for c, cell in enumerate(row)
        )
        rows.append(cells)
    return TableBlock(columns, tuple(rows), line)


def _holder(value: Any, line: int) -> LineDict:
    """Wrap a table cell as ``{"cell": value}`` that knows the cell's line, for :func:`bilingual`."""
    holder = LineDict(cell=value)
    holder.line = line
    holder.key_lines = {"cell": line}
    return holder


def _commands(parent: dict[str, Any], key: str, where: str, f: Findings, required: bool) -> tuple[str, ...]:
    """A list of shell command lines (``setup``, ``solution``)."""
    if key not in parent and not required:
        return ()
    value = _list(parent, key, where, f)
    if not all(isinstance(item, str) for item in value):
        f.add(line_of(parent, key), where, N_("{field}: expected a list of shell command lines."))
        return ()
    return tuple(value)


def _plain(value: Any) -> Any:
    """Plain dicts and lists instead of the line-keeping YAML types, so a cached lesson unpickles without yaml."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_exercise(raw: Any, where: str, line: int, f: Findings) -> ExerciseBlock | None:
    """The structure of an exercise; what each check kind needs is checked by the exercise engine."""
    if not isinstance(raw, dict):
        f.add(
            line,
            where,
            N_("{field}: expected a map with id, scenario, task, checks, hints, solution and debrief."),
        )
        return None
    _unknown_keys(raw, EXERCISE_KEYS, where, f)
    exercise_id = check_id(raw, f"{where}.id", f)
    scenario = raw.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        f.add(line_of(raw, "scenario"), f"{where}.scenario", N_("{field}: required field is missing."))
        scenario = ""
    node = raw.get("node")
    checks: list[ExerciseCheck] = []
    raw_checks = _list(raw, "checks", f"{where}.checks", f)
    for index, check in enumerate(raw_checks):
        at = line_of(raw_checks, index)
        if not isinstance(check, dict) or len(check) != 1:
            f.add(
                at, f"{where}.checks[{index}]", N_("{field}: expected one check as {{kind: {{parameters}}}}.")
            )
            continue
        kind, params = next(iter(check.items()))
        if params is None:
            params = {}
        if not isinstance(params, dict):
            f.add(at, f"{where}.checks[{index}].{kind}", N_("{field}: expected a map of parameters."))
            continue
        checks.append(ExerciseCheck(str(kind), _plain(params), at))
    hints: list[Bilingual] = []
    raw_hints = _list(raw, "hints", f"{where}.hints", f)
    if raw_hints and len(raw_hints) != HINT_COUNT:
        f.add(
            line_of(raw, "hints"),
            f"{where}.hints",
            N_("{field}: an exercise has {n} hints: a nudge, a pointer, then the command."),
            n=HINT_COUNT,
        )
    for index, hint in enumerate(raw_hints):
        holder = _holder(hint, line_of(raw_hints, index))
        hints.append(bilingual(holder, "cell", f"{where}.hints[{index}]", f))
    return ExerciseBlock(
        id=exercise_id,
        scenario=scenario,
        task=bilingual(raw, "task", f"{where}.task", f),
        checks=tuple(checks),
        hints=tuple(hints),
        solution=_commands(raw, "solution", f"{where}.solution", f, required=True),
        debrief=bilingual(raw, "debrief", f"{where}.debrief", f),
        setup=_commands(raw, "setup", f"{where}.setup", f, required=False),
        node=node if isinstance(node, str) and node else None,
        line=line,
    )
