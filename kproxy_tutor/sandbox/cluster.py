"""The sandbox cluster: stores objects, allocates addresses, runs the EndpointSlice controller, emits watch events.

Listeners (kube-proxy's change trackers) get the same events an informer delivers:
``(old, new)`` pairs for Services and EndpointSlices, where None means added or deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.allocation import Allocator, allocate_service_ips, name_suffix, split_cidrs
from kproxy_tutor.sandbox.endpointslices import derive_slices, selector_matches
from kproxy_tutor.sandbox.families import FAMILIES, IPV4
from kproxy_tutor.sandbox.ipaddr import canonical_ipv4
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
    Deployment,
    EndpointSlice,
    Node,
    NodeFacts,
    Pod,
    ProxyConfig,
    Service,
    ServiceCIDR,
    ServicePort,
    frozen_labels,
)
from kproxy_tutor.sandbox.validation import (
    check_ip,
    check_object_name,
    check_pod_cidrs,
    check_replicas,
    check_service,
    check_service_cidr,
)

Key = tuple[str, str]
ServiceListener = Callable[[Service | None, Service | None], None]
SliceListener = Callable[[EndpointSlice | None, EndpointSlice | None], None]
ServiceCIDRListener = Callable[[ServiceCIDR | None, ServiceCIDR], None]
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
#: The ServiceCIDR the API server creates from its --service-cluster-ip-range.
DEFAULT_SERVICE_CIDR = "kubernetes"


class Cluster:
    """Nodes, Pods, Deployments, Services and EndpointSlices, plus kube-proxy's config and node facts."""

    def __init__(
        self,
        network: ClusterNetwork | None = None,
        config: ProxyConfig | None = None,
        facts: NodeFacts | None = None,
    ) -> None:
        self.network = network or ClusterNetwork()
        self.config = config or ProxyConfig()
        self.facts = facts or NodeFacts()
        self.allocator = Allocator(self.network)
        self.nodes: dict[str, Node] = {}
        self.pods: dict[Key, Pod] = {}
        self.deployments: dict[Key, Deployment] = {}
        self.services: dict[Key, Service] = {}
        #: Slices keyed by (namespace, slice name); derived ones are replaced by the controller.
        self.endpoint_slices: dict[Key, EndpointSlice] = {}
        #: Services whose slices were given explicitly (from a real cluster's dump); the
        #: controller leaves those alone.
        self._explicit_slices_for: set[Key] = set()
        # Indexes, so that loading 10,000 Services with their Pods stays linear.
        self._slices_by_service: dict[Key, dict[Key, EndpointSlice]] = {}
        self._pods_by_namespace: dict[str, dict[str, Pod]] = {}
        self._services_by_label: dict[tuple[str, str, str], set[Key]] = {}
        self._service_listeners: list[ServiceListener] = []
        #: ServiceCIDR objects by name; "kubernetes" is the default one, made from the network's
        #: serviceCIDR (as the API server makes it from --service-cluster-ip-range) unless given.
        self.service_cidr_objects: dict[str, ServiceCIDR] = {
            DEFAULT_SERVICE_CIDR: ServiceCIDR(DEFAULT_SERVICE_CIDR, split_cidrs(self.network.service_cidr))
        }
        self._slice_listeners: list[SliceListener] = []
        self._service_cidr_listeners: list[ServiceCIDRListener] = []

    # Watch ------------------------------------------------------------------------------
    def watch(self, on_service: ServiceListener, on_slice: SliceListener) -> None:
        """Register a listener and replay the current state to it, as an informer's initial list does."""
        self._service_listeners.append(on_service)
        self._slice_listeners.append(on_slice)
        for service in self.services.values():
            on_service(None, service)
        for slice_ in self.endpoint_slices.values():
            on_slice(None, slice_)

    def _emit_service(self, old: Service | None, new: Service | None) -> None:
        for listener in self._service_listeners:
            listener(old, new)

    def _emit_slice(self, old: EndpointSlice | None, new: EndpointSlice | None) -> None:
        for listener in self._slice_listeners:
            listener(old, new)

    # ServiceCIDRs -----------------------------------------------------------------------
    def watch_service_cidrs(self, on_service_cidr: ServiceCIDRListener) -> None:
        """Register a ServiceCIDR listener (kube-proxy's ServiceCIDR informer) and replay the current objects."""
        self._service_cidr_listeners.append(on_service_cidr)
        for service_cidr in self.service_cidr_objects.values():
            on_service_cidr(None, service_cidr)

    def apply_service_cidr(self, service_cidr: ServiceCIDR, location: str | None = None) -> ServiceCIDR:
        """Add or replace a ServiceCIDR; ClusterIPs are then allocated from it too (the default one first)."""
        check_object_name("ServiceCIDR", service_cidr.name, location)
        service_cidr = dataclasses.replace(
            service_cidr, cidrs=check_service_cidr(service_cidr.cidrs, location)
        )
        old = self.service_cidr_objects.get(service_cidr.name)
        self.service_cidr_objects[service_cidr.name] = service_cidr
        self.allocator.set_service_cidrs(self.service_cidrs())
        if old != service_cidr:
            for listener in self._service_cidr_listeners:
                listener(old, service_cidr)
        return service_cidr

    def service_cidrs(self) -> tuple[str, ...]:
        """Every ServiceCIDR's ranges, the default one's first: what kube-proxy's ServiceCIDR informer lists."""
        default = self.service_cidr_objects.get(DEFAULT_SERVICE_CIDR)
        out = list(default.cidrs) if default is not None else []
        for name in sorted(self.service_cidr_objects):
            if name != DEFAULT_SERVICE_CIDR:
                out.extend(c for c in self.service_cidr_objects[name].cidrs if c not in out)
        return tuple(out)

    def proxier_families(self, node_name: str) -> tuple[str, ...]:
        """The IP families whose kube-proxy proxier has something to show on ``node_name``, IPv4 first.

        kube-proxy on a dual-stack-capable Linux node runs both proxiers (a MetaProxier); the one
        of a family with neither a node address nor a Service ClusterIP writes only its fixed
        chains, so it is left out here. An IPv4-only cluster gives ("IPv4",).
        """
        node = self.node(node_name)
        found = set(node.families)
        for service in self.services.values():
            found.update(f for f in FAMILIES if service.cluster_ip_of(f))
        return tuple(f for f in FAMILIES if f in found) or (IPV4,)

    @property
    def service_families(self) -> tuple[str, ...]:
        """The families ClusterIPs can be allocated for, the primary first (two on a dual-stack cluster)."""
        return self.allocator.service_families

    # Nodes ------------------------------------------------------------------------------
    def add_node(self, node: Node, location: str | None = None) -> Node:
        check_object_name("Node", node.name, location)
        if node.pod_cidrs:
            cidrs = check_pod_cidrs(node.pod_cidrs, location)
            for cidr in cidrs:
                self.allocator.claim_node_pod_cidr(node.name, cidr)
            node = dataclasses.replace(node, pod_cidrs=cidrs)
        else:
            node = dataclasses.replace(node, pod_cidrs=self.allocator.node_pod_cidrs(node.name))
        node = dataclasses.replace(
            node, internal_ips=tuple(check_ip(ip, "node IP", location) for ip in node.internal_ips)
        )
        previous = self.nodes.get(node.name)
        self.nodes[node.name] = node
        if self.services and (previous is None or previous.labels != node.labels):
            self._reconcile_for_node(previous is not None)
        return node

    def _reconcile_for_node(self, relabelled: bool) -> None:
        """Nodes' zones feed the slices: endpoint zones (a relabelled node) and the zone shares of topology hints."""
        for key in sorted(self.services):
            service = self.services[key]
            if service.selector is None or key in self._explicit_slices_for:
                continue
            if relabelled or service.topology_mode or service.traffic_distribution:
                self._reconcile_service(key)

    def node(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise SandboxInputError(N_("There is no node named {name!r}."), name=name) from None

    def schedulable_nodes(self) -> list[Node]:
        workers = [n for n in self.nodes.values() if CONTROL_PLANE_LABEL not in n.labels]
        return workers or list(self.nodes.values())

    # Pods -------------------------------------------------------------------------------
    def apply_pod(self, pod: Pod, location: str | None = None) -> Pod:
        check_object_name("Pod", pod.name, location)
        old = self.pods.get((pod.namespace, pod.name))
        if not pod.node_name:
            nodes = self.schedulable_nodes()
            if not nodes:
                raise SandboxInputError(
                    N_("Pod {name!r} cannot be scheduled: the cluster has no nodes."), name=pod.name
                )
            pod = dataclasses.replace(pod, node_name=nodes[len(self.pods) % len(nodes)].name)
        elif pod.node_name not in self.nodes:
            self.add_node(Node(name=pod.node_name), location)
        if pod.pod_ip or pod.pod_ips:
            pod = self._checked_pod_ips(pod, location)
        elif old is not None and old.pod_ip and old.node_name == pod.node_name:
            pod = dataclasses.replace(pod, pod_ip=old.pod_ip, pod_ips=old.pod_ips)
        else:
            # One IP per family of the node's Pod CIDRs, IPv4 first (as the CNI plugins list them).
            families = self.allocator.node_families(pod.node_name) or (IPV4,)
            ips = tuple(self.allocator.allocate_pod_ip(pod.node_name, family) for family in families)
            pod = dataclasses.replace(pod, pod_ip=ips[0], pod_ips=ips if len(ips) > 1 else ())
        self.pods[(pod.namespace, pod.name)] = pod
        self._pods_by_namespace.setdefault(pod.namespace, {})[pod.name] = pod
        self._reconcile_for_pods(pod.namespace, [old, pod])
        return pod

    def _checked_pod_ips(self, pod: Pod, location: str | None) -> Pod:
        # Nearly every Pod IP is canonical IPv4 already: then it needs no parsing or copy.
        pod_ip = canonical_ipv4(pod.pod_ip) or check_ip(pod.pod_ip, "Pod IP", location) if pod.pod_ip else ""
        ips = tuple(canonical_ipv4(ip) or check_ip(ip, "Pod IP", location) for ip in pod.pod_ips)
        if ips and pod_ip and ips[0] != pod_ip:
            raise SandboxInputError(
                N_("Pod {name!r}: status.podIP {ip} must be the first of status.podIPs."),
                location=location,
                name=pod.name,
                ip=pod_ip,
            )
        if len(ips) > 2 or (len(ips) == 2 and (":" in ips[0]) == (":" in ips[1])):
            raise SandboxInputError(
                N_("Pod {name!r}: status.podIPs may hold one IP per family (an IPv4 and an IPv6 one)."),
                location=location,
                name=pod.name,
            )
        pod_ip = pod_ip or ips[0]
        # A single-stack Pod keeps pod_ips empty, also when read with its one-element status.podIPs.
        if pod_ip != pod.pod_ip or ips != pod.pod_ips or len(ips) == 1:
            pod = dataclasses.replace(pod, pod_ip=pod_ip, pod_ips=ips if len(ips) > 1 else ())
        self.allocator.used_pod_ips.update(pod.pod_ips or (pod.pod_ip,))
        return pod

    def remove_pod(self, namespace: str, name: str) -> None:
        old = self.pods.pop((namespace, name), None)
        if old is None:
            raise SandboxInputError(N_("There is no Pod {namespace}/{name}."), namespace=namespace, name=name)
        self.allocator.used_pod_ips.difference_update(old.pod_ips or (old.pod_ip,))
        del self._pods_by_namespace[namespace][name]
        self._reconcile_for_pods(namespace, [old])

    def set_pod_state(
        self, namespace: str, name: str, *, ready: bool | None = None, terminating: bool | None = None
    ) -> Pod:
        pod = self.pods.get((namespace, name))
        if pod is None:
            raise SandboxInputError(N_("There is no Pod {namespace}/{name}."), namespace=namespace, name=name)
        changes: dict[str, bool] = {}
        if ready is not None:
            changes["ready"] = ready
        if terminating is not None:
            changes["terminating"] = terminating
        return self.apply_pod(dataclasses.replace(pod, **changes))

    # Deployments ------------------------------------------------------------------------
    def apply_deployment(self, deployment: Deployment, location: str | None = None) -> list[Pod]:
        """Create or scale a Deployment; its Pods are spread round-robin over schedulable nodes."""
        check_object_name("Deployment", deployment.name, location)
        key = (deployment.namespace, deployment.name)
        owner = f"{deployment.namespace}/{deployment.name}"
        owned = sorted(p.name for p in self.pods.values() if p.owner == owner)
        # Checked before a single Pod name is made: no cluster could hold more.
        check_replicas(deployment.replicas, len(self.pods) - len(owned), location)
        self.deployments[key] = deployment
        template_hash = name_suffix(
            f"{deployment.namespace}/{deployment.name}/{sorted(deployment.template_labels.items())}", 10
        )
        wanted = [
            f"{deployment.name}-{template_hash}-{name_suffix(f'{owner}/{template_hash}/{i}', 5)}"
            for i in range(deployment.replicas)
        ]
        keep = set(wanted)
        if len(keep) < len(wanted):
            # Two replicas drew the same 5-character suffix: like the ReplicaSet controller,
            # draw again for the later one, so no replica is silently lost.
            seen: set[str] = set()
            for i, name in enumerate(wanted):
                attempt = 0
                while name in seen:
                    attempt += 1
                    suffix = name_suffix(f"{owner}/{template_hash}/{i}/{attempt}", 5)
                    name = f"{deployment.name}-{template_hash}-{suffix}"
                seen.add(name)
                wanted[i] = name
            keep = seen
        for name in owned:
            if name not in keep:
                self.remove_pod(deployment.namespace, name)
        nodes = [] if deployment.node_name else self.schedulable_nodes()
        if not nodes and deployment.replicas and not deployment.node_name:
            raise SandboxInputError(
                N_("Deployment {name!r} cannot run: the cluster has no nodes."), name=deployment.name
            )
        created = []
        for index, name in enumerate(wanted):
            existing = self.pods.get((deployment.namespace, name))
            if existing is not None:
                created.append(existing)
                continue
            pod = Pod(
                namespace=deployment.namespace,
                name=name,
                labels=frozen_labels(dict(deployment.template_labels) | {"pod-template-hash": template_hash}),
                node_name=deployment.node_name or nodes[index % len(nodes)].name,
                ports=deployment.ports,
                owner=owner,
            )
            created.append(self.apply_pod(pod, location))
        return created

    def remove_deployment(self, namespace: str, name: str) -> None:
        deployment = self.deployments.pop((namespace, name), None)
        if deployment is None:
            raise SandboxInputError(
                N_("There is no Deployment {namespace}/{name}."), namespace=namespace, name=name
            )
        owner = f"{namespace}/{name}"
        for pod in [p for p in self.pods.values() if p.owner == owner]:
            self.remove_pod(pod.namespace, pod.name)

    # Services ---------------------------------------------------------------------------
    def apply_service(self, service: Service, location: str | None = None) -> Service:
        """Create or update a Service, allocating a ClusterIP and NodePorts where the API server would."""
        check_service(service, location)
        key = service.key
        old = self.services.get(key)
        service = self._allocate(service, old, location)
        self.services[key] = service
        self._index_selector(old, service)
        if old != service:
            self._emit_service(old, service)
        self._reconcile_service(key)
        return service

    def remove_service(self, namespace: str, name: str) -> None:
        key = (namespace, name)
        old = self.services.pop(key, None)
        if old is None:
            raise SandboxInputError(
                N_("There is no Service {namespace}/{name}."), namespace=namespace, name=name
            )
        for ip in (old.cluster_ip, *old.cluster_ips):
            self.allocator.release_cluster_ip(ip, key)
        self.allocator.release_node_ports(key)
        self._index_selector(old, None)
        self._emit_service(old, None)
        if key not in self._explicit_slices_for:
            self._replace_derived_slices(key, ())

    def _allocate(self, service: Service, old: Service | None, location: str | None) -> Service:
        key = service.key
        changes: dict[str, object] = {}
        if service.type == "ExternalName":
            return service
        changes.update(allocate_service_ips(self.allocator, service, old, location))
        if service.type in ("NodePort", "LoadBalancer"):
            self.allocator.release_node_ports(key)
            ports = []
            previous = {(p.name, p.protocol): p.node_port for p in old.ports} if old is not None else {}
            for port in service.ports:
                node_port = port.node_port or previous.get((port.name, port.protocol), 0)
                if node_port:
                    self.allocator.reserve_node_port(node_port, port.protocol, key, location)
                elif not self.network.allocate_node_ports:
                    pass
                else:
                    node_port = self.allocator.allocate_node_port(port.protocol, key, port.name)
                ports.append(
                    dataclasses.replace(port, node_port=node_port) if node_port != port.node_port else port
                )
            changes["ports"] = tuple(ports)
            if (
                service.type == "LoadBalancer"
                and service.external_traffic_policy == "Local"
                and not service.health_check_node_port
                and self.network.allocate_node_ports
            ):
                changes["health_check_node_port"] = self.allocator.allocate_node_port(
                    "TCP", key, "health-check"
                )
        if all(getattr(service, name) == value for name, value in changes.items()):
            return service
        return dataclasses.replace(service, **changes)

    # EndpointSlices ---------------------------------------------------------------------
    def apply_endpoint_slice(self, slice_: EndpointSlice, location: str | None = None) -> EndpointSlice:
        """Store a hand-made (or real-cluster) slice; the controller then leaves that Service alone."""
        check_object_name("EndpointSlice", slice_.name, location)
        key = (slice_.namespace, slice_.name)
        service_key = (slice_.namespace, slice_.service_name)
        if service_key not in self._explicit_slices_for:
            self._explicit_slices_for.add(service_key)
            self._replace_derived_slices(service_key, ())
        old = self.endpoint_slices.get(key)
        self.endpoint_slices[key] = slice_
        self._slices_by_service.setdefault(service_key, {})[key] = slice_
        if old is not None and old.service_name != slice_.service_name:
            self._slices_by_service.get((old.namespace, old.service_name), {}).pop(key, None)
        if old != slice_:
            self._emit_slice(old, slice_)
        return slice_

    def remove_endpoint_slice(self, namespace: str, name: str) -> None:
        old = self.endpoint_slices.pop((namespace, name), None)
        if old is None:
            raise SandboxInputError(
                N_("There is no EndpointSlice {namespace}/{name}."), namespace=namespace, name=name
            )
        self._slices_by_service.get((namespace, old.service_name), {}).pop((namespace, name), None)
        self._emit_slice(old, None)

    def slices_of(self, namespace: str, service_name: str) -> list[EndpointSlice]:
        return list(self._slices_by_service.get((namespace, service_name), {}).values())

    def _index_selector(self, old: Service | None, new: Service | None) -> None:
        for service, add in ((old, False), (new, True)):
            if service is None or not service.selector:
                continue
            for label in service.selector.items():
                keys = self._services_by_label.setdefault((service.namespace, *label), set())
                if add:
                    keys.add(service.key)
                else:
                    keys.discard(service.key)

    def _reconcile_for_pods(self, namespace: str, pods: Iterable[Pod | None]) -> None:
        label_sets = [p.labels for p in pods if p is not None]
        candidates: set[Key] = set()
        for labels in label_sets:
            for label in labels.items():
                candidates |= self._services_by_label.get((namespace, *label), set())
        for key in sorted(candidates):
            service = self.services.get(key)
            if service is None or service.selector is None or key in self._explicit_slices_for:
                continue
            if any(selector_matches(service.selector, labels) for labels in label_sets):
                self._reconcile_service(key)

    def _reconcile_service(self, key: Key) -> None:
        if key in self._explicit_slices_for:
            return
        service = self.services.get(key)
        if service is None:
            return
        pods = self._pods_by_namespace.get(key[0], {}).values()
        self._replace_derived_slices(key, derive_slices(service, pods, self.nodes))

    def _replace_derived_slices(self, key: Key, slices: tuple[EndpointSlice, ...]) -> None:
        current = self._slices_by_service.setdefault(key, {})
        wanted = {(s.namespace, s.name): s for s in slices}
        for slice_key, old in list(current.items()):
            if slice_key not in wanted:
                del self.endpoint_slices[slice_key]
                del current[slice_key]
                self._emit_slice(old, None)
        for slice_key, new in wanted.items():
            old = current.get(slice_key)
            if old != new:
                self.endpoint_slices[slice_key] = new
                current[slice_key] = new
                self._emit_slice(old, new)


def service_port(port: int, name: str = "", protocol: str = "TCP", **kwargs: object) -> ServicePort:
    """Shorthand used by tests and the shell."""
    return ServicePort(port=port, name=name, protocol=protocol, **kwargs)  # type: ignore[arg-type]
