"""Zone hints the sandbox's EndpointSlice controller writes (trafficDistribution, topology-mode: Auto), and every mode obeying them."""

from __future__ import annotations

import pytest

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import MODES, compile_mode
from kproxy_tutor.sandbox.packet import OutcomeKind, Packet, SourceKind


def _cluster(zones: dict[str, str], pods: dict[str, str], service_extra: str, annotations: str = ""):
    """Nodes → zone, Pods (app=web) → node; one Service ``web`` with ``service_extra`` in its spec."""
    docs = []
    for index, (node, zone) in enumerate(zones.items()):
        label = f"\n  labels: {{topology.kubernetes.io/zone: {zone}}}" if zone else ""
        docs.append(
            f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}{label}\n"
            f"status:\n  addresses: [{{type: InternalIP, address: 192.168.0.{10 + index}}}]\n"
        )
    for index, (pod, node) in enumerate(pods.items()):
        node_index = list(zones).index(node)
        docs.append(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pod}\n  labels: {{app: web}}\n"
            f"spec:\n  nodeName: {node}\nstatus:\n  podIP: 10.244.{node_index}.{10 + index}\n"
            "  conditions: [{type: Ready, status: 'True'}]\n"
        )
    meta = f"\n  annotations: {{{annotations}}}" if annotations else ""
    docs.append(
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: web{meta}\nspec:\n  clusterIP: 10.96.0.50\n"
        f"  selector: {{app: web}}\n  ports: [{{port: 80}}]\n{service_extra}"
    )
    return load_texts([("---\n".join(docs), "test.yaml")]).cluster


ZONES = {"node-a": "zone-a", "node-b": "zone-b", "node-c": "zone-c"}
PODS = {"web-a": "node-a", "web-b": "node-b", "web-c": "node-c"}


def _hints(cluster) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        e.addresses[0]: (e.zone_hints, e.node_hints)
        for s in cluster.slices_of("default", "web")
        for e in s.endpoints
    }


@pytest.mark.parametrize("value", ["PreferClose", "PreferSameZone"])
def test_prefer_close_hints_each_endpoint_for_its_own_zone(value: str) -> None:
    cluster = _cluster(ZONES, PODS, f"  trafficDistribution: {value}\n")
    assert _hints(cluster) == {
        "10.244.0.10": (("zone-a",), ()),
        "10.244.1.11": (("zone-b",), ()),
        "10.244.2.12": (("zone-c",), ()),
    }


def test_prefer_same_node_adds_a_node_hint() -> None:
    cluster = _cluster(ZONES, PODS, "  trafficDistribution: PreferSameNode\n")
    assert _hints(cluster)["10.244.0.10"] == (("zone-a",), ("node-a",))


def test_no_setting_no_hints() -> None:
    assert all(h == ((), ()) for h in _hints(_cluster(ZONES, PODS, "")).values())


@pytest.mark.parametrize(
    "annotation",
    ["service.kubernetes.io/topology-mode: Auto", "service.kubernetes.io/topology-aware-hints: auto"],
)
def test_auto_mode_hints_balanced_zones(annotation: str) -> None:
    cluster = _cluster(ZONES, PODS, "", annotation)
    assert {ip: h[0] for ip, h in _hints(cluster).items()} == {
        "10.244.0.10": ("zone-a",),
        "10.244.1.11": ("zone-b",),
        "10.244.2.12": ("zone-c",),
    }


def test_auto_mode_refuses_fewer_endpoints_than_zones_and_a_zoneless_node() -> None:
    two = _cluster(
        ZONES, {"web-a": "node-a", "web-b": "node-b"}, "", "service.kubernetes.io/topology-mode: Auto"
    )
    assert all(h == ((), ()) for h in _hints(two).values())
    zoneless = _cluster({**ZONES, "node-d": ""}, PODS, "", "service.kubernetes.io/topology-mode: Auto")
    assert all(h == ((), ()) for h in _hints(zoneless).values())


def test_auto_mode_gives_an_endpoint_to_the_zone_short_of_its_share() -> None:
    # Two zones of equal CPU, four endpoints, three of them in zone-a: one moves to zone-b.
    zones = {"node-a": "zone-a", "node-b": "zone-b"}
    pods = {"web-1": "node-a", "web-2": "node-a", "web-3": "node-a", "web-4": "node-b"}
    hints = _hints(_cluster(zones, pods, "", "service.kubernetes.io/topology-mode: Auto"))
    assert sorted(h[0][0] for h in hints.values()) == ["zone-a", "zone-a", "zone-b", "zone-b"]
    assert hints["10.244.0.10"] == (("zone-b",), ())


def test_auto_wins_over_traffic_distribution() -> None:
    zones = {"node-a": "zone-a", "node-b": "zone-b"}
    pods = {"web-1": "node-a", "web-2": "node-b"}
    cluster = _cluster(
        zones, pods, "  trafficDistribution: PreferSameNode\n", "service.kubernetes.io/topology-mode: Auto"
    )
    assert all(node_hints == () for _, node_hints in _hints(cluster).values())


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_sends_a_pod_to_its_own_zone(mode: str) -> None:
    cluster = _cluster(ZONES, PODS, "  trafficDistribution: PreferClose\n")
    evaluator = compile_mode(cluster, "node-b", mode, seed=1).evaluator
    packet = Packet("tcp", "10.244.1.99", 40000, "10.96.0.50", 80)
    outcomes = evaluator.possible_outcomes(packet, SourceKind.POD)  # type: ignore[union-attr]
    assert {o.kind for o in outcomes} == {OutcomeKind.DELIVERED}
    assert {o.endpoint for o in outcomes} == {"10.244.1.11:80"}


def test_a_node_getting_its_zone_later_updates_the_hints() -> None:
    import dataclasses

    from kproxy_tutor.sandbox.model import frozen_labels

    cluster = _cluster({**ZONES, "node-c": ""}, PODS, "  trafficDistribution: PreferClose\n")
    assert _hints(cluster)["10.244.2.12"] == ((), ())
    node = cluster.nodes["node-c"]
    cluster.add_node(
        dataclasses.replace(node, labels=frozen_labels({"topology.kubernetes.io/zone": "zone-c"}))
    )
    assert _hints(cluster)["10.244.2.12"] == (("zone-c",), ())


def test_the_shells_manifests_keep_the_settings_and_the_hints() -> None:
    from kproxy_tutor.shell.manifests_out import dump_yaml, endpoint_slice_manifest, service_manifest

    cluster = _cluster(
        ZONES, PODS, "  trafficDistribution: PreferSameNode\n", "service.kubernetes.io/topology-mode: Auto"
    )
    service = cluster.services[("default", "web")]
    manifest = service_manifest(service)
    assert manifest["spec"]["trafficDistribution"] == "PreferSameNode"
    assert manifest["metadata"]["annotations"] == {"service.kubernetes.io/topology-mode": "Auto"}
    endpoints = endpoint_slice_manifest(cluster.slices_of("default", "web")[0])["endpoints"]
    assert {"forZones": [{"name": "zone-a"}]} in [e.get("hints") for e in endpoints]
    again = load_texts([(dump_yaml([manifest]), "saved.yaml")]).cluster.services[("default", "web")]
    assert (again.traffic_distribution, again.topology_mode) == ("PreferSameNode", "Auto")
