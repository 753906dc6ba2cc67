"""How long sandbox work (loads, syncs, batches of traces) reports progress: a callback, never a display.

``progress(phase, done, total)`` with a phase code: "parse" (characters of a source read),
"load" (objects converted), "sync" (service ports compiled), "trace" (connections traced),
"read-rules" (a node's dump read), "explain" (its chains explained), "render" (lines written).
The command layer passes a callback that draws (``ui.work_progress``); the sandbox only calls it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
#: Loops call ``progress`` when ``index & PROGRESS_MASK == 0``: every 512 items, cheap to test.
PROGRESS_MASK = 511
#: Readers of big dumps call ``progress`` every 8,192 lines (a 10,000-Service node has about 200,000).
READ_MASK = 8191


def share(progress: Progress, start: int, size: int, whole: int) -> Progress:
    """``progress`` for one part of a job: its ``(done, total)`` become ``start`` plus that share of
    ``size``, out of ``whole`` (one bar for a job done in parts)."""

    def part(phase: str, done: int, total: int) -> None:
        progress(phase, start + size * done // max(total, 1), whole)

    return part
