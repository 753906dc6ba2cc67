"""YAML loading that remembers line numbers, so content errors can name file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kproxy_tutor.errors import N_, ContentError, file_error


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that knows the line of itself (``line``) and of each key (``key_lines``)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):  # type: ignore[type-arg]
    """A sequence that knows its line and the line of each item (``item_lines``)."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path) -> Any:
    """Load one YAML document with line numbers; any problem becomes a ContentError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(ContentError, str(path), exc) from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 0
        raise ContentError(
            N_("Invalid YAML: {problem}"),
            location=f"{path}:{line}",
            problem=str(exc.problem or exc.context or "?"),
        ) from exc
    except yaml.YAMLError as exc:
        raise ContentError(N_("Invalid YAML: {problem}"), location=str(path), problem=str(exc)) from exc


def line_of(node: Any, key: str | int | None = None) -> int:
    """Best-known line of ``node`` (or of its ``key``/item), 0 when unknown."""
    if key is not None:
        if isinstance(node, LineDict) and isinstance(key, str):
            return node.key_lines.get(key, node.line)
        if isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node.item_lines):
            return node.item_lines[key]
    return getattr(node, "line", 0)
