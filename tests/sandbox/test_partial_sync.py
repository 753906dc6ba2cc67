"""Partial syncs leave the node exactly as a full sync would, over random sequences of cluster edits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, render_save
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
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

NODES = ("node-a", "node-b", "node-c")
APPS = ("web", "db", "cache")
SERVICE_NAMES = ("web", "db", "cache", "api", "static")


def _new_cluster() -> Cluster:
    cluster = Cluster(network=ClusterNetwork())
    for index, name in enumerate(NODES):
        cluster.add_node(Node(name, (f"192.168.0.{10 + index}",)))
    return cluster


ports = st.lists(
    st.tuples(
        st.sampled_from(["http", "dns", "metrics", "grpc"]),
        st.sampled_from(["TCP", "UDP", "SCTP"]),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda p: p[0],
).map(
    lambda items: tuple(ServicePort(80 + n * 10 + i, name, proto) for i, (name, proto, n) in enumerate(items))
)

services = st.builds(
    lambda name, type_, ports_, app, etp, itp, affinity, ext_ip, lb, ranges: Service(
        "default",
        name,
        type=type_,
        ports=ports_ if len(ports_) > 1 else (ServicePort(ports_[0].port, "", ports_[0].protocol),),
        selector=frozen_labels({"app": app}) if app else None,
        external_traffic_policy=etp,
        internal_traffic_policy=itp,
        session_affinity=affinity,
        external_ips=("192.168.0.200",) if ext_ip else (),
        load_balancer_ingress=(LoadBalancerIngress(ip="198.51.100.7"),)
        if lb and type_ == "LoadBalancer"
        else (),
        load_balancer_source_ranges=("203.0.113.0/24", "192.168.0.0/24")[:ranges]
        if type_ == "LoadBalancer"
        else (),
    ),
    st.sampled_from(SERVICE_NAMES),
    st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"]),
    ports,
    st.sampled_from((*APPS, None)),
    st.sampled_from(["Cluster", "Local"]),
    st.sampled_from(["Cluster", "Local"]),
    st.sampled_from(["None", "ClientIP"]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2),
)

pods = st.builds(
    lambda index, app, node, ready, terminating: Pod(
        "default", f"pod-{index}", frozen_labels({"app": app}), node, ready=ready, terminating=terminating
    ),
    st.integers(0, 7),
    st.sampled_from(APPS),
    st.sampled_from(NODES),
    st.booleans(),
    st.booleans(),
)

slices = st.builds(
    lambda service, ips, serving: EndpointSlice(
        "default",
        f"{service}-manual",
        service,
        endpoints=tuple(
            Endpoint(
                (ip,),
                EndpointConditions(ready=not serving, serving=True, terminating=serving),
                node_name=NODES[i % 3],
            )
            for i, ip in enumerate(ips)
        ),
        ports=(EndpointPort("", 8080, "TCP"),),
    ),
    st.sampled_from(["api", "static"]),
    st.lists(st.sampled_from(["10.244.9.1", "10.244.9.2", "10.244.9.3"]), unique=True),
    st.booleans(),
)

edits = st.one_of(
    st.tuples(st.just("service"), services),
    st.tuples(st.just("remove-service"), st.sampled_from(SERVICE_NAMES)),
    st.tuples(st.just("pod"), pods),
    st.tuples(st.just("remove-pod"), st.integers(0, 7)),
    st.tuples(st.just("slice"), slices),
    st.tuples(st.just("sync"), st.none()),
)


def _apply(cluster: Cluster, edit: tuple[str, object]) -> None:
    kind, value = edit
    if kind == "service":
        cluster.apply_service(value)  # type: ignore[arg-type]
    elif kind == "remove-service" and ("default", value) in cluster.services:
        cluster.remove_service("default", value)  # type: ignore[arg-type]
    elif kind == "pod":
        cluster.apply_pod(value)  # type: ignore[arg-type]
    elif kind == "remove-pod" and ("default", f"pod-{value}") in cluster.pods:
        cluster.remove_pod("default", f"pod-{value}")
    elif kind == "slice":
        cluster.apply_endpoint_slice(value)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edits, min_size=1, max_size=14), st.sampled_from(NODES))
def test_partial_syncs_equal_a_full_sync(steps: list[tuple[str, object]], node: str) -> None:
    cluster = _new_cluster()
    proxier = Proxier(cluster, node)
    proxier.sync()
    for step in steps:
        _apply(cluster, step)
        if step[0] == "sync" or len(steps) < 5:
            result = proxier.sync()
            assert not result.full
    proxier.sync()
    fresh = Proxier(cluster, node)
    fresh.sync()
    assert proxier.kernel.ruleset == fresh.kernel.ruleset
    assert render_save(proxier.kernel.ruleset) == render_save(fresh.kernel.ruleset)


def test_partial_sync_reports_a_rule_diff() -> None:
    cluster = _new_cluster()
    cluster.apply_service(
        Service("default", "web", ports=(ServicePort(80),), selector=frozen_labels({"app": "web"}))
    )
    cluster.apply_pod(Pod("default", "web-1", frozen_labels({"app": "web"}), "node-b"))
    proxier = Proxier(cluster, "node-a")
    first = proxier.sync()
    assert first.full and first.diff.added_chains
    cluster.apply_pod(Pod("default", "web-2", frozen_labels({"app": "web"}), "node-c"))
    second = proxier.sync()
    assert not second.full
    assert second.updated_services == {("default", "web")}
    assert len(second.diff.added_chains) == 1 and second.diff.added_chains[0][1].startswith("KUBE-SEP-")
    rewritten = {chain for _, chain in second.diff.rewritten_chains}
    assert any(c.startswith("KUBE-SVC-") for c in rewritten)
    assert len(second.diff.added_rules) == 4  # two SEP rules, one new jump, one rewritten probability rule
    assert len(second.diff.removed_rules) == 1
    cluster.remove_pod("default", "web-1")
    third = proxier.sync()
    assert [c for _, c in third.diff.removed_chains] and all(
        c.startswith("KUBE-SEP-") for _, c in third.diff.removed_chains
    )
    assert not proxier.sync().diff  # nothing changed


def _large_cluster() -> Cluster:
    """Over 1,000 endpoints: kube-proxy's large-cluster mode, which defers stale-chain cleanup."""
    cluster = _new_cluster()
    for i in range(210):
        cluster.apply_service(
            Service(
                "big",
                f"s{i}",
                cluster_ip=f"10.96.{i // 200}.{1 + i % 200}",
                ports=(ServicePort(80, "http", target_port=8080),),
            )
        )
        _set_endpoints(cluster, i, [f"10.1.{i}.{j}" for j in range(1, 6)])
    return cluster


def _set_endpoints(cluster: Cluster, i: int, ips: list[str]) -> None:
    endpoints = tuple(Endpoint((ip,), node_name=NODES[n % 3]) for n, ip in enumerate(ips))
    cluster.apply_endpoint_slice(
        EndpointSlice("big", f"s{i}-x", f"s{i}", endpoints=endpoints, ports=(EndpointPort("http", 8080),))
    )


def test_large_cluster_mode_defers_cleanup_and_keeps_syncing_partially() -> None:
    from kproxy_tutor.sandbox.iptables.rules import DeleteChain

    cluster = _large_cluster()
    now = [0.0]
    proxier = Proxier(cluster, "node-a", clock=lambda: now[0])
    assert proxier.sync().full and proxier.large_cluster_mode
    for step, i in enumerate((3, 7), start=1):
        now[0] = float(step)
        _set_endpoints(cluster, i, [f"10.1.{i}.{j}" for j in range(2, 7)])  # one endpoint replaced
        result = proxier.sync()
        nat = next(t for t in result.payload.tables if t.name == "nat")
        # Partial: only the changed Service's chains are written, and nothing is deleted yet.
        assert not result.full and result.updated_services == {("big", f"s{i}")}
        assert len([c for c in nat.declared if c.startswith("KUBE-SEP-")]) == 5
        assert not [line for line in nat.lines if isinstance(line, DeleteChain)]
    fresh = Proxier(_large_cluster_like(cluster), "node-a")
    fresh.sync()
    chains = set(proxier.kernel.ruleset.tables["nat"].chains)
    wanted = set(fresh.kernel.ruleset.tables["nat"].chains)
    assert len(chains - wanted) == 2  # the two replaced endpoints' chains wait for the cleanup
    now[0] = 40.0  # past syncPeriod (30 s): the next sync cleans up everything left behind
    _set_endpoints(cluster, 9, [f"10.1.9.{j}" for j in range(1, 5)])  # one endpoint removed
    result = proxier.sync()
    nat = next(t for t in result.payload.tables if t.name == "nat")
    assert not result.full
    assert len([line for line in nat.lines if isinstance(line, DeleteChain)]) == 3
    assert render_save(proxier.kernel.ruleset) == render_save(
        _synced(_large_cluster_like(cluster)).kernel.ruleset
    )


def _large_cluster_like(cluster: Cluster) -> Cluster:
    copy = _new_cluster()
    for service in cluster.services.values():
        copy.apply_service(service)
    for endpoint_slice in cluster.endpoint_slices.values():
        copy.apply_endpoint_slice(endpoint_slice)
    return copy


def _synced(cluster: Cluster) -> Proxier:
    proxier = Proxier(cluster, "node-a")
    proxier.sync()
    return proxier
