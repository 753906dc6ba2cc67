"""The IP-family model: node addresses per family, ClusterIP allocation as the API server does it,
EndpointSlices per address family, per-family change trackers and ServiceCIDR objects."""

from __future__ import annotations

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.changes import (
    EndpointsChangeTracker,
    EndpointsMap,
    ServiceChangeTracker,
    ServicePortMap,
)
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.model import ClusterNetwork, Node, Pod, Service, ServicePort, frozen_labels
from kproxy_tutor.sandbox.modes import compile_mode

DUAL_NETWORK = ClusterNetwork(
    service_cidr="10.96.0.0/12,fd00:10:96::/112", pod_cidr="10.244.0.0/16,fd00:10:244::/56"
)


def _dual_cluster(network: ClusterNetwork = DUAL_NETWORK) -> Cluster:
    cluster = Cluster(network=network)
    cluster.add_node(Node("n1", ("192.168.0.2", "fd00::2")))
    return cluster


def _web(**changes: object) -> Service:
    return Service(
        "default", "web", ports=(ServicePort(80),), selector=frozen_labels({"app": "web"}), **changes
    )  # type: ignore[arg-type]


def test_node_addresses_and_pod_cidrs_per_family() -> None:
    node = _dual_cluster().node("n1")
    assert node.ips(IPV4) == ("192.168.0.2",) and node.ips(IPV6) == ("fd00::2",)
    assert node.pod_cidr(IPV4) == "10.244.0.0/24"
    assert node.pod_cidr(IPV6) == "fd00:10:244::/64"
    assert node.pod_cidr() == "10.244.0.0/24"
    assert node.ipv4_ips == ("192.168.0.2",) and node.ipv4_pod_cidr == "10.244.0.0/24"


def test_single_stack_service_on_a_dual_stack_cluster_gets_the_primary_family() -> None:
    service = _dual_cluster().apply_service(_web())
    assert service.ip_family_policy == "SingleStack"
    assert service.ip_families == ("IPv4",)
    assert service.cluster_ips == (service.cluster_ip,) and ":" not in service.cluster_ip


@pytest.mark.parametrize("policy", ["PreferDualStack", "RequireDualStack"])
def test_dual_stack_policies_get_a_clusterip_per_family_primary_first(policy: str) -> None:
    service = _dual_cluster().apply_service(_web(ip_family_policy=policy))
    assert service.ip_families == ("IPv4", "IPv6")
    v4, v6 = service.cluster_ips
    assert service.cluster_ip == v4 and v4.startswith("10.") and v6.startswith("fd00:10:96::")


def test_ipv6_primary_cluster_puts_ipv6_first() -> None:
    network = ClusterNetwork(
        service_cidr="fd00:10:96::/112,10.96.0.0/12", pod_cidr="10.244.0.0/16,fd00:10:244::/56"
    )
    service = _dual_cluster(network).apply_service(_web(ip_family_policy="PreferDualStack"))
    assert service.ip_families == ("IPv6", "IPv4") and ":" in service.cluster_ip


def test_ipfamilies_ipv6_first_is_honoured() -> None:
    service = _dual_cluster().apply_service(_web(ip_family_policy="PreferDualStack", ip_families=("IPv6",)))
    assert service.ip_families == ("IPv6", "IPv4") and ":" in service.cluster_ips[0]


def test_require_dual_stack_on_a_single_stack_cluster_is_refused_clearly() -> None:
    cluster = Cluster()
    with pytest.raises(SandboxInputError) as info:
        cluster.apply_service(_web(ip_family_policy="RequireDualStack"))
    assert "RequireDualStack" in str(info.value) and "single-stack" in str(info.value)


def test_prefer_dual_stack_on_a_single_stack_cluster_is_single_stack() -> None:
    service = Cluster().apply_service(_web(ip_family_policy="PreferDualStack"))
    assert service.ip_families == ("IPv4",) and len(service.cluster_ips) == 1


def test_two_ipfamilies_default_the_policy_to_require_dual_stack() -> None:
    service = _dual_cluster().apply_service(_web(ip_families=("IPv4", "IPv6")))
    assert service.ip_family_policy == "RequireDualStack" and len(service.cluster_ips) == 2


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"ip_family_policy": "SingleStack", "ip_families": ("IPv4", "IPv6")}, "SingleStack"),
        ({"cluster_ip": "10.96.0.50", "ip_families": ("IPv6",)}, "ipFamilies[0]"),
        ({"ip_family_policy": "DualStack"}, "unknown ipFamilyPolicy"),
        ({"cluster_ips": ("10.96.0.50", "10.96.0.51")}, "different IP families"),
    ],
)
def test_inconsistent_family_fields_are_refused(changes: dict[str, object], words: str) -> None:
    with pytest.raises(SandboxInputError) as info:
        _dual_cluster().apply_service(_web(**changes))
    assert words in str(info.value)


def test_given_dual_stack_ips_of_a_dump_are_kept_on_a_default_cluster() -> None:
    service = Cluster().apply_service(_web(cluster_ips=("10.96.0.50", "fd00:10:96::50")))
    assert service.cluster_ips == ("10.96.0.50", "fd00:10:96::50")
    assert service.ip_families == ("IPv4", "IPv6")


def test_pods_get_one_ip_per_family_and_slices_are_written_per_family() -> None:
    cluster = _dual_cluster()
    cluster.apply_service(_web(ip_family_policy="PreferDualStack"))
    pod = cluster.apply_pod(Pod("default", "web-1", frozen_labels({"app": "web"}), node_name="n1"))
    assert pod.ip(IPV4) == "10.244.0.2" and pod.ip(IPV6) == "fd00:10:244::2"
    slices = cluster.slices_of("default", "web")
    assert sorted(s.address_type for s in slices) == ["IPv4", "IPv6"]
    by_type = {s.address_type: s for s in slices}
    assert by_type["IPv6"].endpoints[0].addresses == ("fd00:10:244::2",)
    assert by_type["IPv4"].endpoints[0].addresses == ("10.244.0.2",)


def test_single_stack_service_gets_no_ipv6_slice() -> None:
    cluster = _dual_cluster()
    cluster.apply_service(_web())
    cluster.apply_pod(Pod("default", "web-1", frozen_labels({"app": "web"}), node_name="n1"))
    assert [s.address_type for s in cluster.slices_of("default", "web")] == ["IPv4"]


@pytest.mark.parametrize("family, prefix", [(IPV4, "10."), (IPV6, "fd00:")])
def test_change_trackers_see_only_their_family(family: str, prefix: str) -> None:
    cluster = _dual_cluster()
    cluster.apply_service(_web(ip_family_policy="PreferDualStack"))
    cluster.apply_service(Service("default", "only4", ports=(ServicePort(81),)))
    cluster.apply_pod(Pod("default", "web-1", frozen_labels({"app": "web"}), node_name="n1"))
    services, endpoints = ServiceChangeTracker(family=family), EndpointsChangeTracker("n1", family=family)
    cluster.watch(services.on_service, endpoints.on_endpoint_slice)
    ports, eps = ServicePortMap(), EndpointsMap()
    ports.update_from(services)
    eps.update_from(endpoints)
    names = {name.name for name in ports}
    assert names == ({"web", "only4"} if family == IPV4 else {"web"})
    assert all(info.cluster_ip.startswith(prefix) for info in ports.values())
    (web_endpoints,) = [e for name, e in eps.items() if name.name == "web"]
    assert [e.ip for e in web_endpoints] == [f"{prefix}244.0.2" if family == IPV4 else "fd00:10:244::2"]
    if family == IPV6:
        assert web_endpoints[0].endpoint == "[fd00:10:244::2]:80"


SERVICE_CIDRS = """\
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: kubernetes}
spec: {cidrs: [172.20.0.0/16, "fd00:20::/108"]}
---
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: extra}
spec: {cidrs: [172.21.0.0/24]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80}]
"""


def test_service_cidr_objects_drive_allocation() -> None:
    cluster = load_texts([(SERVICE_CIDRS, "cidrs.yaml")]).cluster
    assert cluster.service_cidrs() == ("172.20.0.0/16", "fd00:20::/108", "172.21.0.0/24")
    v4, v6 = cluster.services[("default", "web")].cluster_ips
    assert v4.startswith("172.20.") and v6.startswith("fd00:20::")


def test_service_cidr_objects_drive_the_nftables_unallocated_clusterip_drop() -> None:
    cluster = load_texts([(SERVICE_CIDRS, "cidrs.yaml")]).cluster
    listing = compile_mode(cluster, None, "nftables").texts["nft list"]
    # Adjacent ranges: the kernel keeps them as one interval, and nft lists it so.
    assert "ip daddr { 172.20.0.0-172.21.0.255 } drop" in listing
    assert "10.96.0.0/12" not in listing


def test_service_cidr_with_two_ipv4_ranges_is_refused() -> None:
    text = SERVICE_CIDRS.replace('"fd00:20::/108"', "172.22.0.0/16")
    with pytest.raises(SandboxInputError) as info:
        load_texts([(text, "cidrs.yaml")])
    assert "one IPv4 and one IPv6" in str(info.value) and info.value.location == "cidrs.yaml:1"


def test_an_update_that_leaves_clusterips_out_keeps_both_families() -> None:
    cluster = _dual_cluster()
    first = cluster.apply_service(_web(ip_family_policy="PreferDualStack"))
    # What kubectl edit sends back when only clusterIP is in the manifest: the API server keeps the rest.
    again = cluster.apply_service(_web(cluster_ip=first.cluster_ip))
    assert again.cluster_ips == first.cluster_ips and again.ip_family_policy == "PreferDualStack"
    # Asking for SingleStack drops the secondary family (a downgrade the API server allows).
    single = cluster.apply_service(_web(ip_family_policy="SingleStack"))
    assert single.cluster_ips == first.cluster_ips[:1] and single.ip_families == ("IPv4",)
