"""Read what the kernel itself recorded inside the node namespace: rule counters and conntrack entries.

iptables keeps a packet counter on every rule (``iptables-save -c``); for a new TCP connection
the nat rules count its first packet only, so the counters of a Service's KUBE-SVC/KUBE-SEP
rules count connections. kube-proxy's nftables rules carry no counters, so in nftables mode the
conntrack table, where the kernel stores each connection's DNAT destination, is the evidence.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

from kproxy_tutor.lab.system import have_tool, in_netns

#: (table, chain, position in chain, rule text) identifies a rule between two readings.
RuleKey = tuple[str, str, int, str]


@dataclass(frozen=True, slots=True)
class CounterRow:
    table: str
    chain: str
    position: int
    rule: str
    packets: int


def iptables_counters(
    node_ns: str, port_names: list[tuple[str, str]], namespace: str, name: str, ipv6: bool = False
) -> list[CounterRow]:
    """Counters of one Service's rules (its own chains, and rules elsewhere that name it); IPv6: ip6tables'."""
    from kproxy_tutor.sandbox.iptables import parse_ruleset
    from kproxy_tutor.sandbox.iptables.render import save_args
    from kproxy_tutor.sandbox.iptables.select import select_ruleset, service_chains

    text = in_netns(node_ns, ["ip6tables-save" if ipv6 else "iptables-save", "-c"]).stdout
    ruleset = parse_ruleset(text, "iptables-save -c")
    view = select_ruleset(ruleset, namespace, name, service_chains(ruleset, port_names))
    rows = []
    for table in view.tables.values():
        full = ruleset.tables[table.name]
        for chain in table.chains.values():
            for rule in chain.rules:
                position = full.chains[chain.name].rules.index(rule) + 1
                packets = rule.counters[0] if rule.counters else 0
                rows.append(CounterRow(table.name, chain.name, position, save_args(rule), packets))
    return rows


def counter_delta(before: list[CounterRow], after: list[CounterRow]) -> list[CounterRow]:
    """The packets each rule counted between two readings (rules new since ``before`` count from 0)."""
    old = {(r.table, r.chain, r.position, r.rule): r.packets for r in before}
    return [
        CounterRow(
            r.table,
            r.chain,
            r.position,
            r.rule,
            r.packets - old.get((r.table, r.chain, r.position, r.rule), 0),
        )
        for r in after
    ]


@dataclass(frozen=True, slots=True)
class ConntrackEntry:
    protocol: str
    state: str
    original: tuple[str, str, int, int]  #: src, dst, sport, dport as the client sent it
    reply: tuple[str, str, int, int]  #: src, dst, sport, dport of the answer (src = the endpoint)


def _parse_conntrack_line(line: str) -> ConntrackEntry | None:
    words = line.split()
    fields: dict[str, list[str]] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        src, dst, sport, dport = fields["src"], fields["dst"], fields["sport"], fields["dport"]
        # /proc/net/nf_conntrack writes IPv6 addresses in full (fd00:0010:…); compare them canonically.
        original = (_canonical(src[0]), _canonical(dst[0]), int(sport[0]), int(dport[0]))
        reply = (_canonical(src[1]), _canonical(dst[1]), int(sport[1]), int(dport[1]))
    except (KeyError, IndexError, ValueError):
        return None
    protocol = next((w for w in words if w in ("tcp", "udp", "sctp")), "")
    state = next((w for w in words if w.isupper() and w.isalpha() and w not in ("ASSURED", "UNREPLIED")), "")
    return ConntrackEntry(protocol, state, original, reply)


def _canonical(text: str) -> str:
    return str(ipaddress.ip_address(text))


def conntrack_source() -> str | None:
    """``conntrack`` (the tool), else the kernel's own /proc listing, else None."""
    return "conntrack" if have_tool("conntrack") else "proc"


def conntrack_entries(node_ns: str, dst_ip: str, dst_port: int) -> tuple[str, list[ConntrackEntry]]:
    """TCP entries whose original destination is ``dst_ip:dst_port``, and which reader found them."""
    dst_ip = _canonical(dst_ip)
    if have_tool("conntrack"):
        family = ["-f", "ipv6"] if ":" in dst_ip else []
        result = in_netns(
            node_ns,
            ["conntrack", "-L", *family, "-p", "tcp", "--orig-dst", dst_ip, "--dport", str(dst_port)],
            check=False,
        )
        reader = "conntrack -L"
    else:
        result = in_netns(node_ns, ["cat", "/proc/net/nf_conntrack"], check=False)
        reader = "/proc/net/nf_conntrack"
    entries = [e for e in map(_parse_conntrack_line, result.stdout.splitlines()) if e is not None]
    return reader, [
        e for e in entries if e.protocol == "tcp" and e.original[1] == dst_ip and e.original[3] == dst_port
    ]


def endpoints_by_conntrack(
    entries: list[ConntrackEntry], client_ip: str | None, ports: set[int]
) -> Counter[str]:
    """Endpoint IP → connections, counting only entries of the given client source ports."""
    return Counter(
        e.reply[0]
        for e in entries
        if e.original[2] in ports and (client_ip is None or e.original[0] == client_ip)
    )
