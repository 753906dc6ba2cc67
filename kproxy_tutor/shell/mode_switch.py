"""The ``watch`` report of a proxy-mode switch: what kube-proxy deleted, wrote and left on the node.

It follows Kubernetes v1.35 (see ``leftovers``): a start in nftables mode runs the iptables and
IPVS cleanups; a start in iptables or ipvs mode deletes only the nftables table, so the other
iptables-based mode's chains, jumps, IPVS virtual servers, kube-ipvs0 and ipsets stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.iptables.targets import Reject
from kproxy_tutor.sandbox.ipvs import IpvsState
from kproxy_tutor.shell.ipvs_backend import ipvs_changes, server_name
from kproxy_tutor.shell.leftovers import chain_diff
from kproxy_tutor.shell.output import ModeChange, Note, SwitchReport


@dataclass
class SwitchState:
    """One node around a restart: its iptables rules and IPVS objects before and after."""

    node: str
    old: str
    new: str
    before: Ruleset | None
    after: Ruleset | None
    #: What the new mode maintains in iptables (None in nftables mode).
    live: Ruleset | None
    ipvs_before: IpvsState | None
    ipvs_after: IpvsState | None
    #: (items, note) of the nftables table deleted or written, when nftables mode is involved.
    nft_cleaned: tuple[list[ModeChange], Note] | None = None
    nft_written: tuple[list[ModeChange], Note] | None = None
    ipvs_written_note: Note | None = None


def ipvs_objects(state: IpvsState, kind: str) -> list[ModeChange]:
    """IPVS's kernel objects as one switch item each: virtual servers, kube-ipvs0, the ipsets."""
    items = [ModeChange(kind, "virtual server", server_name(vs)) for vs in state.virtual_servers]
    items.append(ModeChange(kind, "interface", "kube-ipvs0"))
    items.append(ModeChange(kind, "ipsets", ", ".join(state.ipsets or {})))
    return items


def _ipvs_counts(state: IpvsState) -> dict[str, int]:
    return {
        "servers": len(state.virtual_servers),
        "addresses": len(state.bound_addresses),
        "ipsets": len(state.ipsets or {}),
    }


def _cleaned_note(s: SwitchState, chains: int, stale: int) -> Note:
    if s.new == "nftables":
        if s.ipvs_before is not None:
            return Note(
                N_(
                    "Starting in nftables mode, kube-proxy cleans up after iptables and IPVS modes: it deletes "
                    "their KUBE-* chains ({chains}) with the rules that jump to them, flushes IPVS (virtual servers: "
                    "{servers}), deletes kube-ipvs0 (Service IPs: {addresses}) and destroys its ipsets ({ipsets})."
                ),
                {"chains": chains, **_ipvs_counts(s.ipvs_before)},
            )
        return Note(
            N_(
                "Starting in nftables mode, kube-proxy cleans up after iptables and IPVS modes: it deletes "
                "their KUBE-* chains ({chains}) with the rules that jump to them."
            ),
            {"chains": chains},
        )
    if s.nft_cleaned is not None:
        return s.nft_cleaned[1]
    if stale:
        return Note(
            N_(
                "It deletes only the stale service and endpoint chains it finds in nat ({count}). Starting in "
                "iptables or ipvs mode, kube-proxy does not clean up after the other mode: only a start in "
                "nftables mode or kube-proxy --cleanup does."
            ),
            {"count": stale},
        )
    return Note(
        N_(
            "It deletes nothing of {old} mode: starting in iptables or ipvs mode, kube-proxy does not clean up "
            "after the other mode; only a start in nftables mode or kube-proxy --cleanup does."
        ),
        {"old": s.old},
    )


def _written_note(s: SwitchState, owned: int) -> Note:
    if s.nft_written is not None:
        return s.nft_written[1]
    if s.new == "ipvs" and s.ipvs_written_note is not None:
        return s.ipvs_written_note
    return Note(
        N_("It writes its KUBE-* chains in iptables (nat, filter and mangle): {count}."), {"count": owned}
    )


def _kept_notes(s: SwitchState, kept: list[ModeChange], ipvs_kept: bool) -> list[Note]:
    chains = [c.name for c in kept if c.what == "chain"]
    notes: list[Note] = []
    if s.new == "nftables":
        if chains:
            notes.append(
                Note(
                    N_(
                        "The iptables cleanup leaves {chains}: kube-proxy writes KUBE-FIREWALL as a copy of the "
                        "chain kubelet creates and never deletes it; INPUT and OUTPUT still jump to it."
                    ),
                    {"chains": ", ".join(chains)},
                )
            )
        return notes
    if chains:
        notes.append(
            Note(
                N_(
                    "Left behind: the KUBE-* chains that {mode} mode does not write ({count}), and the rules that "
                    "jump to them. Nothing updates them any more; they go only with kube-proxy --cleanup, a start in "
                    "nftables mode, or a reboot of the node."
                ),
                {"count": len(chains), "mode": s.new},
                tone="warning",
            )
        )
    rejects = _stale_rejects(s, chains)
    if rejects:
        notes.append(
            Note(
                N_(
                    "These leftovers still act: OUTPUT and FORWARD jump to filter KUBE-SERVICES, INPUT and "
                    "FORWARD to filter KUBE-EXTERNAL-SERVICES, for every new connection. Their REJECT rules "
                    "({count}) for Services that had no endpoints keep rejecting those connections, even once "
                    "the Services have endpoints."
                ),
                {"count": rejects},
                tone="warning",
            )
        )
    if ipvs_kept and s.ipvs_before is not None:
        notes.append(
            Note(
                N_(
                    "IPVS's objects stay too: virtual servers ({servers}), kube-ipvs0 with the Service IPs "
                    "({addresses}) and the ipsets ({ipsets}); ipvsadm -Ln, ip addr show kube-ipvs0 and ipset list "
                    "still show them. "
                    "iptables mode DNATs Service traffic in nat PREROUTING and OUTPUT, before IPVS would see it."
                ),
                _ipvs_counts(s.ipvs_before),
                tone="warning",
            )
        )
    return notes


def _stale_rejects(s: SwitchState, kept_chains: list[str]) -> int:
    if s.after is None or "filter" not in s.after.tables:
        return 0
    filter_chains = s.after.tables["filter"].chains
    names = [n.split(" ", 1)[1] for n in kept_chains if n.startswith("filter ")]
    return sum(
        1
        for name in names
        if name in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES")
        for rule in filter_chains[name].rules
        if isinstance(rule.target, Reject)
    )


def switch_report(s: SwitchState) -> SwitchReport:
    diff = chain_diff(s.before, s.after or Ruleset(), s.live)
    removed_chains = [c for c in diff.removed if c.what == "chain"]
    cleaned: list[ModeChange] = []
    if s.nft_cleaned is not None:
        cleaned += s.nft_cleaned[0]
    cleaned += diff.removed
    if s.new == "nftables" and s.ipvs_before is not None:
        cleaned += ipvs_objects(s.ipvs_before, "removed")
    written: list[ModeChange] = []
    if s.nft_written is not None:
        written += s.nft_written[0]
    if s.new == "ipvs" and s.ipvs_after is not None:
        written += ipvs_changes(s.ipvs_before, s.ipvs_after)
    written += diff.written
    kept = list(diff.kept)
    ipvs_kept = s.new == "iptables" and s.ipvs_before is not None
    if ipvs_kept and s.ipvs_before is not None:
        kept += ipvs_objects(s.ipvs_before, "kept")
    owned = sum(1 for c in diff.written if c.what == "chain")
    stale = len(removed_chains) if s.new != "nftables" else 0
    return SwitchReport(
        s.node,
        s.old,
        s.new,
        tuple(cleaned),
        _cleaned_note(s, len(removed_chains), stale),
        tuple(written),
        _written_note(s, owned),
        tuple(kept),
        tuple(_kept_notes(s, kept, ipvs_kept)),
    )
