"""Show the shell's results: tool output verbatim, messages in the learner's language, watch reports, traces and help.

Tool output is never wrapped or truncated (learners compare it with real nodes); colour only
marks what the text already says (+ added, - removed), so NO_COLOR loses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.i18n import _, current_language, ngettext, pick
from kproxy_tutor.sandbox.iptables.render import restore_line
from kproxy_tutor.sandbox.packet import Direction, OutcomeKind, StepKind, Trace
from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.output import (
    ExitRequest,
    ExplainReport,
    HelpReport,
    ModeList,
    Note,
    Output,
    ScenarioList,
    SwitchReport,
    TraceReport,
    Verbatim,
    WatchReport,
)
from kproxy_tutor.ui.console import glyphs

if TYPE_CHECKING:
    from rich.console import Console

TONES = {"info": "", "success": "green", "warning": "yellow"}


class ShellView:
    """Prints outputs on ``console``; errors go to ``errors`` (stderr in scripts)."""

    def __init__(self, console: Console, errors: Console | None = None) -> None:
        self.console = console
        self.errors = errors or console

    def line(self, text: str = "", style: str = "", console: Console | None = None) -> None:
        from rich.text import Text

        (console or self.console).print(Text(glyphs(text), style=style), soft_wrap=True, highlight=False)

    def prose(self, text: str = "", style: str = "", console: Console | None = None) -> None:
        """A line of our own words (not tool output): at a terminal, wrapped between words.

        The terminal would otherwise break it at its edge, in the middle of a chain name or an IP.
        Continuation lines of an indented line are indented two columns further.
        """
        target = console or self.console
        if not target.is_terminal:
            self.line(text, style, target)
            return
        from rich.text import Text

        body = glyphs(text)
        words = body.lstrip(" ")
        indent = len(body) - len(words)
        hanging = indent + 2 if indent else 0
        width = max(target.width - hanging, 20)
        for i, piece in enumerate(Text(words, style=style).wrap(target, width, overflow="fold")):
            piece.rstrip()
            pad = indent if i == 0 else hanging
            target.print(Text(" " * pad) + piece, soft_wrap=True, highlight=False)

    def show(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, Verbatim):
                for text in output.text.rstrip("\n").split("\n") if output.text else ():
                    self.line(text)
            elif isinstance(output, Note):
                self.prose(note_text(output), TONES.get(output.tone, ""))
            elif isinstance(output, WatchReport):
                self.watch(output)
            elif isinstance(output, SwitchReport):
                from kproxy_tutor.ui.shell_mode_view import show_switch

                show_switch(self, output)
            elif isinstance(output, ModeList):
                from kproxy_tutor.ui.shell_mode_view import show_mode_list

                show_mode_list(self, output)
            elif isinstance(output, TraceReport):
                self.traces(output)
            elif isinstance(output, HelpReport):
                self.help(output.command)
            elif isinstance(output, ScenarioList):
                self.scenarios(output)
            elif isinstance(output, ExplainReport):
                from kproxy_tutor.ui.explain_view import STYLES, explanation_lines

                for text, style in explanation_lines(output.explanation, self.console.width, next_hint=False):
                    self.line(text, STYLES.get(style, ""))
            elif isinstance(output, ExitRequest):
                pass

    def error(self, message: str, usage: str | None = None) -> None:
        self.prose(_("Error: {message}").format(message=message), "red", self.errors)
        if usage:
            self.prose(_("Usage: {usage}").format(usage=usage), "", self.errors)

    # Watch --------------------------------------------------------------------------------
    def watch(self, report: WatchReport) -> None:
        if not report.events:
            self.line(
                _(
                    "kube-proxy on {node} received no events: it watches only Services and EndpointSlices, "
                    "so its rules stay as they were."
                ).format(node=report.node),
                "dim",
            )
            return
        count = len(report.events)
        self.line(
            ngettext(
                "── kube-apiserver → kube-proxy on {node}: {count} event ──",
                "── kube-apiserver → kube-proxy on {node}: {count} events ──",
                count,
            ).format(node=report.node, count=count),
            "bold",
        )
        for event in report.events:
            self.line(f"  {event.type:<8} {event.kind} {event.namespace}/{event.name}  {event.summary}")
        if report.mode != "iptables":
            from kproxy_tutor.ui.shell_mode_view import show_mode_watch

            show_mode_watch(self, report)
            return
        diff = report.diff
        kind = _("full sync") if report.full else _("partial sync")
        if not diff:
            self.line(_("── {node}: {kind}, no rule changed ──").format(node=report.node, kind=kind), "bold")
            return
        changed = len(diff.changes)
        self.line(
            ngettext(
                "── {node}: {kind} changed {count} chain ──",
                "── {node}: {kind} changed {count} chains ──",
                changed,
            ).format(node=report.node, kind=kind, count=changed),
            "bold",
        )
        labels = {"added": _("new chain"), "removed": _("chain deleted"), "rewritten": _("chain rewritten")}
        marks = {"added": "+", "removed": "-", "rewritten": "~"}
        styles = {"added": "green", "removed": "red", "rewritten": "yellow"}
        order = {"added": 0, "rewritten": 1, "removed": 2}
        for change in sorted(diff.changes, key=lambda c: (order[c.kind], c.table, c.chain)):
            self.line(
                f"  {marks[change.kind]} {change.table} {change.chain} ({labels[change.kind]})",
                styles[change.kind],
            )
            if change.kind == "removed":
                continue
            for rule in change.removed_rules:
                self.line(f"      - {restore_line(rule)}", "red")
            for rule in change.added_rules:
                self.line(f"      + {restore_line(rule)}", "green")

    # Traces -------------------------------------------------------------------------------
    def traces(self, report: TraceReport) -> None:
        for number, trace in enumerate(report.traces, 1):
            if report.brief:
                self.prose(f"{number:>3}. {outcome_text(trace)}", outcome_style(trace))
                continue
            if len(report.traces) > 1:
                self.prose(_("Request {number}:").format(number=number), "bold")
            for text in trace_lines(trace):
                self.prose(f"  {text}")
            self.prose(f"  {outcome_text(trace)}", outcome_style(trace))
        if len(report.traces) > 1:
            counts: dict[str, int] = {}
            for trace in report.traces:
                key = (
                    trace.outcome.endpoint
                    if trace.outcome.kind == OutcomeKind.DELIVERED
                    else trace.outcome.kind
                )
                counts[key or "-"] = counts.get(key or "-", 0) + 1
            summary = ", ".join(f"{k} × {v}" for k, v in sorted(counts.items()))
            self.prose(
                _("Where the {count} requests went: {summary}").format(
                    count=len(report.traces), summary=summary
                )
            )

    # Help ---------------------------------------------------------------------------------
    def help(self, name: str | None) -> None:
        if name is None:
            self.prose(
                _(
                    "Commands (help COMMAND explains one; Tab completes; Ctrl-C clears the line, Ctrl-D leaves):"
                ),
                "bold",
            )
            for command in grammar.COMMANDS:
                self.prose(f"  {command.usage}", "cyan")
                self.prose(f"      {_(command.summary)}")
            return
        command = grammar.command_named(name)
        self.prose(_("Usage: {usage}").format(usage=command.usage), "bold")
        self.prose(_(command.summary))
        if command.details:
            self.prose(_(command.details))
        if command.examples:
            self.prose(_("Examples:"))
            for example in command.examples:
                self.prose(f"  {example}", "cyan")

    def scenarios(self, listing: ScenarioList) -> None:
        width = max((len(name) for name, _t, _d in listing.scenarios), default=0)
        for name, title, _description in listing.scenarios:
            self.prose(f"  {name.ljust(width)}  {pick(title, current_language())}")

    def scenario_intro(self, title: dict[str, str], description: dict[str, str]) -> None:
        self.prose(pick(title), "bold")
        self.prose(pick(description))


def note_text(note: Note) -> str:
    if note.plural is not None:
        template = ngettext(note.message, note.plural, int(note.params.get("count", 0)))
    else:
        template = _(note.message)
    try:
        return template.format(**note.params)
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder
        return note.message.format(**note.params)


def trace_lines(trace: Trace) -> list[str]:
    """The request's way: DNS, what was sent, and per node the nat rules that matched."""
    lines = []
    for step in trace.steps:
        if step.kind == StepKind.DNS:
            lines.append(
                _("DNS: {name} → {answer} (answered by cluster DNS, not kube-proxy)").format(
                    name=step.detail.get("name"), answer=step.detail.get("answer")
                )
            )
    packet = trace.packet
    lines.append(f"{packet.protocol.upper()} {packet.source} → {packet.destination}")
    if any(step.table == "kube-proxy" for step in trace.steps):
        from kproxy_tutor.ui.shell_mode_view import nft_path

        return lines + [f"{node}: " + " → ".join(hops) for node, hops in nft_path(trace)]
    path: list[tuple[str, list[str]]] = []
    for step in trace.steps:
        if step.direction != Direction.REQUEST or step.kind not in (
            StepKind.RULE,
            StepKind.DNAT,
            StepKind.SNAT,
        ):
            continue
        if step.table != "nat" and step.kind == StepKind.RULE and not _is_verdict(step):
            continue
        node = step.node or "?"
        if not path or path[-1][0] != node:
            path.append((node, []))
        if step.kind == StepKind.RULE:
            # nat is where kube-proxy's Service rules live; name the table only when it is another.
            table = "" if step.table == "nat" else f"{step.table} "
            path[-1][1].append(f"{table}{step.chain}#{step.rule_number}")
        elif step.kind == StepKind.DNAT and step.detail.get("by") == "ipvs":
            # IPVS is no iptables chain: name the virtual server and the scheduler that picked.
            detail = step.detail
            path[-1][1].append(
                f"IPVS {detail.get('virtual_server')} {detail.get('scheduler')} → {detail.get('to')}"
            )
        elif step.kind == StepKind.DNAT:
            path[-1][1].append(f"DNAT → {step.detail.get('to')}")
        else:
            path[-1][1].append(f"SNAT → {step.detail.get('to', '')}".rstrip(" →"))
    for node, hops in path:
        lines.append(f"{node}: " + " → ".join(hops))
    return lines


def _is_verdict(step: object) -> bool:
    rule = getattr(step, "rule", None)
    target = getattr(rule, "target", None)
    return type(target).__name__ in ("Reject", "Verdict") and getattr(target, "verdict", "REJECT") != "ACCEPT"


def outcome_text(trace: Trace) -> str:
    outcome = trace.outcome
    if outcome.kind == OutcomeKind.DELIVERED:
        text = _("delivered to {endpoint} ({pod}, node {node})").format(
            endpoint=outcome.endpoint, pod=outcome.endpoint_pod or "-", node=outcome.endpoint_node or "-"
        )
        if outcome.masquerade:
            text += "; " + _("source masqueraded to {address}").format(address=outcome.snat_source)
        return text
    if outcome.kind == OutcomeKind.REJECTED:
        return _("rejected by {table} {chain}: the Service has no endpoints (connection refused)").format(
            table=outcome.table or "filter", chain=outcome.chain or "-"
        )
    if outcome.kind == OutcomeKind.DROPPED:
        return _("dropped by {table} {chain} (the client times out)").format(
            table=outcome.table or "-", chain=outcome.chain or _("a chain policy")
        )
    return _("no kube-proxy rule matched: sent on to {endpoint} as addressed").format(
        endpoint=outcome.endpoint
    )


def outcome_style(trace: Trace) -> str:
    return {OutcomeKind.DELIVERED: "green", OutcomeKind.REJECTED: "red", OutcomeKind.DROPPED: "red"}.get(
        trace.outcome.kind, "yellow"
    )
