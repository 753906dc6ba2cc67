"""The iptables rules IPVS-mode kube-proxy still writes: a fixed handful that match ipsets instead of one rule per Service.

Follows upstream ``writeIptablesRules``, ``acceptIPVSTraffic`` and ``createAndLinkKubeChain`` in
``pkg/proxy/ipvs/proxier.go``: the restore text is written as kube-proxy writes it (nat chains
and rules, then filter), then read back with the sandbox's iptables parser, so ``iptables-save``
comes from the same typed rules the iptables mode uses. The jump rules from the built-in chains
are added with ``EnsureRule(Prepend)``, so on a fresh node the last one listed ends up first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.iptables.family import iptables_family
from kproxy_tutor.sandbox.iptables.kernel import KernelState
from kproxy_tutor.sandbox.iptables.parse import parse_payload
from kproxy_tutor.sandbox.iptables.rules import CommentMatch, Jump, OpaqueMatch, Rule, Ruleset
from kproxy_tutor.sandbox.iptables.targets import Reject
from kproxy_tutor.sandbox.ipvs import ipsets as sets_
from kproxy_tutor.sandbox.ipvs.ipsets import IpSet

NAT_CHAINS = ("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ")
FILTER_CHAINS = (
    "KUBE-FORWARD",
    "KUBE-NODE-PORT",
    "KUBE-PROXY-FIREWALL",
    "KUBE-SOURCE-RANGES-FIREWALL",
    "KUBE-IPVS-FILTER",
    "KUBE-IPVS-OUT-FILTER",
)
#: (table, built-in chain, target chain, comment) in upstream's ``iptablesJumpChain`` order.
JUMP_CHAINS = (
    ("nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals"),
    ("nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"),
    ("filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"),
    ("filter", "INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"),
    ("filter", "INPUT", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    ("filter", "FORWARD", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    ("filter", "INPUT", "KUBE-IPVS-FILTER", "kubernetes ipvs access filter"),
    ("filter", "OUTPUT", "KUBE-IPVS-OUT-FILTER", "kubernetes ipvs access filter"),
)
#: Upstream ``ipsetWithIptablesChain``: (set, table, from chain, target, match type, protocol).
SET_CHAINS = (
    (sets_.LOOP_BACK, "nat", "KUBE-POSTROUTING", "MASQUERADE", "dst,dst,src", ""),
    (sets_.LOAD_BALANCER, "nat", "KUBE-SERVICES", "KUBE-LOAD-BALANCER", "dst,dst", ""),
    (sets_.LOAD_BALANCER_LOCAL, "nat", "KUBE-LOAD-BALANCER", "RETURN", "dst,dst", ""),
    (sets_.NODE_PORT_LOCAL_TCP, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "tcp"),
    (sets_.NODE_PORT_TCP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "tcp"),
    (sets_.NODE_PORT_LOCAL_UDP, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "udp"),
    (sets_.NODE_PORT_UDP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "udp"),
    (sets_.NODE_PORT_LOCAL_SCTP, "nat", "KUBE-NODE-PORT", "RETURN", "dst,dst", "sctp"),
    (sets_.NODE_PORT_SCTP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst,dst", "sctp"),
    (sets_.LOAD_BALANCER_FW, "filter", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL", "dst,dst", ""),
    (sets_.LOAD_BALANCER_SOURCE_CIDR, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""),
    (sets_.LOAD_BALANCER_SOURCE_IP, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""),
)


@dataclass(frozen=True, slots=True)
class IptablesOptions:
    masquerade_all: bool = False
    #: The local-traffic detector's "not local" match (``! -s 10.244.0.0/16``), "" when none is configured.
    not_local: str = ""
    mark: int = 0x4000
    random_fully: bool = True
    #: The proxier's family: ``-s ::1/128`` and ip6tables' REJECT type for IPv6.
    family: str = IPV4


@dataclass(slots=True)
class IpvsIptables:
    restore: str
    ruleset: Ruleset

    @property
    def rule_count(self) -> int:
        return sum(len(c.rules) for t in self.ruleset.tables.values() for c in t.chains.values())

    def references(self) -> dict[str, int]:
        """Rules naming each set (what ``ipset list`` shows as References)."""
        out: dict[str, int] = {}
        for table in self.ruleset.tables.values():
            for chain in table.chains.values():
                for rule in chain.rules:
                    for m in rule.matches:
                        if isinstance(m, OpaqueMatch) and m.module == "set" and len(m.args) >= 2:
                            out[m.args[1]] = out.get(m.args[1], 0) + 1
        return out


def _set_match(s: IpSet, kind: str) -> str:
    return f"-m set --match-set {s.name} {kind}"


def _comment(s: IpSet) -> str:
    return f'-m comment --comment "{s.comment}"'


def write_rules(sets: Mapping[str, IpSet], blocked: list[tuple[str, str, int]], opts: IptablesOptions) -> str:
    """The iptables-restore input, line for line as upstream writes it."""
    mark = f"0x{opts.mark:08x}"
    # "Dismiss connects to localhost early in the service chain" (::1/128 for IPv6).
    nat = [f"-A KUBE-SERVICES -s {iptables_family(opts.family).loopback_cidr} -j RETURN"]
    filt: list[str] = []
    for name, table, chain, target, kind, proto in SET_CHAINS:
        s = sets[name]
        if s.members:
            head = f"-A {chain}" + (f" -p {proto}" if proto else "")
            (filt if table == "filter" else nat).append(
                f"{head} {_comment(s)} {_set_match(s, kind)} -j {target}"
            )
    cluster = sets[sets_.CLUSTER_IP]
    if cluster.members:
        head = f"-A KUBE-SERVICES {_comment(cluster)} -m set --match-set {cluster.name}"
        if opts.masquerade_all:
            nat.append(f"{head} dst,dst -j KUBE-MARK-MASQ")
        elif opts.not_local:
            nat.append(f"{head} dst,dst {opts.not_local} -j KUBE-MARK-MASQ")
        else:
            # Without a detector upstream masquerades node traffic whose source is a VIP on kube-ipvs0.
            nat.append(f"{head} src,dst -j KUBE-MARK-MASQ")
    for name, masquerade in ((sets_.EXTERNAL_IP, True), (sets_.EXTERNAL_IP_LOCAL, False)):
        s = sets[name]
        if not s.members:
            continue
        head = f"-A KUBE-SERVICES {_comment(s)} {_set_match(s, 'dst,dst')}"
        if masquerade:
            nat.append(f"{head} -j KUBE-MARK-MASQ")
        nat.append(f"{head} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT")
        nat.append(f"{head} -m addrtype --dst-type LOCAL -j ACCEPT")
    nat.append("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT")
    nat.append("-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ")
    filt.append("-A KUBE-SOURCE-RANGES-FIREWALL -j DROP")
    for ip, proto, port in blocked:
        filt.append(
            f"-A KUBE-IPVS-OUT-FILTER -s {ip} -m ipvs --vaddr {ip} --vproto {proto} --vport {port} -j DROP"
        )
    for name in (sets_.CLUSTER_IP, sets_.LOAD_BALANCER):  # acceptIPVSTraffic: must stay last in KUBE-SERVICES
        if sets[name].members:
            nat.append(f"-A KUBE-SERVICES {_set_match(sets[name], 'dst,dst')} -j ACCEPT")
    filt.append(
        f'-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark {mark}/{mark} -j ACCEPT'
    )
    filt.append(
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    )
    health = sets[sets_.HEALTH_CHECK_NODE_PORT]
    filt.append(f"-A KUBE-NODE-PORT {_comment(health)} {_set_match(health, 'dst')} -j ACCEPT")
    for name, kind in (
        (sets_.LOAD_BALANCER, "dst,dst"),
        (sets_.CLUSTER_IP, "dst,dst"),
        (sets_.EXTERNAL_IP, "dst,dst"),
        (sets_.EXTERNAL_IP_LOCAL, "dst,dst"),
        (sets_.HEALTH_CHECK_NODE_PORT, "dst"),
    ):
        filt.append(f"-A KUBE-IPVS-FILTER {_set_match(sets[name], kind)} -j RETURN")
    filt.append(
        f"-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW {_set_match(sets[sets_.IPVS_IPS], 'dst')} -j REJECT"
    )
    nat.append(f"-A KUBE-POSTROUTING -m mark ! --mark {mark}/{mark} -j RETURN")
    nat.append(f"-A KUBE-POSTROUTING -j MARK --xor-mark {mark}")
    masq = (
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
    )
    nat.append(masq + (" --random-fully" if opts.random_fully else ""))
    nat.append(f"-A KUBE-MARK-MASQ -j MARK --or-mark {mark}")
    lines = [
        "*nat",
        *(f":{c} - [0:0]" for c in NAT_CHAINS),
        *nat,
        "COMMIT",
        "*filter",
        *(f":{c} - [0:0]" for c in FILTER_CHAINS),
        *filt,
        "COMMIT",
        "",
    ]
    return "\n".join(lines)


def compile_iptables(
    sets: Mapping[str, IpSet], blocked: list[tuple[str, str, int]], opts: IptablesOptions
) -> IpvsIptables:
    """The restore text and the node's resulting ruleset (jump rules from the built-in chains included)."""
    restore = write_rules(sets, blocked, opts)
    kernel = KernelState()
    for table, chains in (("nat", NAT_CHAINS), ("filter", FILTER_CHAINS)):
        for chain in chains:
            kernel.ensure_chain(table, chain)
    for table, chain, target, comment in JUMP_CHAINS:
        kernel.ensure_rule(
            table,
            Rule(
                chain,
                matches=(CommentMatch(comment),),
                target=Jump(target),
                spelling=f'-m comment --comment "{comment}" -j {target}',
            ),
        )
    kernel.apply(parse_payload(restore, "ipvs-iptables"))
    reject = iptables_family(opts.family).reject
    if reject != Reject():
        # The payload says only "-j REJECT"; ip6tables holds (and -save prints) the IPv6 reject type.
        for table in kernel.ruleset.tables.values():
            for chain in table.chains.values():
                chain.rules[:] = [
                    dataclasses.replace(r, target=reject) if isinstance(r.target, Reject) else r
                    for r in chain.rules
                ]
    out_filter = kernel.ruleset.tables["filter"].chains["KUBE-IPVS-OUT-FILTER"]
    out_filter.rules[:] = [
        dataclasses.replace(r, matches=tuple(saved_ipvs_match(m) for m in r.matches))
        for r in out_filter.rules
    ]
    return IpvsIptables(restore, kernel.ruleset)


_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "sctp": "132"}
#: libxt_ipvs's save order (ipvs_mt_dump), whatever order the rule gave its options in.
_IPVS_SAVE_ORDER = ("--vproto", "--vaddr", "--vport")


def saved_ipvs_match(match: object) -> object:
    """An ``-m ipvs`` match as the kernel holds it and ``iptables-save`` prints it.

    libxt_ipvs stores the protocol as a number and prints it so (``--vproto 6``), prints
    ``--vproto``, ``--vaddr``, ``--vport`` in that order, and leaves a full mask out of
    ``--vaddr`` (``xtables_ipmask_to_numeric``: "we don't want to see /32"). Any other shape
    (another module, other options) is returned as it is.
    """
    if not isinstance(match, OpaqueMatch) or match.module != "ipvs":
        return match
    args = match.args
    if len(args) % 2 or any(a not in _IPVS_SAVE_ORDER for a in args[::2]):
        return match
    options = dict(zip(args[::2], args[1::2], strict=True))
    proto = options.get("--vproto")
    if proto is not None:
        options["--vproto"] = _PROTOCOL_NUMBERS.get(proto.lower(), proto)
    vaddr = options.get("--vaddr")
    if vaddr is not None and vaddr.endswith(("/32", "/128")):
        address, _, length = vaddr.rpartition("/")
        if (length == "32") == (":" not in address):
            options["--vaddr"] = address
    ordered = tuple(t for name in _IPVS_SAVE_ORDER if name in options for t in (name, options[name]))
    return OpaqueMatch("ipvs", ordered)
