"""Read facts out of the sandbox the way a learner would: from the compiled rules and from traces.

Exercise checks, ``answer`` expectations and generated quiz questions all compute their expected
values here, from what the compiler and the evaluator produce, so no expected value is typed by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_, ContentError
from kproxy_tutor.sandbox.iptables.matches import RecentMatch
from kproxy_tutor.sandbox.iptables.rules import Rule, Ruleset
from kproxy_tutor.sandbox.iptables.targets import Goto, Jump, MarkTarget
from kproxy_tutor.sandbox.packet import Trace

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.cluster import Cluster
    from kproxy_tutor.sandbox.model import Service

#: How the first rule of each kind is found: (chain to read, comment suffix) -> service chain prefix.
_ENTRY = {
    "svc": ("KUBE-SERVICES", " cluster IP", "KUBE-SVC-"),
    "svl": ("KUBE-SERVICES", " cluster IP", "KUBE-SVL-"),
    "ext": ("KUBE-NODEPORTS", "", "KUBE-EXT-"),
}
CHAIN_KINDS = tuple(_ENTRY)
_PROBABILITY = re.compile(r"--probability (\S+)")


def split_name(name: str) -> tuple[str, str]:
    """``ns/name`` or ``name`` (namespace default)."""
    namespace, _, short = name.rpartition("/")
    return namespace or "default", short


def service_of(cluster: Cluster, name: str) -> Service | None:
    return cluster.services.get(split_name(name))


def target_chain(rule: Rule) -> str | None:
    target = rule.target
    return target.chain if isinstance(target, Jump | Goto) else None


def service_chain(ruleset: Ruleset, service: str, kind: str = "svc") -> str | None:
    """The KUBE-SVC (or SVL, EXT) chain kube-proxy wrote for ``service``'s first port, or None."""
    namespace, name = split_name(service)
    chain_name, suffix, prefix = _ENTRY[kind]
    chain = ruleset.table("nat").chains.get(chain_name)
    if chain is None:
        return None
    for rule in chain.rules:
        comment = rule.comment or ""
        target = target_chain(rule) or ""
        # The comment is "ns/name[:port] cluster IP" (or "ns/name[:port]" in KUBE-NODEPORTS).
        head = comment[: -len(suffix)] if suffix and comment.endswith(suffix) else comment
        if target.startswith(prefix) and head.split(":")[0] == f"{namespace}/{name}":
            return target
    # A Service with internalTrafficPolicy Local jumps to KUBE-SVL; find it whatever was asked.
    if kind == "svc":
        return service_chain(ruleset, service, "svl")
    return None


def endpoint_jumps(ruleset: Ruleset, service: str) -> list[Rule]:
    """The rules of the service chain that pick a KUBE-SEP chain, in order.

    With ClientIP affinity the chain first has one ``-m recent --rcheck`` jump per endpoint; those
    send known clients back and are not part of the random choice, so they are left out.
    """
    chain_name = service_chain(ruleset, service)
    chain = ruleset.table("nat").chains.get(chain_name or "")
    if chain is None:
        return []
    return [
        r
        for r in chain.rules
        if (target_chain(r) or "").startswith("KUBE-SEP-")
        and not any(isinstance(m, RecentMatch) for m in r.matches)
    ]


def probability(ruleset: Ruleset, service: str, index: int) -> str | None:
    """The probability on the ``index``-th (1-based) KUBE-SEP jump, as kube-proxy writes it.

    None when there is no such jump or it has no probability (the last jump always matches).
    """
    jumps = endpoint_jumps(ruleset, service)
    if not 1 <= index <= len(jumps):
        return None
    rule = jumps[index - 1]
    match = _PROBABILITY.search(rule.spelling or "")
    if match:
        return match.group(1)
    for part in rule.matches:
        fraction = getattr(part, "probability_fraction", None)
        if fraction is not None:
            return f"{fraction:.10f}"
    return None


def masquerade_mark(ruleset: Ruleset) -> int | None:
    """The bit KUBE-MARK-MASQ sets (0x4000 with kubeadm's masqueradeBit 14)."""
    chain = ruleset.table("nat").chains.get("KUBE-MARK-MASQ")
    for rule in chain.rules if chain else ():
        if isinstance(rule.target, MarkTarget):
            return int(rule.target.value)
    return None


def nodeport_target(cluster: Cluster, service: str, node: str) -> str:
    """``NODE-IP:NODEPORT`` of ``service``'s first port on ``node`` (what a client outside dials)."""
    found = service_of(cluster, service)
    ports = [p.node_port for p in found.ports if p.node_port] if found else []
    addresses = cluster.nodes[node].internal_ips if node in cluster.nodes else ()
    if not ports or not addresses:
        return ""
    return f"{addresses[0]}:{ports[0]}"


def target_text(cluster: Cluster, to: object) -> str:
    """A check's ``to``: a curl target as typed, or ``{nodeport: SERVICE, node: NODE}``."""
    if isinstance(to, Mapping):
        return nodeport_target(cluster, str(to.get("nodeport", "")), str(to.get("node", "")))
    return str(to)


def source_kind(cluster: Cluster, trace: Trace) -> str:
    """Who sent a traced packet: ``ns/pod``, ``node`` or ``external``."""
    ip = trace.packet.src_ip
    for pod in cluster.pods.values():
        if pod.pod_ip == ip:
            return f"{pod.namespace}/{pod.name}"
    if any(ip in node.internal_ips for node in cluster.nodes.values()):
        return "node"
    return "external"


def from_matches(cluster: Cluster, trace: Trace, wanted: str) -> bool:
    """Does ``trace`` come from ``wanted`` (``external``, ``node``, ``node/NAME``, a Pod or a Deployment)?"""
    kind = source_kind(cluster, trace)
    if wanted in ("external", "node"):
        return kind == wanted
    if wanted.startswith("node/"):
        return kind == "node" and trace.source_node == wanted.split("/", 1)[1]
    namespace, name = split_name(wanted)
    pod = cluster.pods.get((namespace, name))
    if pod is not None:
        return kind == f"{namespace}/{name}"
    return any(
        kind == f"{p.namespace}/{p.name}" for p in cluster.pods.values() if p.owner == f"{namespace}/{name}"
    )


def nft_replacement(table: object) -> tuple[str, str]:
    """In nftables mode: the chain the nat hooks jump to (for KUBE-SERVICES) and the map it looks up."""
    from kproxy_tutor.sandbox.nftables.statements import Verdict as NftVerdict
    from kproxy_tutor.sandbox.nftables.statements import VmapLookup

    chains = getattr(table, "chains", {})
    hook = chains.get("nat-prerouting") or chains.get("nat-output")
    jumped = next(
        (
            s.chain
            for r in (hook.rules if hook else ())
            for s in r.statements
            if isinstance(s, NftVerdict) and s.kind == "jump"
        ),
        "",
    )
    target = chains.get(jumped)
    mapped = next(
        (
            s.map_name
            for r in (target.rules if target else ())
            for s in r.statements
            if isinstance(s, VmapLookup)
        ),
        "",
    )
    return jumped, mapped


def nft_service_chain(table: object, cluster: Cluster, service: str) -> str:
    """The chain the ``service-ips`` map sends ``service``'s ClusterIP to (``service-…-ns/name/tcp/port``)."""
    found = service_of(cluster, service)
    sets = getattr(table, "sets", {})
    service_ips = sets.get("service-ips")
    if found is None or service_ips is None:
        return ""
    for element in service_ips.elements:
        if element.key and element.key[0] == found.cluster_ip and element.value:
            return element.value.split()[-1]
    return ""


def nft_numgen_mod(table: object, chain: str) -> int | None:
    """``N`` of ``numgen random mod N`` in a service chain: how many endpoints it picks from."""
    from kproxy_tutor.sandbox.nftables.statements import NumgenVmap

    found = getattr(table, "chains", {}).get(chain)
    for rule in found.rules if found else ():
        for statement in rule.statements:
            if isinstance(statement, NumgenVmap):
                return int(statement.mod)
    return None


def require(value: str | int | None, what: str) -> str:
    """An expected value, or a ContentError: the exercise asks for something the rules do not have."""
    if value is None or value == "":
        raise ContentError(N_("The exercise expects {what}, but the sandbox's rules have none."), what=what)
    return str(value)
