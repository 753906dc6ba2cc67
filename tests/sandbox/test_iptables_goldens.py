"""Golden dumps per scenario (iptables-save form) and upstream kube-proxy test expectations (restore form)."""

from __future__ import annotations

import pytest

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, render_restore, render_save, sort_iptables_rules
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    NodeFacts,
    ProxyConfig,
    Service,
    ServicePort,
)

from .helpers import GOLDEN, SCENARIO_NAMES, check_golden, load_scenario, strip_header

SAVE_HEADER = (
    "# What iptables-save prints on node {node} after kube-proxy's first sync of tests/scenarios/{name}.yaml\n"
    "# (date comment lines left out). Checked against the kernel by test_kernel.py.\n"
)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_save_golden(name: str, update_goldens: bool) -> None:
    scenario = load_scenario(name)
    text = render_save(scenario.proxier.kernel.ruleset)
    check_golden(
        GOLDEN / f"{name}.txt", text, update_goldens, SAVE_HEADER.format(node=scenario.node, name=name)
    )


def test_at_least_twelve_scenarios() -> None:
    assert len(SCENARIO_NAMES) >= 12


def _upstream_spelling(payload_text: str) -> str:
    # Upstream's fake proxier is built with masqueradeMark "0x4000"; real kube-proxy writes %#08x.
    return sort_iptables_rules(payload_text.replace("0x00004000", "0x4000"))


@pytest.mark.parametrize("name", ["upstream-overall", "upstream-bad-ips"])
def test_transcribed_upstream_expectation(name: str) -> None:
    scenario = load_scenario(name)
    expected = strip_header((GOLDEN / f"{name}.upstream.txt").read_text())
    assert _upstream_spelling(render_restore(scenario.result.payload)) == expected


def _sync_repeated_cluster() -> tuple[Cluster, Proxier]:
    cluster = Cluster(
        network=ClusterNetwork(service_cidr="172.30.0.0/16", allocate_node_ports=False),
        config=ProxyConfig(cluster_cidr="10.0.0.0/8"),
        facts=NodeFacts(random_fully=False),
    )
    cluster.add_node(Node("test-node", ("192.168.0.2",)))
    return cluster, Proxier(cluster, "test-node")


def _service(ns: str, name: str, ip: str, port_name: str, port: int) -> Service:
    return Service(ns, name, cluster_ip=ip, ports=(ServicePort(port, port_name),))


def _slice(ns: str, name: str, port_name: str, port: int, *ips: str) -> EndpointSlice:
    return EndpointSlice(
        ns,
        f"{name}-1",
        name,
        endpoints=tuple(Endpoint((ip,)) for ip in ips),
        ports=(EndpointPort(port_name, port),),
    )


def test_sync_proxy_rules_repeated() -> None:
    """Upstream TestSyncProxyRulesRepeated step by step: partial syncs, stale chains, a final full sync."""
    golden = strip_header((GOLDEN / "upstream-sync-repeated.upstream.txt").read_text())
    expected = [block.split("\n", 1)[1] for block in golden.split("--- step: ")[1:]]
    cluster, proxier = _sync_repeated_cluster()
    got = []

    def sync() -> None:
        got.append(_upstream_spelling(render_restore(proxier.sync().payload)))

    cluster.apply_service(_service("ns1", "svc1", "172.30.0.41", "p80", 80))
    cluster.apply_service(_service("ns2", "svc2", "172.30.0.42", "p8080", 8080))
    cluster.apply_endpoint_slice(_slice("ns1", "svc1", "p80", 80, "10.0.1.1"))
    cluster.apply_endpoint_slice(_slice("ns2", "svc2", "p8080", 8080, "10.0.2.1"))
    sync()
    cluster.apply_service(_service("ns3", "svc3", "172.30.0.43", "p80", 80))
    cluster.apply_endpoint_slice(_slice("ns3", "svc3", "p80", 80, "10.0.3.1"))
    sync()
    cluster.remove_service("ns2", "svc2")
    sync()
    cluster.apply_service(_service("ns4", "svc4", "172.30.0.44", "p80", 80))
    sync()
    cluster.apply_endpoint_slice(_slice("ns4", "svc4", "p80", 80, "10.0.4.1"))
    sync()
    cluster.apply_endpoint_slice(_slice("ns3", "svc3", "p80", 80, "10.0.3.2"))
    sync()
    cluster.apply_endpoint_slice(_slice("ns3", "svc3", "p80", 80, "10.0.3.2", "10.0.3.3"))
    sync()
    sync()
    proxier.force_full_sync()
    cluster.remove_service("ns4", "svc4")
    sync()
    assert len(got) == len(expected) == 9
    for index, (actual, wanted) in enumerate(zip(got, expected, strict=True)):
        assert actual == wanted, f"step {index + 1} differs"
