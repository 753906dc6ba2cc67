"""``Proxier.sync()``: compile the cluster into kube-proxy's iptables payload for one node and apply it to that node.

Follows upstream ``pkg/proxy/iptables/proxier.go``: full syncs on start-up and on demand,
partial syncs otherwise (per-service chains rewritten only for changed Services), stale
chains flushed and deleted, jump rules in built-in chains ensured on full syncs.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.changes import (
    EndpointsChangeTracker,
    EndpointsMap,
    ServiceChangeTracker,
    ServicePortMap,
)
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.gcpause import paused_gc
from kproxy_tutor.sandbox.iptables.diff import RuleDiff, diff_apply
from kproxy_tutor.sandbox.iptables.family import iptables_family
from kproxy_tutor.sandbox.iptables.family import node_port_cidrs as node_port_cidrs_of
from kproxy_tutor.sandbox.iptables.fixed import (
    fixed_filter_rules,
    jump_rules,
    nodeport_tail_rules,
    postrouting_rules,
)
from kproxy_tutor.sandbox.iptables.kernel import KernelState, RestoreError
from kproxy_tutor.sandbox.iptables.names import is_service_chain
from kproxy_tutor.sandbox.iptables.rules import DeleteChain, Payload, PayloadTable, Rule
from kproxy_tutor.sandbox.iptables.servicerules import (
    LocalDetector,
    ServicePortRules,
    SyncContext,
    build_service_port_rules,
)
from kproxy_tutor.sandbox.serviceport import ServicePortName
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress

LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000
FILTER_CHAINS = (
    "KUBE-SERVICES",
    "KUBE-EXTERNAL-SERVICES",
    "KUBE-FORWARD",
    "KUBE-NODEPORTS",
    "KUBE-PROXY-FIREWALL",
)
_NO_RULES: list[str] = []
NAT_CHAINS = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ")


def _joined(parts: list[list[str]]) -> list[str]:
    out: list[str] = []
    extend = out.extend
    for part in parts:
        extend(part)
    return out


class _Layout:
    """One table's top-level lines of the last sync (every port's, in port order) and where each
    port's lines start, so that a partial sync splices in the updated ports' lines with a few
    slices instead of joining every port's lines again."""

    __slots__ = ("lengths", "lines", "saves", "starts")

    def __init__(self, parts: list[list[str]], save_parts: list[list[str]]) -> None:
        self.lines = _joined(parts)
        self.saves = _joined(save_parts)
        self.lengths = list(map(len, parts))
        self.starts = [0, *accumulate(self.lengths)]

    def splice(
        self, changes: list[tuple[int, list[str], list[str], list[str], list[str]]]
    ) -> tuple[list[str], list[str]]:
        """The payload's lines, from (position, new top-level lines and saves, payload lines and
        saves) of each updated port in position order; the layout takes the new top-level lines."""
        lines, saves, starts, lengths = self.lines, self.saves, self.starts, self.lengths
        out: list[str] = []
        out_saves: list[str] = []
        top: list[str] = []
        top_saves: list[str] = []
        previous = 0
        moved = False
        for i, new_lines, new_saves, payload_lines, payload_saves in changes:
            start = starts[i]
            kept, kept_saves = lines[previous:start], saves[previous:start]
            out += kept
            out += payload_lines
            out_saves += kept_saves
            out_saves += payload_saves
            top += kept
            top += new_lines
            top_saves += kept_saves
            top_saves += new_saves
            if len(new_lines) != lengths[i]:
                lengths[i] = len(new_lines)
                moved = True
            previous = starts[i + 1]
        kept, kept_saves = lines[previous:], saves[previous:]
        out += kept
        out_saves += kept_saves
        top += kept
        top_saves += kept_saves
        self.lines, self.saves = top, top_saves
        if moved:
            self.starts = [0, *accumulate(lengths)]
        return out, out_saves


@dataclass(slots=True)
class SyncResult:
    full: bool
    payload: Payload
    #: What the node's tables gained and lost with this payload (for the shell's watch mode).
    diff: RuleDiff
    updated_services: set[tuple[str, str]] = field(default_factory=set)


class Proxier:
    """kube-proxy's iptables proxier of one IP family (IPv4: iptables, IPv6: ip6tables) for one node."""

    def __init__(
        self,
        cluster: Cluster,
        node_name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        family: str = IPV4,
    ) -> None:
        config = cluster.config
        name = node_name or config.hostname_override or next(iter(cluster.nodes), "")
        if not name:
            raise SandboxInputError(N_("The cluster has no nodes, so there is no node to compile rules for."))
        node = cluster.node(name)
        self.cluster = cluster
        self.node_name = name
        self.family = iptables_family(family)
        self.clock = clock
        self.kernel = KernelState()
        self.mark = 1 << config.masquerade_bit
        # Go's "%#08x": eight hex digits after 0x, as real kube-proxy writes the mark.
        self.mark_text = f"0x{self.mark:08x}"
        node_ips = node.ips(family)
        node_ip = node_ips[0] if node_ips else None
        node_port_cidrs = node_port_cidrs_of(config.node_port_addresses, node_ips, self.family)
        match_all = node_port_cidrs is None
        # Only IPv4 can have localhost NodePorts (route_localnet); IPv6 never has them.
        contains_loopback = self.family.localhost_node_ports_possible and (
            match_all or any(self.family.contains_loopback(c) for c in node_port_cidrs or ())
        )
        self.localhost_node_ports = config.localhost_node_ports and contains_loopback
        self.node_port_ips: list[str] | None = None
        if not match_all:
            candidates = [self.family.loopback_ip, *node_ips]
            self.node_port_ips = [
                ip
                for ip in candidates
                if any(ipaddress.ip_address(ip) in c for c in node_port_cidrs or ())
                and not (ipaddress.ip_address(ip).is_loopback and not self.localhost_node_ports)
            ]
        self.facts = cluster.facts
        self.sync_period, self.min_sync_period = config.sync_periods("iptables")
        self.context = SyncContext(
            node_name=name,
            node_labels=tuple(sorted(node.labels.items())),
            node_ip=node_ip,
            masquerade_all=config.masquerade_all,
            detector=self._detector(config.detect_local_mode, config, node.pod_cidr(family), family),
            localhost_node_ports=self.localhost_node_ports,
            nfacct=cluster.facts.nfacct,
            reject=("REJECT", self.family.reject.save()[3:]),
            recent_mask=self.family.recent_mask,
        )
        self.service_changes = ServiceChangeTracker(family=family)
        self.endpoints_changes = EndpointsChangeTracker(name, family=family)
        self.svc_port_map = ServicePortMap()
        self.endpoints_map = EndpointsMap()
        self.need_full_sync = True
        self.large_cluster_mode = False
        self.last_cleanup: float | None = None
        self._deferred_stale = False
        self._cache: dict[ServicePortName, tuple[object, object, bool, ServicePortRules]] = {}
        # The last sync's layout, by position in ``_names`` (the sorted port names): each
        # port's KUBE-SERVICES/KUBE-NODEPORTS and filter rules, its endpoint count, and the
        # positions of every Service's ports. A partial sync patches these and joins them.
        self._names: list[ServicePortName] | None = None
        self._by_service: dict[tuple[str, str], list[int]] = {}
        self._filter_layout = _Layout([], [])
        self._nat_layout = _Layout([], [])
        self._counts: list[int] = []
        self._total = 0
        # The initial list hands over every Service and slice: like a sync, many small objects
        # that all stay alive.
        with paused_gc():
            cluster.watch(self.service_changes.on_service, self.endpoints_changes.on_endpoint_slice)

    @staticmethod
    def _detector(mode: str, config: object, pod_cidr: str, family: str = IPV4) -> LocalDetector | None:
        if mode == "ClusterCIDR":
            cidr = config.cluster_cidr_of(family)  # type: ignore[attr-defined]
            return LocalDetector.by_cidr(cidr) if cidr else None
        if mode == "NodeCIDR":
            return LocalDetector.by_cidr(pod_cidr) if pod_cidr else None
        if mode == "BridgeInterface":
            name = config.bridge_interface  # type: ignore[attr-defined]
            return LocalDetector.by_interface(name) if name else None
        if mode == "InterfaceNamePrefix":
            prefix = config.interface_name_prefix  # type: ignore[attr-defined]
            return LocalDetector.by_interface(f"{prefix}+") if prefix else None
        return None

    def force_full_sync(self) -> None:
        """What the canary monitor or a topology change does: the next sync rewrites everything."""
        self.need_full_sync = True

    def sync(self, progress: Progress | None = None, apply: bool = True) -> SyncResult:
        """One ``syncProxyRules``: build the payload, apply it to the node, report what changed.

        ``progress("sync", done, total)`` is called every few hundred service ports. With
        ``apply=False`` the payload is only built (what ``rules --format restore`` shows): the
        node's tables stay as they were, the diff is empty and the next sync is a full one.
        """
        # A sync allocates hundreds of thousands of small objects that all stay alive; the
        # cyclic collector would rescan the growing heap again and again for nothing.
        with paused_gc():
            return self._sync(progress, apply)

    def _sync(self, progress: Progress | None, apply: bool) -> SyncResult:
        full = self.need_full_sync
        updated = self.svc_port_map.update_from(self.service_changes).updated_services
        updated |= self.endpoints_map.update_from(self.endpoints_changes).updated_services
        endpoints_map = self.endpoints_map
        names = self.svc_port_map.sorted_names()
        # The per-port layout of the last sync can be patched when the same ports exist in the
        # same order (sorted_names() hands out a new list whenever ports came or went): then
        # only the updated Services' ports need any work, even while a cleanup is pending.
        patch = not full and names is self._names
        if patch:
            positions = sorted(i for key in updated for i in self._by_service.get(key, ()))
            total = self._total
            for i in positions:
                total += len(endpoints_map.get(names[i], ())) - self._counts[i]
        else:
            positions = range(len(names))
            total = sum(len(endpoints_map.get(name, ())) for name in names)
        self.large_cluster_mode = total > LARGE_CLUSTER_ENDPOINTS_THRESHOLD
        ctx = self.context
        if ctx.large_cluster_mode != self.large_cluster_mode:
            ctx = self.context = SyncContext(
                **{
                    **{f: getattr(ctx, f) for f in ctx.__dataclass_fields__},
                    "large_cluster_mode": self.large_cluster_mode,
                }
            )
        if full:
            self._ensure_jump_rules()

        filter_declared = list(FILTER_CHAINS)
        nat_declared = list(NAT_CHAINS)
        head = postrouting_rules(self.mark_text, self.mark, self.facts.random_fully)
        nat_lines = [line for line, _ in head]
        nat_saves: list[str | None] = [save for _, save in head]
        firewall = fixed_filter_rules(self.localhost_node_ports)
        if firewall:
            filter_declared.append("KUBE-FIREWALL")
        filter_lines = [line for line, _ in firewall]
        filter_saves: list[str | None] = [save for _, save in firewall]
        active: set[str] | None = set() if full else None
        candidates: set[str] = set()
        if patch:
            counts = self._counts
        else:
            counts = [0] * len(names)
            by_service: dict[tuple[str, str], list[int]] = {}
            filter_parts: list[list[str]] = [_NO_RULES] * len(names)
            filter_save_parts: list[list[str]] = [_NO_RULES] * len(names)
            nat_parts: list[list[str]] = [_NO_RULES] * len(names)
            nat_save_parts: list[list[str]] = [_NO_RULES] * len(names)
            nat_top_parts: list[list[str]] = [_NO_RULES] * len(names)
            nat_top_save_parts: list[list[str]] = [_NO_RULES] * len(names)
        changed: list[tuple[int, ServicePortRules]] = []
        cache = self._cache
        large = ctx.large_cluster_mode
        for i in positions:
            if progress is not None and not i & PROGRESS_MASK:
                progress("sync", i, len(names))
            name = names[i]
            info = self.svc_port_map[name]
            endpoints = endpoints_map.get(name, ())
            cached = cache.get(name)
            key = name.service_key
            rewrite = full or key in updated
            if (
                cached is None
                or cached[0] is not info
                or cached[1] is not endpoints
                or (rewrite and cached[2] != large)
            ):
                rules = build_service_port_rules(ctx, info, endpoints)
                if cached is not None:
                    candidates.update(cached[3].chains)
                cache[name] = (info, endpoints, large, rules)
            else:
                rules = cached[3]
            counts[i] = len(endpoints)
            if active is not None:
                active.update(rules.chains)
            elif rewrite:
                candidates.difference_update(rules.chains)
            if rewrite:
                nat_declared.extend(rules.chains)
            if patch:
                changed.append((i, rules))
                continue
            by_service.setdefault(key, []).append(i)
            filter_parts[i] = rules.filter_lines
            filter_save_parts[i] = rules.filter_saves
            nat_top_parts[i] = rules.nat_lines
            nat_top_save_parts[i] = rules.nat_saves
            if rewrite:
                # Upstream writes a port's KUBE-SERVICES rules and its own chains together.
                nat_parts[i] = rules.nat_lines + rules.chain_lines
                nat_save_parts[i] = rules.nat_saves + rules.chain_saves
            else:
                nat_parts[i] = rules.nat_lines
                nat_save_parts[i] = rules.nat_saves
        if progress is not None:
            progress("sync", len(names), len(names))
        if patch:
            # Only the updated ports' lines change: splice them into the last sync's lines.
            lines, saves = self._filter_layout.splice(
                [(i, r.filter_lines, r.filter_saves, r.filter_lines, r.filter_saves) for i, r in changed]
            )
            filter_lines += lines
            filter_saves += saves
            lines, saves = self._nat_layout.splice(
                [
                    (i, r.nat_lines, r.nat_saves, r.nat_lines + r.chain_lines, r.nat_saves + r.chain_saves)
                    for i, r in changed
                ]
            )
            nat_lines += lines
            nat_saves += saves
        else:
            self._filter_layout = _Layout(filter_parts, filter_save_parts)
            filter_lines += self._filter_layout.lines
            filter_saves += self._filter_layout.saves
            # Later patches start from the top-level rules alone, without this sync's chain rules.
            self._nat_layout = _Layout(nat_top_parts, nat_top_save_parts)
            nat_lines += _joined(nat_parts)
            nat_saves += _joined(nat_save_parts)
            self._names = names
            self._by_service = by_service
            self._counts = counts
            if len(cache) != len(names):
                for name in [n for n in cache if n not in self.svc_port_map]:
                    candidates.update(cache.pop(name)[3].chains)
        self._total = total

        # Stale chains. A full sync scans the node's nat table like upstream (iptables-save);
        # a partial sync only looks at the chains the rewritten Services had before, which is
        # the same set because only those Services can have left chains behind.
        nat = self.kernel.ruleset.tables.get("nat")
        existing = nat.chains if nat is not None else {}
        if active is not None:
            stale = {c for c in existing if c not in active and is_service_chain(c)}
        else:
            stale = {c for c in candidates if c in existing}
        now = self.clock()
        if (
            not self.large_cluster_mode
            or self.last_cleanup is None
            or now - self.last_cleanup > self.sync_period
        ):
            if self._deferred_stale and active is None:
                # Earlier syncs left chains for this cleanup: scan the node's nat chains against
                # every port's chains, as upstream's cleanup does (once per sync period at most).
                active = set()
                for entry in cache.values():
                    active.update(entry[3].chains)
                stale = {c for c in existing if c not in active and is_service_chain(c)}
            ordered = sorted(stale)
            nat_declared.extend(ordered)
            nat_lines.extend(DeleteChain(c) for c in ordered)  # type: ignore[misc]
            nat_saves.extend([None] * len(ordered))
            self.last_cleanup = now
            self._deferred_stale = False
        elif stale:
            # Large-cluster mode cleans up at most once per sync period; the next cleanup must scan.
            self._deferred_stale = True
        tail = nodeport_tail_rules(self.node_port_ips, self.localhost_node_ports, self.family.loopback_cidr)
        for line, save in tail:
            nat_lines.append(line)
            nat_saves.append(save)
        for line, save in fixed_filter_rules_forward(self):
            filter_lines.append(line)
            filter_saves.append(save)

        payload = Payload(
            [
                PayloadTable("filter", filter_declared, filter_lines, filter_saves),  # type: ignore[arg-type]
                PayloadTable("nat", nat_declared, nat_lines, nat_saves),  # type: ignore[arg-type]
            ]
        )
        if not apply:
            self.need_full_sync = True
            return SyncResult(full, payload, RuleDiff(), updated)
        try:
            diff = diff_apply(self.kernel, payload)
        except RestoreError:
            # As upstream's deferred "Sync failed": the change trackers are already drained, so
            # only a full sync can bring the node back in line (and delete stale chains).
            self.need_full_sync = True
            raise
        self.need_full_sync = False
        return SyncResult(full, payload, diff, updated)

    def _ensure_jump_rules(self) -> None:
        for table, rule in jump_rules():
            self.kernel.ensure_chain(table, rule.target.chain)  # type: ignore[union-attr]
            self.kernel.ensure_rule(table, rule)
        if self.facts.canary_chains:
            for table in ("mangle", "nat", "filter"):
                self.kernel.ensure_chain(table, "KUBE-PROXY-CANARY")

    def rules_for_service(self, namespace: str, name: str) -> list[Rule]:
        """Every rule of the node's tables that belongs to one Service (by chain or by comment)."""
        from kproxy_tutor.sandbox.iptables.select import service_rules

        return service_rules(self, namespace, name)


def fixed_filter_rules_forward(proxier: Proxier) -> list[tuple[str, str]]:
    from kproxy_tutor.sandbox.iptables.fixed import forward_rules

    return forward_rules(proxier.mark_text, proxier.mark, proxier.facts.nfacct, proxier.facts.tcp_be_liberal)
