"""nftables and IPVS modes on a dual-stack node: one proxier per family, as kube-proxy runs them.

The IPv6 nftables proxier writes ``table ip6 kube-proxy`` (``ip6 daddr``, ``ipv6_addr``, ``::1``);
the IPv6 IPVS proxier fills ``KUBE-6-…`` ipsets (``family inet6``) and IPv6 virtual servers.
Goldens for both families, and the real ``nft`` / ``ip6tables`` in a throwaway netns.
"""

from __future__ import annotations

import shutil

import pytest

from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import render_save
from kproxy_tutor.sandbox.ipvs import IpvsProxier, render_ip_addr, render_ipvsadm
from kproxy_tutor.sandbox.ipvs.ipsets import IPSET_INFO, family_set_name, render_ipset_list
from kproxy_tutor.sandbox.ipvs.iptables import JUMP_CHAINS
from kproxy_tutor.sandbox.manifests import load_paths
from kproxy_tutor.sandbox.nftables import NftProxier, render_listing, render_transaction
from tests.modes.helpers import GOLDEN, TESTS, check_golden
from tests.netns import network_namespace, unavailable_reason

DUAL = TESTS / "sandbox" / "data" / "dual-stack.yaml"
NODE = "worker-1"


def _nft(family: str):  # type: ignore[no-untyped-def]
    return NftProxier(load_paths([str(DUAL)]).cluster, NODE, family=family).sync().table


def _ipvs(family: str):  # type: ignore[no-untyped-def]
    return IpvsProxier(load_paths([str(DUAL)]).cluster, NODE, family=family).sync()


@pytest.mark.parametrize("family", [IPV4, IPV6])
def test_nftables_dual_stack_goldens(family: str, update_goldens: bool) -> None:
    table = _nft(family)
    check_golden(
        GOLDEN / "nftables" / f"dual-stack.{family.lower()}.list.txt", render_listing(table), update_goldens
    )


@pytest.mark.parametrize("family", [IPV4, IPV6])
def test_ipvs_dual_stack_goldens(family: str, update_goldens: bool) -> None:
    state = _ipvs(family)
    stem = f"dual-stack.{family.lower()}"
    golden = GOLDEN / "ipvs"
    check_golden(golden / f"{stem}.txt", render_ipvsadm(state) + "\n" + render_ip_addr(state), update_goldens)
    listing = render_ipset_list(state.ipsets, state.iptables.references())
    check_golden(golden / f"{stem}.ipset.txt", listing, update_goldens)
    check_golden(golden / f"{stem}.iptables.txt", render_save(state.iptables.ruleset), update_goldens)


def test_ipv6_nftables_table_differs_from_ipv4_as_upstream() -> None:
    six, four = render_transaction(_nft(IPV6)), render_transaction(_nft(IPV4))
    assert six.startswith('add table ip6 kube-proxy { comment "rules for kube-proxy" ; }')
    assert "ip daddr" not in six and "ipv4_addr" not in six and "ip saddr" not in six
    assert "add set ip6 kube-proxy cluster-ips { type ipv6_addr ;" in six
    assert "dnat to [fd00:10:244::2]:8080" in six
    assert "update @affinity-" in six and "{ ip6 saddr }" in six
    assert "ip6 daddr { fd00:10:96::/112 } drop" in six and "ip daddr { 10.96.0.0/12 } drop" in four
    assert "ip6 saddr != { fd00:10:244::/56 } jump mark-for-masquerade" in six or (
        "ip6 saddr != fd00:10:244::/56 jump mark-for-masquerade" in six
    )
    # The IPv4 table knows nothing of IPv6.
    assert "fd00:" not in four and "2001:db8" not in four


NO_V6_CIDR = """\
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.2}, {type: InternalIP, address: "fd00::2"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIPs: [10.96.0.20, "fd00:10:96::20"], ports: [{port: 80}]}
"""


def test_ipv6_nftables_without_an_ipv6_service_cidr_writes_no_drop_rule() -> None:
    from kproxy_tutor.sandbox.manifests import load_texts

    cluster = load_texts([(NO_V6_CIDR, "dual.yaml")]).cluster
    six = render_transaction(NftProxier(cluster, "n1", family=IPV6).sync().table)
    four = render_transaction(NftProxier(cluster, "n1", family=IPV4).sync().table)
    # Upstream adds "Drop traffic to unallocated ClusterIPs" only when the family has a ServiceCIDR.
    assert "Drop traffic to unallocated ClusterIPs" not in six and "fd00:10:96::20" in six
    assert "Drop traffic to unallocated ClusterIPs" in four


def test_ipv6_ipvs_uses_kube_6_sets_and_bracketed_addresses() -> None:
    state = _ipvs(IPV6)
    names = [s.name for s in state.ipsets.values()]
    assert all(name.startswith("KUBE-6-") and len(name) <= 31 for name in names)
    assert "KUBE-6-LOAD-BALANCER-SOURCE-CID" in names and "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS" in names
    listing = render_ipvsadm(state)
    assert "TCP  [fd00:10:96::" in listing and "  -> [fd00:10:244::2]:8080" in listing
    assert "TCP  [fd00:192:168::11]:30080 rr persistent 10800" in listing
    assert "inet6 fd00:10:96::" in render_ip_addr(state) and "inet " not in render_ip_addr(state)
    restore = state.iptables.restore
    assert "-A KUBE-SERVICES -s ::1/128 -j RETURN" in restore and "127.0.0.0/8" not in restore
    assert "! -s fd00:10:244::/56 -j KUBE-MARK-MASQ" in restore
    assert "--reject-with icmp6-port-unreachable" in render_save(state.iptables.ruleset)


def test_rules_ipvs_and_nftables_show_both_families_on_a_dual_stack_node() -> None:
    from tests.foundation.helpers import run_tutor

    for mode, tools in (("nftables", ("nft list", "nft list")), ("ipvs", ("ipvsadm -Ln", "ipvsadm -Ln"))):
        result = run_tutor("--lang", "en", "rules", "-f", str(DUAL), "--node", NODE, "--mode", mode)
        assert result.returncode == 0, result.stderr
        assert (
            f"# IPv4 proxier: {tools[0]}" in result.stdout and f"# IPv6 proxier: {tools[1]}" in result.stdout
        )
        assert "not shown yet" not in result.stderr


# Real kernel -----------------------------------------------------------------------------------------

_NFT_REASON = unavailable_reason(("ip", "nft"))


@pytest.mark.kernel
@pytest.mark.skipif(_NFT_REASON is not None, reason=_NFT_REASON or "")
def test_nft_loads_and_lists_our_ip6_table() -> None:
    table = _nft(IPV6)
    with network_namespace("kpt-nft6") as ns:
        ns.run(["nft", "-f", "-"], stdin=render_transaction(table))
        listed = ns.run(["nft", "list", "table", "ip6", "kube-proxy"]).stdout
    assert listed == render_listing(table)


_IPVS_REASON = unavailable_reason(("ip", "ip6tables", "ip6tables-restore", "ip6tables-save"))
if _IPVS_REASON is None and shutil.which("ipset") is None:
    _IPVS_REASON = "the ipset tool is not installed: -m set rules need their sets to exist in the namespace"


@pytest.mark.kernel
@pytest.mark.skipif(_IPVS_REASON is not None, reason=_IPVS_REASON or "")
def test_kernel_loads_ipv6_ipvs_mode_sets_and_rules() -> None:
    state = _ipvs(IPV6)
    with network_namespace("kpt-ipvs6") as ns:
        for set_name, kind, _ in IPSET_INFO:
            name = family_set_name(set_name, IPV6)
            options = ["range", "0-65535"] if kind == "bitmap:port" else ["family", "inet6"]
            ns.run(["ipset", "create", name, kind, *options])
            for member in state.ipsets[set_name].members:
                ns.run(["ipset", "add", name, member])
        for table, chain, target, comment in JUMP_CHAINS:
            ns.run(["ip6tables", "-t", table, "-N", target], check=False)
            ns.run(
                ["ip6tables", "-t", table, "-I", chain, "-m", "comment", "--comment", comment, "-j", target]
            )
        # -m ipvs needs the kernel's ip_vs module, which a test machine may lack: those rules
        # (node access to a source-ranged LB VIP) are left out of the load and the comparison.
        restore = "".join(
            line for line in state.iptables.restore.splitlines(keepends=True) if "-m ipvs" not in line
        )
        ns.run(["ip6tables-restore", "--noflush"], stdin=restore)
        saved = ns.run(["ip6tables-save"]).stdout
        listed = ns.run(["ipset", "list", "-n"]).stdout.split()
    assert listed == [family_set_name(n, IPV6) for n, _, _ in IPSET_INFO]
    ours = render_save(state.iptables.ruleset)
    for line in ours.splitlines():
        if line.startswith("-A ") and "-m ipvs" not in line:
            assert line in saved, line
