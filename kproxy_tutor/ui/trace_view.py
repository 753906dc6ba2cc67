"""Render a packet trace in the learner's language: DNS, each hook and matching rule (the matched part highlighted), NAT, routing, delivery, the reply.

In a terminal the steps appear one by one with short pauses; Enter or Ctrl-C shows the rest at
once. With ``--plain`` or when piped, everything is printed straight away without styles.
"""

from __future__ import annotations

import contextlib
import select
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from kproxy_tutor.i18n import _, format_decimal, format_number, ngettext
from kproxy_tutor.sandbox.iptables.rules import CommentMatch, NfacctMatch, RecentMatch, Rule, StatisticMatch
from kproxy_tutor.sandbox.packet import (
    Direction,
    RouteKind,
    StepKind,
    Trace,
    TraceStep,
)
from kproxy_tutor.ui.console import display, glyphs
from kproxy_tutor.ui.trace_words import icmp_name, outcome_lines, source_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MATCHED = "bold green"
FAILED = "bold red"
COMMENT = "dim"
TARGET = "bold yellow"
CHAIN = "bold magenta"
NOTE = "dim italic"
HEADING = "bold cyan"
PAUSE_SECONDS = 0.25
#: A whole trace is paced within this time: a long one (a hundred lines) must not keep the learner waiting.
MAX_ANIMATION_SECONDS = 4.0


def rule_segments(rule: Rule) -> list[tuple[str, str, object]]:
    """``(text, role, part)`` pieces that join (with spaces) into ``iptables-save``'s line for the rule.

    Roles: ``chain``, ``match`` (a condition the packet must meet), ``comment`` (comment and
    nfacct: they never decide), ``target``.
    """
    out: list[tuple[str, str, object]] = [(f"-A {rule.chain}", "chain", None)]
    for part, flag, attr in (
        (rule.source, "-s", "cidr"),
        (rule.destination, "-d", "cidr"),
        (rule.in_interface, "-i", "name"),
        (rule.out_interface, "-o", "name"),
        (rule.protocol, "-p", "protocol"),
    ):
        if part is not None:
            out.append((f"{'! ' if part.negated else ''}{flag} {getattr(part, attr)}", "match", part))
    for match in rule.matches:
        options = match.save_options()
        text = f"-m {match.module} {options}" if options else f"-m {match.module}"
        out.append((text, "comment" if isinstance(match, CommentMatch | NfacctMatch) else "match", match))
    if rule.target is not None:
        out.append((rule.target.save(), "target", rule.target))
    return out


def rule_text(rule: Rule, failed: object = None) -> Text:
    """The rule as iptables prints it; the conditions it met in green, a lost random draw or affinity check in red."""
    from rich.text import Text

    text = Text()
    for i, (piece, role, part) in enumerate(rule_segments(rule)):
        if i:
            text.append(" ")
        if part is not None and part is failed:
            style = FAILED
        else:
            style = {
                "chain": CHAIN,
                "match": "" if failed is not None else MATCHED,
                "comment": COMMENT,
                "target": TARGET,
            }[role]
        text.append(piece, style=style)
    return text


def _line(indent: int, *pieces: tuple[str, str] | Text) -> Text:
    from rich.text import Text

    text = Text(" " * indent)
    for piece in pieces:
        if isinstance(piece, Text):
            text.append_text(piece)
        else:
            text.append(glyphs(piece[0]), style=piece[1])
    return text


def _chance_note(detail: dict[str, object], taken: bool) -> str | None:
    if "random" in detail:
        values = {
            k: format_decimal(float(detail[d]), 4, fixed=True)
            for k, d in (("value", "random"), ("probability", "probability"))
        }
        if taken:
            return _("random draw {value} < {probability}: this rule is taken").format(**values)
        return _("random draw {value} ≥ {probability}: not this one, next rule").format(**values)
    if "recent" in detail and detail.get("command") == "rcheck":
        values = {"name": detail["recent"], "seconds": detail.get("seconds", 0)}
        if detail.get("hit"):
            return _(
                "this client is in the recent list {name} (seen within {seconds} s): it stays on the same endpoint"
            ).format(**values)
        return _("this client is not in the recent list {name}: no affinity yet").format(**values)
    if "recent" in detail and detail.get("command") == "set":
        return _("recent --set: remember this client in list {name} for session affinity").format(
            name=detail["recent"]
        )
    return None


def step_lines(step: TraceStep) -> list[Text]:
    """The lines one step prints (none for bookkeeping steps that add nothing to read)."""
    d = dict(step.detail)
    kind = step.kind
    pkt = step.packet
    if kind == StepKind.DNS:
        return [
            _line(0, (_("DNS: {name} → {ip}").format(name=d["name"], ip=d["answer"]), HEADING)),
            _line(
                2,
                (
                    _(
                        "CoreDNS ({server}) answered with the Service's ClusterIP. This is cluster DNS, not kube-proxy: "
                        "kube-proxy's rules only act on the packet that follows."
                    ).format(server=d["server"]),
                    NOTE,
                ),
            ),
        ]
    if kind == StepKind.SEND and pkt is not None:
        who = source_text(d.get("source", ""), d.get("name"), step.node, pkt.src_ip)
        return [
            _line(
                0,
                (
                    _("{who} sends {src} → {dst} ({protocol})").format(
                        who=who, src=pkt.source, dst=pkt.destination, protocol=pkt.protocol
                    ),
                    "bold",
                ),
            )
        ]
    if kind == StepKind.ARRIVE:
        if d.get("hop"):
            return [
                _line(
                    0,
                    (
                        _("Node {node} receives it on {interface}").format(
                            node=step.node, interface=d["interface"]
                        ),
                        HEADING,
                    ),
                )
            ]
        return [
            _line(
                0,
                (
                    _("Node {node}: the packet comes in on {interface}").format(
                        node=step.node, interface=d["interface"]
                    ),
                    HEADING,
                ),
            )
        ]
    if kind == StepKind.CONNTRACK:
        text = {
            "new": _("conntrack: no entry yet, a new connection; the nat rules will decide its translation"),
            "established": _(
                "conntrack: a known connection; its translation comes from the entry, the nat rules are not consulted"
            ),
            "reply": (
                _("conntrack: this is the reply of {entry}; the translation is undone").format(
                    entry=d.get("entry")
                )
                if d.get("nat", True)
                else _(
                    "conntrack: this is the reply of {entry}, an ESTABLISHED connection; this node translated "
                    "nothing, so the reply goes on as it is"
                ).format(entry=d.get("entry"))
            ),
        }[d["state"]]
        return [_line(2, (text, NOTE))]
    if kind == StepKind.HOOK:
        return [_line(2, (f"{step.hook}", "bold"), (f"  ({step.node})", NOTE))]
    if kind == StepKind.RULE and "nft_rule" in d:
        # nftables: the rule as nft list prints it (no rule numbers there; handles are not shown).
        return [_line(4, (f"{step.table} {step.chain}", CHAIN)), _line(6, (str(d["nft_rule"]), MATCHED))]
    if kind == StepKind.RULE and step.rule is not None:
        head = _line(4, (f"{step.table} {step.chain} #{step.rule_number}", CHAIN))
        if step.examined and step.examined > 1:
            head.append(
                glyphs(
                    "  "
                    + ngettext("({n} rule examined)", "({n} rules examined)", step.examined).format(
                        n=format_number(step.examined)
                    )
                ),
                style=NOTE,
            )
        lines = [head, _line(6, rule_text(step.rule))]
        note = _chance_note(d, True)
        if note:
            lines.append(_line(6, (note, NOTE)))
        return lines
    if kind == StepKind.MISS and step.rule is not None:
        failed = next((m for m in step.rule.matches if isinstance(m, StatisticMatch | RecentMatch)), None)
        note = _chance_note(d, False) or ""
        return [
            _line(4, (f"{step.table} {step.chain} #{step.rule_number}", COMMENT)),
            _line(6, rule_text(step.rule, failed=failed)),
            _line(6, (note, NOTE)),
        ]
    if kind == StepKind.RETURN:
        n = step.examined or 0
        if not n:
            return []  # an empty chain: the jump line above already says everything
        return [
            _line(
                4,
                (
                    ngettext(
                        "end of {chain}: {n} rule examined, back to {to}",
                        "end of {chain}: {n} rules examined, back to {to}",
                        n,
                    ).format(chain=step.chain, n=format_number(n), to=d.get("to")),
                    NOTE,
                ),
            )
        ]
    if kind == StepKind.POLICY:
        if d.get("empty"):
            return []
        return [
            _line(
                4,
                (
                    _("end of {table} {chain}: policy {policy}").format(
                        table=step.table, chain=step.chain, policy=d["policy"]
                    ),
                    NOTE,
                ),
            )
        ]
    if kind == StepKind.MARK:
        if "from" not in d:
            return [_line(6, (_("packet mark set to {new}").format(new=hex(int(d.get("mark", 0)))), "bold"))]
        return [_line(6, (_("packet mark {old} → {new}").format(old=d["from"], new=d["to"]), "bold"))]
    if kind == StepKind.DNAT:
        if "to" not in d and pkt is not None:
            return [_line(6, (_("DNAT: destination → {new}").format(new=pkt.destination), "bold green"))]
        if d.get("by") == "conntrack":
            text = _("conntrack rewrites the destination {old} → {new} (from the entry, no rules)")
        elif d.get("by") == "ipvs":
            text = _(
                "IPVS: virtual server {vs}, scheduler {scheduler} picks real server {new}; destination {old} → {new}"
            )
        else:
            text = _("DNAT: destination {old} → {new}")
        return [
            _line(
                6,
                (
                    text.format(
                        old=d["from"], new=d["to"], vs=d.get("virtual_server"), scheduler=d.get("scheduler")
                    ),
                    "bold green",
                ),
            )
        ]
    if kind == StepKind.SNAT:
        if "to" not in d and pkt is not None:
            return [_line(6, (_("masquerade: source → {new}").format(new=pkt.src_ip), "bold green"))]
        if d.get("by") == "conntrack":
            text = _("conntrack rewrites the source {old} → {new} (from the entry, no rules)")
        elif d.get("by") == "ipvs":
            text = _(
                "IPVS rewrites the source {old} → {new}, the virtual server's address (from its connection "
                "entry, no rules)"
            )
        elif d.get("port") == "random":
            text = _(
                "MASQUERADE: source {old} → {new}, the address of {interface}; fully random: the kernel "
                "always picks a random source port (from {range})"
            )
        elif d.get("port") == "taken":
            text = _(
                "MASQUERADE: source {old} → {new}, the address of {interface}; the source port was already "
                "used toward this destination, so the kernel picked another (from {range})"
            )
        elif d.get("port") == "kept":
            text = _(
                "MASQUERADE: source {old} → {new}, the address of {interface}; the port is kept (it is free)"
            )
        else:
            text = _("MASQUERADE: source {old} → {new}, the address of {interface}")
        return [
            _line(
                6,
                (
                    text.format(
                        old=d["from"],
                        new=d["to"],
                        interface=d.get("interface"),
                        range=str(d.get("port_range", "")).replace("-", "–"),
                    ),
                    "bold green",
                ),
            )
        ]
    if kind == StepKind.ROUTE and "destination" not in d:
        # The nftables evaluator names only the kind of route; the packet gives the address.
        dst = pkt.dst_ip if pkt is not None else ""
        text = {
            RouteKind.LOCAL: _("routing: {dst} is an address of this node, so the packet goes to input"),
            RouteKind.POD: _("routing: {dst} is a Pod on this node (forward, postrouting)"),
            RouteKind.NODE: _("routing: {dst} lives on another node (forward, postrouting)"),
            RouteKind.OUTSIDE: _("routing: {dst} is not in the cluster; out by the default route"),
        }[d["route"]]
        return [_line(2, (text.format(dst=dst), "bold"))]
    if kind == StepKind.ROUTE:
        hooks = d.get("next_hooks") or (
            ["INPUT"] if d["route"] == RouteKind.LOCAL else ["FORWARD", "POSTROUTING"]
        )
        text = {
            RouteKind.LOCAL: _("routing: {dst} is an address of this node, so the packet goes to {hooks}"),
            RouteKind.POD: _("routing: {dst} is a Pod on this node; out through {interface} ({hooks})"),
            RouteKind.NODE: _("routing: {dst} lives on node {node}; out through {interface} ({hooks})"),
            RouteKind.OUTSIDE: _(
                "routing: {dst} is not in the cluster; out through {interface} by the default route ({hooks})"
            ),
        }[d["route"]]
        lines = [
            _line(
                2,
                (
                    text.format(
                        dst=d["destination"],
                        interface=d["interface"],
                        node=d.get("next_node"),
                        hooks=", ".join(hooks),
                    ),
                    "bold",
                ),
            )
        ]
        if d.get("sent_by") == "ipvs":
            lines.append(
                _line(
                    4,
                    (
                        _(
                            "IPVS routes the rewritten packet and sends it out itself: it goes from "
                            "OUTPUT to POSTROUTING, never through FORWARD"
                        ),
                        NOTE,
                    ),
                )
            )
        elif d.get("reroute"):
            lines.append(
                _line(
                    4,
                    (
                        _(
                            "DNAT in the output hook changed the destination, so the kernel routes the "
                            "packet again right there, before the filter rules of that hook; a packet "
                            "a process on the node sends never passes FORWARD"
                        ),
                        NOTE,
                    ),
                )
            )
        elif d.get("local_out"):
            lines.append(
                _line(
                    4,
                    (
                        _(
                            "a packet a process on the node sends goes from OUTPUT to POSTROUTING; "
                            "it never passes FORWARD"
                        ),
                        NOTE,
                    ),
                )
            )
        return lines
    if kind == StepKind.VERDICT:
        return [_line(4, (_verdict_text(step, d), FAILED))]
    if kind == StepKind.LEAVE:
        return [
            _line(
                2,
                (
                    _("leaves node {node} through {interface} toward node {next}").format(
                        node=step.node, interface=d["interface"], next=d["next_node"]
                    ),
                    "bold",
                ),
            )
        ]
    if kind == StepKind.DELIVER and pkt is not None:
        return [_line(0, (_deliver_text(step, d), "bold green"))]
    if kind == StepKind.REPLY and pkt is not None:
        who = _("Pod {name}").format(name=d["pod"]) if d.get("pod") else pkt.src_ip
        return [
            _line(0, ("", "")),
            _line(
                0,
                (
                    _("Reply: {who} answers {src} → {dst}").format(
                        who=who, src=pkt.source, dst=pkt.destination
                    ),
                    "bold",
                ),
            ),
        ]
    return []


def _verdict_text(step: TraceStep, d: dict[str, object]) -> str:
    reject = d["verdict"] == "REJECT"
    udp = step.packet is not None and step.packet.protocol == "udp"
    icmp = icmp_name(step.packet.dst_ip if step.packet is not None else "")
    if udp and (step.hook or "").upper() == "OUTPUT":
        # Stopped in the sender's own kernel: sendmsg() gets netfilter's drop as EPERM.
        return (
            _(
                "REJECT in the OUTPUT path: the datagram is dropped inside the sender's kernel, so send() fails "
                "with EPERM; the {icmp} port unreachable then fails the next receive with “connection refused”"
            ).format(icmp=icmp)
            if reject
            else _("DROP in the OUTPUT path: send() fails with EPERM; nothing comes back")
        )
    if udp:
        return (
            _(
                "REJECT: the node answers with {icmp} port unreachable; the UDP client's next receive fails "
                "with “connection refused”"
            ).format(icmp=icmp)
            if reject
            else _("DROP: the datagram is discarded; the client hears nothing")
        )
    return (
        _("REJECT: the node answers at once and the client sees “connection refused”")
        if reject
        else _("DROP: the packet is discarded; the client hears nothing and times out")
    )


def _deliver_text(step: TraceStep, d: dict[str, object]) -> str:
    pkt = step.packet
    assert pkt is not None
    if step.direction == Direction.REPLY:
        return _("the client receives the reply {src} → {dst}").format(src=pkt.source, dst=pkt.destination)
    if d.get("route") == RouteKind.POD:
        if d.get("pod"):
            return _("delivered to Pod {pod} ({to}) on node {node}").format(
                pod=d["pod"], to=d["to"], node=step.node
            )
        return _("delivered to {to} on node {node} (no Pod has this address)").format(
            to=d["to"], node=step.node
        )
    if d.get("route") == RouteKind.LOCAL:
        return _("delivered to a process on node {node} ({to})").format(node=step.node, to=d["to"])
    return _("leaves the node toward {to}").format(to=d.get("to", pkt.destination))


def trace_lines(trace: Trace) -> Iterator[Text]:
    """Every step's lines; a hook's heading only when something inside it is worth reading."""
    heading: list[Text] = []
    for step in trace.steps:
        if step.kind == StepKind.HOOK:
            heading = step_lines(step)
            continue
        lines = step_lines(step)
        if not lines:
            continue
        if step.hook is None and step.kind not in (StepKind.VERDICT,):
            heading = []
        yield from heading
        heading = []
        yield from lines
    yield _line(0, ("", ""))
    for text, style in outcome_lines(trace):
        yield _line(0, (text, style))


class Pacer:
    """Short pauses between steps; Enter or Ctrl-C ends the pauses (the rest prints at once)."""

    def __init__(self, enabled: bool, seconds: float = PAUSE_SECONDS) -> None:
        self.enabled = enabled
        self.seconds = seconds
        stdin = sys.stdin
        self._stdin = stdin if enabled and stdin is not None and stdin.isatty() else None

    def pause(self) -> None:
        if not self.enabled:
            return
        try:
            if self._stdin is not None:
                ready, _w, _x = select.select([self._stdin], [], [], self.seconds)
                if ready:
                    with contextlib.suppress(OSError):
                        self._stdin.readline()
                    self.enabled = False
            else:
                time.sleep(self.seconds)
        except KeyboardInterrupt:
            self.enabled = False


def fitted(console: Console, line: Text) -> list[Text]:
    """``line`` fitted to the console's width: a rule breaks between its arguments, other lines between words.

    A trace is an explanation, not tool output to feed back to a tool, so it is fitted even when
    piped (to the console's width: COLUMNS, or 80).
    """
    from kproxy_tutor.ui.wrap import wrap_rule, wrap_words

    plain = line.plain
    indent = len(plain) - len(plain.lstrip(" "))
    body = line[indent:]
    if body.plain.startswith("-A "):
        return wrap_rule(body, console.width, prefix=" " * indent)
    return wrap_words(body, console.width, indent=indent, hanging=indent + 2)


def print_lines(console: Console, lines: Iterable[Text], animate: bool) -> None:
    every = list(lines)
    pacer = Pacer(animate, min(PAUSE_SECONDS, MAX_ANIMATION_SECONDS / max(len(every), 1)))
    rest = iter(every)

    def show(line: Text) -> None:
        for piece in fitted(console, line):
            console.print(piece, soft_wrap=True, crop=False)

    try:
        for line in rest:
            show(line)
            pacer.pause()
    except KeyboardInterrupt:
        # Ctrl-C while printing (not while pausing): show the rest without pauses.
        for line in rest:
            show(line)


def print_trace(console: Console, trace: Trace, animate: bool | None = None) -> None:
    if animate is None:
        animate = display().animate
    print_lines(console, trace_lines(trace), animate)
