"""``--format transaction``: what kube-proxy sends to ``nft -f`` on a sync, in its order; checked with the real nft."""

from __future__ import annotations

import dataclasses

import pytest

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import FORMATS, compile_mode
from kproxy_tutor.sandbox.nftables import render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.parse import parse_transaction
from kproxy_tutor.sandbox.nftables.proxier import NftProxier
from tests.modes.helpers import NODE_N1, endpoint_slice
from tests.netns import network_namespace, unavailable_reason

_KERNEL = unavailable_reason(("ip", "nft"))

CLUSTER = (
    NODE_N1
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  clusterIP: 10.96.0.20
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, protocol: TCP}]
"""
    + endpoint_slice("web", ["10.244.0.5", "10.244.0.6"], 8080)
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ns}
spec:
  type: NodePort
  clusterIP: 10.96.0.30
  ports: [{name: pg, port: 5432, protocol: TCP, nodePort: 30432}]
"""
    + endpoint_slice("db", ["10.244.0.7"], 5432, port_name="pg")
)


def _proxier() -> tuple[NftProxier, object]:
    cluster = load_texts([(CLUSTER, "cluster.yaml")]).cluster
    return NftProxier(cluster, "n1"), cluster


def test_first_sync_is_setup_then_each_service_port_in_upstreams_order() -> None:
    proxier, _ = _proxier()
    (tx,) = proxier.sync().transactions()
    lines = tx.splitlines()
    head = "ip kube-proxy"
    assert lines[0] == f'add table {head} {{ comment "rules for kube-proxy" ; }}'
    # Once per process: every base chain added and deleted, then added with its hook and flushed.
    assert lines[1:3] == [
        f"add chain {head} filter-prerouting-pre-dnat",
        f"delete chain {head} filter-prerouting-pre-dnat",
    ]
    assert lines[17:19] == [
        f"add chain {head} filter-prerouting-pre-dnat {{ type filter hook prerouting priority -110 ; }}",
        f"flush chain {head} filter-prerouting-pre-dnat",
    ]
    # A jump chain exists (added and flushed) before the rule that jumps to it.
    jump = lines.index(f"add rule {head} filter-prerouting-pre-dnat ct state new jump firewall-check")
    assert lines[jump - 2 : jump] == [
        f"add chain {head} firewall-check",
        f"flush chain {head} firewall-check",
    ]
    # setupNFTables ends with the services rules; the service ports follow (ns/db before ns/web).
    services = lines.index(
        f"add rule {head} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports"
    )
    # Then the six element containers start over (kube-proxy cannot read a table not there yet).
    assert lines[services + 1 : services + 7] == [
        f"flush set {head} cluster-ips",
        f"flush map {head} service-ips",
        f"flush map {head} firewall-ips",
        f"flush map {head} no-endpoint-services",
        f"flush map {head} no-endpoint-nodeports",
        f"flush map {head} service-nodeports",
    ]
    db = lines[services + 7 :]
    endpoint = db[0].split()[-1]
    assert db[0].startswith(f"add chain {head} endpoint-") and endpoint.endswith(
        "-ns/db/tcp/pg__10.244.0.7/5432"
    )
    assert db[1] == f"flush chain {head} {endpoint}"
    first_element = next(i for i, line in enumerate(db) if line.startswith("add element"))
    assert db[first_element] == f"add element {head} cluster-ips {{ 10.96.0.30 }}"
    # The affinity set is added before the dispatch rule that looks it up (after the external rules).
    web = [line for line in lines if "ns/web/" in line]
    added = next(i for i, line in enumerate(web) if line.startswith(f"add set {head} affinity-"))
    assert "timeout 10800s" in web[added]
    assert added < next(i for i, line in enumerate(web) if "saddr @affinity-" in line)
    assert not any(line.startswith("add rule") for line in web[:added] if "endpoint-" in line.split()[4])
    # Same objects as the sorted form upstream's tests compare.
    assert (
        parse_transaction(tx).canonical() == parse_transaction(render_transaction(proxier.table)).canonical()
    )


def test_all_local_addresses_accept_nodeports_adds_and_deletes_nodeport_ips() -> None:
    config = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nnodePortAddresses: [0.0.0.0/0]\n---\n"
    cluster = load_texts([(config + CLUSTER, "cluster.yaml")]).cluster
    (tx,) = NftProxier(cluster, "n1").sync().transactions()
    lines = tx.splitlines()
    added = lines.index(
        'add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }'
    )
    assert lines[added + 1] == "delete set ip kube-proxy nodeport-ips"


def _partial_syncs():  # type: ignore[no-untyped-def]
    proxier, cluster = _proxier()
    first = proxier.sync()
    # Service ns/db goes away, ns/web loses an endpoint, ns/api is new.
    cluster.remove_service("ns", "db")
    web = cluster.endpoint_slices[("ns", "web-1")]
    cluster.apply_endpoint_slice(dataclasses.replace(web, endpoints=web.endpoints[:1]))
    api = load_texts(
        [
            (
                CLUSTER.replace("name: db,", "name: api,")
                .replace("10.96.0.30", "10.96.0.40")
                .replace("30432", "30433")
                .replace("db-1", "api-1")
                .replace("service-name: db", "service-name: api"),
                "x.yaml",
            )
        ]
    ).cluster
    cluster.apply_service(api.services[("ns", "api")])
    cluster.apply_endpoint_slice(api.endpoint_slices[("ns", "api-1")])
    second = proxier.sync()
    third = proxier.sync()  # nothing changed: only the delayed deletion of the flushed chains
    return first, second, third


def test_partial_sync_writes_only_what_changed_and_cleans_up_after() -> None:
    _, second, third = _partial_syncs()
    assert not second.full
    (tx,) = second.transactions()
    lines = tx.splitlines()
    assert not any(
        line.startswith(("add table", "add map", "add chain ip kube-proxy services")) for line in lines
    )
    # ns/web's chains are rewritten (its endpoints changed): its service chain, one endpoint chain.
    assert any(line.startswith("flush chain ip kube-proxy service-") and "ns/web/" in line for line in lines)
    # ns/db's chains are flushed, not deleted; its elements are deleted; the gone endpoint's
    # chain is flushed and its affinity set deleted.
    flushed = [line for line in lines if line.startswith("flush chain") and "ns/db/" in line]
    assert len(flushed) == 3
    assert "delete element ip kube-proxy service-ips { 10.96.0.30 . tcp . 5432 }" in lines
    assert "delete element ip kube-proxy cluster-ips { 10.96.0.30 }" in lines
    assert "delete element ip kube-proxy service-nodeports { tcp . 30432 }" in lines
    assert any(
        line.startswith("delete set ip kube-proxy affinity-") and "10.244.0.6" in line for line in lines
    )
    assert "add element ip kube-proxy cluster-ips { 10.96.0.40 }" in lines
    # Elements that did not change are not written again.
    assert not any("10.96.0.20 . tcp . 80" in line for line in lines)
    # The next sync deletes the flushed chains in a transaction of its own, and writes nothing else.
    (deletes,) = third.transactions()
    assert sorted(deletes.splitlines()) == sorted(
        line.replace("flush", "delete")
        for line in lines
        if line.startswith("flush chain") and line.split()[-1] not in second.table.chains
    )


@pytest.mark.kernel
@pytest.mark.skipif(_KERNEL is not None, reason=_KERNEL or "")
def test_real_nft_applies_full_and_partial_syncs_to_the_table_we_list() -> None:
    first, second, third = _partial_syncs()
    with network_namespace("kpt-nfttx") as ns:
        for result in (first, second, third):
            for tx in result.transactions():
                ns.run(["nft", "-f", "-"], stdin=tx)
        listed = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
    # New objects come after the ones the kernel already held, as nft lists them.
    assert listed == render_listing(third.table)


def test_rules_formats_offer_both_transactions() -> None:
    assert list(FORMATS["nftables"]) == ["list", "transaction", "transaction-sorted"]
    compiled = compile_mode(load_texts([(CLUSTER, "cluster.yaml")]).cluster, "n1", "nftables")
    assert compiled.texts["nft transaction"].startswith(
        'add table ip kube-proxy { comment "rules for kube-proxy" ; }\nadd chain'
    )
    assert compiled.texts["nft transaction sorted"] == render_transaction(compiled.state)


def test_format_completion_offers_the_new_views() -> None:
    from kproxy_tutor.completion_values import formats

    assert formats("transaction") == ["transaction", "transaction-sorted"]
    assert "sysctl" in formats()
