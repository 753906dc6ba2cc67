"""Pause Python's cyclic garbage collector while a large, long-lived object graph is built.

Loading a cluster, syncing a proxier and rendering its rules create hundreds of thousands of
small objects that all stay alive and form no reference cycles. With the collector running,
every few hundred allocations it would rescan the growing heap for nothing; paused, the
objects are still freed by reference counting as usual. Pauses nest: only the outermost one
turns the collector back on, and only if it was on.

Kept while it pays: ``benchmarks/bench_matrix.py`` prints what a run saves with it ("the tricks").
"""

from __future__ import annotations

import gc
from types import TracebackType


class _Pause:
    """A plain context manager, not a generator: it allocates nothing after turning the
    collector back on, so the collection that the pause deferred runs at the caller's next
    allocation, not inside the paused call.
    """

    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._enabled:
            gc.enable()


def paused_gc() -> _Pause:
    return _Pause()
