"""Kernel cross-check: real connections through the real netfilter, loaded with the same rules, reach the Pods the evaluator says.

Runs only as root with ``ip netns`` and ``iptables``; everything happens inside namespaces the
test creates and removes.
"""

from __future__ import annotations

import dataclasses

import pytest
from netns import unavailable_reason

from kproxy_tutor.sandbox.iptables.render import render_save
from kproxy_tutor.sandbox.packet import OutcomeKind

from .conftest import CLIENT_IP, make_lab
from .netns_lab import node_lab

pytestmark = pytest.mark.kernel
_REASON = unavailable_reason()
CONNECTIONS = 40


def test_real_connections_reach_the_pods_the_evaluator_says() -> None:
    if _REASON is not None:
        pytest.skip(_REASON)
    lab = make_lab("clusterip-multi", "no-endpoints", seed=17)
    # No nfacct counters in a fresh namespace: compile rules without the nfacct matches.
    lab.cluster.facts = dataclasses.replace(lab.cluster.facts, nfacct=False)
    web = lab.cluster.services[("default", "web")].cluster_ip
    ghost = lab.cluster.services[("default", "ghost")].cluster_ip

    expected_web = [lab.session.curl("client", "web") for _ in range(CONNECTIONS)]
    expected_ghost = lab.session.curl("client", "ghost")
    expected_wrong_port = lab.session.curl("client", f"{web}:81")
    assert {t.outcome.kind for t in expected_web} == {OutcomeKind.DELIVERED}
    assert expected_ghost.outcome.kind == OutcomeKind.REJECTED
    assert expected_wrong_port.outcome.kind == OutcomeKind.NOT_SERVICE
    names = {p.pod_ip: p.name for p in lab.cluster.pods.values()}
    evaluator_pods = {names[t.outcome.endpoint.rsplit(":", 1)[0]] for t in expected_web if t.outcome.endpoint}

    rules = render_save(lab.session.tracer.network.node("worker-1").rules())
    pods = {p.name: (p.pod_ip, 8080) for p in lab.cluster.pods.values() if p.labels.get("app") == "web"}
    with node_lab(rules, "192.168.0.11", CLIENT_IP, pods) as kernel:
        reached = kernel.connect(web, 80, CONNECTIONS)
        refused = kernel.connect(ghost, 80, 1)
        unanswered = kernel.connect(web, 81, 1, timeout=1.0)
    assert set(reached) == evaluator_pods == set(pods)
    assert refused == ["REFUSED"]
    assert unanswered == ["TIMEOUT"]
