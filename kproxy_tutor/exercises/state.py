"""What a check looks at: the sandbox session, the traces the learner's curls made, and the typed answer."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import Trace
from kproxy_tutor.shell.session import Session

#: Seed of the fresh tracers checks use, so a check gives the same verdict every time.
CHECK_SEED = 0


@dataclass
class ExerciseState:
    session: Session
    #: Every trace the learner's ``curl`` commands produced in this exercise, oldest first.
    traces: list[Trace] = field(default_factory=list)
    #: The last value given with ``answer``, or None.
    answer: str | None = None

    @property
    def mode(self) -> str:
        """The proxy mode the sandbox shell runs in (its ``mode`` command)."""
        return self.session.mode

    @property
    def ruleset(self) -> Ruleset:
        """The iptables rules of the node the learner looks at."""
        return self.session.proxier.kernel.ruleset

    def fresh_tracer(self) -> Any:
        """A tracer over the live rules with empty conntrack and affinity, so checks do not depend on history."""
        from kproxy_tutor.sandbox.trace.session import TraceSession

        rules = {name: p.kernel.ruleset for name, p in self.session.proxiers.items()}
        return TraceSession.from_cluster(self.session.cluster, seed=CHECK_SEED, rules=rules)

    def compiled(self, mode: str) -> Any:
        """The node's rules compiled in ``mode`` (nftables, ipvs) from the current cluster."""
        from kproxy_tutor.sandbox.modes import compile_mode

        return compile_mode(self.session.cluster, self.session.node, mode)


def save_sandbox(session: Session, path: Path) -> None:
    """Save the exercise's sandbox as an ordinary sandbox state file, atomically and under a lock.

    A crash mid-write leaves the previous copy (or none), never half a file; a temporary file a
    killed writer left is removed by the next save. Raises OSError when the file cannot be written.
    """
    from kproxy_tutor.shell.commands import state_yaml
    from kproxy_tutor.store import atomic_write_text, clean_temps, file_lock

    text = state_yaml(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        clean_temps(path)
        atomic_write_text(path, text)


def restore_sandbox(session: Session, path: Path) -> bool:
    """Load a sandbox saved by :func:`save_sandbox`; False (nothing changed) when there is none.

    A copy that cannot be loaded (damaged, from an older sandbox) is kept aside as
    ``NAME.corrupt-STAMP`` and reported, never silently dropped.
    """
    from kproxy_tutor.errors import TutorError
    from kproxy_tutor.store import clean_temps, file_lock, quarantine

    try:
        with file_lock(path, for_writing=False) as locked:
            if locked:
                clean_temps(path)
            text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None:
        origin = session.origin
        try:
            session.restart(session.load_start(text, str(path)))
        except TutorError:
            pass
        else:
            session.origin = origin  # `reset` still means the exercise's start
            return True
    # If it cannot even be moved, it stays where it is and the exercise starts fresh.
    with contextlib.suppress(TutorError):
        quarantine(path, "corrupt")
    return False
