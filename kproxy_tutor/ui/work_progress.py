"""Progress of long work (loading manifests, syncing rules, batches of traces) on stderr, in a terminal only.

The sandbox reports progress as ``(phase, done, total)`` codes through a callback; this module
turns them into a rich progress display in the learner's language. Nothing is shown in a pipe,
with ``--plain``, with ``TERM=dumb``, or for work that ends within about a second. Ctrl-C stops
the display cleanly: the interruption goes on to the one error boundary (exit 130).
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import Any

from kproxy_tutor.i18n import _, current_language

#: Work shorter than this shows nothing (seconds).
DELAY = 1.0
#: Narrower terminals get the words and the figures only (no bar, no clock), so nothing is cut.
WIDE = 60


def phase_label(phase: str) -> str:
    """The words for a phase code the sandbox reports."""
    labels = {
        "parse": _("Reading the manifests"),
        "load": _("Loading the objects"),
        "sync": _("Writing the rules"),
        "trace": _("Tracing connections"),
        "read-rules": _("Reading the rules"),
        "explain": _("Explaining the rules"),
        "render": _("Writing the explanation"),
    }
    return labels.get(phase, phase)


def progress_wanted() -> bool:
    """A terminal on stderr, not plain, not a dumb terminal."""
    from kproxy_tutor import runtime

    if runtime.current().plain or os.environ.get("KPROXY_TUTOR_PLAIN", "") not in ("", "0"):
        return False
    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class WorkProgress:
    """A context manager that is also the progress callback: ``with WorkProgress() as progress: load(..., progress)``.

    The rich display starts only once the work has taken ``delay`` seconds, so quick commands
    print nothing extra; it is transient (cleared when the work ends).
    """

    def __init__(self, delay: float = DELAY, enabled: bool | None = None) -> None:
        self.enabled = progress_wanted() if enabled is None else enabled
        self.delay = delay
        self._started = time.monotonic()
        self._display: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> WorkProgress:
        self._started = time.monotonic()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._display is None:
            if time.monotonic() - self._started < self.delay or done >= total:
                return
            self._start()
        count = _count(done, total, phase)
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._display.add_task(phase_label(phase), total=total, count=count)
        self._display.update(task, completed=done, total=total, count=count)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from kproxy_tutor.ui.console import display

        # Its own console: stderr is a terminal here even when stdout (the rules) goes to a pipe.
        console = Console(stderr=True, no_color=not display().color, highlight=False, emoji=False)

        columns: list[Any] = [TextColumn("{task.description}")]
        if console.width >= WIDE:
            columns.append(BarColumn(bar_width=None))
        columns.append(TextColumn("{task.fields[count]}"))
        if console.width >= WIDE:
            columns.append(TimeElapsedColumn())
        self._display = Progress(
            *columns,
            console=console,
            transient=True,
            # Only stderr is ours to draw on: stdout may be a pipe that a reader already closed
            # (Ctrl-C in ``… | tail``), and wrapping it would keep the display from clearing.
            redirect_stdout=False,
            redirect_stderr=False,
            expand=False,
        )
        self._display.start()


def _count(done: int, total: int, phase: str) -> str:
    """The figures beside the bar, formatted for the learner's locale."""
    from babel.numbers import format_decimal, format_percent

    locale = current_language()
    if phase in ("parse", "read-rules"):
        # Characters of text: a share says more than a count of characters.
        return format_percent(done / max(total, 1), locale=locale)
    return f"{format_decimal(done, locale=locale)}/{format_decimal(total, locale=locale)}"
