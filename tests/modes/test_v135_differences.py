"""Differences from kube-proxy v1.35 found by comparing with upstream's source and test expectations.

Each test states what upstream writes (pkg/proxy/nftables/proxier.go, its proxier_test.go,
pkg/proxy/apis/config/v1alpha1/conversion.go, the discovery/v1 API defaults).
"""

from __future__ import annotations

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import compile_mode
from kproxy_tutor.sandbox.nftables import render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.proxier import NftProxier
from tests.modes.helpers import NODE_N1, endpoint_slice
from tests.netns import network_namespace, unavailable_reason

_KERNEL = unavailable_reason(("ip", "nft"))

NODE = NODE_N1

LB = """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.20
  loadBalancerSourceRanges: [203.0.113.0/25]
  ports: [{name: http, port: 80, protocol: TCP, nodePort: 30080}]
status:
  loadBalancer:
    ingress: [{ip: 5.6.7.8}]
""" + endpoint_slice("web", ["10.244.0.5"], 8080)


def _transaction(text: str) -> list[str]:
    cluster = load_texts([(text, "cluster.yaml")]).cluster
    proxier = NftProxier(cluster, "n1")
    return render_transaction(proxier.sync().table).splitlines()


def test_firewall_ips_elements_carry_no_comment() -> None:
    # Upstream syncProxyRules adds firewall-ips elements without Comment (only the no-endpoint
    # maps get "ns/svc:port"); TestOverallNFTablesRules expects
    # "add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-… }".
    lines = [
        line for line in _transaction(NODE + LB) if line.startswith("add element ip kube-proxy firewall-ips")
    ]
    assert len(lines) == 1
    assert lines[0].startswith("add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-")
    assert "comment" not in lines[0]


def test_nodeport_endpoints_check_with_all_addresses_has_no_fib_match() -> None:
    # setupNFTables with nodePortAddresses.MatchAll(): nodeport-endpoints-check (jumped to from
    # filter-input only, so every packet is local) is "ip daddr != 127.0.0.0/8 meta l4proto .
    # th dport vmap @no-endpoint-nodeports"; the services chain keeps "fib daddr type local".
    config = """\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
nodePortAddresses: [0.0.0.0/0]
---
"""
    lines = _transaction(config + NODE + LB)
    check = [line for line in lines if line.startswith("add rule ip kube-proxy nodeport-endpoints-check ")]
    assert check == [
        "add rule ip kube-proxy nodeport-endpoints-check ip daddr != 127.0.0.0/8 "
        "meta l4proto . th dport vmap @no-endpoint-nodeports"
    ]
    services = [line for line in lines if line.startswith("add rule ip kube-proxy services ")]
    assert services[-1] == (
        "add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 "
        "meta l4proto . th dport vmap @service-nodeports"
    )
    assert not any("nodeport-ips" in line for line in lines)


def _config(body: str) -> str:
    return "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n" + body + "---\n"


def test_nftables_mode_reads_the_nftables_masquerade_fields() -> None:
    # conversion.go: in nftables mode MasqueradeAll comes from nftables.masqueradeAll;
    # server_linux.go passes config.NFTables.MasqueradeBit to the nftables proxier.
    iptables_only = _transaction(_config("iptables: {masqueradeAll: true, masqueradeBit: 12}\n") + NODE + LB)
    assert "add rule ip kube-proxy mark-for-masquerade mark set mark or 0x00004000" in iptables_only
    assert not any("ip daddr 10.96.0.20 jump mark-for-masquerade" in line for line in iptables_only)
    nft = _transaction(_config("nftables: {masqueradeAll: true, masqueradeBit: 12}\n") + NODE + LB)
    assert "add rule ip kube-proxy mark-for-masquerade mark set mark or 0x00001000" in nft
    assert any(line.endswith("ip daddr 10.96.0.20 jump mark-for-masquerade") for line in nft)


def test_iptables_and_ipvs_modes_still_read_the_iptables_fields() -> None:
    text = (
        _config("iptables: {masqueradeAll: true, masqueradeBit: 12}\nnftables: {masqueradeBit: 3}\n")
        + NODE
        + LB
    )
    cluster = load_texts([(text, "cluster.yaml")]).cluster
    iptables = compile_mode(cluster, "n1", "iptables").text
    assert "--or-mark 0x1000" in iptables or "0x1000/0x1000" in iptables
    ipvs = compile_mode(cluster, "n1", "ipvs").texts
    assert any("0x1000" in text for text in ipvs.values())


def test_bad_nftables_masquerade_bit_is_refused() -> None:
    with pytest.raises(SandboxInputError):
        load_texts([(_config("nftables: {masqueradeBit: 40}\n") + NODE, "cluster.yaml")])


def test_endpoint_slice_port_without_name_is_the_unnamed_port() -> None:
    # The API server defaults EndpointPort.name to "" (discovery/v1 SetDefaults_EndpointPort),
    # so such a slice serves the Service's unnamed port.
    text = NODE + LB.replace("name: http, port: 80", "port: 80").replace(
        "name: http, port: 8080", "port: 8080"
    )
    lines = _transaction(text)
    assert any("dnat to 10.244.0.5:8080" in line for line in lines), "\n".join(lines)
    # The checked converter (used for anything irregular) defaults it the same way.
    from kproxy_tutor.sandbox.manifest_fast import fast_endpoint_slice
    from kproxy_tutor.sandbox.manifest_objects import Fields, to_endpoint_slice

    data = {
        "metadata": {"name": "s", "namespace": "ns", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.0.5"]}],
        "ports": [{"port": 8080}, {"name": None, "port": 8081}],
    }
    checked = to_endpoint_slice(Fields(data, "EndpointSlice", "x.yaml:1"), "x.yaml:1")
    assert [p.name for p in checked.ports] == ["", ""]
    assert [p.name for p in fast_endpoint_slice(data).ports] == ["", ""]


@pytest.mark.kernel
@pytest.mark.skipif(_KERNEL is not None, reason=_KERNEL or "")
def test_real_nft_accepts_and_lists_the_changed_rules() -> None:
    """nft -f takes the table with both changes and nft list prints it exactly as we render it."""
    text = _config("nodePortAddresses: [0.0.0.0/0]\n") + NODE + LB
    cluster = load_texts([(text, "cluster.yaml")]).cluster
    result = NftProxier(cluster, "n1").sync()
    table = result.table
    transaction = "".join(result.transactions())
    with network_namespace("kpt-v135") as ns:
        ns.run(["nft", "-f", "-"], stdin=transaction)
        listed = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
    assert listed == render_listing(table)
    assert "ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports" in listed
    assert "5.6.7.8 . tcp . 80 : goto firewall-" in listed
