"""Service and endpoint change trackers, as kube-proxy keeps them, so a sync can rewrite only what changed.

Watch events go in (``on_service``/``on_endpoint_slice``); ``ServicePortMap.update`` and
``EndpointsMap.update`` apply the accumulated changes and report which Services (namespace,
name) really changed, which is what a partial sync rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kproxy_tutor.sandbox.endpoints import EndpointInfo, slice_endpoints
from kproxy_tutor.sandbox.families import IPV4, check_family
from kproxy_tutor.sandbox.model import EndpointSlice, Service
from kproxy_tutor.sandbox.serviceport import ServicePortInfo, ServicePortName, service_port_map

Key = tuple[str, str]


@dataclass(slots=True)
class UpdateResult:
    updated_services: set[Key] = field(default_factory=set)


class ServiceChangeTracker:
    """Accumulates Service changes; a change that ends where it started is dropped (as upstream)."""

    def __init__(self, family: str = IPV4) -> None:
        #: The proxier's IP family: only Services with a ClusterIP of it are kept.
        self.family = check_family(family)
        self._items: dict[
            Key, tuple[dict[ServicePortName, ServicePortInfo], dict[ServicePortName, ServicePortInfo]]
        ] = {}

    def on_service(self, old: Service | None, new: Service | None) -> None:
        service = new if new is not None else old
        if service is None:
            return
        key = (service.namespace, service.name)
        previous = self._items[key][0] if key in self._items else service_port_map(old, self.family)
        current = service_port_map(new, self.family)
        if previous == current:
            self._items.pop(key, None)
        else:
            self._items[key] = (previous, current)

    def pending(self) -> set[Key]:
        return set(self._items)

    def checkout(
        self,
    ) -> dict[Key, tuple[dict[ServicePortName, ServicePortInfo], dict[ServicePortName, ServicePortInfo]]]:
        items, self._items = self._items, {}
        return items


class EndpointsChangeTracker:
    """Keeps the applied and pending EndpointSlices of every Service, like upstream's EndpointSliceCache."""

    def __init__(self, node_name: str, family: str = IPV4) -> None:
        self.node_name = node_name
        #: The proxier's IP family: only EndpointSlices with this addressType count.
        self.family = check_family(family)
        self._applied: dict[Key, dict[str, EndpointSlice]] = {}
        self._pending: dict[Key, dict[str, EndpointSlice | None]] = {}

    def on_endpoint_slice(self, old: EndpointSlice | None, new: EndpointSlice | None) -> None:
        # Slices of the other family never reach this family's proxier (upstream drops them
        # in EndpointSliceUpdate, before they enter the cache).
        if old is not None and old.address_type != self.family:
            old = None
        if new is not None and new.address_type != self.family:
            new = None
        if old is None and new is None:
            return
        if old is not None and (new is None or new.service_name != old.service_name):
            self._stage((old.namespace, old.service_name), old.name, None)
        if new is not None and new.service_name:
            self._stage((new.namespace, new.service_name), new.name, new)

    def _stage(self, key: Key, slice_name: str, slice_: EndpointSlice | None) -> None:
        pending = self._pending.setdefault(key, {})
        pending[slice_name] = slice_
        applied = self._applied.get(key)
        if not applied and slice_ is not None:
            # A new slice of a Service with none applied (the whole initial list): a change.
            return
        applied = applied or {}
        # A slice whose content ends where it started is not a change (upstream compares hashes).
        if all(applied.get(name) == value for name, value in pending.items()):
            del self._pending[key]

    def pending(self) -> set[Key]:
        return set(self._pending)

    def checkout(self) -> dict[Key, dict[ServicePortName, tuple[EndpointInfo, ...]]]:
        """Apply pending slices; return the new endpoints of every Service that changed."""
        changes = {}
        for key, pending in self._pending.items():
            applied = self._applied.setdefault(key, {})
            for name, slice_ in pending.items():
                if slice_ is None:
                    applied.pop(name, None)
                else:
                    applied[name] = slice_
            if not applied:
                del self._applied[key]
            changes[key] = slice_endpoints(key[0], key[1], applied.values(), self.node_name, self.family)
        self._pending = {}
        return changes

    def all_endpoints(self) -> dict[Key, dict[ServicePortName, tuple[EndpointInfo, ...]]]:
        """Endpoints of every Service from the applied slices (used to start over after a config change)."""
        return {
            key: slice_endpoints(key[0], key[1], slices.values(), self.node_name, self.family)
            for key, slices in self._applied.items()
        }


class ServicePortMap(dict[ServicePortName, ServicePortInfo]):
    """All proxied service ports; ``update_from`` applies a tracker's changes."""

    def __init__(self) -> None:
        super().__init__()
        self._sorted: list[ServicePortName] | None = []

    def update_from(self, tracker: ServiceChangeTracker) -> UpdateResult:
        result = UpdateResult()
        for key, (previous, current) in tracker.checkout().items():
            if previous.keys() != current.keys():
                self._sorted = None
            for name in previous:
                self.pop(name, None)
            self.update(current)
            result.updated_services.add(key)
        return result

    def sorted_names(self) -> list[ServicePortName]:
        """Port names in sync order, re-sorted only when ports came or went."""
        if self._sorted is None:
            self._sorted = sorted(self)
        return self._sorted


class EndpointsMap(dict[ServicePortName, tuple[EndpointInfo, ...]]):
    """Endpoints of every service port; ``update_from`` applies a tracker's changes."""

    def __init__(self) -> None:
        super().__init__()
        self._by_service: dict[Key, list[ServicePortName]] = {}

    def update_from(self, tracker: EndpointsChangeTracker) -> UpdateResult:
        return self._replace(tracker.checkout())

    def reset_from(self, tracker: EndpointsChangeTracker) -> None:
        self.clear()
        self._by_service.clear()
        self._replace(tracker.all_endpoints())

    def _replace(self, changes: dict[Key, dict[ServicePortName, tuple[EndpointInfo, ...]]]) -> UpdateResult:
        result = UpdateResult()
        for key, endpoints in changes.items():
            for name in self._by_service.pop(key, ()):
                self.pop(name, None)
            if endpoints:
                self.update(endpoints)
                self._by_service[key] = list(endpoints)
            result.updated_services.add(key)
        return result
