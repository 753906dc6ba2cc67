"""The EndpointSlice controller's topology hints: ``trafficDistribution`` and the ``topology-mode: Auto`` annotation.

kube-proxy only reads hints (``sandbox/topology.py``); the controller writes them:

- ``trafficDistribution: PreferClose`` (or its newer name ``PreferSameZone``) gives every ready
  endpoint a hint for its own zone; ``PreferSameNode`` adds a hint for its own node. Endpoints
  that are not ready keep no hints.
- The annotation ``service.kubernetes.io/topology-mode: Auto`` (or the older
  ``service.kubernetes.io/topology-aware-hints: auto``) wins over ``trafficDistribution``. It
  shares the endpoints out in proportion to each zone's CPU: zones that get about their share
  keep their own endpoints, a zone with too many gives some to a zone with too few, and the
  hints are left out altogether when that cannot stay within 20 % overload (fewer endpoints
  than zones, nodes in only one zone, a node or an endpoint without a zone). The sandbox's
  Nodes carry no allocatable CPU, so every node counts as the same CPU; nodes labelled
  control-plane (or master) are not counted, as upstream's controller skips them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

from kproxy_tutor.sandbox.model import ZONE_LABEL, Endpoint, EndpointSlice, Node, Service

PREFER_CLOSE = "PreferClose"
PREFER_SAME_ZONE = "PreferSameZone"
PREFER_SAME_NODE = "PreferSameNode"
CLOSE_DISTRIBUTIONS = (PREFER_CLOSE, PREFER_SAME_ZONE, PREFER_SAME_NODE)
#: The most any one endpoint may be overloaded by the zone shares (upstream ``overloadThreshold``).
OVERLOAD_THRESHOLD = 0.2
EXCLUDED_NODE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def hints_enabled(topology_mode: str) -> bool:
    """The topology annotation asks for hints (its value is ``Auto``, or ``auto``)."""
    return topology_mode in ("Auto", "auto")


def with_hints(
    service: Service, slices: tuple[EndpointSlice, ...], nodes: Mapping[str, Node]
) -> tuple[EndpointSlice, ...]:
    """``slices`` with the hints the controller writes for ``service`` (per address type, as upstream)."""
    if hints_enabled(service.topology_mode):
        out: list[EndpointSlice] = []
        for family in dict.fromkeys(s.address_type for s in slices):
            out.extend(_auto_hints([s for s in slices if s.address_type == family], nodes))
        return _in_order(slices, out)
    if service.traffic_distribution in CLOSE_DISTRIBUTIONS:
        same_node = service.traffic_distribution == PREFER_SAME_NODE
        return tuple(_replace_endpoints(s, [_close_hint(e, same_node) for e in s.endpoints]) for s in slices)
    return slices


def _in_order(original: tuple[EndpointSlice, ...], hinted: list[EndpointSlice]) -> tuple[EndpointSlice, ...]:
    by_name = {(s.namespace, s.name): s for s in hinted}
    return tuple(by_name.get((s.namespace, s.name), s) for s in original)


def _ready(endpoint: Endpoint) -> bool:
    return endpoint.conditions.ready is True


def _close_hint(endpoint: Endpoint, same_node: bool) -> Endpoint:
    if not _ready(endpoint):
        return endpoint
    zones = (endpoint.zone,) if endpoint.zone else ()
    nodes = (endpoint.node_name,) if same_node and endpoint.node_name else ()
    return dataclasses.replace(endpoint, zone_hints=zones, node_hints=nodes)


def _replace_endpoints(slice_: EndpointSlice, endpoints: Iterable[Endpoint]) -> EndpointSlice:
    return dataclasses.replace(slice_, endpoints=tuple(endpoints))


def _without_hints(slices: list[EndpointSlice]) -> list[EndpointSlice]:
    return [
        _replace_endpoints(s, [dataclasses.replace(e, zone_hints=(), node_hints=()) for e in s.endpoints])
        for s in slices
    ]


def zone_ratios(nodes: Mapping[str, Node]) -> dict[str, float] | None:
    """Each zone's share of the cluster's CPU (every node the same); None when a node has no zone."""
    counts: dict[str, int] = {}
    for node in nodes.values():
        if any(label in node.labels for label in EXCLUDED_NODE_LABELS):
            continue
        zone = node.labels.get(ZONE_LABEL, "")
        if not zone:
            return None
        counts[zone] = counts.get(zone, 0) + 1
    total = sum(counts.values())
    if not total or len(counts) < 2:
        return None
    return {zone: counts[zone] / total for zone in sorted(counts)}


@dataclasses.dataclass(slots=True)
class _Allocation:
    minimum: int
    maximum: int
    desired: float


def _allocations(ratios: dict[str, float], endpoints: int) -> dict[str, _Allocation] | None:
    if len(ratios) > endpoints:
        return None  # fewer endpoints than zones
    remaining, min_total = endpoints, 0
    allocations: dict[str, _Allocation] = {}
    for zone, ratio in ratios.items():
        desired = ratio * endpoints
        minimum = math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)))
        allocations[zone] = _Allocation(minimum, 0, max(desired, float(minimum)))
        min_total += minimum
        remaining -= minimum
        if remaining < 0:
            return None  # the minimum shares already exceed what the overload threshold allows
    for allocation in allocations.values():
        allocation.maximum = allocation.minimum + endpoints - min_total
    return allocations


def _auto_hints(slices: list[EndpointSlice], nodes: Mapping[str, Node]) -> list[EndpointSlice]:
    ratios = zone_ratios(nodes)
    total = sum(1 for s in slices for e in s.endpoints if _ready(e))
    allocations = _allocations(ratios, total) if ratios is not None else None
    if allocations is None:
        return _without_hints(slices)
    # Step 1: every ready endpoint is hinted for its own zone.
    hinted: list[list[Endpoint]] = []
    allocated: dict[str, int] = {}
    for slice_ in slices:
        endpoints = []
        for endpoint in slice_.endpoints:
            if not _ready(endpoint):
                endpoints.append(dataclasses.replace(endpoint, zone_hints=(), node_hints=()))
                continue
            if not endpoint.zone:
                return _without_hints(slices)
            allocated[endpoint.zone] = allocated.get(endpoint.zone, 0) + 1
            endpoints.append(dataclasses.replace(endpoint, zone_hints=(endpoint.zone,), node_hints=()))
        hinted.append(endpoints)
    # Steps 2 and 3: zones above their share give endpoints to zones below it.
    giving, receiving = _giving_and_receiving(allocations, allocated)
    for endpoints in hinted:
        for i, endpoint in enumerate(endpoints):
            if not _ready(endpoint):
                continue
            if not giving or not receiving:
                break
            left = giving.get(endpoint.zone, 0)
            if left <= 0:
                continue
            to = next(zone for zone, wanted in receiving.items() if wanted > 0)
            endpoints[i] = dataclasses.replace(endpoint, zone_hints=(to,))
            _take_one(giving, endpoint.zone)
            _take_one(receiving, to)
            allocated[to] = allocated.get(to, 0) + 1
            allocated[endpoint.zone] -= 1
    if not allocated:
        return _without_hints(slices)
    return [_replace_endpoints(s, e) for s, e in zip(slices, hinted, strict=True)]


def _take_one(zones: dict[str, int], zone: str) -> None:
    if zones[zone] == 1:
        del zones[zone]
    else:
        zones[zone] -= 1


def _giving_and_receiving(
    allocations: dict[str, _Allocation], allocated: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """How many endpoints each zone gives away and each receives (upstream ``getGivingAndReceivingZones``)."""
    give_wanted: dict[str, float] = {}
    receive_wanted: dict[str, float] = {}
    for zone, allocation in allocations.items():
        have = allocated.get(zone, 0)
        if have > allocation.desired:
            give_wanted[zone] = have - allocation.desired
        elif have < allocation.desired:
            receive_wanted[zone] = allocation.desired - have
    giving: dict[str, int] = {}
    receiving: dict[str, int] = {}
    while True:
        from_zone, to_give = _most(give_wanted)
        to_zone, to_receive = _most(receive_wanted)
        if (
            not from_zone
            or not to_zone
            or (to_give < 1.0 and to_receive < 1.0)
            or to_give < 0.5
            or to_receive < 0.5
        ):
            break
        giving[from_zone] = giving.get(from_zone, 0) + 1
        give_wanted[from_zone] -= 1
        receiving[to_zone] = receiving.get(to_zone, 0) + 1
        receive_wanted[to_zone] -= 1
    return giving, receiving


def _most(zones: dict[str, float]) -> tuple[str, float]:
    """The zone with the largest value (the first in name order on a tie; upstream's map order is random)."""
    best, value = "", 0.0
    for zone in sorted(zones):
        if zones[zone] > value:
            best, value = zone, zones[zone]
    return best, value
