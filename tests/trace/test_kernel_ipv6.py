"""Kernel cross-check in IPv6: the IPv6 proxier's rules (ip6tables-restore payload, ``ip6 kube-proxy`` table) loaded into
throwaway namespaces send real TCP over IPv6 to the Pods ``trace`` allows.

Runs only as root with ``ip netns``, ``ip6tables-restore`` and ``nft``, and IPv6 inside namespaces;
everything happens inside namespaces the test creates and removes.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from netns import Namespace, network_namespace, unavailable_reason

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables.render import render_save
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.model import Pod
from kproxy_tutor.sandbox.packet import OutcomeKind
from kproxy_tutor.sandbox.trace.session import TraceSession

from .netns_lab import node_lab6

pytestmark = pytest.mark.kernel
DUAL = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "dual-stack.yaml"
CLIENT_IP6 = "fd00:10:244::c8"
NODE_IP6 = "fd00:192:168::11"
CONNECTIONS = 24


def _reason(tool: str) -> str | None:
    reason = unavailable_reason(("ip", tool))
    if reason is not None:
        return reason
    with network_namespace("kpt-probe6") as probe:
        added = probe.run(["ip", "-6", "addr", "add", "fd00::1/128", "dev", "lo", "nodad"], check=False)
        if added.returncode != 0:
            return f"no IPv6 in network namespaces: {added.stderr.strip()}"
        if tool == "ip6tables-restore":
            listed = probe.run(["ip6tables-save"], check=False)
            if listed.returncode != 0:
                return f"ip6tables does not work here: {listed.stderr.strip()}"
    return None


def _cluster() -> Cluster:
    cluster = load_texts([(DUAL.read_text(encoding="utf-8"), "dual-stack.yaml")]).cluster
    # No nfacct counters in a fresh namespace: compile rules without the nfacct matches.
    cluster.facts = dataclasses.replace(cluster.facts, nfacct=False)
    cluster.apply_pod(
        Pod(
            "default",
            "client",
            node_name="worker-1",
            pod_ip="10.244.0.200",
            pod_ips=("10.244.0.200", CLIENT_IP6),
        )
    )
    return cluster


def _web_pods(cluster: Cluster) -> dict[str, tuple[str, int]]:
    return {p.name: (p.ip("IPv6"), 8080) for p in cluster.pods.values() if p.labels.get("app") == "web"}


def _nft_load(text: str):  # type: ignore[no-untyped-def]
    def load(node: Namespace) -> None:
        node.run(["nft", "-f", "-"], stdin=text)

    return load


def _ip6tables_load(text: str):  # type: ignore[no-untyped-def]
    def load(node: Namespace) -> None:
        node.run(["ip6tables-restore"], stdin=text)

    return load


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_real_ipv6_connections_reach_the_pods_trace_allows(mode: str) -> None:
    reason = _reason("ip6tables-restore" if mode == "iptables" else "nft")
    if reason is not None:
        pytest.skip(reason)
    cluster = _cluster()
    session = TraceSession.from_cluster(cluster, seed=11, mode=mode)
    lb = cluster.services[("default", "lb")].cluster_ip_of("IPv6")  # no affinity: spread over both Pods
    web = cluster.services[("default", "web")].cluster_ip_of("IPv6")  # ClientIP affinity
    nobody = cluster.services[("default", "nobody")].cluster_ip_of("IPv6")
    expected_lb = [session.curl("client", f"[{lb}]:443") for _ in range(CONNECTIONS)]
    expected_web = [session.curl("client", "web:80", family="IPv6") for _ in range(4)]
    expected_nobody = session.curl("client", "nobody:81", family="IPv6")
    assert {t.outcome.kind for t in expected_lb + expected_web} == {OutcomeKind.DELIVERED}
    assert expected_nobody.outcome.kind == OutcomeKind.REJECTED
    names = {ip: name for name, (ip, _port) in _web_pods(cluster).items()}
    allowed = {names[t.outcome.endpoint[1:].rpartition("]")[0]] for t in expected_lb if t.outcome.endpoint}
    sticky = {t.outcome.endpoint for t in expected_web}
    assert len(sticky) == 1  # affinity: every connection to the first one's Pod

    if mode == "iptables":
        rules = render_save(session.tracer_for("IPv6").network.node("worker-1").rules())
        assert "fd00:10:96::" in rules and "10.96." not in rules
        load = _ip6tables_load(rules)
    else:
        from kproxy_tutor.sandbox.nftables import NftProxier, render_transaction

        table = NftProxier(cluster, "worker-1", family="IPv6").sync().table
        assert table.family == "ip6"
        load = _nft_load(render_transaction(table))
    try:
        with node_lab6(load, NODE_IP6, CLIENT_IP6, _web_pods(cluster)) as kernel:
            reached = kernel.connect(lb, 443, CONNECTIONS)
            stuck = kernel.connect(web, 80, 4)
            refused = kernel.connect(nobody, 81, 1)
    except subprocess.CalledProcessError as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"cannot build the IPv6 namespaces: {error}")
    assert set(reached) == allowed == set(_web_pods(cluster)), reached
    assert len(set(stuck)) == 1 and set(stuck) <= set(_web_pods(cluster)), stuck
    assert refused == ["REFUSED"]
