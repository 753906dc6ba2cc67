"""kube-proxy's side of the shell: ``iptables-save``, ``iptables -L/-S``, ``conntrack -L`` and ``curl``.

They work in every proxy mode: nftables mode leaves iptables without KUBE-* rules (the commands
say so), IPVS mode shows the iptables rules it writes, and ``curl`` takes the current mode's path.
"""

from __future__ import annotations

from typing import Any

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import render_save
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.packet import SourceKind, StepKind, Trace
from kproxy_tutor.shell.counters import Counters
from kproxy_tutor.shell.ipvs_backend import IpvsBackend
from kproxy_tutor.shell.leftovers import kube_chain_names, stale_rejects
from kproxy_tutor.shell.listing import list_rules, list_specs
from kproxy_tutor.shell.output import Note, Output, TraceReport, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session

#: Where ``curl --from external`` comes from: an address of TEST-NET-3 (RFC 5737), outside the cluster.
EXTERNAL_CLIENT_IP = "203.0.113.10"
#: The outside client's address for an IPv6 destination (documentation prefix 2001:db8::/32).
EXTERNAL_CLIENT_IP6 = "2001:db8:ffff::10"
EXTERNAL_WORDS = ("external", "outside", "internet")


def _no_iptables_rules() -> list[Output]:
    return [
        Note(
            N_(
                "kube-proxy runs in nftables mode: it has no KUBE-* rules in iptables (it deleted them when it "
                "started). Its rules are in nft list table ip kube-proxy."
            )
        )
    ]


def _leftovers_in_nftables_mode() -> Note:
    return Note(
        N_(
            "kube-proxy runs in nftables mode: its rules are in nft list table ip kube-proxy. What iptables still "
            "holds was left by an earlier mode: the iptables cleanup does not delete KUBE-FIREWALL."
        )
    )


def _ruleset_and_counters(session: Session) -> tuple[Ruleset, Counters]:
    """The node's iptables rules (the current mode's over earlier modes' leftovers), with their counters."""
    ruleset = session.iptables_rules()
    assert ruleset is not None
    if isinstance(session.backend, IpvsBackend) or session.mode == "nftables":
        # IPVS mode counts connections per real server (ipvsadm), not per iptables rule.
        return ruleset, Counters()
    return ruleset, session.counters[session.node]


def _nftables_leftovers(session: Session) -> bool:
    """True when nftables mode runs and iptables still holds KUBE-* chains an earlier mode left."""
    rules = session.iptables_rules() if session.mode == "nftables" else None
    return rules is not None and bool(kube_chain_names(rules))


def iptables_save(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    leftovers = _nftables_leftovers(session)
    if session.mode == "nftables" and not leftovers:
        return _no_iptables_rules()
    ruleset, known = _ruleset_and_counters(session)
    table = invocation.text("table")
    counters = invocation.switch("counters")
    if counters:
        ruleset = known.counted(ruleset)
    text = Verbatim(render_save(ruleset, [table] if table else None, counters=counters))
    return [text, _leftovers_in_nftables_mode()] if leftovers else [text]


def ip6tables_save(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    """The IPv6 proxier's rules as ip6tables-save prints them (nothing on a node without one: no IPv6 rules)."""
    if session.mode == "nftables" and session.dual_stack():
        return _no_ip6tables_rules()
    ruleset = session.ip6tables_rules()
    if ruleset is None:
        return [Verbatim("")]
    table = invocation.text("table")
    text = render_save(ruleset, [table] if table else None, counters=invocation.switch("counters"))
    return [Verbatim(text)]


def _no_ip6tables_rules() -> list[Output]:
    return [
        Note(
            N_(
                "kube-proxy runs in nftables mode: it has no KUBE-* rules in ip6tables (it deleted them when it "
                "started). Its IPv6 rules are in nft list table ip6 kube-proxy."
            )
        )
    ]


def iptables(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    _list_action(invocation)
    leftovers = _nftables_leftovers(session)
    if session.mode == "nftables" and not leftovers:
        return _no_iptables_rules()
    note: list[Output] = [_leftovers_in_nftables_mode()] if leftovers else []
    ruleset, counters = _ruleset_and_counters(session)
    return _listing(invocation, ruleset, counters, note)


def ip6tables(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    """``ip6tables -L/-S`` over the IPv6 proxier's rules (its counters stay at zero: curl counts IPv4's)."""
    _list_action(invocation)
    if session.mode == "nftables" and session.dual_stack():
        return _no_ip6tables_rules()
    ruleset = session.ip6tables_rules()
    if ruleset is None:
        # No IPv6 proxier: ip6tables lists the table's built-in chains, empty.
        ruleset = Ruleset()
        ruleset.table(invocation.text("table", "filter"))
    return _listing(invocation, ruleset, Counters(), [])


def _list_action(invocation: Invocation) -> None:
    if invocation.switch("list") != invocation.switch("list_rules"):
        return
    if invocation.command.name == "iptables":
        raise SandboxInputError(
            N_("Say what iptables should do: -L lists a chain, -S prints its rules as commands.")
        )
    raise SandboxInputError(
        N_("Say what ip6tables should do: -L lists a chain, -S prints its rules as commands.")
    )


def _listing(
    invocation: Invocation, ruleset: Ruleset, counters: Counters, note: list[Output]
) -> list[Output]:
    specs = invocation.switch("list_rules")
    table = invocation.text("table", "filter")
    chain = invocation.args.get("CHAIN")
    chain = chain if isinstance(chain, str) else None
    if specs:
        return [Verbatim(list_specs(ruleset, table, chain, counters, invocation.switch("verbose"))), *note]
    text = list_rules(
        ruleset,
        table,
        chain,
        counters,
        verbose=invocation.switch("verbose"),
        numeric=invocation.switch("numeric"),
        exact=invocation.switch("exact"),
        line_numbers=invocation.switch("line_numbers"),
    )
    return [Verbatim(text), *note]


def conntrack(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    entries = []
    if session.has_traffic:
        # One conntrack table for both families (IPv4 entries first), as conntrack -L lists them.
        tracers = session.tracer().tracers
        entries = [
            entry
            for family in (IPV4, IPV6)
            if family in tracers
            for entry in tracers[family].kernel(session.node).conntrack.entries()
        ]
    lines = []
    for entry in entries:
        protocol, src, sport, dst, dport = entry.original
        _, rsrc, rsport, rdst, rdport = entry.reply
        number = {"tcp": 6, "udp": 17, "sctp": 132}.get(protocol, 0)
        # conntrack prints: protocol, number, seconds left, TCP state, original tuple, reply tuple, flags.
        if entry.seen_reply:
            timeout, state, unreplied, assured = (
                ("431999 ESTABLISHED " if protocol == "tcp" else "119 "),
                "",
                "",
                "[ASSURED] ",
            )
        else:
            timeout, state, unreplied, assured = (
                ("119 SYN_SENT " if protocol == "tcp" else "29 "),
                "",
                "[UNREPLIED] ",
                "",
            )
        lines.append(
            f"{protocol:<8} {number} {timeout}{state}src={src} dst={dst} sport={sport} dport={dport} {unreplied}"
            f"src={rsrc} dst={rdst} sport={rsport} dport={rdport} {assured}mark=0 use=1\n"
        )
    # conntrack-tools prints the count on stderr, in English.
    lines.append(f"conntrack v1.4.8 (conntrack-tools): {len(entries)} flow entries have been shown.\n")
    return [Verbatim("".join(lines))]


def client_text(session: Session, text: str) -> str:
    """What the tracer takes for ``--from``: ``external`` becomes an outside address, ``node/NAME`` a node."""
    if text in EXTERNAL_WORDS:
        return EXTERNAL_CLIENT_IP
    if text.startswith(("node/", "nodes/")):
        return text.split("/", 1)[1]
    return text


def curl(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    target = invocation.arg("TARGET")
    source = client_text(session, invocation.text("source") or session.node)
    count = invocation.number("count", 1) or 1
    family = ip_family_switch(invocation.switch("ipv4"), invocation.switch("ipv6"))
    return send(session, source, target, count, invocation.switch("brief"), family=family)


def ip_family_switch(ipv4: bool, ipv6: bool) -> str | None:
    """curl's -4/-6 as an IP family (None: neither; the name's primary family, an address's own)."""
    if ipv4 and ipv6:
        raise SandboxInputError(N_("-4 and -6 exclude each other: pick one IP family."))
    return IPV4 if ipv4 else (IPV6 if ipv6 else None)


def send(
    session: Session,
    source: str,
    target: str,
    count: int = 1,
    brief: bool = False,
    *,
    family: str | None = None,
) -> list[Output]:
    """``count`` new connections from ``source`` (a Pod, node or address) to ``target``, traced in the current mode.

    ``family`` (IPv4/IPv6) picks a Service name's ClusterIP of that family, as ``curl -4/-6`` does;
    an address (``[fd00::a]:80``) is taken literally and picks its own family.
    """
    from kproxy_tutor.errors import TutorError
    from kproxy_tutor.shell.names import check_request

    check_request(session.cluster, source, target)
    tracer = session.tracer()
    traces: list[Trace] = []
    try:
        if source == EXTERNAL_CLIENT_IP:
            # "external" stands for a client of the destination's family (outside clients have no namespace).
            from kproxy_tutor.sandbox.trace.request import resolve_destination

            if resolve_destination(session.cluster, target, None, family=family).family == IPV6:
                source = EXTERNAL_CLIENT_IP6
        client, destination = tracer.resolve(source, target, None, None, family)
        for _ in range(count):
            traces.append(tracer.connect(client, destination))
    except TutorError as error:
        # The tracer's errors are about the request line; report them as sandbox input errors.
        raise SandboxInputError(error.message, **error.params) from None
    # iptables -L -v counts the IPv4 proxier's rules only; ipvsadm's ActiveConn counts both families'
    # virtual servers (one IPVS table on the node).
    counted = traces if destination.family == IPV4 else []
    if session.mode != "iptables":
        from kproxy_tutor.shell import mode_trace

        for trace in traces:
            mode_trace.count(session, trace, destination.family)
        return [TraceReport(target, tuple(traces), brief), *_leftover_warning(session, client, destination)]
    for trace in counted:
        _count(session, trace)
    return [TraceReport(target, tuple(traces), brief)]


def _count(session: Session, trace: Trace) -> None:
    for step in trace.steps:
        if step.node is None or step.node not in session.counters:
            continue
        counters = session.counters[step.node]
        if step.kind == StepKind.RULE and step.rule is not None and step.rule_number is not None:
            counters.count_rule(step.table or "filter", step.chain or "", step.rule_number, step.rule)
        elif step.kind == StepKind.POLICY and step.chain is not None:
            counters.count_policy(step.table or "filter", step.chain)


def _leftover_warning(session: Session, client: Any, destination: Any) -> list[Output]:
    """The trace follows only the rules ipvs mode maintains; say when a rule iptables mode left would reject it.

    In ipvs mode Service IPs are local (kube-ipvs0), so a Pod's or an outside client's packets pass
    INPUT, where iptables mode jumped to filter KUBE-EXTERNAL-SERVICES; a process on the node passes
    OUTPUT, which also jumps to filter KUBE-SERVICES (both for new connections only).
    """
    node = client.node if client.node in session.backends else session.node
    residue = session.residue.get(node)
    if session.mode != "ipvs" or residue is None:
        return []
    chains = (
        ("KUBE-EXTERNAL-SERVICES", "KUBE-SERVICES")
        if client.kind == SourceKind.NODE
        else ("KUBE-EXTERNAL-SERVICES",)
    )
    found = [
        (chain, rule)
        for chain, rule in stale_rejects(
            residue.iptables, session.live_rules(node), destination.ip, destination.port
        )
        if chain in chains
    ]
    if not found:
        return []
    chain, rule = found[0]
    return [
        Note(
            N_(
                "Simplified: this trace follows only the rules ipvs mode maintains. On a real node this "
                "connection would be rejected: {node} still holds a rule iptables mode left in filter {chain}, "
                "which {hook} still jumps to for new connections: {rule}. kube-proxy --cleanup or a start in "
                "nftables mode removes it."
            ),
            {
                "node": node,
                "chain": chain,
                "hook": "OUTPUT" if chain == "KUBE-SERVICES" else "INPUT",
                "rule": save_line(rule),
            },
            tone="warning",
        )
    ]
