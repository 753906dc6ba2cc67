"""Rule matching as the kernel does it, and a per-chain index that finds the rules a packet can match without scanning all of them.

A rule's parts are tested in the kernel's order: the IP header matches (``-s``, ``-d``, ``-i``,
``-o``, ``-p``) first, then each ``-m`` module in the order given. The first part that fails
ends the rule, so an unknown module after a failing part never matters; an unknown module the
packet reaches raises ``Unsupported``.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from kproxy_tutor.sandbox.iptables.rules import (
    PROBABILITY_SCALE,
    AddressMatch,
    AddrTypeMatch,
    Chain,
    CommentMatch,
    ConntrackMatch,
    InterfaceMatch,
    MarkMatch,
    NfacctMatch,
    OpaqueMatch,
    PortMatch,
    ProtocolMatch,
    RecentMatch,
    Rule,
    StatisticMatch,
)
from kproxy_tutor.sandbox.iptables.structure import rule_from_lines

#: Set on every IPv6 address's number, so an IPv6 address never equals an IPv4 one and an IPv4
#: prefix never matches an IPv6 address (nor the other way round): one integer space for both.
IPV6_TAG = 1 << 128
#: ``::1``, the only IPv6 loopback address (IPv6 has no 127.0.0.0/8).
IPV6_LOOPBACK = IPV6_TAG | 1
#: Chains shorter than this are scanned; an index would cost more than it saves.
INDEX_THRESHOLD = 16
#: How many timestamps xt_recent keeps per address (its ``ip_pkt_list_tot`` default).
RECENT_STAMPS = 20
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp"}
_CONNTRACK_STATES = frozenset(("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"))


class Unsupported(Exception):  # internal signal; the walker turns it into a SandboxInputError
    """The packet reached a rule part the tracer cannot evaluate; ``args[0]`` says which."""


@lru_cache(maxsize=65536)
def ip_int(text: str) -> int:
    """The address as a number: IPv4 as is, IPv6 with ``IPV6_TAG`` set (ValueError when not an address)."""
    if ":" in text:
        return IPV6_TAG | int(ipaddress.IPv6Address(text))
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and (p == "0" or p[0] != "0") for p in parts):
        a, b, c, d = map(int, parts)
        if a < 256 and b < 256 and c < 256 and d < 256:
            # Canonical dotted quads (every address the sandbox holds): no ipaddress object needed.
            return (a << 24) | (b << 16) | (c << 8) | d
    return int(ipaddress.IPv4Address(text))


class RecentLists:
    """xt_recent's lists: per name, address → timestamps of the packets that were ``--set``."""

    def __init__(self) -> None:
        self.lists: dict[str, dict[int, list[float]]] = {}

    def addresses(self, name: str) -> dict[int, list[float]]:
        return self.lists.setdefault(name, {})


@dataclass(slots=True)
class NodeMatchState:
    """Per-node state that matches read or change: local addresses, recent lists, nth counters, the random source."""

    local_ips: frozenset[int]
    rng: random.Random
    now: Callable[[], float]
    recent: RecentLists = field(default_factory=RecentLists)
    nth: dict[int, int] = field(default_factory=dict)

    def is_local(self, ip: int) -> bool:
        # is_local_number inlined: this runs for every addrtype match of every trace.
        return ip in self.local_ips or (ip >> 24) == 127 or ip == IPV6_LOOPBACK


def is_loopback_number(ip: int) -> bool:
    """127.0.0.0/8 or ``::1`` (an ``ip_int`` number)."""
    return (ip >> 24) == 127 or ip == IPV6_LOOPBACK


def is_local_number(ip: int, local_ips: frozenset[int]) -> bool:
    """What ``-m addrtype --dst-type LOCAL`` and routing call local: loopback or one of the node's addresses."""
    return ip in local_ips or is_loopback_number(ip)


@dataclass(slots=True)
class MatchContext:
    """The packet as the matches see it during one table walk; ``mark`` changes as MARK rules run."""

    protocol: str
    src: int
    dst: int
    sport: int
    dport: int
    mark: int
    in_iface: str
    out_iface: str
    ct_states: frozenset[str]
    node: NodeMatchState
    #: Set by the last statistic/recent part examined, for the trace: (kind, values).
    note: dict[str, object] | None = None


Check = Callable[[object, MatchContext], bool]


@lru_cache(maxsize=65536)
def _net_mask(cidr: str) -> tuple[int, int]:
    if cidr.endswith("/32") and ":" not in cidr:
        # A host (every KUBE-SEP's -s, every ClusterIP's -d): its address is the network.
        return ip_int(cidr[:-3]), 0xFFFFFFFF
    return network_mask(ipaddress.ip_network(cidr, strict=False))


def network_mask(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """(network, mask) as ``ip_int`` numbers: ``(ip_int(a) & mask) == network`` when ``a`` is inside.

    An IPv6 network's pair carries ``IPV6_TAG``, so no IPv4 address is ever inside it.
    """
    if network.version == 4:
        return int(network.network_address), int(network.netmask)
    return IPV6_TAG | int(network.network_address), IPV6_TAG | int(network.netmask)


def _source(match: AddressMatch, ctx: MatchContext) -> bool:
    net, mask = _net_mask(match.cidr)
    return ((ctx.src & mask) == net) != match.negated


def _destination(match: AddressMatch, ctx: MatchContext) -> bool:
    net, mask = _net_mask(match.cidr)
    return ((ctx.dst & mask) == net) != match.negated


def _iface_matches(name: str, actual: str) -> bool:
    return actual.startswith(name[:-1]) if name.endswith("+") else actual == name


def _in_interface(match: InterfaceMatch, ctx: MatchContext) -> bool:
    return _iface_matches(match.name, ctx.in_iface) != match.negated


def _out_interface(match: InterfaceMatch, ctx: MatchContext) -> bool:
    return _iface_matches(match.name, ctx.out_iface) != match.negated


def _protocol(match: ProtocolMatch, ctx: MatchContext) -> bool:
    protocol = _PROTOCOL_NUMBERS.get(match.protocol, match.protocol.lower())
    if protocol == "all":
        return not match.negated
    return (ctx.protocol == protocol) != match.negated


def _port(match: PortMatch, ctx: MatchContext) -> bool:
    if match.extra:
        raise Unsupported(f"-m {match.module} {' '.join(match.extra)}")
    if ctx.protocol != match.module:
        return False
    if match.dport is not None and not match.dport.contains(ctx.dport):
        return False
    return match.sport is None or match.sport.contains(ctx.sport)


def _statistic(match: StatisticMatch, ctx: MatchContext) -> bool:
    if match.mode == "random":
        # The kernel: (get_random_u32() & 0x7FFFFFFF) < probability.
        drawn = ctx.node.rng.getrandbits(32) & 0x7FFFFFFF
        ctx.note = {"random": drawn / PROBABILITY_SCALE, "probability": match.probability / PROBABILITY_SCALE}
        return (drawn < match.probability) != match.negated
    if match.mode == "nth" and match.every > 0:
        # Per rule, like the kernel's counter in the match's private data.
        key = id(match)
        count = ctx.node.nth.get(key, match.packet)
        hit = count == match.every - 1
        ctx.node.nth[key] = 0 if hit else count + 1
        ctx.note = {"nth": match.every, "count": count}
        return hit != match.negated
    raise Unsupported(f"statistic mode {match.mode}")


def _stamp(addresses: dict[int, list[float]], address: int, now: float) -> None:
    stamps = addresses.setdefault(address, [])
    stamps.append(now)
    del stamps[:-RECENT_STAMPS]


@lru_cache(maxsize=1024)
def _recent_mask(text: str, ipv6: bool) -> int:
    """``--mask`` as a number of the packet's family (ip6tables' default mask is all ones, as iptables')."""
    try:
        mask = ip_int(text)
    except ValueError:
        raise Unsupported(f"recent --mask {text}") from None
    if (mask >= IPV6_TAG) == ipv6:
        return mask
    if text == "255.255.255.255" and ipv6:
        return IPV6_TAG | ((1 << 128) - 1)  # the rule gave no --mask: all ones
    raise Unsupported(f"recent --mask {text}")


def _recent(match: RecentMatch, ctx: MatchContext) -> bool:
    if match.rttl:
        raise Unsupported("recent --rttl")
    address = ctx.src if match.side == "rsource" else ctx.dst
    mask = _recent_mask(match.mask, address >= IPV6_TAG)
    # Follows the kernel's recent_mt(): the result starts as the inversion flag and flips on a hit.
    addresses = ctx.node.recent.addresses(match.name)
    address &= mask
    now = ctx.node.now()
    stamps = addresses.get(address)
    command, seconds = match.command, match.seconds
    hit = False
    if command == "set":
        _stamp(addresses, address, now)
        hit = True
    elif stamps is not None:
        if command == "remove":
            del addresses[address]
            hit = True
        else:
            oldest = now - seconds
            hits = 0
            for stamp in stamps:
                if seconds and stamp < oldest:
                    continue
                hits += 1
                if not match.hitcount or hits >= match.hitcount:
                    hit = True
                    break
            if match.reap and seconds:
                kept = [stamp for stamp in stamps if stamp >= oldest]
                if kept:
                    stamps[:] = kept
                else:
                    del addresses[address]
            if command == "update" and hit:
                _stamp(addresses, address, now)
    ctx.note = {"recent": match.name, "command": command, "hit": hit, "seconds": seconds}
    return hit != match.negated


def _addrtype(match: AddrTypeMatch, ctx: MatchContext) -> bool:
    if match.limit_iface_in or match.limit_iface_out:
        raise Unsupported("addrtype --limit-iface")
    for kind in (match.src_type, match.dst_type):
        if kind is not None and kind != "LOCAL":
            raise Unsupported(f"addrtype type {kind}")
    if match.src_type is not None and ctx.node.is_local(ctx.src) == match.src_negated:
        return False
    return match.dst_type is None or ctx.node.is_local(ctx.dst) != match.dst_negated


def _conntrack(match: ConntrackMatch, ctx: MatchContext) -> bool:
    if match.extra or not match.states:
        raise Unsupported(f"-m conntrack {match.save_options()}")
    unknown = set(match.states) - _CONNTRACK_STATES
    if unknown:
        raise Unsupported(f"conntrack state {','.join(sorted(unknown))}")
    return any(state in ctx.ct_states for state in match.states) != match.negated


def _mark(match: MarkMatch, ctx: MatchContext) -> bool:
    return match.matches(ctx.mark)


def _always(match: object, ctx: MatchContext) -> bool:
    # A comment only labels the rule; nfacct only counts packets. Both always match.
    return True


def _opaque(match: OpaqueMatch, ctx: MatchContext) -> bool:
    raise Unsupported(f"-m {match.module} {match.save_options()}".rstrip())


def _unknown(match: object, ctx: MatchContext) -> bool:
    raise Unsupported(type(match).__name__)


_MODULE_CHECKS: dict[type, Check] = {
    CommentMatch: _always,
    NfacctMatch: _always,
    PortMatch: _port,  # type: ignore[dict-item]
    StatisticMatch: _statistic,  # type: ignore[dict-item]
    RecentMatch: _recent,  # type: ignore[dict-item]
    MarkMatch: _mark,  # type: ignore[dict-item]
    AddrTypeMatch: _addrtype,  # type: ignore[dict-item]
    ConntrackMatch: _conntrack,  # type: ignore[dict-item]
    OpaqueMatch: _opaque,  # type: ignore[dict-item]
}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    #: (part, check) in the kernel's order. A check raises Unsupported only when a packet
    #: reaches a part the tracer cannot evaluate.
    checks: tuple[tuple[object, Check], ...]

    def first_failing(self, ctx: MatchContext) -> object | None:
        """None when every part matches, else the part that failed."""
        for part, check in self.checks:
            if not check(part, ctx):
                return part
        return None


def compile_rule(rule: Rule) -> CompiledRule:
    checks: list[tuple[object, Check]] = []
    for part, check in (
        (rule.source, _source),
        (rule.destination, _destination),
        (rule.in_interface, _in_interface),
        (rule.out_interface, _out_interface),
        (rule.protocol, _protocol),
    ):
        if part is not None:
            checks.append((part, check))  # type: ignore[arg-type]
    for match in rule.matches:
        checks.append((match, _MODULE_CHECKS.get(type(match), _unknown)))
    return CompiledRule(rule, tuple(checks))


def _exact_destination(rule: Rule) -> int | None:
    dst = rule.destination
    # The canonical text is enough here; parsing 10,000 networks just to index them is not.
    if dst is None or dst.negated:
        return None
    if dst.cidr.endswith("/32") and ":" not in dst.cidr:
        return ip_int(dst.cidr[:-3])
    if dst.cidr.endswith("/128") and ":" in dst.cidr:
        return ip_int(dst.cidr[:-4])
    return None


def _exact_dport(rule: Rule) -> tuple[str, int] | None:
    proto = rule.protocol
    if proto is None or proto.negated:
        return None
    for match in rule.matches:
        if isinstance(match, PortMatch) and match.dport is not None:
            dport = match.dport
            if not dport.negated and dport.first == dport.last and match.module == proto.protocol:
                return (match.module, dport.first)
    return None


class ChainIndex:
    """Which rules of a chain can match a packet, in rule order.

    A rule with an exact ``-d a.b.c.d/32`` (``-d addr/128`` in IPv6) can only match packets to that address, and a rule
    with ``-p P -m P --dport N`` only packets to that port: those rules are filed under their
    key, all others are always candidates. Rules skipped this way are still counted as
    examined, because the kernel tests them one by one.

    A long chain that still holds its text lines (a compiled node's KUBE-SERVICES: one rule per
    service port) is indexed from those lines, and a rule is built only when a packet reaches
    it: tracing one Service through 10,000 builds a handful of rules, not 10,000.
    """

    __slots__ = ("_lines", "_saves", "by_dport", "by_dst", "compiled", "rules", "size", "unkeyed")

    def __init__(self, chain: Chain) -> None:
        self.size = len(chain)
        self.compiled: list[CompiledRule | None] = [None] * self.size
        self.by_dst: dict[int, list[int]] = {}
        self.by_dport: dict[tuple[str, int], list[int]] = {}
        self.unkeyed: list[int] = []
        #: The chain's rule objects, or None while they are built one by one from the lines.
        self.rules: list[Rule] | None = None
        self._lines: tuple[str, ...] = ()
        self._saves: tuple[str, ...] = ()
        if self.size < INDEX_THRESHOLD:
            self.rules = chain.rules
            self.unkeyed = list(range(self.size))
            return
        if chain.has_lines:
            self._lines, self._saves = chain.lines(), chain.save_lines()
            self._index_lines(chain.name)
            return
        self.rules = chain.rules
        for position, rule in enumerate(self.rules):
            self._file(position, rule)

    def _file(self, position: int, rule: Rule) -> None:
        dst = _exact_destination(rule)
        if dst is not None:
            self.by_dst.setdefault(dst, []).append(position)
            return
        dport = _exact_dport(rule)
        if dport is not None:
            self.by_dport.setdefault(dport, []).append(position)
        else:
            self.unkeyed.append(position)

    def _index_lines(self, chain: str) -> None:
        # iptables-save's canonical order puts the generic matches first: ``[[!] -s S] -d D/32 …``
        # is filed under D with no rule built. Any other line is built and filed as a rule.
        start = len(chain) + 4  # "-A CHAIN "
        by_dst = self.by_dst
        for position, save in enumerate(self._saves):
            head = save[start : start + 120].split(" ", 6)
            i = 0
            if head[0] == "-s":
                i = 2
            elif head[0] == "!" and head[1] == "-s":
                i = 3
            if len(head) > i + 1 and head[i] == "-d" and "\\" not in save and "\t" not in save:
                cidr = head[i + 1]
                address = None
                if cidr.endswith("/32") and ":" not in cidr:
                    address = cidr[:-3]
                elif cidr.endswith("/128") and ":" in cidr:
                    address = cidr[:-4]
                if address is not None:
                    try:
                        number = ip_int(address)
                    except ValueError:
                        number = None
                    if number is not None:
                        by_dst.setdefault(number, []).append(position)
                        continue
            self._file(position, self.rule(position).rule)

    def is_current(self, chain: Chain) -> bool:
        if self.rules is None:
            return chain.has_lines and chain.save_lines() is self._saves
        return chain.rules is self.rules and len(chain.rules) == self.size

    def candidates(self, ctx: MatchContext) -> list[int]:
        if not self.by_dst and not self.by_dport:
            return self.unkeyed
        found = self.by_dst.get(ctx.dst, [])
        by_port = self.by_dport.get((ctx.protocol, ctx.dport), [])
        if not found and not by_port:
            return self.unkeyed
        return sorted([*found, *by_port, *self.unkeyed])

    def rule(self, position: int) -> CompiledRule:
        compiled = self.compiled[position]
        if compiled is None:
            if self.rules is not None:
                rule = self.rules[position]
            else:
                rule = rule_from_lines(self._lines[position], self._saves[position])
            compiled = self.compiled[position] = compile_rule(rule)
        return compiled
