"""What stays on a node when kube-proxy restarts in another proxy mode (Kubernetes v1.35).

kube-proxy cleans up after the other modes only when it starts in nftables mode or runs with
``--cleanup``: ``platformCleanup`` (cmd/kube-proxy/app/server_linux.go) calls
``iptables.CleanupLeftovers`` and ``ipvs.CleanupLeftovers`` only ``if !isIPTablesBased(mode)``,
and ``isIPTablesBased`` is true for iptables and ipvs mode; starting in either of those it
deletes only the nftables table. Between the two iptables-based modes nothing is cleaned up:
the new mode rewrites the chains it declares (``iptables-restore --noflush`` flushes a declared
chain), adds its jump rules in front of the built-in chains' rules, and iptables mode deletes
stale ``KUBE-SVC-``/``SVL-``/``EXT-``/``FW-``/``SEP-`` chains in nat. Everything else stays: the
other mode's chains, its jumps, and IPVS's virtual servers, kube-ipvs0 and ipsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.sandbox.iptables.matches import PortMatch
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.iptables.rules import Chain, Rule, Ruleset
from kproxy_tutor.sandbox.iptables.targets import Goto, Jump, Reject, Verdict
from kproxy_tutor.sandbox.ipvs import IpvsState
from kproxy_tutor.shell.output import ModeChange

#: pkg/proxy/iptables/proxier.go ``isServiceChainName``: the only chains its stale-chain sweep deletes (nat).
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")
#: pkg/proxy/iptables/cleanup.go: the chains ``iptables.CleanupLeftovers`` deletes besides the nat
#: service chains. Not KUBE-FIREWALL: it duplicates kubelet's chain and the cleanup leaves it.
IPTABLES_CLEANUP = {
    "nat": ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY"),
    "filter": (
        "KUBE-SERVICES",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FORWARD",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-FIREWALL",
        "KUBE-PROXY-CANARY",
    ),
    "mangle": ("KUBE-PROXY-CANARY",),
}
#: pkg/proxy/ipvs/proxier.go ``iptablesCleanupChains``: what ``ipvs.CleanupLeftovers`` deletes in iptables.
IPVS_CLEANUP = {
    "nat": ("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"),
    "filter": (
        "KUBE-FORWARD",
        "KUBE-NODE-PORT",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SOURCE-RANGES-FIREWALL",
        "KUBE-IPVS-FILTER",
        "KUBE-IPVS-OUT-FILTER",
    ),
}


@dataclass
class Residue:
    """What a node held when kube-proxy last restarted, minus what that start cleaned up."""

    #: The iptables rules the running mode started over (None: nothing was there).
    iptables: Ruleset | None = None
    #: IPVS's virtual servers, kube-ipvs0 addresses and ipsets, frozen since ipvs mode stopped.
    ipvs: IpvsState | None = None


def _target_chain(rule: Rule) -> str | None:
    target = rule.target
    return target.chain if isinstance(target, Jump | Goto) else None


def _copy_chain(chain: Chain) -> Chain:
    return Chain(chain.name, chain.policy, list(chain.rules))


def is_service_chain(name: str) -> bool:
    return name.startswith(SERVICE_CHAIN_PREFIXES)


def kernel_view(residue: Ruleset | None, live: Ruleset | None, mode: str) -> Ruleset:
    """The node's iptables rules: ``live`` (what ``mode`` maintains) written over ``residue``."""
    result = Ruleset()
    live_tables = live.tables if live is not None else {}
    for name, table in (residue.tables if residue is not None else {}).items():
        target = result.table(name)
        owned = live_tables[name].chains if name in live_tables else {}
        for chain_name, chain in table.chains.items():
            stale = mode == "iptables" and name == "nat" and is_service_chain(chain_name)
            if stale and chain_name not in owned:
                continue  # iptables mode's stale-chain sweep deletes it
            target.chains[chain_name] = _copy_chain(chain)
    for name, table in live_tables.items():
        target = result.table(name)
        for chain_name, chain in table.chains.items():
            existing = target.chains.get(chain_name)
            if chain.builtin and existing is not None:
                # EnsureRule(Prepend, ...) adds each jump that is not there yet in front.
                missing = [rule for rule in chain.rules if rule not in existing.rules]
                existing.rules = missing + existing.rules
            else:
                target.chains[chain_name] = _copy_chain(chain)  # declared: flushed and refilled
    return result


def cleaned_up(ruleset: Ruleset) -> Ruleset:
    """What ``iptables.CleanupLeftovers`` and ``ipvs.CleanupLeftovers`` leave of ``ruleset``."""
    result = Ruleset()
    for name, table in ruleset.tables.items():
        deleted = set(IPTABLES_CLEANUP.get(name, ())) | set(IPVS_CLEANUP.get(name, ()))
        if name == "nat":
            deleted |= {c for c in table.chains if is_service_chain(c)}
        target = result.table(name)
        for chain_name, chain in table.chains.items():
            if chain_name in deleted:
                continue
            rules = [rule for rule in chain.rules if _target_chain(rule) not in deleted]
            target.chains[chain_name] = Chain(chain_name, chain.policy, rules)
    return result


def kube_chain_names(ruleset: Ruleset | None) -> list[str]:
    """``"table CHAIN"`` for every KUBE-* chain, in iptables-save's table order."""
    if ruleset is None:
        return []
    return [
        f"{table.name} {name}"
        for table in ruleset.tables.values()
        for name in table.chains
        if name.startswith("KUBE-")
    ]


def _chains(ruleset: Ruleset | None) -> dict[str, Chain]:
    if ruleset is None:
        return {}
    return {f"{t.name} {n}": c for t in ruleset.tables.values() for n, c in t.chains.items()}


def _lines(rules: list[Rule]) -> list[str]:
    return [save_line(rule) for rule in rules]


@dataclass
class ChainDiff:
    """The iptables part of a switch: chains deleted, written by the new mode, and left behind."""

    removed: list[ModeChange]
    written: list[ModeChange]
    kept: list[ModeChange]


def chain_diff(before: Ruleset | None, after: Ruleset, live: Ruleset | None) -> ChainDiff:
    """Compare the node's rules before and after a restart; ``live`` is what the new mode maintains."""
    old, new, owned = _chains(before), _chains(after), _chains(live)
    diff = ChainDiff([], [], [])
    for key, chain in old.items():
        if key not in new and chain.name.startswith("KUBE-"):
            diff.removed.append(ModeChange("removed", "chain", key))
    for key, chain in new.items():
        previous = old.get(key)
        was = _lines(previous.rules) if previous is not None else []
        now = _lines(chain.rules)
        gone = tuple(line for line in was if line not in now)
        came = tuple(line for line in now if line not in was)
        if chain.builtin:
            if gone:
                diff.removed.append(ModeChange("rewritten", "rules", key, (), gone))
            if came:
                diff.written.append(ModeChange("rewritten", "rules", key, came))
            maintained = _lines(owned[key].rules) if key in owned else []
            left = tuple(line for line in now if line not in maintained and "-j KUBE-" in line)
            if left:
                diff.kept.append(ModeChange("kept", "rules", key, left))
            continue
        if not chain.name.startswith("KUBE-"):
            continue
        if key in owned:
            kind = "added" if previous is None else "rewritten"
            diff.written.append(
                ModeChange(kind, "chain", key, came if previous is not None else tuple(now), gone)
            )
        else:
            diff.kept.append(ModeChange("kept", "chain", key))
    return diff


def stale_rejects(
    residue: Ruleset | None, live: Ruleset | None, ip: str, port: int
) -> list[tuple[str, Rule]]:
    """Leftover filter rules that still REJECT or DROP new connections to ``ip``:``port``."""
    if residue is None or "filter" not in residue.tables:
        return []
    owned = live.tables["filter"].chains if live is not None and "filter" in live.tables else {}
    found = []
    for name, chain in residue.tables["filter"].chains.items():
        if name in owned or chain.builtin or not name.startswith("KUBE-"):
            continue
        for rule in chain.rules:
            blocks = isinstance(rule.target, Reject) or rule.target == Verdict("DROP")
            if not blocks or (rule.destination is not None and not rule.destination.contains(ip)):
                continue
            ports = [m.dport for m in rule.matches if isinstance(m, PortMatch) and m.dport is not None]
            if ports and all(p.contains(port) for p in ports):
                found.append((name, rule))
    return found
