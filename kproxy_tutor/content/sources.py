"""Sources a learner can open: every update box and quiz question cites public URLs with short labels.

A source is one or more items separated by ``"; "``, each ``LABEL <URL>``::

    Virtual IPs and Service Proxies <https://kubernetes.io/docs/reference/networking/virtual-ips/>

The URL is public (``https://``, a host with a dot); the label is short and never names a file of this
repository (a learner does not have the project's notes, and they are no evidence anyway).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import NamedTuple

from kproxy_tutor.errors import N_

#: The longest label, so a source stays one short line per item.
MAX_LABEL = 60
_ITEM = re.compile(r"(?P<label>[^<>]*?)\s*<(?P<url>[^<>\s]*)>")
_URL = re.compile(r"https://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s<>]*)?", re.IGNORECASE)
#: A word that looks like a file name (``notes.md``, ``lessons/01-role.yaml``).
_FILE_NAME = re.compile(r"[\w./-]+\.(?:md|py|yaml|yml|po|pot|toml|cfg|json|txt|rst)\b", re.IGNORECASE)
#: Files of this repository are never a learner's source, whatever directory they sit in.
_SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", ".ruff_cache", ".pytest_cache"}


class Source(NamedTuple):
    """One cited source: what the learner reads (``label``) and opens (``url``)."""

    label: str
    url: str


class SourceProblem(NamedTuple):
    """Why a source text is refused: an English msgid and its parameters."""

    message: str
    params: tuple[tuple[str, str], ...] = ()


def parse_sources(text: str) -> list[Source]:
    """The items of a well-formed source text, in order (malformed items are skipped)."""
    items = []
    for part in text.split(";"):
        match = _ITEM.fullmatch(part.strip())
        if match and match.group("label") and _URL.fullmatch(match.group("url")):
            items.append(Source(match.group("label").strip(), match.group("url")))
    return items


def format_sources(text: str) -> list[str]:
    """One display line per item (``label: url``); a text that does not parse is returned as is."""
    items = parse_sources(text)
    return [f"{item.label}: {item.url}" for item in items] if items else [text]


@cache
def repository_files(root: Path) -> frozenset[str]:
    """Names (and relative paths) of every file under ``root``: the project's own files."""
    names: set[str] = set()
    if not root.is_dir():
        return frozenset()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                if entry.name not in _SKIP_DIRS and not entry.name.endswith(".egg-info"):
                    stack.append(entry)
            else:
                names.add(entry.name.lower())
                names.add(entry.relative_to(root).as_posix().lower())
    return frozenset(names)


def source_problems(text: object, own_files: Iterable[str] = ()) -> list[SourceProblem]:
    """Everything wrong with one ``source`` value; an empty list means a learner can open it."""
    if not isinstance(text, str) or not text.strip():
        return [SourceProblem(N_("{field}: a source is required: LABEL <https://…>."))]
    own = {name.lower() for name in own_files}
    problems = []
    for part in (p.strip() for p in text.split(";")):
        match = _ITEM.fullmatch(part)
        if not match or not _URL.fullmatch(match.group("url")):
            problems.append(
                SourceProblem(
                    N_("{field}: {item!r} is not a public URL with a label; write LABEL <https://…>."),
                    (("item", part),),
                )
            )
            continue
        label, url = match.group("label").strip(), match.group("url")
        if not label:
            problems.append(SourceProblem(N_("{field}: the URL {url} needs a short label."), (("url", url),)))
        elif len(label) > MAX_LABEL:
            problems.append(
                SourceProblem(
                    N_("{field}: the label {label!r} is longer than {limit} characters."),
                    (("label", label), ("limit", str(MAX_LABEL))),
                )
            )
        for name in _FILE_NAME.findall(label):
            lowered = name.lower()
            if lowered in own or lowered.rsplit("/", 1)[-1] in own:
                problems.append(
                    SourceProblem(
                        N_("{field}: {name} is a file of this project, not a source a learner can open."),
                        (("name", name),),
                    )
                )
            elif not url.lower().endswith("/" + lowered.rsplit("/", 1)[-1]):
                problems.append(
                    SourceProblem(
                        N_("{field}: the label names {name}, but the URL does not point at that file."),
                        (("name", name),),
                    )
                )
    return problems
