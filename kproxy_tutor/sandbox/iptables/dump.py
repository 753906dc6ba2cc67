"""One call for "show me the rules": load manifests, sync a node's proxier, render one format, optionally one Service."""

from __future__ import annotations

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.gcpause import paused_gc
from kproxy_tutor.sandbox.iptables.proxier import Proxier
from kproxy_tutor.sandbox.iptables.render import render_restore, render_save
from kproxy_tutor.sandbox.iptables.select import select_payload, select_ruleset, service_chains
from kproxy_tutor.sandbox.work import Progress

FORMATS = ("save", "restore")
TABLES = ("filter", "nat", "mangle")


def rules_text(
    cluster: Cluster,
    node: str | None = None,
    fmt: str = "save",
    table: str | None = None,
    service: str | None = None,
    progress: Progress | None = None,
    family: str = IPV4,
) -> str:
    """What ``kproxy-tutor rules`` prints for one family's proxier: the node's tables after the first
    sync (``iptables-save`` or ``ip6tables-save``), or the payload of that sync."""
    if fmt not in FORMATS:
        raise SandboxInputError(N_("Unknown format {value!r}: use save or restore."), value=fmt)
    if table is not None and table not in TABLES:
        raise SandboxInputError(N_("Unknown table {value!r}: use nat, filter or mangle."), value=table)
    # One pause for the whole compile and render: the collector would otherwise scan the
    # new proxier's rules (all alive until this returns) on the first allocation after sync.
    with paused_gc():
        return _rules_text(cluster, node, fmt, table, service, progress, family)


def _rules_text(
    cluster: Cluster,
    node: str | None,
    fmt: str,
    table: str | None,
    service: str | None,
    progress: Progress | None,
    family: str,
) -> str:
    proxier = Proxier(cluster, node, family=family)
    tables = [table] if table else None
    if service is None and fmt == "restore":
        # The payload alone: loading it into the node's tables would change nothing shown.
        return render_restore(proxier.sync(progress, apply=False).payload, tables)
    result = proxier.sync(progress)
    if service is None:
        return render_save(proxier.kernel.ruleset, tables)
    namespace, sep, name = service.partition("/")
    if not sep:
        namespace, name = "default", service
    if (namespace, name) not in cluster.services:
        raise SandboxInputError(N_("There is no Service {namespace}/{name}."), namespace=namespace, name=name)
    ports = [(str(n), n.protocol) for n in proxier.svc_port_map if n.service_key == (namespace, name)]
    chains = service_chains(proxier.kernel.ruleset, ports)
    if fmt == "restore":
        return render_restore(select_payload(result.payload, namespace, name, chains), tables)
    return render_save(select_ruleset(proxier.kernel.ruleset, namespace, name, chains), tables)
