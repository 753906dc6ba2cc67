"""Show the shell's proxy-mode results: the mode list, a mode switch, nftables and IPVS watch diffs, nft trace paths.

Object names and rules stay as the tools print them; only the labels around them are translated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_
from kproxy_tutor.i18n import _, format_number, ngettext
from kproxy_tutor.sandbox.modes import MODE_INFO, MODES
from kproxy_tutor.sandbox.packet import Direction, StepKind, Trace
from kproxy_tutor.shell.mode_commands import MODE_LINES
from kproxy_tutor.shell.output import ModeChange, ModeList, SwitchReport, WatchReport

if TYPE_CHECKING:
    from kproxy_tutor.ui.shell_view import ShellView

#: (kind, what) → the label after an object's name (msgids).
LABELS = {
    ("added", "chain"): N_("new chain"),
    ("removed", "chain"): N_("chain deleted"),
    ("rewritten", "chain"): N_("chain rewritten"),
    ("added", "set"): N_("new set"),
    ("removed", "set"): N_("set deleted"),
    ("rewritten", "set"): N_("elements changed"),
    ("added", "map"): N_("new map"),
    ("removed", "map"): N_("map deleted"),
    ("rewritten", "map"): N_("elements changed"),
    ("added", "table"): N_("new table"),
    ("removed", "table"): N_("table deleted"),
    ("added", "virtual server"): N_("new virtual server"),
    ("removed", "virtual server"): N_("virtual server deleted"),
    ("rewritten", "virtual server"): N_("real servers changed"),
    ("added", "address"): N_("address added"),
    ("removed", "address"): N_("address removed"),
    ("rewritten", "rules"): N_("jump rules changed"),
    ("removed", "interface"): N_("interface deleted"),
    ("removed", "ipsets"): N_("ipsets destroyed"),
    ("kept", "chain"): N_("left behind, nothing updates it"),
    ("kept", "rules"): N_("jump rules left behind"),
    ("kept", "virtual server"): N_("left behind"),
    ("kept", "interface"): N_("left behind, still holds the Service IPs"),
    ("kept", "ipsets"): N_("ipsets left behind"),
}
#: A chain the new mode declared again with the same rules.
SAME_RULES = N_("chain rewritten, same rules")
MARKS = {"added": "+", "removed": "-", "rewritten": "~", "kept": "="}
STYLES = {"added": "green", "removed": "red", "rewritten": "yellow", "kept": "yellow"}
ORDER = {"added": 0, "rewritten": 1, "removed": 2, "kept": 3}


def show_mode_list(view: ShellView, listing: ModeList) -> None:
    view.line(_("kube-proxy runs in {mode} mode on every node.").format(mode=listing.current), "bold")
    for name in MODES:
        info = MODE_INFO[name]
        text = _(MODE_LINES[name]).format(version=info.deprecated_in, replacement=info.replacement)
        mark = "*" if name == listing.current else " "
        view.line(f"{mark} {name:<9} {text}", "yellow" if info.deprecated_in else "", hanging=12)


def show_changes(view: ShellView, changes: tuple[ModeChange, ...], sort: bool = True) -> None:
    items = sorted(changes, key=lambda c: (ORDER[c.kind], c.what, c.name)) if sort else list(changes)
    for change in items:
        label = _(LABELS.get((change.kind, change.what), change.what))
        if change.kind == "rewritten" and change.what == "chain" and not (change.added or change.removed):
            label = _(SAME_RULES)
        view.line(f"  {MARKS[change.kind]} {change.name} ({label})", STYLES[change.kind])
        if change.kind == "removed":
            continue  # what a deleted object held is gone with it
        if change.kind == "kept":
            for line in change.added:
                view.tool(line, "yellow", prefix="      ")
            continue
        for line in change.removed:
            view.tool(line, "red", prefix="      - ")
        for line in change.added:
            view.tool(line, "green", prefix="      + ")


def show_switch(view: ShellView, report: SwitchReport) -> None:
    from kproxy_tutor.ui.shell_view import note_text

    view.line(
        _("── kube-proxy on {node} restarts in {new} mode (it ran in {old} mode) ──").format(
            node=report.node, new=report.new, old=report.old
        ),
        "bold",
    )
    view.line(note_text(report.cleaned_summary))
    show_changes(view, report.cleaned, sort=False)
    view.line(note_text(report.written_summary))
    show_changes(view, report.written, sort=False)
    if report.kept or report.kept_notes:
        view.line(_("What stays on the node:"), "bold")
        show_changes(view, report.kept, sort=False)
        for note in report.kept_notes:
            view.line(note_text(note), "yellow" if note.tone == "warning" else "")


def show_mode_watch(view: ShellView, report: WatchReport) -> None:
    """The sync part of a watch report in nftables or IPVS mode (the events are already shown)."""
    kind = _("full sync") if report.full else _("partial sync")
    if not report.changes:
        view.line(
            _("── {node}: {kind} in {mode} mode, nothing changed ──").format(
                node=report.node, kind=kind, mode=report.mode
            ),
            "bold",
        )
        return
    count = len(report.changes)
    view.line(
        ngettext(
            "── {node}: {kind} in {mode} mode changed {count} object ──",
            "── {node}: {kind} in {mode} mode changed {count} objects ──",
            count,
        ).format(node=report.node, kind=kind, mode=report.mode, count=format_number(count)),
        "bold",
    )
    show_changes(view, report.changes)


def nft_path(trace: Trace) -> list[tuple[str, list[str]]]:
    """Per node, the chains of ``table ip kube-proxy``'s nat hooks the request went through, and its DNAT."""
    path: list[tuple[str, list[str]]] = []
    in_nat = False
    for step in trace.steps:
        if step.direction != Direction.REQUEST:
            continue
        if step.kind == StepKind.HOOK:
            in_nat = (step.chain or "").startswith("nat-")
            continue
        node = step.node or "?"
        if step.kind == StepKind.DNAT:
            to = step.detail.get("to") or (step.packet.destination if step.packet else trace.outcome.endpoint)
            hop = f"DNAT → {to}"
        elif step.kind == StepKind.RULE and in_nat and step.chain:
            # Every packet passes masquerading; it matters only when the packet was masqueraded.
            if step.chain in ("nat-postrouting", "masquerading") and not trace.outcome.masquerade:
                continue
            hop = step.chain
        else:
            continue
        if not path or path[-1][0] != node:
            path.append((node, []))
        if not path[-1][1] or path[-1][1][-1] != hop:
            path[-1][1].append(hop)
    return path
