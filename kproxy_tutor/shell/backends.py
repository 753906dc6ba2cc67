"""kube-proxy in nftables or IPVS mode on one sandbox node: sync, what each sync changed, the tools' views, curl.

The iptables mode keeps its own machinery in the session (Proxier, Counters, the tracer); these
backends give the other two modes what the shell needs: a diff per sync for ``watch``, the text
``nft``, ``ipvsadm``, ``ip addr`` and ``ipset`` print, and a walker for ``curl`` over the rules as
they are now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.nftables import NftProxier, NftTable, render_listing
from kproxy_tutor.sandbox.nftables.ruleset import Element
from kproxy_tutor.sandbox.packet import Trace
from kproxy_tutor.sandbox.trace.network import Network
from kproxy_tutor.shell.output import ModeChange, Note

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator

TABLE_NAME = "table ip kube-proxy"


def _multiset_diff(old: list[str], new: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, removed), counting repeats: the same rule twice is two rules."""
    before, after = Counter(old), Counter(new)
    added = [line for line in new if after[line] > before[line]]
    removed = [line for line in old if before[line] > after[line]]
    return tuple(dict.fromkeys(added)), tuple(dict.fromkeys(removed))


def _element_text(element: Element) -> str:
    text = " . ".join(element.key)
    return f"{text} : {element.value}" if element.value is not None else text


def nft_changes(old: NftTable | None, new: NftTable) -> list[ModeChange]:
    """Chains, sets and maps added, removed or changed between two ``nft list`` structures."""
    changes: list[ModeChange] = []
    old_chains = old.chains if old is not None else {}
    for name, chain in new.chains.items():
        rules = [r.listing() for r in chain.rules]
        before = old_chains.get(name)
        if before is None:
            changes.append(ModeChange("added", "chain", name, tuple(rules)))
            continue
        added, removed = _multiset_diff([r.listing() for r in before.rules], rules)
        if added or removed:
            changes.append(ModeChange("rewritten", "chain", name, added, removed))
    changes += [ModeChange("removed", "chain", n) for n in old_chains if n not in new.chains]
    old_sets = old.sets if old is not None else {}
    for name, nft_set in new.sets.items():
        what = "map" if nft_set.is_map else "set"
        elements = [_element_text(e) for e in nft_set.elements]
        before_set = old_sets.get(name)
        if before_set is None:
            changes.append(ModeChange("added", what, name, tuple(elements)))
            continue
        added, removed = _multiset_diff([_element_text(e) for e in before_set.elements], elements)
        if added or removed:
            changes.append(ModeChange("rewritten", what, name, added, removed))
    changes += [
        ModeChange("removed", "map" if s.is_map else "set", n)
        for n, s in old_sets.items()
        if n not in new.sets
    ]
    return changes


def nft_counts(table: NftTable) -> dict[str, int]:
    maps = sum(1 for s in table.sets.values() if s.is_map)
    return {
        "chains": len(table.chains),
        "sets": len(table.sets) - maps,
        "maps": maps,
        "rules": table.rule_count,
    }


class NftBackend:
    """nftables-mode kube-proxy on one node."""

    mode = "nftables"

    def __init__(self, cluster: Cluster, node: str, family: str = IPV4) -> None:
        self.cluster = cluster
        self.node = node
        self.family = family
        self.proxier = NftProxier(cluster, node, family=family)
        self.table: NftTable | None = None
        #: Grows whenever the rules or the Pods' places change: a walker made before is out of date.
        self.generation = 0

    def restart(self) -> None:
        """kube-proxy starts again: its table was deleted, so the next sync writes everything."""
        self.table = None
        self.proxier.need_full_sync = True
        self.generation += 1

    def sync(self) -> tuple[list[ModeChange], bool]:
        result = self.proxier.sync()
        changes = nft_changes(self.table, result.table)
        self.table = result.table
        self.generation += 1
        return changes, result.full

    def stale(self) -> None:
        """Pods moved: the walker must learn where each Pod IP lives."""
        self.generation += 1

    @property
    def current(self) -> NftTable:
        return self.table if self.table is not None else NftTable()

    def listing(self) -> str:
        return render_listing(self.current)

    def walker(self, network: Network, clock: Callable[[], float], seed: int = 0) -> NftEvaluator:
        """A first-packet walker over the table as it is now, routing in the trace's ``network``."""
        from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator, node_view

        return NftEvaluator(self.current, node_view(self.cluster, self.node, network), seed, clock)

    def count(self, trace: Trace) -> None:
        """nft keeps no per-rule counters unless a rule asks for them; kube-proxy's rules do not."""

    def cleaned(self) -> tuple[list[ModeChange], Note]:
        counts = nft_counts(self.current)
        return [ModeChange("removed", "table", TABLE_NAME)], Note(
            N_("It deletes {table} (chains: {chains}, sets: {sets}, maps: {maps}) with everything in it."),
            {"table": TABLE_NAME, **counts},
        )

    def written(self) -> tuple[list[ModeChange], Note]:
        counts = nft_counts(self.current)
        return [ModeChange("added", "table", TABLE_NAME)], Note(
            N_(
                "It creates {table}: chains: {chains}, sets: {sets}, maps: {maps}, rules: {rules} "
                "(see nft list table ip kube-proxy)."
            ),
            {"table": TABLE_NAME, **counts},
        )


def kube_chains(ruleset: Ruleset) -> list[ModeChange]:
    """Every chain kube-proxy owns in an iptables ruleset (they all start with KUBE-), as removed/added items."""
    return [
        ModeChange("added", "chain", f"{table.name} {name}")
        for table in ruleset.tables.values()
        for name in table.chains
        if name.startswith("KUBE-")
    ]
