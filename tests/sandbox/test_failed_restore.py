"""A failed iptables-restore makes the next sync a full one, as upstream's syncProxyRules does.

Upstream (pkg/proxy/iptables/proxier.go, syncProxyRules): on failure the deferred handler sets
``needFullSync = true``, because the change trackers were already drained; a partial sync
could never repair the node and stale chains would stay in the nat table.
"""

from __future__ import annotations

import pytest

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, RestoreError
from kproxy_tutor.sandbox.iptables.rules import DeleteChain, Payload, PayloadTable
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    Service,
    ServicePort,
)


def _slice(name: str, ip: str) -> EndpointSlice:
    return EndpointSlice(
        "default", f"{name}-1", name, endpoints=(Endpoint((ip,)),), ports=(EndpointPort("", 80),)
    )


def test_a_failed_partial_restore_forces_a_full_sync() -> None:
    cluster = Cluster(network=ClusterNetwork())
    cluster.add_node(Node("n1", ("192.168.0.2",)))
    for name, ip in (("a", "10.96.0.20"), ("b", "10.96.0.30")):
        cluster.apply_service(Service("default", name, cluster_ip=ip, ports=(ServicePort(80),)))
        cluster.apply_endpoint_slice(_slice(name, "10.244.0.5" if name == "a" else "10.244.0.6"))
    proxier = Proxier(cluster, "n1")
    assert proxier.sync().full
    nat = proxier.kernel.ruleset.tables["nat"]
    svc_b = next(
        c
        for c in nat.chains
        if c.startswith("KUBE-SVC-") and any("default/b" in str(r) for r in nat.chains[c].rules)
    )
    # Someone flushes KUBE-SERVICES and deletes b's chain behind kube-proxy's back.
    proxier.kernel.apply(Payload([PayloadTable("nat", ["KUBE-SERVICES", svc_b], [DeleteChain(svc_b)])]))
    assert svc_b not in nat.chains

    # A's endpoints change: the partial sync rewrites KUBE-SERVICES, whose rule for b jumps
    # to a chain that is gone, so iptables-restore refuses the nat table.
    cluster.apply_endpoint_slice(_slice("a", "10.244.0.7"))
    with pytest.raises(RestoreError):
        proxier.sync()
    assert proxier.need_full_sync

    # The next sync is full: it declares every chain again and succeeds.
    result = proxier.sync()
    assert result.full
    assert svc_b in proxier.kernel.ruleset.tables["nat"].chains
    assert any("10.244.0.7" in str(r) for c in nat.chains.values() for r in c.rules)
    assert not proxier.need_full_sync
