"""The TutorError tree: every error a learner can cause, with its exit code and a message id."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


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

    def __init__(self) -> None:
        super().__init__(N_("Interrupted."))
