"""Versioned JSON files for learner state: XDG locations, atomic writes, a lock, quarantine."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kproxy_tutor.errors import N_, StateError, file_problem, write_problem

try:  # POSIX advisory locks; on other systems two tutors at once are simply not coordinated.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

HOME_ENV = "KPROXY_TUTOR_HOME"
APP_DIR = "kproxy-tutor"


def state_dir() -> Path:
    """Progress lives here: $KPROXY_TUTOR_HOME, else $XDG_STATE_HOME/kproxy-tutor (~/.local/state)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_DIR


def config_dir() -> Path:
    """Settings live here: $KPROXY_TUTOR_HOME, else $XDG_CONFIG_HOME/kproxy-tutor (~/.config)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_DIR


@dataclass(frozen=True)
class Quarantined:
    """A state file that could not be used was moved aside (kept, not deleted)."""

    original: Path
    moved_to: Path
    reason: str  # "corrupt" or "newer"


#: Every file quarantined during this run, for the UI to report once at the end.
QUARANTINED: list[Quarantined] = []


def temp_prefix(path: Path) -> str:
    """Temporary files of ``path`` are ``.NAME.XXXX.tmp`` beside it (see :func:`clean_temps`)."""
    return f".{path.name}."


def clean_temps(path: Path) -> None:
    """Remove what a writer killed mid-write left of ``path`` (call only while holding its lock)."""
    prefix = temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash leaves the old or the new content, never half (raises OSError)."""
    directory = path.parent
    import tempfile  # only when writing: keeps start-up light

    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def quarantine(path: Path, reason: str) -> Quarantined:
    """Move ``path`` aside as ``NAME.REASON-STAMP`` (kept, never deleted) and note it for the UI."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.{reason}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{reason}-{stamp}-{n}")
    try:
        os.replace(path, target)
    except OSError as exc:
        raise StateError(
            N_("{path} is unreadable and could not be moved aside: {reason}"),
            path=str(path),
            reason=write_problem(exc),
        ) from exc
    notice = Quarantined(path, target, reason)
    QUARANTINED.append(notice)
    return notice


#: Errors that mean "this directory cannot be written", where reading must still work.
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


@contextlib.contextmanager
def file_lock(path: Path, *, for_writing: bool = True) -> Iterator[bool]:
    """Hold the exclusive lock of ``path`` (``NAME.lock`` beside it), yielding True; never through a symlink.

    Reading works in a directory that cannot be written (a read-only home, another user's
    files): without a lock file there is no writer to wait for, so the read goes ahead unlocked
    (yielding False).
    """
    lock_path = path.with_name(path.name + ".lock")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if for_writing:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, flags, 0o600)
    except OSError as exc:
        if not for_writing and (exc.errno in _READ_ONLY or exc.errno == errno.ENOENT):
            yield False
            return
        if exc.errno == errno.ELOOP:
            raise StateError(
                N_("The lock file {path} is a symbolic link; remove it and try again."), path=str(lock_path)
            ) from exc
        raise StateError(
            N_("Cannot open the state directory {path}: {reason}"),
            path=str(path.parent),
            reason=write_problem(exc),
        ) from exc
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@dataclass
class JsonStore:
    """One versioned JSON document on disk.

    Every write goes to a temporary file in the same directory, is fsync'ed, then renamed over
    the old file, so a crash leaves either the old or the new content, never half of one.
    Updates hold an exclusive lock for read-modify-write, so two tutors running at once do not
    lose each other's changes. ``valid`` says whether a parsed document has the expected shape:
    one that does not is kept aside like a file that is not JSON at all.
    """

    path: Path
    version: int
    make_empty: Callable[[], dict[str, Any]]
    notices: list[Quarantined] = field(default_factory=list)
    valid: Callable[[dict[str, Any]], bool] | None = None

    def read(self) -> dict[str, Any]:
        """The current document (a fresh one if the file is missing or had to be quarantined)."""
        with file_lock(self.path, for_writing=False) as locked:
            if locked:
                clean_temps(self.path)  # left by a writer that was killed: nobody else writes now
            return self._read_unlocked()

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the document and save it atomically, under the lock."""
        with file_lock(self.path):
            clean_temps(self.path)  # left by a writer that was killed: nobody else writes now
            data = self._read_unlocked()
            change(data)
            data["version"] = self.version
            self._write_unlocked(data)
            return data

    def replace(self, data: dict[str, Any]) -> None:
        """Save ``data`` as the whole document."""
        self.update(lambda current: (current.clear(), current.update(data)))

    # -- internals -------------------------------------------------------------------------

    def _read_unlocked(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self._fresh()
        except OSError as exc:
            raise StateError(
                N_("Cannot read {path}: {reason}"), path=str(self.path), reason=file_problem(exc)
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return self._quarantine("corrupt")
        if not isinstance(data, dict) or type(data.get("version")) is not int:
            return self._quarantine("corrupt")
        if data["version"] > self.version:
            return self._quarantine("newer")
        empty = self.make_empty()
        for key, value in empty.items():
            data.setdefault(key, value)
        if self.valid is not None and not self.valid(data):
            return self._quarantine("corrupt")
        return data

    def _fresh(self) -> dict[str, Any]:
        data = self.make_empty()
        data["version"] = self.version
        return data

    def _quarantine(self, reason: str) -> dict[str, Any]:
        self.notices.append(quarantine(self.path, reason))
        return self._fresh()

    def _write_unlocked(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        try:
            atomic_write_text(self.path, text)
        except OSError as exc:
            raise StateError(
                N_("Cannot save {path}: {reason}"), path=str(self.path), reason=write_problem(exc)
            ) from exc
