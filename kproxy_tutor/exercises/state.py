"""What a check looks at: the sandbox session, the traces the learner's curls made, and the typed answer."""

from __future__ import annotations

from dataclasses import dataclass, field
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
