"""Versioned JSON files for learner state: XDG locations, atomic writes, a lock, quarantine."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kproxy_tutor.errors import N_, StateError

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


@dataclass
class JsonStore:
    """One versioned JSON document on disk.

    Every write goes to a temporary file in the same directory, is fsync'ed, then renamed over
    the old file, so a crash leaves either the old or the new content, never half of one.
    Updates hold an exclusive lock for read-modify-write, so two tutors running at once do not
    lose each other's changes.
    """

    path: Path
    version: int
    make_empty: Callable[[], dict[str, Any]]
    notices: list[Quarantined] = field(default_factory=list)

    def read(self) -> dict[str, Any]:
        """The current document (a fresh one if the file is missing or had to be quarantined)."""
        with self._locked():
            return self._read_unlocked()

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the document and save it atomically, under the lock."""
        with self._locked():
            data = self._read_unlocked()
            change(data)
            data["version"] = self.version
            self._write_unlocked(data)
            return data

    def replace(self, data: dict[str, Any]) -> None:
        """Save ``data`` as the whole document."""
        self.update(lambda current: (current.clear(), current.update(data)))

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.path.with_name(self.path.name + ".lock"), "a+")  # noqa: SIM115
        except OSError as exc:
            raise StateError(
                N_("Cannot open the state directory {path}: {reason}"),
                path=str(self.path.parent),
                reason=exc.strerror or str(exc),
            ) from exc
        with lock_file:
            if fcntl is not None:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _read_unlocked(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self._fresh()
        except OSError as exc:
            raise StateError(
                N_("Cannot read {path}: {reason}"), path=str(self.path), reason=exc.strerror or str(exc)
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._quarantine("corrupt")
        if not isinstance(data, dict) or not isinstance(data.get("version"), int):
            return self._quarantine("corrupt")
        if data["version"] > self.version:
            return self._quarantine("newer")
        empty = self.make_empty()
        for key, value in empty.items():
            data.setdefault(key, value)
        return data

    def _fresh(self) -> dict[str, Any]:
        data = self.make_empty()
        data["version"] = self.version
        return data

    def _quarantine(self, reason: str) -> dict[str, Any]:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.{reason}-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.{reason}-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise StateError(
                N_("{path} is unreadable and could not be moved aside: {reason}"),
                path=str(self.path),
                reason=exc.strerror or str(exc),
            ) from exc
        notice = Quarantined(self.path, target, reason)
        self.notices.append(notice)
        QUARANTINED.append(notice)
        return self._fresh()

    def _write_unlocked(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        directory = self.path.parent
        import tempfile  # only when writing: keeps start-up light

        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp_name, self.path)
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
        except OSError as exc:
            raise StateError(
                N_("Cannot save {path}: {reason}"), path=str(self.path), reason=exc.strerror or str(exc)
            ) from exc
