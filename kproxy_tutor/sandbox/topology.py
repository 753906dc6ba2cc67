"""Categorize endpoints (upstream ``CategorizeEndpoints``): ready/serving/terminating, Cluster vs Local traffic policy, hints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kproxy_tutor.sandbox.endpoints import EndpointInfo
from kproxy_tutor.sandbox.model import ZONE_LABEL
from kproxy_tutor.sandbox.serviceport import ServicePortInfo

PREFER_SAME_NODE = "PreferSameNode"
PREFER_SAME_ZONE = "PreferSameZone"


@dataclass(frozen=True, slots=True)
class CategorizedEndpoints:
    cluster: tuple[EndpointInfo, ...]
    local: tuple[EndpointInfo, ...]
    #: Endpoints that get a KUBE-SEP chain on this node.
    all_reachable: tuple[EndpointInfo, ...]
    #: Some endpoint anywhere in the cluster can take traffic.
    has_any: bool


def topology_mode(endpoints: Sequence[EndpointInfo], node_name: str, zone: str) -> str:
    """Which hints to obey: only when every ready endpoint carries hints and one is for us."""
    has_for_node = has_for_zone = False
    all_node_hints = all_zone_hints = True
    for endpoint in endpoints:
        if not endpoint.ready:
            continue
        if not endpoint.node_hints:
            all_node_hints = False
        elif node_name in endpoint.node_hints:
            has_for_node = True
        if not endpoint.zone_hints:
            all_zone_hints = False
        elif zone in endpoint.zone_hints:
            has_for_zone = True
    if all_node_hints and has_for_node:
        return PREFER_SAME_NODE
    if all_zone_hints and has_for_zone:
        return PREFER_SAME_ZONE
    return ""


def _available(endpoint: EndpointInfo, mode: str, node_name: str, zone: str) -> bool:
    if mode == PREFER_SAME_NODE:
        return node_name in endpoint.node_hints
    if mode == PREFER_SAME_ZONE:
        return zone in endpoint.zone_hints
    return True


def categorize_endpoints(
    endpoints: Sequence[EndpointInfo],
    service: ServicePortInfo,
    node_name: str,
    node_labels: Mapping[str, str],
) -> CategorizedEndpoints:
    mode = ""
    cluster: tuple[EndpointInfo, ...] = ()
    has_any = False
    uses_cluster = service.uses_cluster_endpoints()
    if uses_cluster:
        zone = node_labels.get(ZONE_LABEL, "")
        mode = topology_mode(endpoints, node_name, zone)
        if mode:
            cluster = tuple(e for e in endpoints if e.ready and _available(e, mode, node_name, zone))
        else:
            cluster = tuple(e for e in endpoints if e.ready)
        if not cluster:
            # Fall back to serving terminating endpoints (ignoring topology) rather than drop.
            cluster = tuple(e for e in endpoints if e.serving and e.terminating)
        has_any = bool(cluster)
    if not service.uses_local_endpoints():
        return CategorizedEndpoints(cluster, (), cluster, has_any)

    local_ready = local_terminating = False
    for endpoint in endpoints:
        if endpoint.ready:
            has_any = True
            local_ready = local_ready or endpoint.is_local
        elif endpoint.serving and endpoint.terminating:
            has_any = True
            local_terminating = local_terminating or endpoint.is_local
    local: tuple[EndpointInfo, ...] = ()
    use_terminating = False
    if local_ready:
        local = tuple(e for e in endpoints if e.is_local and e.ready)
    elif local_terminating:
        use_terminating = True
        local = tuple(e for e in endpoints if e.is_local and e.serving and e.terminating)
    if not uses_cluster:
        return CategorizedEndpoints((), local, local, has_any)
    if mode == "" and not use_terminating:
        return CategorizedEndpoints(cluster, local, cluster, has_any)
    # Upstream merges both lists through a Go map (random order); sorted here for determinism.
    merged = {e.endpoint: e for e in cluster}
    merged.update({e.endpoint: e for e in local})
    return CategorizedEndpoints(cluster, local, tuple(merged[k] for k in sorted(merged)), has_any)
