"""Fast converters for the well-formed common case of big kubectl dumps (Services, slices, Pods, Nodes)."""

from __future__ import annotations

from typing import Any

from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.model import (
    SERVICE_NAME_LABEL,
    TOPOLOGY_HINTS_ANNOTATION,
    TOPOLOGY_MODE_ANNOTATION,
    ContainerPort,
    Endpoint,
    EndpointConditions,
    EndpointPort,
    EndpointSlice,
    LoadBalancerIngress,
    Node,
    Pod,
    Service,
    ServicePort,
    frozen_labels,
)

# Fast converters --------------------------------------------------------------------------
# A kubectl dump holds tens of thousands of Services, EndpointSlices and Pods, nearly all of
# them well-formed. These converters read the plain dicts directly, with the same defaults
# as the ``to_*`` functions above, and give up (``Irregular``) at the first value that is not
# of the plain expected type; the caller then runs the checked converter, which reports the
# problem with its field path (or accepts what only looked unusual, such as a null item).


class Irregular(Exception):
    """A value the fast converters do not handle; the checked converter must decide."""


_NO_CONDITIONS = EndpointConditions()
# Both caches hold immutable values shared by many objects, as equal values may be.
_conditions: dict[tuple[bool | None, bool | None, bool | None], EndpointConditions] = {}
_endpoint_ports: dict[tuple[str | None, int | None, str], EndpointPort] = {}
_make_endpoint = fast_constructor(Endpoint)
# 22 fields: the frozen __init__ stores each through object.__setattr__.
_make_service = fast_constructor(Service)
_make_service_port = fast_constructor(ServicePort)
_make_endpoint_slice = fast_constructor(EndpointSlice)


def _s(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if value.__class__ is not str:
        raise Irregular
    return value  # type: ignore[no-any-return]


def _i(data: dict[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    if value is None:
        return default
    if value.__class__ is not int:  # bool is a subclass of int, so it is refused here too
        raise Irregular
    return value  # type: ignore[no-any-return]


def _d(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if value.__class__ is not dict:
        raise Irregular
    return value  # type: ignore[no-any-return]


def _l(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if value.__class__ is not list:
        raise Irregular
    return value  # type: ignore[no-any-return]


def _strs(data: dict[str, Any], key: str) -> tuple[str, ...]:
    values = tuple(_l(data, key))
    for value in values:
        if value.__class__ is not str:
            raise Irregular
    return values


def _labels(data: dict[str, Any], key: str) -> dict[str, str]:
    labels = _d(data, key)
    for name, value in labels.items():
        if name.__class__ is not str or value.__class__ is not str:
            raise Irregular
    return labels


def _dicts(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = _l(data, key)
    for item in items:
        if item.__class__ is not dict:
            raise Irregular  # including null items, which the checked converter reads as {}
    return items


def _fast_meta(data: dict[str, Any], namespaced: bool) -> tuple[str, str, dict[str, str]]:
    meta = _d(data, "metadata")
    name = _s(meta, "name")
    if not name:
        raise Irregular
    return (_s(meta, "namespace", "default") if namespaced else ""), name, _labels(meta, "labels")


def fast_node(data: dict[str, Any]) -> Node:
    """``to_node`` for a plain dict; raises Irregular where ``to_node`` must decide."""
    _, name, labels = _fast_meta(data, namespaced=False)
    ips = tuple(
        _s(a, "address") for a in _dicts(_d(data, "status"), "addresses") if _s(a, "type") == "InternalIP"
    )
    spec = _d(data, "spec")
    pod_cidrs = _strs(spec, "podCIDRs")
    if not pod_cidrs:
        pod_cidr = _s(spec, "podCIDR")
        pod_cidrs = (pod_cidr,) if pod_cidr else ()
    return Node(name, ips, pod_cidrs, frozen_labels(labels))


def fast_pod(data: dict[str, Any]) -> Pod:
    """``to_pod`` for a plain dict; raises Irregular where ``to_pod`` must decide."""
    namespace, name, labels = _fast_meta(data, namespaced=True)
    spec, status = _d(data, "spec"), _d(data, "status")
    conditions = {_s(c, "type"): _s(c, "status") for c in _dicts(status, "conditions")}
    ready = conditions.get("Ready", "True") == "True"
    terminating = bool(_d(data, "metadata").get("deletionTimestamp"))
    ports = [
        ContainerPort(_i(port, "containerPort"), _s(port, "name"), _s(port, "protocol", "TCP"))
        for container in _dicts(spec, "containers")
        for port in _dicts(container, "ports")
    ]
    return Pod(
        namespace,
        name,
        frozen_labels(labels),
        _s(spec, "nodeName"),
        _s(status, "podIP"),
        ready,
        terminating,
        tuple(ports),
        pod_ips=tuple(_s(i, "ip") for i in _dicts(status, "podIPs")),
    )


def fast_service(data: dict[str, Any]) -> Service:
    """``to_service`` for a plain dict; raises Irregular where ``to_service`` must decide."""
    namespace, name, labels = _fast_meta(data, namespaced=True)
    spec = _d(data, "spec")
    ports = []
    for port in _dicts(spec, "ports"):
        target = port.get("targetPort")
        if target.__class__ is str:
            if target.isascii() and target.isdigit() and len(target) <= 5:
                target = int(target)
        elif target is not None and target.__class__ is not int:
            raise Irregular
        ports.append(
            _make_service_port(
                _i(port, "port"), _s(port, "name"), _s(port, "protocol", "TCP"), target, _i(port, "nodePort")
            )
        )
    selector = spec.get("selector")
    ingress = tuple(
        LoadBalancerIngress(
            _s(i, "ip"), _s(i, "hostname"), i.get("ipMode") if isinstance(i.get("ipMode"), str) else None
        )
        for i in _dicts(_d(_d(data, "status"), "loadBalancer"), "ingress")
    )
    return _make_service(
        namespace=namespace,
        name=name,
        type=_s(spec, "type", "ClusterIP"),
        cluster_ip=_s(spec, "clusterIP"),
        cluster_ips=_strs(spec, "clusterIPs"),
        ip_families=_strs(spec, "ipFamilies"),
        ip_family_policy=_s(spec, "ipFamilyPolicy"),
        ports=tuple(ports),
        selector=frozen_labels(_labels(spec, "selector")) if selector is not None else None,
        external_ips=_strs(spec, "externalIPs"),
        load_balancer_ingress=ingress,
        load_balancer_source_ranges=_strs(spec, "loadBalancerSourceRanges"),
        session_affinity=_s(spec, "sessionAffinity", "None"),
        session_affinity_timeout=_i(
            _d(_d(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds", 10800
        ),
        external_traffic_policy=_s(spec, "externalTrafficPolicy", "Cluster"),
        internal_traffic_policy=_s(spec, "internalTrafficPolicy", "Cluster"),
        health_check_node_port=_i(spec, "healthCheckNodePort"),
        external_name=_s(spec, "externalName"),
        labels=frozen_labels(labels),
        traffic_distribution=_s(spec, "trafficDistribution"),
        topology_mode=_fast_topology_mode(_d(_d(data, "metadata"), "annotations")),
    )


def _fast_topology_mode(annotations: dict[str, Any]) -> str:
    if TOPOLOGY_MODE_ANNOTATION in annotations:
        return _s(annotations, TOPOLOGY_MODE_ANNOTATION)
    return _s(annotations, TOPOLOGY_HINTS_ANNOTATION)


def fast_endpoint_slice(data: dict[str, Any]) -> EndpointSlice:
    """``to_endpoint_slice`` for a plain dict; raises Irregular where ``to_endpoint_slice`` must decide."""
    namespace, name, labels = _fast_meta(data, namespaced=True)
    endpoints = []
    for endpoint in _dicts(data, "endpoints"):
        found = endpoint.get("conditions")
        if found is None:
            conditions = _NO_CONDITIONS
        elif found.__class__ is dict:
            key = (found.get("ready"), found.get("serving"), found.get("terminating"))
            # Identity checks: 0 and 1 equal False and True (and would find their cache
            # entry) but are not booleans.
            for value in key:
                if value is not None and value is not True and value is not False:
                    raise Irregular
            conditions = _conditions.get(key)  # type: ignore[assignment]
            if conditions is None:
                conditions = _conditions[key] = EndpointConditions(*key)
        else:
            raise Irregular
        hints = endpoint.get("hints")
        if hints is None:
            zone_hints: tuple[str, ...] = ()
            node_hints: tuple[str, ...] = ()
        elif hints.__class__ is dict:
            zone_hints = tuple(_s(h, "name") for h in _dicts(hints, "forZones"))
            node_hints = tuple(_s(h, "name") for h in _dicts(hints, "forNodes"))
        else:
            raise Irregular
        addresses = endpoint.get("addresses")
        if addresses.__class__ is list and len(addresses) == 1 and addresses[0].__class__ is str:
            addresses = (addresses[0],)  # the usual case: one address
        else:
            addresses = _strs(endpoint, "addresses")
        node_name = endpoint.get("nodeName")
        if node_name.__class__ is not str:
            node_name = _s(endpoint, "nodeName")
        # zone and hostname as _s reads them, without two calls per endpoint.
        zone = endpoint.get("zone")
        if zone.__class__ is not str:
            zone = _s(endpoint, "zone")
        hostname = endpoint.get("hostname")
        if hostname.__class__ is not str:
            hostname = _s(endpoint, "hostname")
        endpoints.append(
            _make_endpoint(addresses, conditions, node_name, zone, hostname, zone_hints, node_hints)
        )
    ports = []
    for port in _dicts(data, "ports"):
        # The API server defaults a missing name to "" (SetDefaults_EndpointPort).
        port_key = (_s(port, "name"), port.get("port"), _s(port, "protocol", "TCP"))
        if (port_key[0] is not None and port_key[0].__class__ is not str) or (
            port_key[1] is not None and port_key[1].__class__ is not int
        ):
            raise Irregular
        endpoint_port = _endpoint_ports.get(port_key)
        if endpoint_port is None:
            endpoint_port = _endpoint_ports[port_key] = EndpointPort(*port_key)
        ports.append(endpoint_port)
    return _make_endpoint_slice(
        namespace,
        name,
        labels.get(SERVICE_NAME_LABEL, ""),
        _s(data, "addressType", "IPv4"),
        tuple(endpoints),
        tuple(ports),
        labels.get("endpointslice.kubernetes.io/managed-by", ""),
    )
