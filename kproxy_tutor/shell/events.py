"""The watch events kube-proxy receives from the API server, recorded for the shell's ``watch`` view.

kube-proxy watches Services, EndpointSlices and ServiceCIDRs (not Pods or Deployments): a Pod
change reaches it as an EndpointSlice change made by the EndpointSlice controller. The recorder is one
more listener on the cluster, next to the proxiers' change trackers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.model import EndpointSlice, Service, ServiceCIDR

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclass(frozen=True)
class WatchEvent:
    kind: str  # "Service", "EndpointSlice" or "ServiceCIDR"
    type: str  # ADDED, MODIFIED or DELETED
    namespace: str
    name: str
    #: One line of what the object now says (ClusterIP and ports, or the endpoints), English like kubectl.
    summary: str


def _event_type(old: object | None, new: object | None) -> str:
    if old is None:
        return ADDED
    if new is None:
        return DELETED
    return MODIFIED


def service_summary(service: Service) -> str:
    ports = ",".join(
        f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port else f"{p.port}/{p.protocol}"
        for p in service.ports
    )
    return f"{service.type} {service.cluster_ip or '-'} {ports}".rstrip()


def slice_summary(slice_: EndpointSlice) -> str:
    addresses = []
    for endpoint in slice_.endpoints:
        if not endpoint.addresses:
            continue
        state = ""
        conditions = endpoint.conditions
        if conditions.terminating:
            state = " (terminating)"
        elif conditions.ready is False:
            state = " (not ready)"
        addresses.append(endpoint.addresses[0] + state)
    ports = ",".join(str(p.port) for p in slice_.ports if p.port is not None)
    endpoints = ", ".join(addresses) if addresses else "<none>"
    return f"service={slice_.service_name} endpoints=[{endpoints}]" + (f" ports={ports}" if ports else "")


class EventRecorder:
    """Collects events between two syncs; ``take()`` hands them over and starts a new batch."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self._listening = False

    def attach(self, cluster: Cluster) -> None:
        cluster.watch(self.on_service, self.on_slice)
        cluster.watch_service_cidrs(self.on_service_cidr)
        # The informer's initial list is not news: it is what kube-proxy starts with.
        self.events.clear()

    def on_service(self, old: Service | None, new: Service | None) -> None:
        service = new or old
        assert service is not None
        self.events.append(
            WatchEvent(
                "Service", _event_type(old, new), service.namespace, service.name, service_summary(service)
            )
        )

    def on_slice(self, old: EndpointSlice | None, new: EndpointSlice | None) -> None:
        slice_ = new or old
        assert slice_ is not None
        summary = slice_summary(new) if new is not None else f"service={slice_.service_name}"
        self.events.append(
            WatchEvent("EndpointSlice", _event_type(old, new), slice_.namespace, slice_.name, summary)
        )

    def on_service_cidr(self, old: ServiceCIDR | None, new: ServiceCIDR) -> None:
        """kube-proxy's ServiceCIDR informer (cluster-scoped objects: no namespace)."""
        summary = "cidrs=" + ",".join(new.cidrs)
        self.events.append(WatchEvent("ServiceCIDR", _event_type(old, new), "", new.name, summary))

    def take(self) -> list[WatchEvent]:
        events, self.events = self.events, []
        return events


def detached_copy(cluster: Cluster) -> Cluster:
    """A deep copy of ``cluster`` that tells no listener about its changes (for trial edits).

    Edits are tried on this copy first; only when the whole edit succeeds is it made on the real
    cluster, so a failing edit never leaves a half-applied change behind.
    """
    memo: dict[int, object] = {}
    for attribute, value in vars(cluster).items():
        # The listeners are the proxiers' trackers: the copy must not feed them.
        if attribute.endswith("_listeners"):
            memo[id(value)] = []
        else:
            _share_values(value, memo)
    return copy.deepcopy(cluster, memo)


def _share_values(value: object, memo: dict[int, object]) -> None:
    """Let the copy share the immutable objects (frozen dataclasses): only the containers are copied."""
    frozen = getattr(getattr(value, "__dataclass_params__", None), "frozen", False)
    if frozen and not isinstance(value, type):
        memo[id(value)] = value
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _share_values(key, memo)
            _share_values(item, memo)
    elif isinstance(value, list | set | tuple | frozenset):
        for item in value:
            _share_values(item, memo)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for item in vars(value).values():
            _share_values(item, memo)
