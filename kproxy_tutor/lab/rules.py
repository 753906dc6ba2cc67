"""Load the sandbox's compiled rules into the lab's node namespace, in iptables or nftables mode.

iptables: what kube-proxy does on start-up (nfacct counters, the jump rules in the built-in
chains, the canary chains), then ``iptables-restore --noflush`` of the sync payload; later
syncs send only the partial payload, as kube-proxy does. nftables: the knftables transaction
for ``table ip kube-proxy``; a later sync deletes and re-adds the table in one atomic ``nft -f``
transaction (a simplification: kube-proxy would send only the changed chains and elements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.lab.system import have_tool, in_netns
from kproxy_tutor.sandbox.cluster import Cluster

MODES = ("iptables", "nftables")


@dataclass(frozen=True, slots=True)
class LoadReport:
    full: bool
    #: Lines of the restore payload or nft transaction that went to the kernel.
    lines: int
    updated_services: tuple[str, ...] = ()


class RuleLoader(Protocol):
    mode: str

    def load_first(self, node_ns: str) -> LoadReport: ...

    def catch_up(self) -> None: ...

    def load_sync(self, node_ns: str) -> LoadReport: ...


def _services(keys: set[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(sorted(f"{ns}/{name}" for ns, name in keys))


class IptablesLoader:
    mode = "iptables"

    def __init__(self, cluster: Cluster, node_name: str) -> None:
        from kproxy_tutor.sandbox.iptables import Proxier

        self.cluster = cluster
        self.proxier = Proxier(cluster, node_name)

    def _prepare(self, node_ns: str) -> None:
        from kproxy_tutor.sandbox.iptables.fixed import jump_rules
        from kproxy_tutor.sandbox.iptables.parse import tokenize
        from kproxy_tutor.sandbox.iptables.servicerules import (
            INVALID_DROP_COUNTER,
            LOCALHOST_NODEPORT_COUNTER,
        )

        if self.cluster.facts.nfacct:
            for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
                in_netns(node_ns, ["nfacct", "add", counter])
        # Upstream inserts each jump rule at position 1; doing the same here gives the same order.
        for table, rule in jump_rules():
            in_netns(node_ns, ["iptables", "-w", "-t", table, "-N", rule.target.chain], check=False)  # type: ignore[union-attr]
            in_netns(
                node_ns,
                ["iptables", "-w", "-t", table, "-I", rule.chain, "1", *tokenize(rule.spelling or "")],
            )
        if self.cluster.facts.canary_chains:
            for table in ("mangle", "nat", "filter"):
                in_netns(node_ns, ["iptables", "-w", "-t", table, "-N", "KUBE-PROXY-CANARY"])

    def _restore(self, node_ns: str, full: bool) -> LoadReport:
        from kproxy_tutor.sandbox.iptables import render_restore

        result = self.proxier.sync()
        text = render_restore(result.payload)
        in_netns(node_ns, ["iptables-restore", "-w", "--noflush"], stdin=text)
        return LoadReport(full, text.count("\n"), _services(result.updated_services))

    def load_first(self, node_ns: str) -> LoadReport:
        self._prepare(node_ns)
        return self._restore(node_ns, True)

    def catch_up(self) -> None:
        """Replay the sync that put the current rules into the kernel (in a new process)."""
        self.proxier.sync()

    def load_sync(self, node_ns: str) -> LoadReport:
        return self._restore(node_ns, False)


class NftablesLoader:
    mode = "nftables"

    def __init__(self, cluster: Cluster, node_name: str) -> None:
        from kproxy_tutor.sandbox.nftables import NftProxier

        self.proxier = NftProxier(cluster, node_name)

    def _transaction(self) -> tuple[str, tuple[str, ...]]:
        from kproxy_tutor.sandbox.nftables import render_transaction

        result = self.proxier.sync()
        return render_transaction(result.table), _services(result.updated_services)

    def load_first(self, node_ns: str) -> LoadReport:
        text, updated = self._transaction()
        in_netns(node_ns, ["nft", "-f", "-"], stdin=text)
        return LoadReport(True, text.count("\n"), updated)

    def catch_up(self) -> None:
        self.proxier.sync()

    def load_sync(self, node_ns: str) -> LoadReport:
        text, updated = self._transaction()
        table = f"{self.proxier.table.family} {self.proxier.table.name}"
        # "add" first so that "delete" cannot fail; the three steps are one atomic transaction.
        replace = f"add table {table}\ndelete table {table}\n" + text
        in_netns(node_ns, ["nft", "-f", "-"], stdin=replace)
        return LoadReport(False, text.count("\n"), updated)


def make_loader(mode: str, cluster: Cluster, node_name: str) -> RuleLoader:
    if mode == "iptables":
        return IptablesLoader(cluster, node_name)
    if mode == "nftables":
        return NftablesLoader(cluster, node_name)
    raise UsageError(N_("Unknown mode {mode!r}; the lab knows: {modes}."), mode=mode, modes=", ".join(MODES))


def adjust_for_machine(cluster: Cluster, mode: str) -> list[str]:
    """Compile without nfacct counters when the ``nfacct`` tool is missing; returns notes for the learner."""
    import dataclasses

    notes = []
    if mode == "iptables" and cluster.facts.nfacct and not have_tool("nfacct"):
        cluster.facts = dataclasses.replace(cluster.facts, nfacct=False)
        notes.append("no-nfacct")
    return notes
