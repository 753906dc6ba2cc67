"""``NftProxier.sync()``: compile the sandbox cluster into kube-proxy's ``table ip kube-proxy`` (or
``table ip6 kube-proxy``) for one node.

Mirrors upstream ``pkg/proxy/nftables/proxier.go``: the same change trackers and endpoint
categorisation as the iptables mode, one table per IP family, NodePorts on the node's primary
IPs unless ``nodePortAddresses`` says otherwise.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.changes import (
    EndpointsChangeTracker,
    EndpointsMap,
    ServiceChangeTracker,
    ServicePortMap,
)
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, of_family
from kproxy_tutor.sandbox.gcpause import paused_gc
from kproxy_tutor.sandbox.ipaddr import IPNetwork
from kproxy_tutor.sandbox.model import ProxyConfig, ServiceCIDR
from kproxy_tutor.sandbox.nftables.base import base_table
from kproxy_tutor.sandbox.nftables.family import NFT_IPV4, NftFamily, nft_family
from kproxy_tutor.sandbox.nftables.ruleset import NftTable
from kproxy_tutor.sandbox.nftables.servicerules import NftContext, ServicePortObjects, build_service_port
from kproxy_tutor.sandbox.nftables.statements import Address, Match, Word, to_network
from kproxy_tutor.sandbox.nftables.transaction import stale_chains
from kproxy_tutor.sandbox.serviceport import ServicePortName
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress


@dataclass(slots=True)
class NftSyncResult:
    full: bool
    table: NftTable
    updated_services: set[tuple[str, str]] = field(default_factory=set)
    #: Each service port's objects and whether this sync rewrote its chains, in sync order.
    services: list[tuple[ServicePortObjects, bool]] = field(default_factory=list)
    #: The table the kernel held before (None for a full sync: kube-proxy's first, into no table).
    previous: NftTable | None = None
    #: kube-proxy's first sync since it started (it then re-creates the base chains once).
    first: bool = False
    #: Service chains an earlier sync flushed, deleted now by a transaction of their own.
    deleted_chains: tuple[str, ...] = ()

    def transactions(self) -> list[str]:
        """What kube-proxy sent to ``nft -f`` on this sync, in its order (see ``transaction.py``)."""
        from kproxy_tutor.sandbox.nftables.transaction import sync_transactions

        return sync_transactions(self.table, self.services, self.previous, self.first, self.deleted_chains)


def local_detector(
    config: ProxyConfig, pod_cidr: str, family: NftFamily = NFT_IPV4
) -> tuple[Match, Match] | None:
    """(pod traffic, other traffic) as upstream's ``IfLocalNFT``/``IfNotLocalNFT`` spell them."""
    mode = config.detect_local_mode
    if mode in ("ClusterCIDR", "NodeCIDR"):
        cidr = config.cluster_cidr_of(family.family) if mode == "ClusterCIDR" else pod_cidr
        if not cidr:
            return None
        network = to_network(cidr.split(",")[0].strip())
        return Match(family.saddr, Address.of(network)), Match(family.saddr, Address.of(network), True)
    if mode == "BridgeInterface" and config.bridge_interface:
        name = config.bridge_interface
    elif mode == "InterfaceNamePrefix" and config.interface_name_prefix:
        name = config.interface_name_prefix + "*"
    else:
        return None
    return Match("iifname", Word(name)), Match("iifname", Word(name), True)


def node_port_ips(values: tuple[str, ...], node_ips: tuple[str, ...], family: str = IPV4) -> list[str] | None:
    """The node IPs of ``family`` that accept NodePorts; None = every local address (a zero CIDR such as 0.0.0.0/0).

    nftables mode reads an unset ``nodePortAddresses`` as ``primary`` (upstream
    ``platformApplyDefaults``), and never accepts NodePorts on localhost. Entries of the other
    family are ignored; with none of this family left, upstream uses the family's zero CIDR.
    """
    own = list(of_family(node_ips, family))
    if not values:
        return own
    version = 4 if family == IPV4 else 6
    selected: list[str] = []
    relevant = False
    for value in values:
        if value == "primary":
            relevant = True
            selected += [ip for ip in own if ip not in selected]
            continue
        network = ipaddress.ip_network(value, strict=False)
        if network.version != version:
            continue
        relevant = True
        if network.prefixlen == 0:
            return None
        selected += [ip for ip in own if ipaddress.ip_address(ip) in network and ip not in selected]
    return selected if relevant else None


class NftProxier:
    """kube-proxy's nftables proxier of one IP family for one node of a sandbox cluster."""

    def __init__(self, cluster: Cluster, node_name: str | None = None, family: str = IPV4) -> None:
        config = cluster.config
        name = node_name or config.hostname_override or next(iter(cluster.nodes), "")
        if not name:
            raise SandboxInputError(N_("The cluster has no nodes, so there is no node to compile rules for."))
        node = cluster.node(name)
        self.cluster = cluster
        self.node_name = name
        self.family = nft_family(family)
        self.ip_family = family
        self.mark = 1 << config.nftables_masquerade_bit
        # nftables mode reads nftables.syncPeriod / nftables.minSyncPeriod (v1alpha1 conversion).
        self.sync_period, self.min_sync_period = config.sync_periods("nftables")
        node_ips = node.ips(family)
        self.node_port_ips = node_port_ips(config.node_port_addresses, node_ips, family)
        # Every ServiceCIDR object's ranges of this proxier's family (OnServiceCIDRsChanged).
        self.service_cidrs: tuple[IPNetwork, ...] = ()
        cluster.watch_service_cidrs(self.on_service_cidr)
        self.context = NftContext(
            node_name=name,
            node_labels=tuple(sorted(node.labels.items())),
            node_ip=node_ips[0] if node_ips else None,
            masquerade_all=config.nftables_masquerade_all,
            detector=local_detector(config, node.pod_cidr(family), self.family),
            family=self.family,
        )
        self.service_changes = ServiceChangeTracker(family=family)
        self.endpoints_changes = EndpointsChangeTracker(name, family=family)
        self.svc_port_map = ServicePortMap()
        self.endpoints_map = EndpointsMap()
        self.need_full_sync = True
        self._stale_chains: tuple[str, ...] = ()
        self.table = NftTable()
        self._cache: dict[ServicePortName, tuple[object, object, ServicePortObjects]] = {}
        # The initial list hands over every Service and slice (as in the iptables proxier).
        with paused_gc():
            cluster.watch(self.service_changes.on_service, self.endpoints_changes.on_endpoint_slice)

    def on_service_cidr(self, old: ServiceCIDR | None, new: ServiceCIDR) -> None:
        """kube-proxy's OnServiceCIDRsChanged: the complete list of ranges, kept for the next sync's rule."""
        cidrs = of_family(self.cluster.service_cidrs(), self.ip_family)
        self.service_cidrs = tuple(to_network(c) for c in cidrs)

    def sync(self, progress: Progress | None = None) -> NftSyncResult:
        """Bring the table up to date; per-port objects of unchanged Services are reused (a partial sync).

        ``progress("sync", done, total)`` is called every few hundred service ports.
        """
        # As in the iptables proxier: a full sync builds a large graph of long-lived objects.
        with paused_gc():
            return self._sync(progress)

    def _sync(self, progress: Progress | None) -> NftSyncResult:
        full = self.need_full_sync
        updated = self.svc_port_map.update_from(self.service_changes).updated_services
        updated |= self.endpoints_map.update_from(self.endpoints_changes).updated_services
        table = base_table(self.mark, self.service_cidrs, self.node_port_ips, family=self.family)
        seen: dict[str, set[tuple[str, ...]]] = {name: set() for name in table.sets}
        services: list[tuple[ServicePortObjects, bool]] = []
        names = sorted(self.svc_port_map)
        for index, name in enumerate(names):
            if progress is not None and not index & PROGRESS_MASK:
                progress("sync", index, len(names))
            info = self.svc_port_map[name]
            endpoints = self.endpoints_map.get(name, ())
            cached = self._cache.get(name)
            if cached is None or cached[0] is not info or cached[1] is not endpoints:
                objects = build_service_port(self.context, info, endpoints)
                self._cache[name] = (info, endpoints, objects)
            else:
                objects = cached[2]
            services.append((objects, full or (name.namespace, name.name) in updated))
            for nft_set in objects.sets:
                table.sets[nft_set.name] = nft_set
            for chain in objects.chains:
                table.chains[chain.name] = chain
            for set_name, element in objects.elements:
                # A multi-port Service names its ClusterIP once per port; a set holds it once.
                if element.key not in seen[set_name]:
                    seen[set_name].add(element.key)
                    table.sets[set_name].elements.append(element)
        if progress is not None:
            progress("sync", len(names), len(names))
        for name in [n for n in self._cache if n not in self.svc_port_map]:
            del self._cache[name]
        previous = None if full else self.table
        if previous is not None:
            _keep_kernel_order(table, previous)
        active = set(table.chains)
        deleted = tuple(n for n in self._stale_chains if n not in active)
        # Upstream re-creates the base chains once per process (its "flushed" flag); the tutor's
        # full syncs are all a kube-proxy start (first start or the shell's restart).
        result = NftSyncResult(full, table, updated, services, previous, full, deleted)
        self._stale_chains = stale_chains(previous, table)
        self.table = table
        self.need_full_sync = False
        return result


def _keep_kernel_order(table: NftTable, previous: NftTable) -> None:
    """Objects the kernel already holds keep their place (``nft list`` order); new ones come after, as created."""
    for new, old in ((table.sets, previous.sets), (table.chains, previous.chains)):
        ordered = {n: new[n] for n in old if n in new}
        ordered.update((n, o) for n, o in new.items() if n not in ordered)
        new.clear()
        new.update(ordered)
