"""The iptables tracer behind the same interface as the nftables evaluator: ``evaluate`` one first packet, or list every ``possible_outcomes``.

The modes are compared packet by packet (``tests/modes``), and ``trace --mode`` renders any
mode's trace the same way, so each mode answers the same two questions. For iptables the random
part is ``-m statistic --mode random``: every draw is a yes/no question, so the possible
outcomes are found by walking the packet once per sequence of answers (a depth-first walk over
the draws, each walk on fresh kernel state so that conntrack and affinity lists of one walk do
not steer the next).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import Outcome, Packet, SourceKind, Trace
from kproxy_tutor.sandbox.trace.network import Network, cluster_network
from kproxy_tutor.sandbox.trace.tracer import Client, Tracer

#: More draw sequences than this means the rules are not kube-proxy's (a Service has one draw per endpoint).
MAX_PATHS = 4096


class _ForcedDraws(random.Random):
    """A random source whose draws say "take this rule" or "not this one" as told, then always "take"."""

    def __init__(self, forced: Iterable[bool]) -> None:
        super().__init__(0)
        self.forced = list(forced)
        self.taken: list[bool] = []

    def getrandbits(self, k: int) -> int:
        position = len(self.taken)
        hit = self.forced[position] if position < len(self.forced) else True
        self.taken.append(hit)
        # 0 is below every probability; all ones (masked to 0x7FFFFFFF by the match) is above all but 1.0.
        return 0 if hit else (1 << k) - 1


class _PacketTracer(Tracer):
    def send(self, client: Client, packet: Packet, record: bool = True) -> Trace:
        """A given first packet (addresses exactly as written, unlike ``connect``, which picks the source)."""
        return self._trace(client, packet, record, reply=record, prefix=())


class IptablesEvaluator:
    """One node's iptables rules, traced as ``NftEvaluator`` traces its table (same Packet, SourceKind, Outcome)."""

    def __init__(self, network: Network, node: str, seed: int = 0) -> None:
        self.network = network
        self.node = node
        self.seed = seed
        self.tracer = _PacketTracer(network, seed)

    @classmethod
    def for_cluster(
        cls, cluster: Cluster, node: str, ruleset: Ruleset, seed: int = 0, *, family: str = IPV4
    ) -> IptablesEvaluator:
        """``ruleset`` is ``node``'s (of ``family``'s proxier); the other nodes compile theirs when a packet first reaches them."""
        rules: dict[str, Callable[[], Ruleset]] = {node: lambda: ruleset}
        return cls(cluster_network(cluster, rules, family=family), node, seed)

    def client(self, packet: Packet, source: str) -> Client:
        """The client that sends ``packet`` from ``source`` (a SourceKind) to this node."""
        pod = self.network.pod_at(packet.src_ip) if source == SourceKind.POD else None
        name = pod.name if pod is not None else (self.node if source == SourceKind.NODE else None)
        return Client(source, packet.src_ip, self.node, name)

    def evaluate(self, packet: Packet, source: str) -> Trace:
        """The first packet of a new connection; conntrack and affinity lists persist between calls."""
        return self.tracer.send(self.client(packet, source), packet)

    def possible_outcomes(self, packet: Packet, source: str) -> list[Outcome]:
        """Every outcome the random draws allow, one per sequence of draws (this evaluator's state is untouched)."""
        client = self.client(packet, source)
        outcomes: list[Outcome] = []
        pending: list[list[bool]] = [[]]
        while pending:
            forced = pending.pop()
            tracer = _PacketTracer(self.network, self.seed)
            draws = _ForcedDraws(forced)
            # The kernels take the tracer's random source when first created, so set it before any is.
            tracer.rng = draws
            outcomes.append(tracer.send(client, packet, record=False).outcome)
            # Every draw past the forced ones said "take"; each could also have said "not this one".
            pending.extend([*draws.taken[:i], False] for i in range(len(forced), len(draws.taken)))
            if len(outcomes) + len(pending) > MAX_PATHS:
                break
        return outcomes
