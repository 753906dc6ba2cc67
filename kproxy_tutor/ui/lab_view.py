"""Show the kernel lab: what `lab up` built, what `lab curl` measured beside the prediction, syncs, status, cleanup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kproxy_tutor.i18n import _, format_number, format_percent, ngettext
from kproxy_tutor.ui.console import display, glyphs, make_console

if TYPE_CHECKING:
    from kproxy_tutor.lab.measure import CurlReport
    from kproxy_tutor.lab.session import Lab, SyncReport
    from kproxy_tutor.lab.state import LabRecord


def _line(text: str) -> None:
    make_console().print(glyphs(text), markup=False, overflow="fold", soft_wrap=False)


def _outcome(key: str) -> str:
    return {
        "refused": _("connection refused (REJECT)"),
        "timeout": _("no answer (DROP)"),
        "unreachable": _("host unreachable"),
        "skipped": _("not tried (time limit)"),
        "error": _("other error"),
    }.get(key, key)


def _pods(lab: Lab) -> None:
    plan = lab.plan
    for host in plan.hosts:
        ports = ", ".join(map(str, host.tcp_ports)) or "-"
        text = _("  {name}  {ip}  TCP {ports}  namespace {namespace}").format(
            name=host.name, ip=", ".join(host.ips), ports=ports, namespace=host.namespace
        )
        if not host.local and host.cluster_node:
            text += "  " + _("(runs on {node} in the cluster; here behind the same node)").format(
                node=host.cluster_node
            )
        _line(text)


def print_up(lab: Lab, hold: bool = False) -> None:
    plan, record = lab.plan, lab.record
    _line(
        _("The lab is up: {label}, {mode} mode, node {node}.").format(
            label=record.label, mode=record.mode, node=plan.node_name
        )
    )
    _line(
        _("Node namespace {namespace}: {ips}; client namespace {client}: {client_ip}.").format(
            namespace=plan.node_namespace,
            ips=", ".join(plan.all_node_ips),
            client=plan.client_namespace,
            client_ip=", ".join(ip for ip in (plan.client_ip, plan.client_ip6) if ip),
        )
    )
    n = len(plan.hosts)
    _line(
        ngettext(
            "{n} Pod namespace, each with a server that answers with its Pod's name:",
            "{n} Pod namespaces, each with a server that answers with its Pod's name:",
            n,
        ).format(n=format_number(n))
    )
    _pods(lab)
    if any(not h.local for h in plan.hosts):
        _line(
            _(
                "Simplification: Pods of other nodes hang off this node too; in a real cluster their packets "
                "would leave through the node's uplink."
            )
        )
    if "no-nfacct" in lab.notes:
        _line(
            _(
                "The nfacct tool is missing, so the rules were compiled without nfacct counters "
                "(as kube-proxy does on a kernel without them)."
            )
        )
    report = getattr(lab, "last_load", None)
    if report is not None:
        _line(
            ngettext(
                "Loaded into the node's kernel: {n} line of rules.",
                "Loaded into the node's kernel: {n} lines of rules.",
                report.lines,
            ).format(n=format_number(report.lines))
        )
    if hold:
        _line(_("Press Enter (or Ctrl-C) to remove the lab."))
    else:
        _line(
            _("Try: kproxy-tutor lab curl db-service -n 100   Remove: kproxy-tutor lab down")
            if record.label == "db-service"
            else _("Try: kproxy-tutor lab curl SERVICE -n 100   Remove: kproxy-tutor lab down")
        )


def print_curl(report: CurlReport) -> None:
    result, prediction = report.result, report.prediction
    n = len(result.outcomes)
    what = report.service or report.target
    _line(
        ngettext(
            "{n} connection from {source} ({source_ip}) to {what} = {ip}:{port}",
            "{n} connections from {source} ({source_ip}) to {what} = {ip}:{port}",
            n,
        ).format(
            n=n,
            source=report.source,
            source_ip=report.source_ip,
            what=what,
            ip=f"[{report.ip}]" if ":" in report.ip else report.ip,
            port=report.port,
        )
    )
    real = result.answered + result.failures
    keys = sorted(set(real) | set(prediction.counts) | set(report.conntrack))
    if display().plain:
        for key in keys:
            share = prediction.shares.get(key)
            _line(
                _("  {what}: kernel {real}, conntrack {ct}, prediction {predicted}{share}").format(
                    what=_outcome(key),
                    real=format_number(real.get(key, 0)),
                    ct=format_number(report.conntrack.get(key, 0)),
                    predicted=format_number(prediction.counts.get(key, 0)),
                    share=f" ({format_percent(share)})" if share is not None else "",
                )
            )
    else:
        from rich.table import Table

        table = Table(box=None, show_edge=False, pad_edge=False)
        table.add_column(_("Pod or outcome"), overflow="fold")
        for header in (_("kernel"), _("conntrack"), _("predicted"), _("share")):
            table.add_column(header, justify="right", no_wrap=True)
        for key in keys:
            share = prediction.shares.get(key)
            table.add_row(
                _outcome(key),
                format_number(real.get(key, 0)),
                format_number(report.conntrack.get(key, 0)),
                format_number(prediction.counts.get(key, 0)),
                format_percent(share) if share is not None else "",
            )
        make_console().print(table)
    if prediction.problem is not None:
        from kproxy_tutor.ui.errors import message_of

        _line(_("No prediction: {problem}").format(problem=message_of(prediction.problem)))
    if report.counters is not None:
        tool = "ip6tables-save -c" if ":" in report.ip else "iptables-save -c"
        _line(
            _("The kernel's counters for this run ({tool} in the node namespace, packets):").format(tool=tool)
        )
        for row in report.counters:
            if row.packets:
                _line(f"  {row.packets:>5}  {row.table} {row.chain} #{row.position}  {row.rule}")
    elif report.conntrack_reader:
        _line(
            _(
                "kube-proxy's nftables rules have no counters; the conntrack column shows where the kernel sent "
                "each connection ({reader})."
            ).format(reader=report.conntrack_reader)
        )


def print_sync(report: SyncReport) -> None:
    load = report.load
    kind = _("full sync") if load.full else _("partial sync")
    _line(
        ngettext(
            "kube-proxy {kind}: {n} line sent to the kernel",
            "kube-proxy {kind}: {n} lines sent to the kernel",
            load.lines,
        ).format(kind=kind, n=format_number(load.lines))
        + (
            _("; Services rewritten: {names}").format(names=", ".join(load.updated_services))
            if load.updated_services
            else ""
        )
        + "."
    )
    for name in report.added:
        _line(_("  + Pod {name}: namespace and server started").format(name=name))
    for name in report.removed:
        _line(_("  - Pod {name}: namespace removed").format(name=name))


def print_status(lab: Lab) -> None:
    plan, record = lab.plan, lab.record
    _line(
        _("Lab {label} ({mode} mode, node {node}), namespaces {prefix}*").format(
            label=record.label, mode=record.mode, node=plan.node_name, prefix=record.prefix
        )
    )
    existing = set(lab.existing_namespaces())
    missing = [ns for ns in plan.namespaces if ns not in existing]
    _line(
        _("Namespaces: {present} of {total} present.").format(
            present=len(plan.namespaces) - len(missing), total=len(plan.namespaces)
        )
    )
    alive = lab.alive_servers()
    _line(
        _("Servers running: {alive} of {total}.").format(
            alive=format_number(len(alive)), total=format_number(len(record.servers))
        )
    )
    _pods(lab)
    changes = len(record.changes)
    if changes:
        _line(
            ngettext("{n} change applied since lab up.", "{n} changes applied since lab up.", changes).format(
                n=changes
            )
        )


def print_down(record: LabRecord | None, stopped: int, deleted: int) -> None:
    if record is None and not (stopped or deleted):
        _line(_("No lab is up; nothing to remove."))
        return
    if record is None:
        _line(_("The lab's record was lost or damaged; the lab was found in the kernel by its mark."))
    _line(
        _("The lab is removed: {servers} servers stopped, {namespaces} namespaces deleted.").format(
            servers=stopped, namespaces=deleted
        )
    )
