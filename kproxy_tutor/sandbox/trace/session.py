"""What a sandbox shell calls for ``curl``: a cluster (or a node's dump) ready for tracing, names resolved, kernel state kept between requests."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import Trace, TraceStep
from kproxy_tutor.sandbox.trace.load import LoadResult, run_load
from kproxy_tutor.sandbox.trace.network import cluster_network, dump_network
from kproxy_tutor.sandbox.trace.request import (
    Destination,
    check_protocol,
    dns_step,
    dump_client,
    resolve_client,
    resolve_destination,
    wrong_port_of,
)
from kproxy_tutor.sandbox.trace.tracer import Client, Tracer
from kproxy_tutor.sandbox.work import Progress

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.modes import WalkerFactory


class TraceSession:
    """``curl`` and ``load`` against one cluster; conntrack, affinity lists and the clock persist across calls."""

    def __init__(
        self,
        tracer: Tracer,
        cluster: Cluster | None = None,
        node_ips: tuple[str, ...] = (),
        dump_node: str | None = None,
    ) -> None:
        self.tracer = tracer
        self.cluster = cluster
        self._node_ips = node_ips
        self._dump_node = dump_node

    @classmethod
    def from_cluster(
        cls,
        cluster: Cluster,
        seed: int = 0,
        rules: dict[str, Ruleset] | None = None,
        progress: Progress | None = None,
        mode: str = "iptables",
        walkers: WalkerFactory | None = None,
    ) -> TraceSession:
        """Each node's rules come from its own Proxier in ``mode`` (compiled when a packet first reaches it) unless given.

        ``progress`` hears those compilations, as it would a sync's. ``rules`` (iptables mode)
        gives some nodes' rules ready-made; ``walkers`` (nftables and IPVS modes) every node's walker.
        """
        if mode != "iptables":
            from kproxy_tutor.sandbox.modes import mode_tracer

            return cls(mode_tracer(cluster, mode, seed, progress, walkers), cluster)
        given = {name: (lambda r=ruleset: r) for name, ruleset in (rules or {}).items()}
        return cls(Tracer(cluster_network(cluster, given, progress), seed), cluster)

    @classmethod
    def from_dump(
        cls, ruleset: Ruleset, node_ips: tuple[str, ...], node_name: str = "node", seed: int = 0
    ) -> TraceSession:
        """Trace through a real node's ``iptables-save`` output; ``node_ips`` are its addresses (addrtype LOCAL)."""
        return cls(Tracer(dump_network(ruleset, node_ips, node_name), seed), None, node_ips, node_name)

    def resolve(
        self,
        source: str,
        target: str,
        protocol: str | None = None,
        node: str | None = None,
    ) -> tuple[Client, Destination]:
        protocol = check_protocol(protocol)
        if self.cluster is None:
            return dump_client(self._dump_node or "node", self._node_ips, source), resolve_destination(
                None, target, protocol
            )
        # The client's namespace decides which Service a bare name means, so find the client first
        # (outside clients do not depend on the destination except for where they come in).
        head = target.rpartition(":")[0] or target
        client = resolve_client(self.cluster, source, node, head)
        namespace = client.name.split("/")[0] if client.name and "/" in client.name else None
        return client, resolve_destination(self.cluster, target, protocol, namespace)

    def curl(self, source: str, target: str, protocol: str | None = None, node: str | None = None) -> Trace:
        """One new connection from ``source`` to ``target``: the first packet's way and the reply's."""
        client, destination = self.resolve(source, target, protocol, node)
        return self.connect(client, destination)

    def connect(self, client: Client, destination: Destination) -> Trace:
        trace = self.tracer.connect(
            client,
            destination.ip,
            destination.port,
            destination.protocol,
            prefix=self._prefix(client, destination),
        )
        return self.annotate(trace, destination)

    def annotate(self, trace: Trace, destination: Destination) -> Trace:
        """What the cluster knows about the destination that the rules do not say: what the address is, a ClusterIP's missing port."""
        return dataclasses.replace(
            trace,
            wrong_port_of=wrong_port_of(self.cluster, destination),
            address_kind=destination.kind,
            address_owner=destination.owner,
        )

    def resend(self, client: Client, trace: Trace) -> Trace:
        """The next packet of ``trace``'s connection (conntrack translates it; the nat rules are skipped)."""
        return self.tracer.resend(client, trace)

    def load(
        self,
        source: str,
        target: str,
        count: int,
        protocol: str | None = None,
        node: str | None = None,
    ) -> LoadResult:
        client, destination = self.resolve(source, target, protocol, node)
        return run_load(self.tracer, client, destination.ip, destination.port, destination.protocol, count)

    def _prefix(self, client: Client, destination: Destination) -> tuple[TraceStep, ...]:
        if destination.dns_name is None or self.cluster is None:
            return ()
        return (dns_step(client, destination, self.cluster.network.dns_service_ip),)
