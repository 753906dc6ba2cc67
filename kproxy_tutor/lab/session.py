"""The lab as a whole: ``up`` builds it, ``attach`` finds the one that is up, ``sync`` follows sandbox changes, ``down`` removes it.

Between commands the lab lives on in the kernel (namespaces, servers, rules) and in
``lab.json``, which records the manifests and every change applied since. A later command
rebuilds kube-proxy's view by replaying them (the same syncs, so the sandbox's idea of the
node's tables equals what the kernel holds), which is what lets ``lab sync`` send a partial
payload exactly as kube-proxy would.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any

from kproxy_tutor.errors import N_, SandboxInputError, UsageError
from kproxy_tutor.lab import netns, servers
from kproxy_tutor.lab.plan import HostPlan, LabPlan, make_plan
from kproxy_tutor.lab.rules import LoadReport, RuleLoader, adjust_for_machine, make_loader
from kproxy_tutor.lab.state import (
    LabRecord,
    ServerEntry,
    lab_store,
    namespace_mark,
    new_prefix,
    owner_mark,
    read_record,
    write_record,
)
from kproxy_tutor.lab.system import check_environment, sigterm_as_interrupt
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.store import JsonStore


@dataclass(frozen=True, slots=True)
class SyncReport:
    load: LoadReport
    added: tuple[str, ...]
    removed: tuple[str, ...]


def choose_node(cluster: Cluster, wanted: str | None) -> str:
    """``--node``, else kube-proxy's hostnameOverride, else the first node that runs workloads."""
    name = wanted or cluster.config.hostname_override
    if name:
        cluster.node(name)  # raises a SandboxInputError naming it when unknown
        return name
    nodes = cluster.schedulable_nodes()
    if not nodes:
        raise SandboxInputError(N_("The cluster has no nodes, so there is no node to compile rules for."))
    return nodes[0].name


class Lab:
    """One lab: its record, kube-proxy's view (cluster + proxier, replayed), and the layout."""

    def __init__(self, record: LabRecord, store: JsonStore) -> None:
        self.record = record
        self.store = store
        self.cluster = load_texts(record.sources).cluster
        #: What the lab changed because of this machine (e.g. no nfacct tool), for the learner.
        self.notes = adjust_for_machine(self.cluster, record.mode)
        self.plan: LabPlan = make_plan(self.cluster, record.node, record.prefix)
        self.loader: RuleLoader = make_loader(record.mode, self.cluster, record.node, self.plan.families)

    # Life cycle ----------------------------------------------------------------------------
    @classmethod
    def up(
        cls,
        sources: list[tuple[str, str]],
        label: str,
        mode: str = "iptables",
        node: str | None = None,
        store: JsonStore | None = None,
    ) -> Lab:
        """Build the lab; on any error or interruption everything built so far is removed again."""
        check_environment(mode)
        store = store or lab_store()
        cluster = load_texts(sources).cluster  # refuse bad manifests before creating anything
        node_name = choose_node(cluster, node)
        check_environment(mode, cluster.proxier_families(node_name))
        existing = read_record(store)
        if existing is not None:
            if lab_namespaces(existing):
                raise UsageError(
                    N_("A lab is already up ({label}). Remove it first: kproxy-tutor lab down"),
                    label=existing.label or existing.prefix,
                )
            remove(existing, store)  # a leftover record of a lab that is gone (e.g. after a reboot)
        elif netns.marked_namespaces(owner_mark()):
            # The record is lost or damaged, but the kernel still holds this learner's lab.
            raise UsageError(
                N_(
                    "A lab is still up, though its record {path} is lost. Remove it first: kproxy-tutor lab down"
                ),
                path=str(store.path),
            )
        record = LabRecord(prefix=new_prefix(), mode=mode, node=node_name, sources=sources, label=label)
        # Recorded before the first namespace exists, so a crash at any point can be cleaned up.
        write_record(store, record)
        lab = cls(record, store)
        record.notes = lab.notes
        try:
            with sigterm_as_interrupt():
                lab._build()
        except BaseException:
            with contextlib.suppress(Exception):
                remove(lab.record, store)
            raise
        record.complete = True
        lab._save()
        return lab

    @classmethod
    def attach(cls, store: JsonStore | None = None) -> Lab:
        """The lab that is up, with kube-proxy's view replayed up to the last sync."""
        store = store or lab_store()
        record = read_record(store)
        if record is None:
            raise UsageError(N_("No lab is up. Start one with: kproxy-tutor lab up --scenario db-service"))
        check_environment(record.mode)
        if not record.complete or not lab_namespaces(record):
            raise UsageError(
                N_(
                    "The lab in {path} is incomplete or gone (a failed run, or a reboot). "
                    "Clean it up with: kproxy-tutor lab down"
                ),
                path=str(store.path),
            )
        lab = cls(record, store)
        check_environment(record.mode, lab.plan.families)
        lab.loader.catch_up()
        for change in record.changes:
            lab._apply_change(change)
            lab.loader.catch_up()
        lab.plan = make_plan(lab.cluster, record.node, record.prefix)
        return lab

    def down(self) -> tuple[int, int]:
        """Remove everything; (servers stopped, namespaces deleted)."""
        return remove(self.record, self.store)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # Building ------------------------------------------------------------------------------
    def _build(self) -> None:
        plan = self.plan
        self._record_namespaces(plan.namespaces)
        netns.add_namespaces(plan.namespaces)
        if plan.node_ips6:
            netns.prepare_ipv6(plan.namespaces)
        netns.build_node(plan)
        netns.add_hosts(plan, plan.hosts)
        self._start_servers(plan.hosts)
        self.last_load = self.loader.load_first(plan.node_namespace)

    def _start_servers(self, hosts: tuple[HostPlan, ...] | list[HostPlan]) -> None:
        for host in hosts:
            if not host.tcp_ports:
                continue
            started = servers.start_server(host.namespace, host.name, host.ips, host.tcp_ports)
            self.record.servers.append(ServerEntry(started.pid, started.namespace, started.name))
            self._save()

    def _save(self) -> None:
        write_record(self.store, self.record)

    def _record_namespaces(self, names: list[str]) -> None:
        """Written before the namespaces are made: a run killed right after still knows them."""
        self.record.namespaces = sorted(set(self.record.namespaces) | set(names))
        self._save()

    # Sync ----------------------------------------------------------------------------------
    def _apply_change(self, change: dict[str, Any]) -> None:
        if change.get("kind") == "scale":
            key = (str(change["namespace"]), str(change["name"]))
            deployment = self.cluster.deployments.get(key)
            if deployment is None:
                raise SandboxInputError(
                    N_("There is no Deployment {namespace}/{name}."), namespace=key[0], name=key[1]
                )
            self.cluster.apply_deployment(dataclasses.replace(deployment, replicas=int(change["replicas"])))

    def scale(self, deployment: str, replicas: int) -> SyncReport:
        """``kubectl scale``, then one kube-proxy sync (a partial payload) and the Pods' namespaces to match."""
        namespace, _, name = deployment.rpartition("/")
        change = {"kind": "scale", "namespace": namespace or "default", "name": name, "replicas": replicas}
        self._apply_change(change)
        self.record.changes.append(change)
        return self._sync_kernel()

    def replace_manifests(self, sources: list[tuple[str, str]], label: str) -> SyncReport:
        """New manifests: kube-proxy restarted on them, i.e. one full sync against the tables the kernel holds."""
        old_loader = self.loader
        cluster = load_texts(sources).cluster
        choose_node(cluster, self.record.node)
        adjust_for_machine(cluster, self.record.mode)
        families = cluster.proxier_families(self.record.node)
        if families != self.plan.families:
            # The namespaces got their addresses when the lab came up; a new family needs new ones.
            raise UsageError(
                N_(
                    "The new manifests change the lab's IP families ({old} → {new}); "
                    "rebuild it: kproxy-tutor lab down, then lab up."
                ),
                old=", ".join(self.plan.families),
                new=", ".join(families),
            )
        loader = make_loader(self.record.mode, cluster, self.record.node, families)
        for family, proxier in loader.proxiers.items():
            old = old_loader.proxiers.get(family)
            if old is not None and hasattr(proxier, "kernel"):
                # The new proxier's first (full) sync deletes stale chains by comparing with this.
                proxier.kernel = old.kernel
        self.cluster, self.loader = cluster, loader
        self.record.sources, self.record.label, self.record.changes = sources, label, []
        return self._sync_kernel()

    def resync(self) -> SyncReport:
        """kube-proxy's periodic sync with nothing changed: an (almost) empty partial payload."""
        return self._sync_kernel()

    def _sync_kernel(self) -> SyncReport:
        old = {h.namespace: h for h in self.plan.hosts}
        new_plan = make_plan(self.cluster, self.record.node, self.record.prefix)
        new = {h.namespace: h for h in new_plan.hosts}
        changed = [h for ns, h in new.items() if ns in old and old[ns] != h]
        added = [h for ns, h in new.items() if ns not in old]
        gone = [h for ns, h in old.items() if ns not in new]
        # New Pods exist before the rules send traffic to them; gone Pods go after the rules stop.
        self._remove_hosts(changed)
        self._record_namespaces([h.namespace for h in [*changed, *added]])
        netns.add_namespaces(h.namespace for h in [*changed, *added])
        if new_plan.node_ips6:
            netns.prepare_ipv6(h.namespace for h in [*changed, *added])
        netns.add_hosts(new_plan, [*changed, *added])
        self._start_servers([*changed, *added])
        self.plan = new_plan
        report = self.loader.load_sync(new_plan.node_namespace)
        self._remove_hosts(gone)
        self._save()
        return SyncReport(report, tuple(h.name for h in added), tuple(h.name for h in gone))

    def _remove_hosts(self, hosts: list[HostPlan]) -> None:
        names = {h.namespace for h in hosts}
        if not names:
            return
        for entry in [s for s in self.record.servers if s.namespace in names]:
            servers.stop_server(entry.pid, entry.namespace)
            self.record.servers.remove(entry)
        netns.delete_namespaces(names)
        self.record.namespaces = [n for n in self.record.namespaces if n not in names]

    # Looking -------------------------------------------------------------------------------
    def alive_servers(self) -> list[ServerEntry]:
        return [s for s in self.record.servers if servers.is_our_server(s.pid, s.namespace)]

    def existing_namespaces(self) -> list[str]:
        return lab_namespaces(self.record)


def lab_namespaces(record: LabRecord) -> list[str]:
    """The namespaces of this lab that exist: those its record lists, and those carrying its mark.

    A namespace someone else made with a name like the lab's is neither listed nor marked, so it
    is never counted, and never removed.
    """
    existing = netns.namespaces_with_prefix(record.prefix)
    listed = set(record.namespaces)
    unlisted = [n for n in existing if n not in listed]
    mark = namespace_mark(record.prefix)
    marked = {n for n in unlisted if netns.mark_of(n) == mark}
    return [n for n in existing if n in listed or n in marked]


def remove(record: LabRecord, store: JsonStore) -> tuple[int, int]:
    """Stop the lab's servers and delete exactly its namespaces; (servers stopped, namespaces deleted)."""
    stopped = 0
    for entry in record.servers:
        stopped += servers.stop_server(entry.pid, entry.namespace)
    names = lab_namespaces(record)
    stopped += _remove_namespaces(names)
    write_record(store, None)
    return stopped, len(names)


def _remove_namespaces(names: list[str]) -> int:
    stopped = 0
    for name in names:
        # Servers the record missed (a crash between start and save) are found in their namespace.
        for pid in servers.servers_in(name):
            stopped += servers.stop_server(pid, name)
    netns.delete_namespaces(names)
    return stopped


def recover(store: JsonStore) -> tuple[int, int]:
    """No usable record: remove the namespaces (and their servers) that carry this learner's lab mark."""
    names = netns.marked_namespaces(owner_mark())
    stopped = _remove_namespaces(names)
    if names:
        write_record(store, None)
    return stopped, len(names)


def remove_recorded(store: JsonStore | None = None) -> tuple[LabRecord | None, tuple[int, int]]:
    """``lab down``: remove the recorded lab, complete or not (no replay needed)."""
    store = store or lab_store()
    record = read_record(store)
    if record is None:
        try:
            check_environment("iptables")
        except UsageError:
            return None, (0, 0)  # no lab can run here, so none is up
        return None, recover(store)
    check_environment(record.mode if record.mode in ("iptables", "nftables") else "iptables")
    return record, remove(record, store)
