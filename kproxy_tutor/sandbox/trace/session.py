"""What a sandbox shell calls for ``curl``: a cluster (or a node's dump) ready for tracing, names resolved, kernel state kept between requests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import family_of_address
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import Trace, TraceStep
from kproxy_tutor.sandbox.trace.load import LoadResult, run_load
from kproxy_tutor.sandbox.trace.network import PodAddress, cluster_network, dump_network
from kproxy_tutor.sandbox.trace.request import (
    Destination,
    check_protocol,
    client_in_family,
    dns_step,
    dump_client,
    resolve_client,
    resolve_destination,
    split_host_port,
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
        *,
        family_tracer: Callable[[str], Tracer] | None = None,
        refresh: Callable[[str, Tracer], None] | None = None,
    ) -> None:
        #: The tracer of the first IP family (IPv4 in a cluster, the dump's family for --rules).
        self.tracer = tracer
        self.cluster = cluster
        self._node_ips = node_ips
        self._dump_node = dump_node
        self._tracers: dict[str, Tracer] = {tracer.network.family: tracer}
        #: Makes the tracer of another family (kube-proxy's proxier of that family on every node).
        self._family_tracer = family_tracer
        #: Brings a family's rules up to date with the cluster before a connection (its own proxiers).
        self._refresh = refresh

    def tracer_for(self, family: str) -> Tracer:
        """The tracer through ``family``'s rules (one proxier per family, as kube-proxy runs them)."""
        tracer = self._tracers.get(family)
        if tracer is None:
            if self._family_tracer is None:
                raise UsageError(
                    N_(
                        "The dump holds {have} rules (its --node-ip addresses are {have}); an {family} destination "
                        "needs that family's dump (iptables-save for IPv4, ip6tables-save for IPv6)."
                    ),
                    have=self.tracer.network.family,
                    family=family,
                )
            tracer = self._tracers[family] = self._family_tracer(family)
            tracer.now = self.tracer.now
            # One set of ephemeral ports for the clients of both families, as one kernel hands them out.
            tracer.allocate_port = self.tracer.allocate_port  # type: ignore[method-assign]
        if self._refresh is not None:
            self._refresh(family, tracer)
        return tracer

    @property
    def tracers(self) -> dict[str, Tracer]:
        """The tracers made so far, by family."""
        return dict(self._tracers)

    @classmethod
    def from_cluster(
        cls,
        cluster: Cluster,
        seed: int = 0,
        rules: dict[str, Ruleset] | None = None,
        progress: Progress | None = None,
        mode: str = "iptables",
        walkers: WalkerFactory | None = None,
        *,
        family_rules: Mapping[str, Mapping[str, Ruleset]] | None = None,
    ) -> TraceSession:
        """Each node's rules come from its own Proxier in ``mode`` (compiled when a packet first reaches it) unless given.

        ``progress`` hears those compilations, as it would a sync's. ``rules`` (iptables mode)
        gives some nodes' rules ready-made; ``walkers`` (nftables and IPVS modes) every node's walker.
        Both are IPv4's: an IPv6 destination goes through IPv6 proxiers this session keeps (made at
        the first IPv6 packet, synced before each connection, so cluster edits reach them), except
        for the nodes ``family_rules`` (iptables mode; family → node → rules) gives ready-made.
        """
        from kproxy_tutor.sandbox.modes import mode_tracer

        live: dict[str, list[Callable[[], object]]] = {}
        #: Watch events seen, and (per family) how many there were at its last refresh.
        events = [0]
        seen: dict[str, tuple[int, int]] = {}

        def count(*_changes: object) -> None:
            events[0] += 1

        def family_tracer(family: str) -> Tracer:
            if not live:
                cluster.watch(count, count)  # edits reach the proxiers made here at the next connection
            syncs = live.setdefault(family, [])
            ready = (family_rules or {}).get(family)
            if mode == "iptables" and ready:
                given = {name: (lambda r=ruleset: r) for name, ruleset in ready.items()}
                return Tracer(
                    cluster_network(cluster, given, progress, family=family, keep=syncs.append), seed
                )
            return mode_tracer(cluster, mode, seed, progress, family=family, keep=syncs.append)

        def refresh(family: str, tracer: Tracer) -> None:
            now = (events[0], len(cluster.pods))
            if family not in live or seen.get(family) == now:
                return
            seen[family] = now
            for sync in live[family]:
                sync()
            tracer.network.pods = {
                pod.ip(family): PodAddress(pod.ip(family), f"{pod.namespace}/{pod.name}", pod.node_name)
                for pod in cluster.pods.values()
                if pod.ip(family)
            }

        if mode != "iptables":
            first = mode_tracer(cluster, mode, seed, progress, walkers)
        else:
            given = {name: (lambda r=ruleset: r) for name, ruleset in (rules or {}).items()}
            first = Tracer(cluster_network(cluster, given, progress), seed)
        return cls(first, cluster, family_tracer=family_tracer, refresh=refresh)

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
        family: str | None = None,
    ) -> tuple[Client, Destination]:
        """The client and the destination; ``family`` (IPv4/IPv6) picks a Service's or node's address of that family.

        The client gets its address of the destination's family (a Pod's podIP, a node's InternalIP).
        """
        protocol = check_protocol(protocol)
        if self.cluster is None:
            client = dump_client(self._dump_node or "node", self._node_ips, source)
            destination = resolve_destination(None, target, protocol, family=family)
            return client_in_family(None, client, destination.family), destination
        # The client's namespace decides which Service a bare name means, so find the client first
        # (outside clients do not depend on the destination except for where they come in).
        head = split_host_port(target)[0]
        client = resolve_client(self.cluster, source, node, head)
        namespace = client.name.split("/")[0] if client.name and "/" in client.name else None
        destination = resolve_destination(self.cluster, target, protocol, namespace, family=family)
        return client_in_family(self.cluster, client, destination.family), destination

    def curl(
        self,
        source: str,
        target: str,
        protocol: str | None = None,
        node: str | None = None,
        family: str | None = None,
    ) -> Trace:
        """One new connection from ``source`` to ``target``: the first packet's way and the reply's."""
        client, destination = self.resolve(source, target, protocol, node, family)
        return self.connect(client, destination)

    def connect(self, client: Client, destination: Destination) -> Trace:
        trace = self.tracer_for(destination.family).connect(
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
        return self.tracer_for(family_of_address(trace.packet.dst_ip)).resend(client, trace)

    def load(
        self,
        source: str,
        target: str,
        count: int,
        protocol: str | None = None,
        node: str | None = None,
        family: str | None = None,
    ) -> LoadResult:
        client, destination = self.resolve(source, target, protocol, node, family)
        tracer = self.tracer_for(destination.family)
        return run_load(tracer, client, destination.ip, destination.port, destination.protocol, count)

    def _prefix(self, client: Client, destination: Destination) -> tuple[TraceStep, ...]:
        if destination.dns_name is None or self.cluster is None:
            return ()
        return (dns_step(client, destination, self.cluster.network.dns_service_ip),)
