"""kube-proxy's fixed rules: KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FIREWALL, KUBE-FORWARD, the NodePort tail and the jump rules.

The payload's rules are (restore line, save line) pairs; the jump rules in built-in chains are
``Rule`` objects, since the proxier checks and inserts them one by one (``iptables -C``/``-I``).
"""

from __future__ import annotations

from functools import lru_cache

from kproxy_tutor.sandbox.iptables.rules import CommentMatch, ConntrackMatch, Jump, Rule
from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, host_cidr

#: A compiled rule: (restore line as kube-proxy writes it, line iptables-save prints).
Line = tuple[str, str]

NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"

#: (table, built-in chain, extra match, comment, target chain) in upstream's order; each is
#: inserted at position 1 when missing, so on a fresh node later entries end up first.
JUMP_CHAINS = (
    ("filter", "INPUT", True, "kubernetes externally-visible service portals", "KUBE-EXTERNAL-SERVICES"),
    ("filter", "FORWARD", True, "kubernetes externally-visible service portals", "KUBE-EXTERNAL-SERVICES"),
    ("filter", "INPUT", False, "kubernetes health check service ports", "KUBE-NODEPORTS"),
    ("filter", "FORWARD", True, "kubernetes service portals", "KUBE-SERVICES"),
    ("filter", "OUTPUT", True, "kubernetes service portals", "KUBE-SERVICES"),
    ("filter", "FORWARD", False, "kubernetes forwarding rules", "KUBE-FORWARD"),
    ("filter", "INPUT", True, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
    ("filter", "OUTPUT", True, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
    ("filter", "FORWARD", True, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
    ("nat", "OUTPUT", False, "kubernetes service portals", "KUBE-SERVICES"),
    ("nat", "PREROUTING", False, "kubernetes service portals", "KUBE-SERVICES"),
    ("nat", "POSTROUTING", False, "kubernetes postrouting rules", "KUBE-POSTROUTING"),
    # Duplicates of kubelet's jumps, without comment.
    ("filter", "INPUT", False, "", "KUBE-FIREWALL"),
    ("filter", "OUTPUT", False, "", "KUBE-FIREWALL"),
)
_NEW = ConntrackMatch(("NEW",))


@lru_cache(maxsize=1)
def jump_rules() -> tuple[tuple[str, Rule], ...]:
    out = []
    for table, chain, new_only, comment, target in JUMP_CHAINS:
        matches: list = []
        spelling = []
        if new_only:
            matches.append(_NEW)
            spelling.append("-m conntrack --ctstate NEW")
        if comment:
            matches.append(CommentMatch(comment))
            spelling.append(f'-m comment --comment "{comment}"')
        spelling.append(f"-j {target}")
        out.append(
            (table, Rule(chain, matches=tuple(matches), target=Jump(target), spelling=" ".join(spelling)))
        )
    return tuple(out)


def postrouting_rules(mark_text: str, mark: int, random_fully: bool) -> list[Line]:
    fully = " --random-fully" if random_fully else ""
    snat = 'KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
    return [
        (
            f"-A KUBE-POSTROUTING -m mark ! --mark {mark_text}/{mark_text} -j RETURN",
            f"-A KUBE-POSTROUTING -m mark ! --mark 0x{mark:x}/0x{mark:x} -j RETURN",
        ),
        (
            f"-A KUBE-POSTROUTING -j MARK --xor-mark {mark_text}",
            f"-A KUBE-POSTROUTING -j MARK --set-xmark 0x{mark:x}/0x0",
        ),
        (f"-A {snat}{fully}", f"-A {snat}{fully}"),
        (
            f"-A KUBE-MARK-MASQ -j MARK --or-mark {mark_text}",
            f"-A KUBE-MARK-MASQ -j MARK --set-xmark 0x{mark:x}/0x{mark:x}",
        ),
    ]


def fixed_filter_rules(localhost_node_ports: bool) -> list[Line]:
    """KUBE-FIREWALL's anti-martian rule, written only for IPv4 with localhost NodePorts."""
    if not localhost_node_ports:
        return []
    comment = '-m comment --comment "block incoming localnet connections"'
    return [
        (
            f"-A KUBE-FIREWALL {comment} -d 127.0.0.0/8 ! -s 127.0.0.0/8 "
            "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
            f"-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 {comment} "
            "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
        ),
    ]


def forward_rules(mark_text: str, mark: int, nfacct: bool, tcp_be_liberal: bool) -> list[Line]:
    rules = []
    if not tcp_be_liberal:
        if nfacct:
            rules.append(
                (
                    f"-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name {INVALID_DROP_COUNTER} -j DROP",
                    f"-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  {INVALID_DROP_COUNTER} -j DROP",
                )
            )
        else:
            line = "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"
            rules.append((line, line))
    comment = '-m comment --comment "kubernetes forwarding rules"'
    rules.append(
        (
            f"-A KUBE-FORWARD {comment} -m mark --mark {mark_text}/{mark_text} -j ACCEPT",
            f"-A KUBE-FORWARD {comment} -m mark --mark 0x{mark:x}/0x{mark:x} -j ACCEPT",
        )
    )
    line = (
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    )
    rules.append((line, line))
    return rules


def nodeport_tail_rules(
    node_port_ips: list[str] | None, localhost_node_ports: bool, loopback: str = "127.0.0.0/8"
) -> list[Line]:
    """The last KUBE-SERVICES rule(s): hand traffic for a local address to KUBE-NODEPORTS.

    ``loopback`` is what is excluded when localhost NodePorts are off (``::1/128`` for IPv6, which never has them).
    """
    head = f'-A KUBE-SERVICES -m comment --comment "{NODEPORTS_COMMENT}"'
    if node_port_ips is None:
        if localhost_node_ports:
            line = f"{head} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
            return [(line, line)]
        return [
            (
                f"{head} -m addrtype --dst-type LOCAL ! -d {loopback} -j KUBE-NODEPORTS",
                f'-A KUBE-SERVICES ! -d {loopback} -m comment --comment "{NODEPORTS_COMMENT}" '
                "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
            )
        ]
    return [
        (
            f"{head} -d {ip} -j KUBE-NODEPORTS",
            f'-A KUBE-SERVICES -d {host_cidr(ip)} -m comment --comment "{NODEPORTS_COMMENT}" -j KUBE-NODEPORTS',
        )
        for ip in node_port_ips
    ]
