"""``lab curl``: real connections, the kernel's own counters and conntrack entries, and the evaluator's prediction.

Pure orchestration: the connections come from :mod:`client`, the kernel's records from
:mod:`observe`, the prediction from :mod:`predict`; this module resolves names and puts the
four side by side in one :class:`CurlReport`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.lab.client import CONNECT_TIMEOUT, CurlResult, check_count, connect_many
from kproxy_tutor.lab.observe import (
    CounterRow,
    conntrack_entries,
    counter_delta,
    endpoints_by_conntrack,
    iptables_counters,
)
from kproxy_tutor.lab.plan import HostPlan
from kproxy_tutor.lab.predict import Prediction, predict
from kproxy_tutor.lab.session import Lab


@dataclass(slots=True)
class CurlReport:
    target: str
    ip: str
    port: int
    service: str | None
    #: ``client`` or the Pod the connections came from.
    source: str
    source_ip: str
    result: CurlResult
    prediction: Prediction
    #: iptables mode: the Service's rules and the packets each counted during this run.
    counters: list[CounterRow] | None = None
    #: Pod name → connections of this run that the kernel's conntrack table DNATed there.
    conntrack: Counter[str] = field(default_factory=Counter)
    conntrack_reader: str | None = None


def _source(lab: Lab, from_: str | None) -> HostPlan | None:
    if from_ is None:
        return None
    host = lab.plan.host_by_name(from_)
    if host is None:
        names = ", ".join(h.name for h in lab.plan.hosts)
        raise UsageError(
            N_("--from {value!r}: the lab has no such Pod. Pods: {names}."), value=from_, names=names or "-"
        )
    return host


def curl(
    lab: Lab,
    target: str,
    count: int = 1,
    from_: str | None = None,
    seed: int = 0,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> CurlReport:
    """``count`` new TCP connections to ``target`` (``SERVICE[:PORT]``, ``IP:PORT`` or ``NODE:PORT``)."""
    from kproxy_tutor.sandbox.trace.request import resolve_destination

    check_count(count)
    source = _source(lab, from_)
    client_namespace = source.name.split("/")[0] if source is not None and "/" in source.name else None
    destination = resolve_destination(lab.cluster, target, "tcp", client_namespace)
    service_key = tuple(destination.service.split("/", 1)) if destination.service else None
    node_ns = lab.plan.node_namespace
    port_names: list[tuple[str, str]] = []
    if lab.record.mode == "iptables" and service_key is not None:
        proxier = lab.loader.proxier  # type: ignore[attr-defined]
        port_names = [(str(n), n.protocol) for n in proxier.svc_port_map if n.service_key == service_key]
    before = iptables_counters(node_ns, port_names, *service_key) if port_names and service_key else None

    namespace = source.namespace if source is not None else lab.plan.client_namespace
    result = connect_many(
        namespace,
        source.name if source else "client",
        destination.ip,
        destination.port,
        count,
        connect_timeout,
    )

    counters = None
    if before is not None and service_key is not None:
        counters = counter_delta(before, iptables_counters(node_ns, port_names, *service_key))
    reader, entries = conntrack_entries(node_ns, destination.ip, destination.port)
    source_ip = source.ip if source is not None else lab.plan.client_ip
    by_ip = endpoints_by_conntrack(entries, source_ip, result.source_ports)
    conntrack: Counter[str] = Counter()
    for ip, n in by_ip.items():
        host = lab.plan.host_by_ip(ip)
        conntrack[host.name if host is not None else ip] += n

    ruleset = lab.loader.proxier.kernel.ruleset if lab.record.mode == "iptables" else None  # type: ignore[attr-defined]
    prediction = predict(
        lab.cluster, lab.plan, ruleset, source, destination.ip, destination.port, count, seed
    )
    return CurlReport(
        target,
        destination.ip,
        destination.port,
        destination.service,
        source.name if source else "client",
        source_ip,
        result,
        prediction,
        counters,
        conntrack,
        reader,
    )
