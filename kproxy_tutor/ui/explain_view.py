"""Render ``explain``: a node's kube-proxy rules in words, Service port by Service port, at the terminal's width."""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

from kproxy_tutor.explain.model import LESSON_STEPS, Explanation, Finding, RuleNote, ServicePortView
from kproxy_tutor.i18n import _, current_language, ngettext
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress
from kproxy_tutor.ui.wrap import wrap_rule_plain

if TYPE_CHECKING:
    from rich.console import Console

    from kproxy_tutor.ui.work_progress import WorkProgress

#: One line per rule kind; ``{…}`` are the rule's params.
RULE_TEXTS: dict[str, Callable[[dict[str, str]], str]] = {
    "hook": lambda p: _("A built-in chain sends packets on to kube-proxy's chain {to}."),
    "hook-leftover": lambda p: _(
        "A built-in chain still sends packets to {to}, left over from {mode} mode (nothing updates it any more)."
    ),
    "to-nodeports": lambda p: _(
        "Last rule: packets to any address of this node go on to KUBE-NODEPORTS (NodePorts)."
    ),
    "cluster-ip": lambda p: _("Packets to the ClusterIP {ip}:{port} go to the Service port's chain {to}."),
    "external-ip": lambda p: _("Packets to the external address {ip}:{port} go to {to}."),
    "lb-ip": lambda p: _("Packets to the load balancer address {ip}:{port} go to {to}."),
    "node-port": lambda p: _("Packets to port {port} of this node (NodePort) go to {to}."),
    "node-port-localhost": lambda p: _(
        "The NodePort {port} also answers on 127.0.0.1 (localhost NodePorts)."
    ),
    "masq-off-cluster": lambda p: _(
        "Marks for masquerade the packets to the ClusterIP that do not come from a Pod ({cidr} is "
        "the Pod range): the reply must come back through this node."
    ),
    "masq-off-cluster-iface": lambda p: _(
        "Marks for masquerade the packets to the ClusterIP that do not come in through the Pods' "
        "interface: the reply must come back through this node."
    ),
    "masq-all": lambda p: _("Marks every packet to the ClusterIP for masquerade (masqueradeAll)."),
    "affinity": lambda p: _(
        "Session affinity: a client seen in the last {seconds} s goes to the same endpoint ({to})."
    ),
    "pick": lambda p: _("Takes this endpoint ({to}) with probability {probability} of the connections left."),
    "numgen": lambda p: ngettext(
        "numgen draws one of {count} endpoint chain for each new connection: it gets {probability}.",
        "numgen draws one of {count} endpoint chains for each new connection: each gets {probability}.",
        _count(p, "count"),
    ),
    "hairpin": lambda p: _(
        "Marks for masquerade the packets the endpoint {ip} sends to itself through the Service "
        "(hairpin): otherwise its own reply would skip the translation."
    ),
    "dnat": lambda p: _("Rewrites the destination to the endpoint {endpoint} (DNAT)."),
    "dnat-affinity": lambda p: _("Rewrites the destination to {endpoint} (DNAT) and remembers the client."),
    "affinity-record": lambda p: _("Remembers the client for session affinity."),
    "ext-masq": lambda p: _(
        "externalTrafficPolicy Cluster: traffic from outside is masqueraded, because the chosen Pod "
        "may be on another node and must reply through this one."
    ),
    "ext-pod-shortcut": lambda p: _(
        "Pods ({cidr}) that use the external address go to all endpoints, as to the ClusterIP."
    ),
    "ext-pod-shortcut-iface": lambda p: _("Pods that use the external address go to all endpoints."),
    "ext-local-masq": lambda p: _("Traffic from this node itself is masqueraded."),
    "ext-local-route": lambda p: _("Traffic from this node itself goes to all endpoints."),
    "ext-to-svc": lambda p: _("Everything else goes to all endpoints ({to})."),
    "ext-to-svl": lambda p: _(
        "externalTrafficPolicy Local: outside traffic goes only to this node's endpoints ({to}), "
        "keeping the client's address."
    ),
    "fw-allow": lambda p: _("loadBalancerSourceRanges: clients from {cidr} are let through."),
    "fw-other": lambda p: _("Counts the rest: KUBE-PROXY-FIREWALL drops it."),
    "fw-drop": lambda p: _(
        "Drops packets to {ip}:{port} from clients outside loadBalancerSourceRanges: they wait for a timeout."
    ),
    "fw-map": lambda p: _("Packets to {ip} are checked against loadBalancerSourceRanges in {to}."),
    "fw-nft-drop": lambda p: _(
        "Drops packets from clients outside loadBalancerSourceRanges ({cidr}): they wait for a timeout."
    ),
    "no-endpoints-reject": lambda p: _(
        "No endpoints: connections to {ip}:{port} are rejected, the client gets 'connection refused' at once."
    ),
    "no-endpoints-reject@node-port": lambda p: _(
        "No endpoints: connections to NodePort {port} are rejected, the client gets 'connection refused' at once."
    ),
    "no-local-endpoints-drop@node-port": lambda p: _(
        "No endpoint on this node (externalTrafficPolicy Local): outside packets to NodePort {port} "
        "are dropped, the client waits for a timeout."
    ),
    "no-endpoints-drop": lambda p: _(
        "No endpoints: packets to {ip}:{port} are dropped; the client waits for a timeout."
    ),
    "no-local-endpoints-drop": lambda p: _(
        "No endpoint on this node (externalTrafficPolicy Local): outside packets to {ip}:{port} "
        "are dropped, the client waits for a timeout."
    ),
    "no-local-endpoints-reject": lambda p: _(
        "No endpoint on this node: outside connections to {ip}:{port} are rejected."
    ),
    "health-check": lambda p: _(
        "Lets in the health check node port {port}: load balancers ask it whether this node has endpoints."
    ),
    "mark-masq": lambda p: _("Sets the masquerade bit in the packet mark (the SNAT happens in POSTROUTING)."),
    "postrouting-return": lambda p: _("Packets without the masquerade mark leave unchanged."),
    "postrouting-unmark": lambda p: _("Clears the mark bit, so a packet is not masqueraded twice."),
    "postrouting-masquerade": lambda p: _(
        "Masquerades marked packets: the source becomes this node's address."
    ),
    "forward-invalid": lambda p: _("Drops forwarded packets conntrack finds INVALID."),
    "forward-marked": lambda p: _("Accepts forwarded packets marked for masquerade (Service traffic)."),
    "forward-conntrack": lambda p: _("Accepts forwarded replies of known connections (conntrack)."),
    "block-localnet": lambda p: _("Drops packets to 127.0.0.0/8 that come from elsewhere (route_localnet)."),
    "nft-services": lambda p: _("Looks the destination up in the verdict map @{map}."),
    "nft-firewall-check": lambda p: _("Checks load balancer addresses against their source ranges (@{map})."),
    "nft-no-endpoints-check": lambda p: _("Refuses Service addresses that have no endpoints (@{map})."),
    "nft-reject-chain": lambda p: _("Rejects: used by the no-endpoint maps."),
    "nft-cluster-ips-reject": lambda p: _(
        "Rejects traffic to a ClusterIP on a port the Service does not have."
    ),
    "nft-cluster-ips-drop": lambda p: _(
        "Drops traffic to addresses of the Service range that no Service uses."
    ),
    "ipvs-cluster-ip": lambda p: _(
        "Virtual server for the ClusterIP {address}: the scheduler {scheduler} picks a real server for "
        "each new connection."
    ),
    "ipvs-node-port": lambda p: _(
        "Virtual server for the NodePort {address}: the scheduler {scheduler} picks a real server for "
        "each new connection."
    ),
    "ipvs-lb-ip": lambda p: _(
        "Virtual server for the load balancer address {address} (scheduler {scheduler})."
    ),
    "ipvs-external-ip": lambda p: _(
        "Virtual server for the external address {address} (scheduler {scheduler})."
    ),
    "ipvs-virtual-server": lambda p: _(
        "Virtual server {address} (scheduler {scheduler}); give ipset list too to learn what kind of address it is."
    ),
    "ipvs-real": lambda p: _(
        "Real server {endpoint} (an endpoint), weight {weight}: Masq means the destination is rewritten to it (DNAT)."
    ),
    "ipvs-set": lambda p: _(
        "IPVS mode: matches the ipset {set}; the Services themselves are in ipvsadm -Ln."
    ),
    "ipvs-rule": lambda p: _(
        "IPVS mode: one of its fixed rules; the Services themselves are in ipvsadm -Ln."
    ),
    "ipvs-hairpin": lambda p: _(
        "IPVS mode: masquerades a Pod that reaches itself through a Service (hairpin)."
    ),
}
FINDING_TEXTS: dict[str, Callable[[dict[str, str]], str]] = {
    "stale-chains": lambda p: _(
        "Stale chains: {chains} belong to no Service address: nothing jumps to them, so no traffic "
        "reaches them. Likely cause: the Service was deleted and kube-proxy has synced since, but has not "
        "deleted these chains yet: with more than 1000 endpoints it deletes stale chains at most once per "
        "syncPeriod, and when that cleanup fails (its log says stale chains will not be deleted) they wait "
        "for a later sync. If they outlive syncPeriod, look for sync errors in kube-proxy's log."
    ),
    "stale-endpoint-chain": lambda p: _(
        "Stale endpoint chain {chain}: nothing jumps to it. Likely cause: the endpoint went away and "
        "kube-proxy has not cleaned up since."
    ),
    "no-endpoints": lambda p: _(
        "The Service port has no endpoints: clients are refused. Check that ready Pods match its selector."
    ),
    "no-local-endpoints": lambda p: _(
        "externalTrafficPolicy Local without an endpoint on this node: outside clients arriving here "
        "are dropped; load balancers should skip this node (health check node port)."
    ),
    "probabilities": lambda p: _(
        "Probabilities do not match {count} endpoints: {endpoint} has {written}, kube-proxy writes "
        "{expected}. Likely cause: the rules were edited by hand or by another program."
    ),
    "foreign-rules": lambda p: ngettext(
        "{count} rule in kube-proxy's chain {chain} ({table}) is not written by kube-proxy: another "
        "program added it; kube-proxy removes it when it next rewrites that chain.",
        "{count} rules in kube-proxy's chain {chain} ({table}) are not written by kube-proxy: another "
        "program added them; kube-proxy removes them when it next rewrites that chain.",
        _count(p, "count"),
    ),
    "leftovers": lambda p: ngettext(
        "{count} chain left over from {mode} mode: kube-proxy does not clean up after a switch between "
        "iptables and IPVS; kube-proxy --cleanup or a reboot removes it.",
        "{count} chains left over from {mode} mode: kube-proxy does not clean up after a switch between "
        "iptables and IPVS; kube-proxy --cleanup or a reboot removes them.",
        _count(p, "count"),
    ),
    "ipvs-no-real-servers": lambda p: _(
        "The virtual server has no real servers: the Service has no ready endpoints, so no connection to it "
        "can be served."
    ),
    "ipset-without-virtual-server": lambda p: _(
        "The ipset KUBE-CLUSTER-IP holds {member}, but ipvsadm shows no virtual server for it: kube-proxy "
        "has not finished a sync, or the outputs were taken at different times."
    ),
    "unreadable": lambda p: _("{location}: a line that could not be read was skipped."),
    "missing-service": lambda p: _(
        "Missing from the rules ({protocol}): kube-proxy has not synced since the Service appeared "
        "(not running, or its watch is broken)."
    ),
    "stale-service": lambda p: _(
        "In the rules but not in the manifests ({protocol}): the Service was deleted and kube-proxy has "
        "not synced since, or the manifests are not the cluster's."
    ),
    "missing-endpoint": lambda p: _(
        "Endpoint {endpoint} is missing from the rules: kube-proxy has not seen the EndpointSlice change yet."
    ),
    "stale-endpoint": lambda p: _(
        "Endpoint {endpoint} is in the rules but not ready (or gone) in the manifests: a stale endpoint."
    ),
    "addresses-differ": lambda p: _(
        "{field} differ: the rules have {written}, the manifests give {expected}."
    ),
    "settings-differ": lambda p: _(
        "{field} differs: the rules have {written}, the manifests give {expected}."
    ),
    "rules-differ": lambda p: _(
        "The rules differ from what kube-proxy v1.35 writes ({extra_text}, {missing_text}): another "
        "version, other flags, or hand edits."
    ),
    "fixed-rules-missing": lambda p: ngettext(
        "{count} of kube-proxy's own rules (hooks, masquerading) is missing: other flags or another version.",
        "{count} of kube-proxy's own rules (hooks, masquerading) are missing: other flags or another version.",
        _count(p, "count"),
    ),
    "fixed-rules-extra": lambda p: ngettext(
        "{count} rule in kube-proxy's fixed chains that v1.35 would not write for these manifests.",
        "{count} rules in kube-proxy's fixed chains that v1.35 would not write for these manifests.",
        _count(p, "count"),
    ),
}


def _count(params: dict[str, str], name: str) -> int:
    value = params.get(name, "")
    return int(value) if value.isdigit() else 0


MODE_NAMES = {"iptables": "iptables", "nftables": "nftables", "ipvs": "IPVS"}


def percent(value: Fraction) -> str:
    """A share as the learner's locale writes percentages (50 %, 33,3 %)."""
    return _percent(value, current_language())


@functools.lru_cache(maxsize=1024)
def _percent(value: Fraction, language: str) -> str:
    # A node has a handful of distinct shares (1/5, 1/3…) for tens of thousands of endpoints.
    from babel import Locale
    from babel.numbers import format_percent

    locale = Locale.parse(language)
    return format_percent(float(value), _one_decimal(locale.percent_formats[None].pattern), locale=locale)


def _one_decimal(pattern: str) -> str:
    """The locale's percent pattern (``#,##0 %`` in Russian, ``#,##0%`` in English) with at most one decimal."""
    head, zero, tail = pattern.rpartition("0")
    return f"{head}0.#{tail}" if zero else pattern


def number(value: int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=current_language())


class _Missing(dict):  # a rule without a value the text names shows "-"
    def __missing__(self, key: str) -> str:
        return "-"


def _format(template: str, params: tuple[tuple[str, str], ...]) -> str:
    return template.format_map(_Missing(params))


class LessonPointers:
    """``kproxy-tutor learn N (step S: title)`` for a LESSON_STEPS key, read from the course once."""

    def __init__(self) -> None:
        self._cache: dict[str, str | None] = {}

    def text(self, key: str | None) -> str | None:
        if key is None or key not in LESSON_STEPS:
            return None
        if key not in self._cache:
            self._cache[key] = self._resolve(*LESSON_STEPS[key])
        return self._cache[key]

    @staticmethod
    def _resolve(lesson_id: str, step_id: str) -> str | None:
        from kproxy_tutor.content.loader import load_course
        from kproxy_tutor.errors import TutorError
        from kproxy_tutor.i18n import pick

        try:
            course = load_course()
            number_ = course.number_of(lesson_id)
            if number_ is None:
                return None
            steps = course.lesson(number_).steps
        except TutorError:
            return None
        for index, step in enumerate(steps, 1):
            if step.id == step_id:
                return _("kproxy-tutor learn {lesson} --step {step}: {title}").format(
                    lesson=number_, step=index, title=pick(step.title)
                )
        return None


#: Whitespace textwrap turns into spaces (then it would not be plain words between spaces).
_OTHER_WHITESPACE = re.compile(r"[\t\n\x0b\x0c\r]")
_SPACES = re.compile(r"( +)")
#: Spaces other than " " (Babel's no-break spaces): a word of them alone counts as whitespace for textwrap.
_UNUSUAL_SPACE = re.compile(r"[^\S\t\n\x0b\x0c\r ]")


def wrap(text: str, width: int, hang: int = 0) -> list[str]:
    """``textwrap.wrap(text, width, subsequent_indent=" " * hang, break_on_hyphens=False)``, faster.

    A big node's explanation has close to a million lines: this is textwrap's greedy algorithm
    for the usual text (words between spaces), with textwrap itself for anything else.
    """
    # A printable text has no whitespace but " " (no tab, newline or no-break space): then
    # neither regular expression needs to look at it.
    printable = text.isprintable()
    tail = text.rpartition(" ")[2]
    if not tail or tail.isspace() or (not printable and _OTHER_WHITESPACE.search(text) is not None):
        return textwrap.wrap(
            text, width=width, subsequent_indent=" " * hang, break_long_words=True, break_on_hyphens=False
        )
    if len(text) <= width:
        return [text]
    if "  " not in text and text[0] != " " and (printable or _UNUSUAL_SPACE.search(text) is None):
        return _wrap_words(text, width, hang)
    chunks = [chunk for chunk in _SPACES.split(text) if chunk]
    chunks.reverse()
    lines: list[str] = []
    indent = ""
    room = width
    while chunks:
        line: list[str] = []
        used = 0
        if lines:
            indent, room = " " * hang, width - hang
            if not chunks[-1].strip():
                del chunks[-1]
        while chunks and used + len(chunks[-1]) <= room:
            chunk = chunks.pop()
            line.append(chunk)
            used += len(chunk)
        if chunks and len(chunks[-1]) > room:
            # A word wider than any line: as much of it as fits here, the rest on the next lines.
            end = room - used if room >= 1 else 1
            chunk = chunks[-1]
            line.append(chunk[:end])
            chunks[-1] = chunk[end:]
        if line and not line[-1].strip():
            del line[-1]
        if line:
            lines.append(indent + "".join(line))
    return lines


def _wrap_words(text: str, width: int, hang: int) -> list[str]:
    """``wrap`` for words between single spaces: the same lines, found by searching for spaces."""
    lines: list[str] = []
    indent = ""
    room = width
    start = 0
    size = len(text)
    while size - start > room:
        cut = text.rfind(" ", start, start + room + 1)
        if cut < start:
            cut = -1  # one word wider than the line
        elif cut < start + room:
            end = text.find(" ", cut + 1)
            if (end if end >= 0 else size) - cut - 1 > room:
                cut = -1  # the next word is wider than the line: its start fills this one
        if cut < 0:
            lines.append(indent + text[start : start + room])
            start += room
        else:
            lines.append(indent + text[start:cut])
            start = cut + 1
        indent, room = " " * hang, width - hang
    lines.append(indent + text[start:])
    return lines


class Writer:
    """Lines wrapped at ``width`` on spaces; a word is split only when it alone is wider than the line."""

    def __init__(self, width: int) -> None:
        self.width = max(width, 20)
        self.lines: list[tuple[str, str]] = []
        #: The last line handed out by :meth:`take` ("" before any: no blank line starts the text).
        self._last = ""

    def take(self) -> list[tuple[str, str]]:
        """The lines written so far, handed out once (a big node's are written in pieces)."""
        lines, self.lines = self.lines, []
        if lines:
            self._last = lines[-1][0]
        return lines

    def add(self, text: str, indent: int = 0, style: str = "", hang: int = 0) -> None:
        fits = len(text) <= self.width - indent and text and not text[-1].isspace()
        # isprintable() (no tab, newline…) answers for most lines without the regular expression.
        if fits and (text.isprintable() or _OTHER_WHITESPACE.search(text) is None):
            # Fits as it is: most lines of a big node's explanation.
            self.lines.append((" " * indent + text, style))
            return
        prefix = " " * indent
        lines = self.lines
        for line in wrap(text, max(self.width - indent, 10), hang) or [""]:
            lines.append((prefix + line, style))

    def blank(self) -> None:
        if self.lines[-1][0] if self.lines else self._last:
            self.lines.append(("", ""))


def explanation_lines(
    explanation: Explanation,
    width: int,
    differences: list[Finding] | None = None,
    pointers: LessonPointers | None = None,
    show_rules: bool = True,
    next_hint: bool = True,
    progress: Progress | None = None,
) -> list[tuple[str, str]]:
    """The whole explanation as (text, style) lines no wider than ``width``.

    ``progress`` hears ``("render", Service ports done, Service ports)`` now and then.
    """
    chunks = explanation_chunks(explanation, width, differences, pointers, show_rules, next_hint, progress)
    return [line for chunk in chunks for line in chunk]


def explanation_chunks(
    explanation: Explanation,
    width: int,
    differences: list[Finding] | None = None,
    pointers: LessonPointers | None = None,
    show_rules: bool = True,
    next_hint: bool = True,
    progress: Progress | None = None,
) -> Iterator[list[tuple[str, str]]]:
    """:func:`explanation_lines` in pieces of a few hundred Service ports, so that a big node's
    explanation is written while it is put in words (and never held whole)."""
    pointers = pointers or LessonPointers()
    out = Writer(width)
    _summary(out, explanation)
    total = len(explanation.service_ports)
    for done, view in enumerate(explanation.service_ports, 1):
        out.blank()
        _service_port(out, view, pointers, show_rules)
        if done & PROGRESS_MASK == 0:
            if progress is not None:
                progress("render", done, total)
            yield out.take()
    if show_rules and explanation.fixed:
        out.blank()
        out.add(_("kube-proxy's own rules (for every Service)"), style="bold")
        _rules(out, explanation.fixed, pointers)
    if explanation.unknown:
        out.blank()
        out.add(_("Not written by kube-proxy (inside its chains or table)"), style="bold")
        for note in explanation.unknown:
            out.add(f"{note.chain} ({note.table})", indent=2, style="warning")
            out.add(note.text, indent=4, hang=2)
    findings = explanation.findings
    out.blank()
    _findings(out, _("Findings"), findings, pointers, _("The rules alone show no problem."))
    if differences is not None:
        out.blank()
        _findings(
            out,
            _("Compared with the manifests (kube-proxy v1.35)"),
            differences,
            pointers,
            _("The rules agree with what kube-proxy v1.35 writes for the manifests."),
        )
    out.blank()
    if differences is None and next_hint:
        out.add(
            _(
                "Next: compare with your cluster: kproxy-tutor explain --rules DUMP -f cluster.yaml --node NAME"
            )
        )
    yield out.take()


def _summary(out: Writer, e: Explanation) -> None:
    fmt = e.format
    if e.mode == "none":
        out.add(_("Read {format} output: it holds no kube-proxy rules.").format(format=fmt), style="bold")
    else:
        out.add(
            _("Read {format} output: kube-proxy in {mode} mode.").format(format=fmt, mode=MODE_NAMES[e.mode]),
            style="bold",
        )
    services = len(e.services)
    ports = len(e.service_ports)
    endpoints = e.endpoint_count
    out.add(
        ngettext("{n} Service", "{n} Services", services).format(n=number(services))
        + ", "
        + ngettext("{n} service port", "{n} service ports", ports).format(n=number(ports))
        + ", "
        + ngettext("{n} endpoint", "{n} endpoints", endpoints).format(n=number(endpoints))
        + "."
    )
    tables = ", ".join(f"{name} {number(count)}" for name, count in e.tables.items())
    out.add(_("Rules per table: {tables}.").format(tables=tables or "-"))
    if e.mode == "ipvs":
        out.add(
            _(
                "In IPVS mode the Services are virtual servers (ipvsadm -Ln) and ipsets (ipset list); "
                "iptables holds only the fixed rules explained below."
            )
        )
    for seen, era in e.versions:
        if era == "older":
            text = _("{seen}: written by a kube-proxy older than v1.35; read as far as possible.")
        else:
            text = _("{seen}: written by a kube-proxy newer than v1.35; read as far as possible.")
        out.add(text.format(seen=seen), style="warning")
    foreign = [c for c in e.foreign_chains if c.owner in ("other", "kubelet")]
    if foreign or e.foreign_hook_rules or e.foreign_tables:
        out.add(_("Not kube-proxy's, left alone:"))
        for chain in foreign:
            owner = _("kubelet") if chain.owner == "kubelet" else _("another program")
            out.add(
                ngettext(
                    "{chain} ({table}, {n} rule, {owner})",
                    "{chain} ({table}, {n} rules, {owner})",
                    chain.rules,
                ).format(chain=chain.chain, table=chain.table, n=number(chain.rules), owner=owner),
                indent=2,
            )
        for table, count in e.foreign_hook_rules.items():
            out.add(
                ngettext(
                    "{n} rule of other programs in the built-in chains of {table}",
                    "{n} rules of other programs in the built-in chains of {table}",
                    count,
                ).format(n=number(count), table=table),
                indent=2,
            )
        for table in e.foreign_tables:
            out.add(
                ngettext("table {table} ({n} chain)", "table {table} ({n} chains)", table.chains).format(
                    table=table.table, n=number(table.chains)
                ),
                indent=2,
            )


def _addresses(view: ServicePortView) -> list[str]:
    port = f":{view.port}" if view.port is not None else ""
    parts = [_("ClusterIP {address}").format(address=ip + port) for ip in view.cluster_ips]
    parts += [_("NodePort {port}").format(port=p) for p in view.node_ports]
    parts += [_("external IP {address}").format(address=ip + port) for ip in view.external_ips]
    parts += [_("load balancer {address}").format(address=ip + port) for ip in view.load_balancer_ips]
    return parts


def _service_port(out: Writer, view: ServicePortView, pointers: LessonPointers, show_rules: bool) -> None:
    protocol = view.protocol.upper() or "?"
    out.add(_("Service port {name} ({protocol})").format(name=view.name, protocol=protocol), style="bold")
    addresses = _addresses(view)
    if addresses:
        out.add(", ".join(addresses), indent=2)
    policies = []
    if view.internal_policy:
        policies.append(_("internalTrafficPolicy {policy}").format(policy=view.internal_policy))
    if view.external_policy:
        policies.append(_("externalTrafficPolicy {policy}").format(policy=view.external_policy))
    if view.health_check_node_port:
        policies.append(_("health check node port {port}").format(port=view.health_check_node_port))
    if policies:
        out.add(", ".join(policies), indent=2)
    if view.affinity_seconds is not None:
        out.add(
            _("Session affinity ClientIP, {seconds} s").format(seconds=number(view.affinity_seconds)),
            indent=2,
        )
    if view.source_ranges:
        out.add(
            _("loadBalancerSourceRanges: {ranges}").format(ranges=", ".join(view.source_ranges)), indent=2
        )
    for title, endpoints in (
        (_("Endpoints (one is picked per new connection):"), view.endpoints),
        (_("This node's endpoints (for externalTrafficPolicy Local):"), view.local_endpoints),
    ):
        if not endpoints:
            continue
        out.add(title, indent=2)
        ipvs = view.is_virtual_server
        for endpoint in endpoints:
            if ipvs:
                out.add(
                    _("{endpoint}: share by weight {share}").format(
                        endpoint=endpoint.address, share=percent(endpoint.share)
                    ),
                    indent=4,
                    hang=2,
                )
                continue
            out.add(
                _("{endpoint}: rule probability {probability}, share {share}").format(
                    endpoint=endpoint.address,
                    probability=_fraction(endpoint.probability),
                    share=percent(endpoint.share),
                ),
                indent=4,
                hang=2,
            )
    if view.no_endpoints:
        out.add(_("No endpoints: clients are refused (REJECT)."), indent=2, style="warning")
    if show_rules and view.rules:
        out.add(_("Rules, in the order a packet meets them:"), indent=2)
        _rules(out, view.rules, pointers, indent=4)


def _fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _rules(out: Writer, notes: list[RuleNote], pointers: LessonPointers, indent: int = 2) -> None:
    """Rules grouped by chain; under each chain the lesson steps that explain its rules."""
    groups: list[list[RuleNote]] = []
    for note in notes:
        if groups and (groups[-1][0].chain, groups[-1][0].table) == (note.chain, note.table):
            groups[-1].append(note)
        else:
            groups.append([note])
    language = _lang()
    add = out.add
    lines = out.lines
    width = out.width
    rule_prefix, rule_room = " " * (indent + 2), width - indent - 2
    text_prefix, text_room = " " * (indent + 4), width - indent - 4
    templates: dict[str, str | None] = {}
    for group in groups:
        add(f"{group[0].chain} ({group[0].table})", indent=indent, style="chain")
        lessons = list(dict.fromkeys(n.lesson for n in group if n.lesson))
        for lesson in lessons:
            pointer = pointers.text(lesson)
            if pointer:
                add("→ " + pointer, indent=indent + 2, style="dim", hang=2)
        for note in group:
            # What Writer.add does, inline for the lines that fit (a big node has a million).
            source = note.source
            text = (source if source.__class__ is str else note.text) or "-"
            if len(text) <= rule_room and text.isprintable() and text[-1] != " ":
                lines.append((rule_prefix + text, "rule"))
            else:
                # As the shell and trace show rules: broken before an argument, each continuation
                # line marked, so it cannot be taken for the explanation under it.
                lines.extend([(rule_prefix + line, "rule") for line in wrap_rule_plain(text, rule_room)])
            params = note.params
            code = note.code
            if code in _PLAIN_CODES:
                # Neither "where" nor a plural count picks the sentence: one per code and language.
                template = templates.get(code, _UNSET)
                if template is _UNSET:
                    template = templates[code] = _rule_template(code, "", "", language)
            else:
                values = dict(params)
                template = _rule_template(code, values.get("where", ""), values.get("count", ""), language)
            if template is not None:
                text = template.format_map(_Missing(params))
                if text and text.isprintable() and text[-1] != " ":
                    if len(text) <= text_room:
                        lines.append((text_prefix + text, ""))
                    elif text_room >= 10 and "  " not in text and text[0] != " ":
                        lines.extend([(text_prefix + line, "") for line in _wrap_words(text, text_room, 0)])
                    else:
                        add(text, indent + 4)
                else:
                    add(text, indent + 4)


def _lang() -> str:
    return current_language()


_UNSET: str = "\x00unset"

#: Rule codes whose sentence depends on nothing but the code (no ``code@where`` variant, no plural).
_PLAIN_CODES = frozenset(
    code for code in RULE_TEXTS if "@" not in code and not any(k.startswith(code + "@") for k in RULE_TEXTS)
) - {"numgen"}


@functools.lru_cache(maxsize=4096)
def _rule_template(code: str, where: str, count: str, language: str) -> str | None:
    """The sentence of a rule kind in ``language``: the same for every rule of that kind (only a
    plural depends on a value, ``count``), so a big node translates each one once."""
    template = RULE_TEXTS.get(f"{code}@{where}") or RULE_TEXTS.get(code)
    return None if template is None else template({"count": count} if count else {})


def _findings(
    out: Writer, title: str, findings: list[Finding], pointers: LessonPointers, none_text: str
) -> None:
    out.add(title, style="bold")
    if not findings:
        out.add(none_text, indent=2, style="ok")
        return
    for finding in findings:
        template = FINDING_TEXTS.get(finding.code)
        params = tuple((k, _field_name(v) if k == "field" else v) for k, v in finding.params)
        values = dict(params)
        if finding.code == "rules-differ":
            extra, missing = _count(values, "extra"), _count(values, "missing")
            params += (
                (
                    "extra_text",
                    ngettext("{n} unexpected rule", "{n} unexpected rules", extra).format(n=extra),
                ),
                (
                    "missing_text",
                    ngettext("{n} missing rule", "{n} missing rules", missing).format(n=missing),
                ),
            )
        text = _format(template(values), params) if template else finding.code
        head = f"{finding.service}: " if finding.service else ""
        out.add("! " + head + text, indent=2, hang=2, style="warning")
        pointer = pointers.text(finding.lesson)
        if pointer:
            out.add("→ " + pointer, indent=4, hang=2, style="dim")


def _field_name(field: str) -> str:
    names = {
        "cluster_ips": _("ClusterIPs"),
        "node_ports": _("NodePorts"),
        "external_ips": _("External IPs"),
        "load_balancer_ips": _("Load balancer IPs"),
        "internal_traffic_policy": _("internalTrafficPolicy"),
        "external_traffic_policy": _("externalTrafficPolicy"),
        "session_affinity_seconds": _("Session affinity timeout"),
    }
    return names.get(field, field)


STYLES = {"bold": "bold", "warning": "yellow", "ok": "green", "chain": "cyan", "rule": "", "dim": "dim"}


def print_explanation(
    console: Console,
    explanation: Explanation,
    differences: list[Finding] | None,
    plain: bool,
    progress: WorkProgress | None = None,
) -> None:
    """Write the explanation a few hundred Service ports at a time: a big node's is close to a
    million lines, too many to print one by one through rich; each style is rendered once, as
    rich would render it.

    ``progress`` (a display on stderr) hears the putting in words to the end when the text goes to a
    file or a pipe; when the text goes to the terminal the display is on, it is closed before the
    first piece is written.
    """
    from kproxy_tutor.ui.console import _TrimmedLines, glyphs

    width = console.width
    styled = not plain and console.is_terminal and console.color_system is not None
    codes: dict[str, tuple[str, str]] = {}
    file = console.file
    trimmed = isinstance(file, _TrimmedLines)
    if trimmed:
        file = file._stream()  # the process's stdout (or stderr), as the console would write

    def hear(phase: str, done: int, total: int) -> None:
        if progress is not None:  # None once it is closed
            progress(phase, done, total)

    for lines in explanation_chunks(explanation, width, differences, progress=hear):
        if styled:
            parts: list[str] = []
            for text, style in lines:
                name = STYLES.get(style, "")
                if name:
                    if name not in codes:
                        codes[name] = _style_codes(console, name)
                    before, after = codes[name]
                    parts.append(before + _CONTROL.sub("", text) + after)
                else:
                    parts.append(text)
        else:
            parts = [text for text, _style in lines]
        if not parts:
            continue
        parts.append("")
        output = glyphs("\n".join(parts))
        # A plain search per character first: control characters come only from hand-edited dumps.
        if not styled and any(c in output for c in _CONTROL_CHARACTERS):
            output = _CONTROL.sub("", output)
        if trimmed and " \n" in output:
            # Outside a terminal the console cuts trailing blanks line by line; the explanation's
            # lines have none (but for a hand-edited dump's), so they are cut here only if present.
            output = "\n".join(line.rstrip(" ") for line in output.split("\n"))
        if progress is not None and console.is_terminal:
            progress.close()
            progress = None
        # In pieces, so that a reader who stops early (| head) ends the work at once.
        for start in range(0, len(output), _CHUNK):
            file.write(output[start : start + _CHUNK])
    if progress is not None:
        progress.close()
    file.flush()


#: The control characters rich drops from a Text (a hand-edited dump may hold them in a comment).
_CONTROL_CHARACTERS = "\x07\x08\x0b\x0c\x0d"
_CONTROL = re.compile(f"[{_CONTROL_CHARACTERS}]")
_CHUNK = 1 << 20


def _style_codes(console: Console, name: str) -> tuple[str, str]:
    """The escape codes rich writes before and after a text of style ``name`` on this console."""
    from rich.style import Style

    style = Style.parse(name)
    if console.no_color:
        style = style.without_color
    rendered = style.render("\x00", color_system=console.color_system, legacy_windows=console.legacy_windows)
    before, _mark, after = rendered.partition("\x00")
    return before, after
