"""``curl`` in nftables or IPVS mode: every node's packets through the rules that node's kube-proxy keeps in the shell.

The tracer is the one ``trace --mode`` uses (``TraceSession.from_cluster(mode=…)``): it carries
the packet node to node and back, each node behind its own conntrack. Only the walkers differ:
here each node walks the table or virtual servers its shell backend holds now (synced after
every edit, restarted by ``mode``), and after a sync the new walker keeps what the kernel keeps
(IPVS schedulers and persistence, nftables affinity sets, the random sources).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.packet import Packet, Trace
from kproxy_tutor.sandbox.trace.mode_kernel import NodePass
from kproxy_tutor.sandbox.trace.network import Network
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.shell.session import Session


class BackendWalker:
    """One node's walker over its shell backend's current rules, made again whenever they change."""

    def __init__(self, session: Session, node: str, network: Network, clock: Callable[[], float]) -> None:
        self._session = session
        self._node = node
        self._network = network
        self._clock = clock
        self._walker: Any = None
        self._generation = -1

    @property
    def current(self) -> Any:
        backend = self._session.backends[self._node]
        if self._walker is None or self._generation != backend.generation:
            walker = backend.walker(self._network, self._clock)
            if self._walker is not None and type(self._walker) is type(walker):
                walker.keep_state_of(self._walker)
            self._walker, self._generation = walker, backend.generation
        return self._walker

    @property
    def local_addresses(self) -> frozenset[str]:
        addresses: frozenset[str] = self.current.local_addresses
        return addresses

    def pass_node(self, packet: Packet, source: str) -> NodePass:
        passed: NodePass = self.current.pass_node(packet, source)
        return passed

    def expected_shares(self, trace: Trace) -> tuple[str, dict[str, float]] | None:
        shares: tuple[str, dict[str, float]] | None = self.current.expected_shares(trace)
        return shares


def trace_session(session: Session) -> TraceSession:
    """The shell's tracer in its current (nftables or IPVS) mode: conntrack kept between curls."""

    def walkers(node: str, network: Network, clock: Callable[[], float]) -> BackendWalker:
        return BackendWalker(session, node, network, clock)

    return TraceSession.from_cluster(session.cluster, seed=0, mode=session.mode, walkers=walkers)


def count(session: Session, trace: Trace, family: str = IPV4) -> None:
    """Each node's backend of ``family`` counts what it did for the connection (IPVS: ActiveConn of the real server)."""
    backends = session.backends if family == IPV4 else session.backends6
    for backend in backends.values():
        backend.count(trace)
