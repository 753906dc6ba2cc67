"""Write sandbox objects back as Kubernetes manifests (``kubectl get -o yaml``, ``save``).

Only the fields the sandbox keeps are written, in the API's spelling; reading the result with
the sandbox's manifest loader gives the same objects back.
"""

from __future__ import annotations

from typing import Any

import yaml

from kproxy_tutor.sandbox.endpointslices import CONTROLLER_NAME
from kproxy_tutor.sandbox.model import (
    DEFAULT_AFFINITY_TIMEOUT,
    SERVICE_NAME_LABEL,
    TOPOLOGY_MODE_ANNOTATION,
    ContainerPort,
    Deployment,
    EndpointSlice,
    Node,
    Pod,
    Service,
    ServiceCIDR,
)


def _metadata(name: str, namespace: str | None = None, labels: Any = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def _ports(ports: tuple[ContainerPort, ...]) -> list[dict[str, Any]]:
    out = []
    for port in ports:
        item: dict[str, Any] = {"containerPort": port.container_port}
        if port.name:
            item["name"] = port.name
        if port.protocol != "TCP":
            item["protocol"] = port.protocol
        out.append(item)
    return out


def _container(name: str, ports: tuple[ContainerPort, ...], image: str = "") -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image or name}
    if ports:
        container["ports"] = _ports(ports)
    return container


def node_manifest(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _metadata(node.name, None, node.labels),
    }
    if node.pod_cidrs:
        data["spec"] = {"podCIDR": node.pod_cidrs[0], "podCIDRs": list(node.pod_cidrs)}
    if node.internal_ips:
        data["status"] = {"addresses": [{"type": "InternalIP", "address": ip} for ip in node.internal_ips]}
    return data


def pod_manifest(pod: Pod, image: str = "") -> dict[str, Any]:
    metadata = _metadata(pod.name, pod.namespace, pod.labels)
    if pod.owner:
        # A Deployment's Pod belongs to its ReplicaSet, named like the Pod without its last part.
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": pod.name.rsplit("-", 1)[0],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    if pod.terminating:
        # The sandbox has no clock; any timestamp marks the Pod as being deleted.
        metadata["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "nodeName": pod.node_name,
            "containers": [_container(container_name(pod), pod.ports, image)],
        },
        "status": {
            "podIP": pod.pod_ip,
            **({"podIPs": [{"ip": ip} for ip in pod_ips(pod)]} if pod.pod_ip else {}),
            "conditions": [{"type": "Ready", "status": "True" if pod.ready else "False"}],
        },
    }


def pod_ips(pod: Pod) -> tuple[str, ...]:
    """``status.podIPs``: one per family, the primary (``status.podIP``) first."""
    return pod.pod_ips or ((pod.pod_ip,) if pod.pod_ip else ())


def service_cluster_ips(service: Service) -> tuple[str, ...]:
    """``spec.clusterIPs`` as the API server fills it: the primary ClusterIP (or ``None``) first."""
    if service.cluster_ips:
        return service.cluster_ips
    return (service.cluster_ip,) if service.cluster_ip else ()


def container_name(pod: Pod) -> str:
    """The Pod's one container: named after its Deployment (as kubectl create deployment does), else the Pod."""
    return pod.owner.split("/", 1)[1] if pod.owner else pod.name


def endpoints_manifest(service: Service, slices: list[EndpointSlice]) -> dict[str, Any]:
    """The v1 Endpoints object the endpoints controller keeps for ``service`` (from its EndpointSlices)."""
    from kproxy_tutor.shell.kubectl_view import endpoint_addresses

    subset: dict[str, Any] = {}
    for key, ready in (("addresses", True), ("notReadyAddresses", False)):
        seen: dict[str, dict[str, Any]] = {}
        for ip, node, _name, _port in endpoint_addresses(slices, ready):
            seen.setdefault(ip, {"ip": ip, **({"nodeName": node} if node else {})})
        if seen:
            subset[key] = list(seen.values())
    ports: dict[tuple[str, int, str], dict[str, Any]] = {}
    for slice_ in slices:
        for port in slice_.ports:
            if port.port is not None:
                item: dict[str, Any] = {"port": port.port, "protocol": port.protocol}
                if port.name:
                    item = {"name": port.name, **item}
                ports[(port.name or "", port.port, port.protocol)] = item
    if subset and ports:
        subset["ports"] = list(ports.values())
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": _metadata(service.name, service.namespace, service.labels),
    }
    if subset.get("addresses") or subset.get("notReadyAddresses"):
        data["subsets"] = [subset]
    return data


def deployment_manifest(deployment: Deployment, image: str = "") -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [_container(deployment.name, deployment.ports, image)]}
    if deployment.node_name:
        pod_spec["nodeName"] = deployment.node_name
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(deployment.name, deployment.namespace, deployment.template_labels),
        "spec": {
            "replicas": deployment.replicas,
            "selector": {"matchLabels": dict(deployment.selector)},
            "template": {
                "metadata": {"labels": dict(deployment.template_labels)},
                "spec": pod_spec,
            },
        },
    }


def service_manifest(service: Service) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": service.type}
    if service.cluster_ip:
        spec["clusterIP"] = service.cluster_ip
    if service_cluster_ips(service):
        spec["clusterIPs"] = list(service_cluster_ips(service))
    if service.selector is not None:
        spec["selector"] = dict(service.selector)
    ports = []
    for port in service.ports:
        item: dict[str, Any] = {}
        if port.name:
            item["name"] = port.name
        item["protocol"] = port.protocol
        item["port"] = port.port
        item["targetPort"] = port.target_port if port.target_port is not None else port.port
        if port.node_port:
            item["nodePort"] = port.node_port
        ports.append(item)
    spec["ports"] = ports
    if service.external_ips:
        spec["externalIPs"] = list(service.external_ips)
    if service.session_affinity != "None":
        spec["sessionAffinity"] = service.session_affinity
        if service.session_affinity_timeout != DEFAULT_AFFINITY_TIMEOUT:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": service.session_affinity_timeout}}
    if service.type in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = service.external_traffic_policy
    # The API server's field order: ipFamilies and ipFamilyPolicy come before internalTrafficPolicy.
    if service.ip_families:
        spec["ipFamilies"] = list(service.ip_families)
    if service.ip_family_policy:
        spec["ipFamilyPolicy"] = service.ip_family_policy
    if service.internal_traffic_policy != "Cluster":
        spec["internalTrafficPolicy"] = service.internal_traffic_policy
    if service.health_check_node_port:
        spec["healthCheckNodePort"] = service.health_check_node_port
    if service.load_balancer_source_ranges:
        spec["loadBalancerSourceRanges"] = list(service.load_balancer_source_ranges)
    if service.traffic_distribution:
        spec["trafficDistribution"] = service.traffic_distribution
    metadata = _metadata(service.name, service.namespace, service.labels)
    if service.topology_mode:
        metadata["annotations"] = {TOPOLOGY_MODE_ANNOTATION: service.topology_mode}
    data: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}
    ingress = [
        {k: v for k, v in (("ip", i.ip), ("hostname", i.hostname), ("ipMode", i.ip_mode)) if v}
        for i in service.load_balancer_ingress
    ]
    if ingress:
        data["status"] = {"loadBalancer": {"ingress": ingress}}
    return data


def endpoint_slice_manifest(slice_: EndpointSlice) -> dict[str, Any]:
    labels = {SERVICE_NAME_LABEL: slice_.service_name}
    if slice_.managed_by:
        labels["endpointslice.kubernetes.io/managed-by"] = slice_.managed_by
    endpoints = []
    for endpoint in slice_.endpoints:
        item: dict[str, Any] = {"addresses": list(endpoint.addresses)}
        conditions = {
            key: value
            for key, value in (
                ("ready", endpoint.conditions.ready),
                ("serving", endpoint.conditions.serving),
                ("terminating", endpoint.conditions.terminating),
            )
            if value is not None
        }
        if conditions:
            item["conditions"] = conditions
        if endpoint.node_name:
            item["nodeName"] = endpoint.node_name
        if endpoint.zone:
            item["zone"] = endpoint.zone
        hints: dict[str, Any] = {}
        if endpoint.zone_hints:
            hints["forZones"] = [{"name": zone} for zone in endpoint.zone_hints]
        if endpoint.node_hints:
            hints["forNodes"] = [{"name": node} for node in endpoint.node_hints]
        if hints:
            item["hints"] = hints
        endpoints.append(item)
    ports = []
    for port in slice_.ports:
        entry: dict[str, Any] = {}
        if port.name is not None:
            entry["name"] = port.name
        if port.port is not None:
            entry["port"] = port.port
        entry["protocol"] = port.protocol
        ports.append(entry)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": _metadata(slice_.name, slice_.namespace, labels),
        "addressType": slice_.address_type,
        "endpoints": endpoints,
        "ports": ports,
    }


def service_cidr_manifest(service_cidr: ServiceCIDR) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "ServiceCIDR",
        "metadata": {"name": service_cidr.name},
        "spec": {"cidrs": list(service_cidr.cidrs)},
    }


def is_derived(slice_: EndpointSlice) -> bool:
    """Slices the controller made from a selector are rebuilt on load and need not be saved."""
    return slice_.managed_by == CONTROLLER_NAME


def dump_yaml(documents: list[dict[str, Any]]) -> str:
    """YAML documents separated by ``---``, keys in the order given (as kubectl prints them)."""
    return "---\n".join(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False) for doc in documents)
