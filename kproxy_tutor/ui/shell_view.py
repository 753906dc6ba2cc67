"""Show the shell's results: tool output verbatim, messages in the learner's language, watch reports, traces and help.

Everything is fitted to the width of the Console the view is given (a terminal, or the pane of a
split screen), never to sys.stdout's: our own words break between words, tool output between
arguments with a continuation mark, and the watch diff repeats its ``+``/``-`` gutter on every
continuation line. Names, addresses, ports and chains are never split (only a single word wider
than the whole line is cut). When the console is not a terminal (a pipe, a file) nothing is
wrapped: tool output is then byte-exact, as the real tool prints it, so it can be fed to
``iptables-restore``, ``kubectl apply -f`` or ``kproxy-tutor rules -f``. Colour only marks what
the text already says (+ added, - removed), so NO_COLOR loses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.i18n import _, current_language, format_number, ngettext, pick
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables.render import restore_line
from kproxy_tutor.sandbox.packet import Direction, OutcomeKind, StepKind, Trace
from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.output import (
    ClearScreen,
    ExitRequest,
    ExplainReport,
    HelpReport,
    ModeList,
    Note,
    Output,
    ScenarioIntro,
    ScenarioList,
    SwitchReport,
    TraceReport,
    Verbatim,
    WatchReport,
)
from kproxy_tutor.ui.console import glyphs

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

TONES = {"info": "", "success": "green", "warning": "yellow"}


class ShellView:
    """Prints outputs on ``console``; errors go to ``errors`` (stderr in scripts).

    ``wrap=True`` fits every line to the console's width even when it is no terminal (a pane of a
    split screen rendered into a buffer); ``wrap=False`` never does.
    """

    def __init__(self, console: Console, errors: Console | None = None, wrap: bool | None = None) -> None:
        self.console = console
        self.errors = errors or console
        #: Fit lines to the console's width: None means "when the console is a terminal".
        self.wrap = wrap

    def _fits(self, console: Console | None) -> Console | None:
        """``console`` (default: ours) when its lines must be fitted to its width, else None."""
        target = console or self.console
        wrap = target.is_terminal if self.wrap is None else self.wrap
        return target if wrap else None

    def _emit(self, pieces: list[Text], console: Console | None) -> None:
        target = console or self.console
        for piece in pieces:
            target.print(piece, soft_wrap=True, highlight=False)

    def line(
        self, text: str = "", style: str = "", console: Console | None = None, hanging: int | None = None
    ) -> None:
        """A line of our own words: at a terminal, broken between words to the console's width.

        Continuation lines are indented ``hanging`` columns more than the line's own indent
        (default: 2 for an indented line, 0 for a paragraph).
        """
        from rich.text import Text

        body = glyphs(text)
        target = self._fits(console)
        if target is None:
            self._emit([Text(body, style=style)], console)
            return
        from rich.cells import cell_len

        from kproxy_tutor.ui.wrap import wrap_words

        words = body.lstrip(" ")
        indent = len(body) - len(words)
        extra = hanging if hanging is not None else (2 if indent else 0)
        # A deep hanging indent must not leave less room than the longest word (a Pod name) needs.
        longest = max((cell_len(w) for w in words.split()), default=0)
        hang = max(min(indent + extra, target.width - longest), min(indent, 2))
        self._emit(wrap_words(words, target.width, indent=indent, hanging=hang, style=style), console)

    #: Prose and line are the same thing now: both fit the width between words.
    prose = line

    def tool(self, text: str, style: str = "", prefix: str = "", console: Console | None = None) -> None:
        """A line of tool output (a rule, a table row, YAML): byte-exact unless it must fit a terminal.

        At a terminal a line wider than the console breaks between arguments (``-m …``, ``-j …``) or
        at spaces, never inside a name or address; continuation lines repeat ``prefix`` (a diff's
        ``+``/``-`` gutter) and start with the continuation mark.
        """
        from rich.text import Text

        target = self._fits(console)
        if target is None:
            self._emit([Text(prefix + text, style=style)], console)
            return
        from kproxy_tutor.ui.wrap import wrap_rule

        self._emit(
            wrap_rule(glyphs(text), target.width, prefix=Text(prefix, style=style), style=style), console
        )

    def show(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, Verbatim):
                target = self.errors if output.stderr else None
                for text in output.text.rstrip("\n").split("\n") if output.text else ():
                    self.tool(text, console=target)
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
                self.help(output.command, output.commands)
            elif isinstance(output, ScenarioList):
                self.scenarios(output)
            elif isinstance(output, ScenarioIntro):
                self.scenario_intro(output.title, output.description, output.commands)
            elif isinstance(output, ClearScreen):
                if self.console.is_terminal:
                    self.console.clear()
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
                    "kube-proxy on {node} received no events: nothing it watches (Services, EndpointSlices, "
                    "its own Node) changed, so its rules stay as they were."
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
            ).format(node=report.node, count=format_number(count)),
            "bold",
        )
        for event in report.events:
            self.line(
                f"  {event.type:<8} {event.kind} {event.namespace + '/' if event.namespace else ''}{event.name}  "
                f"{event.summary}",
                hanging=9,
            )
        if report.ipv6 is None:
            self._sync(report)
            return
        # A dual-stack node: each family's proxier synced; each part says whose it is.
        for family, part in ((IPV4, report), (IPV6, report.ipv6)):
            self.line(_("{family} proxier:").format(family=family), "bold")
            self._sync(part)

    def _sync(self, report: WatchReport) -> None:
        """What one proxier's sync changed (the events are already shown)."""
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
            ).format(node=report.node, kind=kind, count=format_number(changed)),
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
                self.tool(restore_line(rule), "red", prefix="      - ")
            for rule in change.added_rules:
                self.tool(restore_line(rule), "green", prefix="      + ")

    # Traces -------------------------------------------------------------------------------
    def traces(self, report: TraceReport) -> None:
        """Each request's way; with ``--brief`` only where they went (one request: its outcome)."""
        if report.brief and len(report.traces) == 1:
            trace = report.traces[0]
            self.prose(outcome_text(trace), outcome_style(trace))
            return
        if not report.brief:
            for number, trace in enumerate(report.traces, 1):
                if len(report.traces) > 1:
                    self.prose(_("Request {number}:").format(number=number), "bold")
                for text in trace_lines(trace):
                    self.prose(f"  {text}")
                self.prose(f"  {outcome_text(trace)}", outcome_style(trace))
        if len(report.traces) > 1:
            self.summary(report)

    def summary(self, report: TraceReport) -> None:
        """Where the requests went: per endpoint (or outcome) how many and what share, most first."""
        from kproxy_tutor.i18n import format_number, format_percent

        total = len(report.traces)
        groups: dict[str, list[Trace]] = {}
        for trace in report.traces:
            outcome = trace.outcome
            key = outcome.endpoint if outcome.kind == OutcomeKind.DELIVERED else str(outcome.kind)
            groups.setdefault(key or "-", []).append(trace)
        self.prose(
            ngettext("Where the {count} request went:", "Where the {count} requests went:", total).format(
                count=format_number(total)
            ),
            "bold",
        )
        ordered = sorted(groups.values(), key=lambda g: (-len(g), outcome_text(g[0])))
        width = max(len(format_number(len(g))) for g in ordered)
        for group in ordered:
            count = format_number(len(group)).rjust(width)
            share = format_percent(len(group) / total, 1, fixed=True)
            self.prose(
                f"  {count}  {share:>7}  {outcome_text(group[0])}",
                outcome_style(group[0]),
                hanging=width + 11,
            )

    # Help ---------------------------------------------------------------------------------
    def help(self, name: str | None, names: tuple[str, ...] = ()) -> None:
        if names:
            # The commands that begin with the words asked about, each with its usage.
            commands = [grammar.command_named(n) for n in names]
            for number, command in enumerate(commands):
                self.prose(f"  {command.usage}", "cyan")
                # Commands that share a summary (kubectl delete pod|service|deployment) say it once.
                if number + 1 == len(commands) or commands[number + 1].summary != command.summary:
                    self.prose(f"      {_(command.summary)}")
            self.prose(_("help COMMAND explains one, with examples."))
            return
        if name is None:
            # An overview that fits one screen: the commands by what they are for.
            self.prose(_("Commands, by what they are for:"), "bold")
            for title, entries in grammar.HELP_GROUPS:
                self.prose(_(title))
                # Fitted to a terminal, no-break spaces keep "conntrack -L" whole and never start a
                # line with "·"; a pipe gets plain spaces.
                glue = "\u00a0" if self._fits(None) is not None else " "
                self.prose("  " + f"{glue}· ".join(_overview_entries(entries, glue)), "cyan")
            self.prose(
                _(
                    "help COMMAND explains one (help kubectl lists the kubectl commands). Tab completes; "
                    "Ctrl-C clears the line, Ctrl-D leaves."
                )
            )
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
            self.prose(f"  {name.ljust(width)}  {pick(title, current_language())}", hanging=width + 2)

    def scenario_intro(
        self, title: dict[str, str], description: dict[str, str], commands: tuple[str, ...] = ()
    ) -> None:
        self.prose(pick(title), "bold")
        self.prose(pick(description))
        if commands:
            # One command per line, as the learner types it.
            self.prose(_("Try:"))
            for command in commands:
                self.prose(f"  {command}", "cyan", hanging=4)


def _overview_entries(entries: tuple[str, ...], glue: str) -> list[str]:
    """``kubectl`` stands for its commands' second words (``kubectl create, run, expose…``)."""
    out: list[str] = []
    for entry in entries:
        if entry == "kubectl":
            seconds = [c.words[1] for c in grammar.COMMANDS if c.words[0] == "kubectl"]
            out.append("kubectl " + ", ".join(dict.fromkeys(seconds)))
        else:
            out.append(entry.replace(" ", glue))
    return out


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
