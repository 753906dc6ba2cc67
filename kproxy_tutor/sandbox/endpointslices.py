"""The EndpointSlice controller: derive a Service's EndpointSlices from the Pods its selector picks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kproxy_tutor.sandbox.allocation import name_suffix
from kproxy_tutor.sandbox.hints import with_hints
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


def endpoint_for(pod: Pod, nodes: Mapping[str, Node]) -> Endpoint:
    """Conditions as the controller publishes them: terminating Pods stay, marked not ready."""
    node = nodes.get(pod.node_name)
    zone = node.labels.get(ZONE_LABEL, "") if node is not None else ""
    ready = pod.ready and not pod.terminating
    return Endpoint(
        addresses=(pod.pod_ip,),
        conditions=EndpointConditions(ready=ready, serving=pod.ready, terminating=pod.terminating),
        node_name=pod.node_name,
        zone=zone,
    )


def derive_slices(
    service: Service, pods: Iterable[Pod], nodes: Mapping[str, Node]
) -> tuple[EndpointSlice, ...]:
    """EndpointSlices for ``service``: Pods grouped by their resolved ports, at most 100 per slice."""
    if service.selector is None or service.type == "ExternalName":
        return ()
    groups: dict[tuple[EndpointPort, ...], list[Endpoint]] = {}
    for pod in sorted(pods, key=lambda p: p.name):
        if not pod.pod_ip or not pod.node_name or not selector_matches(service.selector, pod.labels):
            continue
        if ":" in pod.pod_ip:
            continue  # the sandbox is single-stack IPv4
        ports = []
        for service_port in service.ports:
            number = resolve_target_port(
                service_port.target_port, service_port.port, service_port.protocol, pod
            )
            if number is not None:
                ports.append(
                    EndpointPort(name=service_port.name, port=number, protocol=service_port.protocol)
                )
        groups.setdefault(tuple(ports), []).append(endpoint_for(pod, nodes))
    slices = []
    for ports, endpoints in sorted(groups.items(), key=lambda item: [(p.name, p.port) for p in item[0]]):
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            index = len(slices)
            slices.append(
                EndpointSlice(
                    namespace=service.namespace,
                    name=f"{service.name}-{name_suffix(f'{service.namespace}/{service.name}/{index}', 5)}",
                    service_name=service.name,
                    address_type="IPv4",
                    endpoints=tuple(endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]),
                    ports=ports,
                    managed_by=CONTROLLER_NAME,
                )
            )
    if not slices:
        # The controller keeps one empty slice for a Service that selects nothing.
        slices.append(
            EndpointSlice(
                namespace=service.namespace,
                name=f"{service.name}-{name_suffix(f'{service.namespace}/{service.name}/0', 5)}",
                service_name=service.name,
                ports=(),
                managed_by=CONTROLLER_NAME,
            )
        )
    return with_hints(service, tuple(slices), nodes)
