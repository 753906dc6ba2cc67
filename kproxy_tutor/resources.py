"""Where the shipped data (lessons, locales) lives: the source tree or the installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _data_root() -> Path:
    # In a wheel, lessons/ and locales/ are installed inside the package as _data/.
    bundled = _PACKAGE / "_data"
    if bundled.is_dir():
        return bundled
    # In a source checkout (or an editable install) they sit next to the package.
    return _PACKAGE.parent


def lessons_dir() -> Path:
    return _data_root() / "lessons"


def locales_dir() -> Path:
    return _data_root() / "locales"


def docs_dir() -> Path:
    """The documents that ship with the tutor (``kproxy-tutor help TOPIC`` shows them)."""
    return _data_root() / "docs"
