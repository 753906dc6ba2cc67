"""kube-proxy's fixed rules: KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FIREWALL, KUBE-FORWARD, the NodePort tail and the jump rules."""

from __future__ import annotations

from functools import lru_cache

from kproxy_tutor.sandbox.iptables.rules import (
    AddrTypeMatch,
    CommentMatch,
    ConntrackMatch,
    Jump,
    MarkMatch,
    MarkTarget,
    Masquerade,
    NfacctMatch,
    Rule,
    Verdict,
)
from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, address

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


def postrouting_rules(mark_text: str, mark: int, random_fully: bool) -> list[Rule]:
    masquerade = '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
    return [
        Rule(
            "KUBE-POSTROUTING",
            matches=(MarkMatch(mark, mark, negated=True),),
            target=Verdict("RETURN"),
            spelling=f"-m mark ! --mark {mark_text}/{mark_text} -j RETURN",
        ),
        Rule(
            "KUBE-POSTROUTING", target=MarkTarget.xor_mark(mark), spelling=f"-j MARK --xor-mark {mark_text}"
        ),
        Rule(
            "KUBE-POSTROUTING",
            matches=(CommentMatch("kubernetes service traffic requiring SNAT"),),
            target=Masquerade(random_fully=random_fully),
            spelling=masquerade + (" --random-fully" if random_fully else ""),
        ),
        Rule("KUBE-MARK-MASQ", target=MarkTarget.or_mark(mark), spelling=f"-j MARK --or-mark {mark_text}"),
    ]


def fixed_filter_rules(localhost_node_ports: bool) -> list[Rule]:
    """KUBE-FIREWALL's anti-martian rule, written only for IPv4 with localhost NodePorts."""
    if not localhost_node_ports:
        return []
    comment = "block incoming localnet connections"
    return [
        Rule(
            "KUBE-FIREWALL",
            address("127.0.0.0/8", True),
            address("127.0.0.0/8"),
            matches=(CommentMatch(comment), ConntrackMatch(("RELATED", "ESTABLISHED", "DNAT"), negated=True)),
            target=Verdict("DROP"),
            spelling=f'-m comment --comment "{comment}" -d 127.0.0.0/8 ! -s 127.0.0.0/8 '
            "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
        ),
    ]


def forward_rules(mark_text: str, mark: int, nfacct: bool, tcp_be_liberal: bool) -> list[Rule]:
    rules = []
    if not tcp_be_liberal:
        if nfacct:
            rules.append(
                Rule(
                    "KUBE-FORWARD",
                    matches=(ConntrackMatch(("INVALID",)), NfacctMatch(INVALID_DROP_COUNTER)),
                    target=Verdict("DROP"),
                    spelling=f"-m conntrack --ctstate INVALID -m nfacct --nfacct-name {INVALID_DROP_COUNTER} -j DROP",
                )
            )
        else:
            rules.append(
                Rule(
                    "KUBE-FORWARD",
                    matches=(ConntrackMatch(("INVALID",)),),
                    target=Verdict("DROP"),
                    spelling="-m conntrack --ctstate INVALID -j DROP",
                )
            )
    rules.append(
        Rule(
            "KUBE-FORWARD",
            matches=(CommentMatch("kubernetes forwarding rules"), MarkMatch(mark, mark)),
            target=Verdict("ACCEPT"),
            spelling=f'-m comment --comment "kubernetes forwarding rules" -m mark --mark {mark_text}/{mark_text} -j ACCEPT',
        )
    )
    rules.append(
        Rule(
            "KUBE-FORWARD",
            matches=(
                CommentMatch("kubernetes forwarding conntrack rule"),
                ConntrackMatch(("RELATED", "ESTABLISHED")),
            ),
            target=Verdict("ACCEPT"),
            spelling='-m comment --comment "kubernetes forwarding conntrack rule" '
            "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        )
    )
    return rules


def nodeport_tail_rules(
    node_port_ips: list[str] | None, localhost_node_ports: bool, loopback: str = "127.0.0.0/8"
) -> list[Rule]:
    """The last KUBE-SERVICES rule(s): hand traffic for a local address to KUBE-NODEPORTS.

    ``loopback`` is what is excluded when localhost NodePorts are off (``::1/128`` for IPv6, which never has them).
    """
    comment = CommentMatch(NODEPORTS_COMMENT)
    head = f'-m comment --comment "{NODEPORTS_COMMENT}"'
    if node_port_ips is None:
        if localhost_node_ports:
            return [
                Rule(
                    "KUBE-SERVICES",
                    matches=(comment, AddrTypeMatch(dst_type="LOCAL")),
                    target=Jump("KUBE-NODEPORTS"),
                    spelling=f"{head} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
                )
            ]
        return [
            Rule(
                "KUBE-SERVICES",
                destination=address(loopback, True),
                matches=(comment, AddrTypeMatch(dst_type="LOCAL")),
                target=Jump("KUBE-NODEPORTS"),
                spelling=f"{head} -m addrtype --dst-type LOCAL ! -d {loopback} -j KUBE-NODEPORTS",
            )
        ]
    return [
        Rule(
            "KUBE-SERVICES",
            destination=address(ip),
            matches=(comment,),
            target=Jump("KUBE-NODEPORTS"),
            spelling=f"{head} -d {ip} -j KUBE-NODEPORTS",
        )
        for ip in node_port_ips
    ]
