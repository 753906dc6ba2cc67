"""The EndpointSlice controller: derive a Service's EndpointSlices from the Pods its selector picks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kproxy_tutor.sandbox.allocation import name_suffix
from kproxy_tutor.sandbox.families import FAMILIES, IPV4
from kproxy_tutor.sandbox.model import (
    ZONE_LABEL,
    Endpoint,
    EndpointConditions,
    EndpointPort,
    EndpointSlice,
    Node,
    Pod,
    Service,
)

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
#: ``--max-endpoints-per-slice`` default of kube-controller-manager.
MAX_ENDPOINTS_PER_SLICE = 100


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service selector matches when every key/value is among the Pod's labels (empty matches nothing)."""
    if not selector:
        return False
    return all(labels.get(key) == value for key, value in selector.items())


def resolve_target_port(
    service_port_target: int | str | None, port: int, protocol: str, pod: Pod
) -> int | None:
    """The container port a Service port sends to on ``pod``; None when a named port is missing."""
    if service_port_target is None:
        return port
    if isinstance(service_port_target, int):
        return service_port_target
    for container_port in pod.ports:
        if container_port.name == service_port_target and container_port.protocol == protocol:
            return container_port.container_port
    return None


def endpoint_for(pod: Pod, nodes: Mapping[str, Node], family: str = IPV4) -> Endpoint:
    """Conditions as the controller publishes them: terminating Pods stay, marked not ready."""
    node = nodes.get(pod.node_name)
    zone = node.labels.get(ZONE_LABEL, "") if node is not None else ""
    ready = pod.ready and not pod.terminating
    return Endpoint(
        addresses=(pod.ip(family),),
        conditions=EndpointConditions(ready=ready, serving=pod.ready, terminating=pod.terminating),
        node_name=pod.node_name,
        zone=zone,
    )


def address_types(service: Service) -> tuple[str, ...]:
    """The slice address types the controller writes for ``service``: its ``ipFamilies`` (as upstream's
    ``getAddressTypesForService``), else the family of its ClusterIP, else IPv4."""
    if service.ip_families:
        return tuple(f for f in service.ip_families if f in FAMILIES)
    families = service.families
    return families or (IPV4,)


def derive_slices(
    service: Service, pods: Iterable[Pod], nodes: Mapping[str, Node]
) -> tuple[EndpointSlice, ...]:
    """EndpointSlices for ``service``: one set per address family, Pods grouped by their resolved ports,
    at most 100 per slice."""
    if service.selector is None or service.type == "ExternalName":
        return ()
    selected = [
        pod
        for pod in sorted(pods, key=lambda p: p.name)
        if pod.pod_ip and pod.node_name and selector_matches(service.selector, pod.labels)
    ]
    slices: list[EndpointSlice] = []
    for family in address_types(service):
        slices.extend(_family_slices(service, selected, nodes, family))
    return tuple(slices)


def _slice_name(service: Service, family: str, index: int) -> str:
    # The IPv4 names are those of the single-stack sandbox (same seeds), so IPv4 rules stay put.
    seed = f"{service.namespace}/{service.name}/{index}"
    if family != IPV4:
        seed = f"{service.namespace}/{service.name}/{family}/{index}"
    return f"{service.name}-{name_suffix(seed, 5)}"


def _family_slices(
    service: Service, pods: list[Pod], nodes: Mapping[str, Node], family: str
) -> list[EndpointSlice]:
    groups: dict[tuple[EndpointPort, ...], list[Endpoint]] = {}
    for pod in pods:
        if not pod.ip(family):
            continue  # a Pod without an IP of this family is not in this family's slices
        ports = []
        for service_port in service.ports:
            number = resolve_target_port(
                service_port.target_port, service_port.port, service_port.protocol, pod
            )
            if number is not None:
                ports.append(
                    EndpointPort(name=service_port.name, port=number, protocol=service_port.protocol)
                )
        groups.setdefault(tuple(ports), []).append(endpoint_for(pod, nodes, family))
    slices: list[EndpointSlice] = []
    for ports, endpoints in sorted(groups.items(), key=lambda item: [(p.name, p.port) for p in item[0]]):
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            slices.append(
                EndpointSlice(
                    namespace=service.namespace,
                    name=_slice_name(service, family, len(slices)),
                    service_name=service.name,
                    address_type=family,
                    endpoints=tuple(endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]),
                    ports=ports,
                    managed_by=CONTROLLER_NAME,
                )
            )
    if not slices:
        # The controller keeps one empty (placeholder) slice per address type for a Service that selects nothing.
        slices.append(
            EndpointSlice(
                namespace=service.namespace,
                name=_slice_name(service, family, 0),
                service_name=service.name,
                address_type=family,
                ports=(),
                managed_by=CONTROLLER_NAME,
            )
        )
    return slices
