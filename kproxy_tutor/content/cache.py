"""A per-user cache of parsed content, so showing a lesson need not import and run the YAML parser.

An entry is keyed by the bytes of the content file, by what the caller says shapes the result (the
lesson's place in the course) and by the source of the parser and schema, so an edit to any of
them makes the old entry unusable. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parent
#: The modules whose code decides what a parsed lesson looks like.
_PARSER_SOURCES = ("schema.py", "parse.py", "loader.py")
_salt: list[bytes] = []


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kproxy-tutor" / "content"


def _parser_salt() -> bytes:
    if not _salt:
        digest = hashlib.sha256()
        for name in _PARSER_SOURCES:
            try:
                digest.update((_PACKAGE / name).read_bytes())
            except OSError:
                digest.update(name.encode())  # no source (a frozen build): the name must do
        _salt.append(digest.digest())
    return _salt[0]


def cached(path: Path, context: str, parse: Callable[[], T]) -> T:
    """``parse()``'s result for ``path``, from the cache when neither the file nor the parser changed."""
    import pickle

    try:
        content = path.read_bytes()
    except OSError:
        return parse()  # the parser reports the missing file in its own words
    key = hashlib.sha256(_parser_salt() + context.encode() + b"\0" + content).hexdigest()
    # One file per content file (named after its path), so edits replace entries instead of adding.
    entry = cache_dir() / f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}.pickle"
    try:
        stored_key, value = pickle.loads(entry.read_bytes())
        if stored_key == key:
            return value  # type: ignore[no-any-return]
    except Exception:  # missing, stale or damaged: parse again
        pass
    value = parse()
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only home: no cache, same result
    return value
