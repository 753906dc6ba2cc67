"""Count the iptables rules IPVS mode's first packet of a new connection meets, with the ipsets as the kernel matches them.

A Pod's packet to a Service VIP passes nat PREROUTING (KUBE-SERVICES: a few set matches,
each one hash lookup), is routed locally because the VIP sits on kube-ipvs0, passes filter
INPUT (KUBE-IPVS-FILTER, KUBE-PROXY-FIREWALL, KUBE-NODE-PORT), then IPVS at LOCAL_IN finds the
virtual server with one hash lookup and sends the translated packet out through filter OUTPUT
(KUBE-IPVS-OUT-FILTER); from there conntrack carries the connection. Only the rule shapes
IPVS mode writes are understood; any other part makes the rule count as not matching.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    AddrTypeMatch,
    CommentMatch,
    ConntrackMatch,
    Jump,
    MarkMatch,
    MarkTarget,
    OpaqueMatch,
    ProtocolMatch,
    Rule,
    Ruleset,
    Verdict,
)
from kproxy_tutor.sandbox.ipvs.ipsets import BITMAP_PORT, HASH_IP, HASH_IP_PORT_NET, IpSet

#: (table, built-in chain) in the order the first packet meets them.
PATH = (("nat", "PREROUTING"), ("filter", "INPUT"), ("filter", "OUTPUT"))


@dataclass(frozen=True, slots=True)
class FirstPacket:
    protocol: str
    src_ip: str
    dst_ip: str
    dst_port: int
    #: The node's own addresses, kube-ipvs0's included (what ``--dst-type LOCAL`` sees).
    local: frozenset[str]


def _in_set(s: IpSet, kinds: list[str], p: FirstPacket) -> bool:
    side = {"src": p.src_ip, "dst": p.dst_ip}
    if s.set_type == BITMAP_PORT:
        return str(p.dst_port) in s.members
    if s.set_type == HASH_IP:
        return side[kinds[0]] in s.members
    first = side[kinds[0]]
    key = f"{first},{p.protocol}:{p.dst_port}"
    if len(kinds) == 2:
        return key in s.members
    third = side[kinds[2]]
    if s.set_type == HASH_IP_PORT_NET:
        prefix = key + ","
        return any(
            m.startswith(prefix) and ipaddress.ip_address(third) in ipaddress.ip_network(m[len(prefix) :])
            for m in s.members
        )
    return f"{key},{third}" in s.members


def _named(sets: Mapping[str, IpSet], name: str) -> IpSet | None:
    """The set the kernel knows as ``name``: the IPv6 proxier's sets are ``KUBE-6-…`` (``IpSet.name``)."""
    return next((s for s in sets.values() if s.name == name), None)


def _matches(rule: Rule, p: FirstPacket, sets: Mapping[str, IpSet]) -> bool:
    for part in rule.parts:
        if isinstance(part, AddressMatch):
            ip = p.src_ip if part is rule.source else p.dst_ip
            if not part.contains(ip):
                return False
        elif isinstance(part, ProtocolMatch):
            if (part.protocol == p.protocol) == part.negated:
                return False
        elif isinstance(part, AddrTypeMatch):
            if part.dst_type == "LOCAL" and (p.dst_ip in p.local) == part.dst_negated:
                return False
            if part.src_type == "LOCAL" and (p.src_ip in p.local) == part.src_negated:
                return False
        elif isinstance(part, ConntrackMatch):
            if ("NEW" in part.states) == part.negated:
                return False
        elif isinstance(part, MarkMatch):
            if not part.matches(0):
                return False
        elif isinstance(part, OpaqueMatch):
            if part.module != "set" or len(part.args) < 3:
                return False  # physdev/ipvs matches: a Pod's bridged packet to a VIP does not match them
            s = sets.get(part.args[1]) or _named(sets, part.args[1])
            if s is None or not _in_set(s, part.args[2].split(","), p):
                return False
        elif not isinstance(part, (CommentMatch, Jump, Verdict, MarkTarget)) and part is not rule.target:
            return False
    return True


def _walk(
    ruleset: Ruleset, table: str, chain: str, p: FirstPacket, sets: Mapping[str, IpSet]
) -> tuple[int, bool]:
    """(rules examined, the chain ended the hook's table with a verdict)."""
    examined = 0
    for rule in ruleset.tables[table].chains[chain].rules:
        examined += 1
        if not _matches(rule, p, sets):
            continue
        target = rule.target
        if isinstance(target, Jump) and target.chain in ruleset.tables[table].chains:
            count, final = _walk(ruleset, table, target.chain, p, sets)
            examined += count
            if final:
                return examined, True
        elif isinstance(target, Verdict) and target.verdict == "RETURN":
            return examined, False
        elif isinstance(target, MarkTarget):
            continue
        elif target is not None:
            return examined, True
    return examined, False


def rules_examined(ruleset: Ruleset, sets: Mapping[str, IpSet], packet: FirstPacket) -> int:
    """iptables rules examined on the first packet's way through IPVS mode's chains (the IPVS lookup not included)."""
    return sum(_walk(ruleset, table, chain, packet, sets)[0] for table, chain in PATH)
