"""The TutorError tree: every error a learner can cause, with its exit code and a message id."""

from __future__ import annotations

import errno
from enum import IntEnum
from typing import Any, TypeVar


class ExitCode(IntEnum):
    """Documented exit codes of ``kproxy-tutor``."""

    OK = 0
    FAILURE = 1  # an answer or check did not pass (not an error of the tool)
    USAGE = 2
    CONTENT = 3
    SANDBOX_INPUT = 4
    STATE = 5
    INTERNAL = 70
    INTERRUPTED = 130


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    """Mark ``message`` for extraction without translating it (translated when shown)."""
    return message


class Msg(str):
    """A parameter value that is itself a msgid: the UI translates it before formatting the message."""

    __slots__ = ()


#: The one wording for a file that cannot be read (the file is the error's location).
FILE_NOT_FOUND = N_("File not found.")
CANNOT_READ = N_("Cannot read the file: {reason}.")


def file_problem(exc: BaseException) -> Msg:
    """Why a file could not be read, as a msgid (never the operating system's English text)."""
    if isinstance(exc, FileNotFoundError):
        return Msg(N_("it does not exist"))
    if isinstance(exc, IsADirectoryError):
        return Msg(N_("it is a directory, not a file"))
    if isinstance(exc, PermissionError):
        return Msg(N_("permission denied"))
    if isinstance(exc, UnicodeDecodeError):
        return Msg(N_("it is not UTF-8 text"))
    if _bad_path(exc):
        return Msg(N_("the file name contains a NUL character"))
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return Msg(N_("the file name is too long"))
    return Msg(N_("it cannot be read"))


def write_problem(exc: BaseException) -> Msg:
    """Why a file could not be written, as a msgid (never the operating system's English text)."""
    if isinstance(exc, OSError):
        reasons = {
            errno.ENOENT: N_("its directory does not exist"),
            errno.EACCES: N_("permission denied"),
            errno.EPERM: N_("permission denied"),
            errno.ENOSPC: N_("the disk is full"),
            errno.EDQUOT: N_("the disk quota is exceeded"),
            errno.EROFS: N_("the file system is read-only"),
            errno.EISDIR: N_("it is a directory, not a file"),
            errno.ENOTDIR: N_("a part of the path is not a directory"),
            errno.ENAMETOOLONG: N_("the file name is too long"),
        }
        if exc.errno in reasons:
            return Msg(reasons[exc.errno])
    if _bad_path(exc):
        return Msg(N_("the file name contains a NUL character"))
    return Msg(N_("it cannot be written"))


def _bad_path(exc: BaseException) -> bool:
    # A file call raises a plain ValueError (not a decoding error) only for a path the operating
    # system cannot take: one with an embedded NUL character.
    return isinstance(exc, ValueError) and not isinstance(exc, UnicodeError)


class TutorError(Exception):
    """Base class: ``message`` is an English gettext msgid with ``{name}`` placeholders.

    Modules below the UI never translate: they raise with a msgid and parameters, and the
    error boundary in the CLI translates and formats the text in the learner's language.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        #: Where the problem is (a file, "file:line", a field path); shown before the message.
        self.location: str | None = params.pop("location", None)

    def __str__(self) -> str:  # English, for logs and tests
        text = self.message.format(**self.params) if self.params else self.message
        return f"{self.location}: {text}" if self.location else text


class UsageError(TutorError):
    """The command line asked for something that does not exist or does not fit."""

    exit_code = ExitCode.USAGE


class ContentError(TutorError):
    """A lesson, quiz or catalog file is missing or invalid."""

    exit_code = ExitCode.CONTENT


class SandboxInputError(TutorError):
    """A manifest, command, name, IP or port given to the sandbox is invalid."""

    exit_code = ExitCode.SANDBOX_INPUT


class StateError(TutorError):
    """The progress or settings file cannot be read or written."""

    exit_code = ExitCode.STATE


class Interrupted(TutorError):
    """The learner pressed Ctrl-C or closed input (Ctrl-D) at a prompt."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, *, reported: bool = False) -> None:
        super().__init__(N_("Interrupted."))
        #: The command already told the learner what was kept: the CLI then says nothing more.
        self.reported = reported


_E = TypeVar("_E", bound=TutorError)


def file_error(kind: type[_E], path: str, exc: BaseException) -> _E:
    """``kind`` of error for a file that could not be read: not found, or why it cannot be read."""
    if isinstance(exc, FileNotFoundError):
        return kind(FILE_NOT_FOUND, location=path)
    return kind(CANNOT_READ, location=path, reason=file_problem(exc))


def as_usage(error: TutorError) -> UsageError:
    """The same message as a usage error: for a command-line option value the sandbox refused."""
    return UsageError(error.message, location=error.location, **error.params)
