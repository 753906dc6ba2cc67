"""EndpointInfo and the endpoints of each service port, computed from EndpointSlices as upstream's EndpointSliceCache does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.ipaddr import canonical_ipv4, join_host_port, parse_ip_sloppy
from kproxy_tutor.sandbox.model import EndpointSlice
from kproxy_tutor.sandbox.serviceport import ServicePortName


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    ip: str
    port: int
    is_local: bool
    ready: bool
    serving: bool
    terminating: bool
    zone_hints: frozenset[str] = frozenset()
    node_hints: frozenset[str] = frozenset()
    #: ``ip:port`` (``[ip]:port`` for IPv6), the string kube-proxy sorts, hashes and prints.
    endpoint: str = ""

    @staticmethod
    def make(
        ip: str,
        port: int,
        is_local: bool,
        ready: bool,
        serving: bool,
        terminating: bool,
        zone_hints: frozenset[str] = frozenset(),
        node_hints: frozenset[str] = frozenset(),
    ) -> EndpointInfo:
        return _make_endpoint_info(
            ip, port, is_local, ready, serving, terminating, zone_hints, node_hints, join_host_port(ip, port)
        )

    def __str__(self) -> str:
        return self.endpoint


# One per endpoint and port on every change of a Service's slices.
_make_endpoint_info = fast_constructor(EndpointInfo)
_NO_HINTS: frozenset[str] = frozenset()


def _canonical(text: str, family: str) -> str | None:
    if family == IPV4:
        return canonical_ipv4(text)
    ip = parse_ip_sloppy(text)
    return str(ip) if ip is not None and ip.version == 6 else None


def _slice_name(slice_: EndpointSlice) -> str:
    return slice_.name


def slice_endpoints(
    namespace: str,
    service_name: str,
    slices: Iterable[EndpointSlice],
    node_name: str,
    family: str = IPV4,
) -> dict[ServicePortName, tuple[EndpointInfo, ...]]:
    """Endpoints per service port for one Service from ``family``'s slices, sorted by the ``ip:port`` string."""
    by_port: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    ipv4 = family == IPV4
    slices = list(slices)
    if len(slices) > 1:
        slices.sort(key=_slice_name)
    for slice_ in slices:
        if slice_.address_type != family:
            continue
        for slice_port in slice_.ports:
            # Ports without a name or number are ignored, as upstream does.
            port = slice_port.port
            if slice_port.name is None or not port:
                continue
            name = ServicePortName(namespace, service_name, slice_port.name, slice_port.protocol)
            found = by_port.setdefault(name, {})
            suffix = f":{port}"
            for endpoint in slice_.endpoints:
                addresses = endpoint.addresses
                if not addresses:
                    continue
                ip = canonical_ipv4(addresses[0]) if ipv4 else _canonical(addresses[0], family)
                if ip is None:
                    continue
                conditions = endpoint.conditions
                key = ip + suffix if ipv4 else join_host_port(ip, port)
                info = _make_endpoint_info(
                    ip,
                    port,
                    bool(node_name) and endpoint.node_name == node_name,
                    conditions.ready is None or conditions.ready,
                    conditions.serving is None or conditions.serving,
                    bool(conditions.terminating),
                    frozenset(endpoint.zone_hints) if endpoint.zone_hints else _NO_HINTS,
                    frozenset(endpoint.node_hints) if endpoint.node_hints else _NO_HINTS,
                    key,
                )
                existing = found.get(key)
                # The same IP may appear twice while a Pod moves between slices or its IP is
                # reused; prefer the endpoint that is not terminating.
                if existing is None or (existing.terminating and not info.terminating):
                    found[key] = info
    return {name: tuple(found[k] for k in sorted(found)) for name, found in by_port.items() if found}
