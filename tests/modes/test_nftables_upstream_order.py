"""``--format transaction`` in the order kube-proxy v1.35's syncProxyRules adds its operations.

A knftables transaction writes its operations to ``nft -f`` in the order they were added
(``Transaction.operation`` appends, ``asCommandBuf`` writes them in turn), so the order below is
the order of the calls in upstream's ``pkg/proxy/nftables/proxier.go``.
"""

from __future__ import annotations

import re

import pytest

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.nftables import render_listing
from kproxy_tutor.sandbox.nftables.proxier import NftProxier
from tests.modes.helpers import NODE_N1, endpoint_slice
from tests.netns import network_namespace, unavailable_reason

_KERNEL = unavailable_reason(("ip", "nft"))

HEAD = "ip kube-proxy"
LB = (
    NODE_N1
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.20
  externalIPs: [192.168.99.22]
  loadBalancerSourceRanges: [203.0.113.0/25]
  ports: [{name: http, port: 80, protocol: TCP, nodePort: 30080}]
status:
  loadBalancer:
    ingress: [{ip: 5.6.7.8}]
"""
    + endpoint_slice("web", ["10.244.0.5"], 8080)
)

#: upstream nftablesJumpChains, (destination, source) in its order.
UPSTREAM_JUMPS = [
    ("nodeport-endpoints-check", "filter-input"),
    ("service-endpoints-check", "filter-input"),
    ("service-endpoints-check", "filter-forward"),
    ("service-endpoints-check", "filter-output"),
    ("firewall-check", "filter-prerouting-pre-dnat"),
    ("firewall-check", "filter-output-pre-dnat"),
    ("services", "nat-output"),
    ("services", "nat-prerouting"),
    ("masquerading", "nat-postrouting"),
    ("cluster-ips-check", "filter-forward"),
    ("cluster-ips-check", "filter-output"),
]
#: The regular chains setupNFTables creates, in its order: the jump destinations as the loop
#: over nftablesJumpChains reaches them, then mark-for-masquerade (the "other top-level chains"
#: loop; the other three exist already), then reject-chain.
UPSTREAM_SETUP_CHAINS = [
    "nodeport-endpoints-check",
    "service-endpoints-check",
    "firewall-check",
    "services",
    "masquerading",
    "cluster-ips-check",
    "mark-for-masquerade",
    "reject-chain",
]
BASE = [
    "filter-prerouting-pre-dnat",
    "filter-output-pre-dnat",
    "filter-input",
    "filter-forward",
    "filter-output",
    "nat-prerouting",
    "nat-output",
    "nat-postrouting",
]


def _sync():  # type: ignore[no-untyped-def]
    return NftProxier(load_texts([(LB, "cluster.yaml")]).cluster, "n1").sync()


def test_setup_creates_jump_chains_and_jumps_in_nftables_jump_chains_order() -> None:
    # setupNFTables: for _, c := range nftablesJumpChains { ensureChain(c.dstChain, …);
    # tx.Add(&knftables.Rule{Chain: c.srcChain, Rule: Concat(c.extraArgs, "jump", c.dstChain)}) }
    (tx,) = _sync().transactions()
    lines = tx.splitlines()
    jumps = [
        (m.group(2), m.group(1))
        for m in (
            re.fullmatch(rf"add rule {HEAD} (\S+) (?:ct state new )?jump (\S+)", line) for line in lines
        )
        if m and m.group(1) in BASE
    ]
    assert jumps == UPSTREAM_JUMPS
    service = lines.index(f"add chain {HEAD} service-endpoints-check")
    assert lines[service + 1 : service + 5] == [
        f"flush chain {HEAD} service-endpoints-check",
        f"add rule {HEAD} filter-input ct state new jump service-endpoints-check",
        f"add rule {HEAD} filter-forward ct state new jump service-endpoints-check",
        f"add rule {HEAD} filter-output ct state new jump service-endpoints-check",
    ]
    created = [
        line.split()[4]
        for line in lines
        if line.startswith(f"add chain {HEAD} ") and "/" not in line.split()[4]
    ]
    # Base chains twice (the once-per-process add + delete, then with their hooks), then the rest.
    assert created == BASE + BASE + UPSTREAM_SETUP_CHAINS


def test_nft_list_prints_the_fixed_chains_in_that_creation_order() -> None:
    listing = render_listing(_sync().table)
    chains = [m.group(1) for m in re.finditer(r"^\tchain (\S+) \{", listing, re.M)]
    assert [c for c in chains if "/" not in c] == BASE + UPSTREAM_SETUP_CHAINS


def test_firewall_chain_added_before_lb_elements_and_its_rule_after_the_external_chain() -> None:
    # syncProxyRules: ensureChain(fwChain) comes after "Capture externalIPs" and before "Capture
    # load-balancer ingress"; the "ip saddr != { … } drop" rule is added under "if usesFWChain"
    # after "Set up external traffic handling", before the affinity sets and the dispatch rules.
    (tx,) = _sync().transactions()
    web = [line for line in tx.splitlines() if "ns/web/" in line or " 5.6.7.8 " in line or "99.22" in line]
    fw = next(line.split()[4] for line in web if line.startswith(f"add chain {HEAD} firewall-"))
    added = web.index(f"add chain {HEAD} {fw}")
    assert web[added + 1] == f"flush chain {HEAD} {fw}"
    assert web[added - 1].startswith(f"add element {HEAD} service-ips {{ 192.168.99.22 . tcp . 80 ")
    assert web[added + 2].startswith(f"add element {HEAD} service-ips {{ 5.6.7.8 . tcp . 80 ")
    rule = web.index(f"add rule {HEAD} {fw} ip saddr != {{ 203.0.113.0/25 }} drop")
    external = [i for i, line in enumerate(web) if line.startswith(f"add rule {HEAD} external-")]
    dispatch = next(i for i, line in enumerate(web) if "numgen random" in line)
    assert external and max(external) < rule < dispatch
    assert all(not line.startswith("add element") for line in web[rule:])


@pytest.mark.kernel
@pytest.mark.skipif(_KERNEL is not None, reason=_KERNEL or "")
def test_real_nft_lists_the_chains_in_upstreams_creation_order() -> None:
    result = _sync()
    with network_namespace("kpt-nftord") as ns:
        for tx in result.transactions():
            ns.run(["nft", "-f", "-"], stdin=tx)
        listed = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
    chains = [m.group(1) for m in re.finditer(r"^\tchain (\S+) \{", listed, re.M)]
    assert [c for c in chains if "/" not in c] == BASE + UPSTREAM_SETUP_CHAINS
    assert listed == render_listing(result.table)
