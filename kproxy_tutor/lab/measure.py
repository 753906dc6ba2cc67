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
from kproxy_tutor.sandbox.families import IPV4, IPV6, family_of_address


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
    family: str | None = None,
) -> CurlReport:
    """``count`` new TCP connections to ``target`` (``SERVICE[:PORT]``, ``IP:PORT``, ``[IPv6]:PORT`` or ``NODE:PORT``).

    ``family`` (IPv4/IPv6) picks a Service's or node's address of that family, as ``trace --family``.
    """
    from kproxy_tutor.sandbox.trace.request import AddressKind, resolve_destination

    check_count(count)
    source = _source(lab, from_)
    client_namespace = source.name.split("/")[0] if source is not None and "/" in source.name else None
    destination = resolve_destination(lab.cluster, target, "tcp", client_namespace, family=family)
    family = family_of_address(destination.ip)
    _check_family(lab, family, destination.ip)
    six = family == IPV6
    # A ClusterIP given as an address belongs to its Service too: its rules' counters are shown.
    service = destination.service or (
        destination.owner if destination.kind == AddressKind.CLUSTER_IP else None
    )
    service_key = tuple(service.split("/", 1)) if service else None
    node_ns = lab.plan.node_namespace
    proxier = lab.loader.proxiers.get(family)
    port_names: list[tuple[str, str]] = []
    if lab.record.mode == "iptables" and service_key is not None and proxier is not None:
        port_names = [(str(n), n.protocol) for n in proxier.svc_port_map if n.service_key == service_key]
    before = iptables_counters(node_ns, port_names, *service_key, six) if port_names and service_key else None

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
        counters = counter_delta(before, iptables_counters(node_ns, port_names, *service_key, six))
    reader, entries = conntrack_entries(node_ns, destination.ip, destination.port)
    source_ip = _source_ip(lab, source, family)
    by_ip = endpoints_by_conntrack(entries, source_ip, result.source_ports)
    conntrack: Counter[str] = Counter()
    for ip, n in by_ip.items():
        host = lab.plan.host_by_ip(ip)
        conntrack[host.name if host is not None else ip] += n

    ruleset = proxier.kernel.ruleset if lab.record.mode == "iptables" and proxier is not None else None
    prediction = predict(
        lab.cluster, lab.plan, ruleset, source, destination.ip, destination.port, count, seed, family
    )
    return CurlReport(
        target,
        destination.ip,
        destination.port,
        service,
        source.name if source else "client",
        source_ip,
        result,
        prediction,
        counters,
        conntrack,
        reader,
    )


def _source_ip(lab: Lab, source: HostPlan | None, family: str) -> str:
    """The address the connections leave from: the client's or the Pod's of the destination's family."""
    if source is None:
        return lab.plan.client_ip_of(family)
    return next((ip for ip, _ in source.addresses if family_of_address(ip) == family), source.ip)


def _check_family(lab: Lab, family: str, ip: str) -> None:
    if family == IPV6 and not lab.plan.node_ips6:
        raise UsageError(
            N_("{ip} is an IPv6 address, but this lab's cluster has no IPv6, so its namespaces have none."),
            ip=ip,
        )
    if family == IPV4 and IPV4 not in lab.plan.families:
        raise UsageError(
            N_("{ip} is an IPv4 address, but this lab's cluster is IPv6-only: use [ADDRESS]:PORT."), ip=ip
        )
