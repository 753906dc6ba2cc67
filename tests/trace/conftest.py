"""Fixtures of the trace tests: scenario clusters (from tests/scenarios) with a client Pod added, and trace sessions over them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.manifests import load_paths
from kproxy_tutor.sandbox.model import Pod
from kproxy_tutor.sandbox.packet import Trace
from kproxy_tutor.sandbox.trace.session import TraceSession

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
#: Client Pods no Service selects: "client" on worker-1, "client-2" on worker-2 (inside their nodes' Pod CIDRs
#: 10.244.1.0/24 and 10.244.2.0/24 of the default cluster).
CLIENT_IP = "10.244.1.200"
CLIENT_2_IP = "10.244.2.200"


@dataclass
class Lab:
    cluster: Cluster
    session: TraceSession

    def pod_ip(self, namespace: str, name: str) -> str:
        return self.cluster.pods[(namespace, name)].pod_ip

    def endpoints(self, selector: dict[str, str], port: int) -> set[str]:
        """``ip:port`` of every Pod the selector picks: what the Service's endpoints must be, read off the model."""
        return {
            f"{pod.pod_ip}:{port}"
            for pod in self.cluster.pods.values()
            if all(pod.labels.get(k) == v for k, v in selector.items())
        }

    def curls(self, source: str, target: str, times: int, node: str | None = None) -> list[Trace]:
        return [self.session.curl(source, target, node=node) for _ in range(times)]


def make_lab(*names: str, seed: int = 0, client: bool = True) -> Lab:
    cluster = load_paths([str(SCENARIOS / f"{name}.yaml") for name in names]).cluster
    if client and "worker-1" in cluster.nodes:
        cluster.apply_pod(Pod("default", "client", node_name="worker-1", pod_ip=CLIENT_IP))
        cluster.apply_pod(Pod("default", "client-2", node_name="worker-2", pod_ip=CLIENT_2_IP))
    return Lab(cluster, TraceSession.from_cluster(cluster, seed=seed))


@pytest.fixture
def lab() -> Callable[..., Lab]:
    return make_lab
