"""Load the sandbox's compiled rules into the lab's node namespace, in iptables or nftables mode.

kube-proxy runs one proxier per IP family, and so does the lab: on a dual-stack or IPv6 cluster
the IPv6 proxier's rules go to ``ip6tables-restore`` (iptables mode) or ``table ip6 kube-proxy``
(nftables mode) beside the IPv4 ones. iptables: what kube-proxy does on start-up (nfacct counters,
the jump rules in the built-in chains, the canary chains), then ``iptables-restore --noflush``
of the sync payload; later syncs send only the partial payload, as kube-proxy does. nftables:
the knftables transaction for ``table ip kube-proxy``; a later sync deletes and re-adds the
table in one atomic ``nft -f`` transaction (a simplification: kube-proxy would send only the
changed chains and elements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.lab.system import have_tool, in_netns
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4

MODES = ("iptables", "nftables")


@dataclass(frozen=True, slots=True)
class LoadReport:
    full: bool
    #: Lines of the restore payloads or nft transactions that went to the kernel (all families).
    lines: int
    updated_services: tuple[str, ...] = ()


class RuleLoader(Protocol):
    mode: str
    #: Family → that family's proxier (kube-proxy's MetaProxier), IPv4 first.
    proxiers: dict[str, Any]

    @property
    def proxier(self) -> Any: ...

    def load_first(self, node_ns: str) -> LoadReport: ...

    def catch_up(self) -> None: ...

    def load_sync(self, node_ns: str) -> LoadReport: ...


def _services(keys: set[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(sorted(f"{ns}/{name}" for ns, name in keys))


class _FamilyLoader:
    """What both modes share: one proxier per family; a sync of each, their reports added up."""

    mode = ""

    def __init__(self, cluster: Cluster, node_name: str, families: tuple[str, ...]) -> None:
        self.cluster = cluster
        self.proxiers = {family: self._make(cluster, node_name, family) for family in families or (IPV4,)}

    @staticmethod
    def _make(cluster: Cluster, node_name: str, family: str) -> Any:
        raise NotImplementedError

    @property
    def proxier(self) -> Any:
        """The first family's proxier (IPv4 on a dual-stack node)."""
        return next(iter(self.proxiers.values()))

    def proxier_of(self, family: str) -> Any | None:
        return self.proxiers.get(family)

    def catch_up(self) -> None:
        """Replay the sync that put the current rules into the kernel (in a new process)."""
        for proxier in self.proxiers.values():
            proxier.sync()

    def _load(self, node_ns: str, full: bool) -> LoadReport:
        lines, updated = 0, set()
        for family, proxier in self.proxiers.items():
            result = proxier.sync()
            lines += self._send(node_ns, family, proxier, result, full)
            updated |= set(result.updated_services)
        return LoadReport(full, lines, _services(updated))

    def _send(self, node_ns: str, family: str, proxier: Any, result: Any, full: bool) -> int:
        raise NotImplementedError

    def load_sync(self, node_ns: str) -> LoadReport:
        return self._load(node_ns, False)


class IptablesLoader(_FamilyLoader):
    mode = "iptables"

    @staticmethod
    def _make(cluster: Cluster, node_name: str, family: str) -> Any:
        from kproxy_tutor.sandbox.iptables import Proxier

        return Proxier(cluster, node_name, family=family)

    def _prepare(self, node_ns: str) -> None:
        from kproxy_tutor.sandbox.iptables.fixed import jump_rules
        from kproxy_tutor.sandbox.iptables.parse import tokenize
        from kproxy_tutor.sandbox.iptables.servicerules import (
            INVALID_DROP_COUNTER,
            LOCALHOST_NODEPORT_COUNTER,
        )

        if self.cluster.facts.nfacct:
            # nfacct objects belong to the namespace, not to a family: both proxiers share them.
            for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
                in_netns(node_ns, ["nfacct", "add", counter])
        for proxier in self.proxiers.values():
            tool = proxier.family.save_command.replace("-save", "")  # iptables / ip6tables
            # Upstream inserts each jump rule at position 1; doing the same here gives the same order.
            for table, rule in jump_rules():
                in_netns(node_ns, [tool, "-w", "-t", table, "-N", rule.target.chain], check=False)  # type: ignore[union-attr]
                in_netns(
                    node_ns,
                    [tool, "-w", "-t", table, "-I", rule.chain, "1", *tokenize(rule.spelling or "")],
                )
            if self.cluster.facts.canary_chains:
                for table in ("mangle", "nat", "filter"):
                    in_netns(node_ns, [tool, "-w", "-t", table, "-N", "KUBE-PROXY-CANARY"])

    def _send(self, node_ns: str, family: str, proxier: Any, result: Any, full: bool) -> int:
        from kproxy_tutor.sandbox.iptables import render_restore

        text = render_restore(result.payload)
        in_netns(node_ns, [proxier.family.restore_command, "-w", "--noflush"], stdin=text)
        return text.count("\n")

    def load_first(self, node_ns: str) -> LoadReport:
        self._prepare(node_ns)
        return self._load(node_ns, True)


class NftablesLoader(_FamilyLoader):
    mode = "nftables"

    @staticmethod
    def _make(cluster: Cluster, node_name: str, family: str) -> Any:
        from kproxy_tutor.sandbox.nftables import NftProxier

        return NftProxier(cluster, node_name, family=family)

    def _send(self, node_ns: str, family: str, proxier: Any, result: Any, full: bool) -> int:
        from kproxy_tutor.sandbox.nftables import render_transaction

        text = render_transaction(result.table)
        if not full:
            table = f"{proxier.table.family} {proxier.table.name}"
            # "add" first so that "delete" cannot fail; the three steps are one atomic transaction.
            text = f"add table {table}\ndelete table {table}\n" + text
        in_netns(node_ns, ["nft", "-f", "-"], stdin=text)
        return text.count("\n") - (0 if full else 2)

    def load_first(self, node_ns: str) -> LoadReport:
        return self._load(node_ns, True)


def make_loader(
    mode: str, cluster: Cluster, node_name: str, families: tuple[str, ...] = (IPV4,)
) -> RuleLoader:
    """The loader of ``mode`` with one proxier per family of ``families``."""
    if mode == "iptables":
        return IptablesLoader(cluster, node_name, families)
    if mode == "nftables":
        return NftablesLoader(cluster, node_name, families)
    raise UsageError(N_("Unknown mode {mode!r}; the lab knows: {modes}."), mode=mode, modes=", ".join(MODES))


def adjust_for_machine(cluster: Cluster, mode: str) -> list[str]:
    """Compile without nfacct counters when the ``nfacct`` tool is missing; returns notes for the learner."""
    import dataclasses

    notes = []
    if mode == "iptables" and cluster.facts.nfacct and not have_tool("nfacct"):
        cluster.facts = dataclasses.replace(cluster.facts, nfacct=False)
        notes.append("no-nfacct")
    return notes
