"""IPVS mode's ipsets and the iptables rules it still writes: goldens, upstream's rule logic, constant size, kernel load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.iptables import render_save
from kproxy_tutor.sandbox.ipvs import IpvsProxier
from kproxy_tutor.sandbox.ipvs.ipsets import IPSET_INFO, render_ipset_list
from kproxy_tutor.sandbox.ipvs.iptables import JUMP_CHAINS
from kproxy_tutor.sandbox.modes import CompiledMode, compile_mode
from kproxy_tutor.sandbox.scaling import build_cluster
from tests.modes.helpers import GOLDEN, SCENARIOS, TESTS, check_golden, load_scenario
from tests.netns import network_namespace, unavailable_reason


def state_of(path: Path):  # type: ignore[no-untyped-def]
    cluster, node = load_scenario(path)
    return IpvsProxier(cluster, node).sync()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_ipset_and_iptables_goldens(path: Path, update_goldens: bool) -> None:
    state = state_of(path)
    check_golden(
        GOLDEN / "ipvs" / f"{path.stem}.ipset.txt",
        render_ipset_list(state.ipsets, state.iptables.references()),
        update_goldens,
    )
    check_golden(GOLDEN / "ipvs" / f"{path.stem}.iptables.txt", state.iptables.restore, update_goldens)


def test_db_service_rules_follow_upstream_write_iptables_rules() -> None:
    """Written by hand from upstream writeIptablesRules for one ClusterIP Service, ClusterCIDR detection, no NodePort."""
    restore = state_of(TESTS / "scenarios" / "db-service.yaml").iptables.restore
    masq = "0x00004000"
    cluster_comment = '-m comment --comment "Kubernetes service cluster ip + port for masquerade purpose"'
    assert restore.splitlines() == [
        "*nat",
        ":KUBE-SERVICES - [0:0]",
        ":KUBE-POSTROUTING - [0:0]",
        ":KUBE-NODE-PORT - [0:0]",
        ":KUBE-LOAD-BALANCER - [0:0]",
        ":KUBE-MARK-MASQ - [0:0]",
        "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
        # KUBE-LOOP-BACK: a local endpoint on this node needs hairpin masquerade.
        '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin '
        'purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
        f"-A KUBE-SERVICES {cluster_comment} -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
        "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
        "-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ",
        "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
        f"-A KUBE-POSTROUTING -m mark ! --mark {masq}/{masq} -j RETURN",
        f"-A KUBE-POSTROUTING -j MARK --xor-mark {masq}",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        f"-A KUBE-MARK-MASQ -j MARK --or-mark {masq}",
        "COMMIT",
        "*filter",
        ":KUBE-FORWARD - [0:0]",
        ":KUBE-NODE-PORT - [0:0]",
        ":KUBE-PROXY-FIREWALL - [0:0]",
        ":KUBE-SOURCE-RANGES-FIREWALL - [0:0]",
        ":KUBE-IPVS-FILTER - [0:0]",
        ":KUBE-IPVS-OUT-FILTER - [0:0]",
        "-A KUBE-SOURCE-RANGES-FIREWALL -j DROP",
        f'-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark {masq}/{masq} -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate '
        "RELATED,ESTABLISHED -j ACCEPT",
        '-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set '
        "KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN",
        "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT",
        "COMMIT",
    ]


def test_jump_rules_are_prepended_in_upstream_order() -> None:
    save = render_save(state_of(TESTS / "scenarios" / "db-service.yaml").iptables.ruleset, ["filter"])
    inputs = [line.split("-j ")[-1] for line in save.splitlines() if line.startswith("-A INPUT")]
    assert inputs == ["KUBE-IPVS-FILTER", "KUBE-PROXY-FIREWALL", "KUBE-NODE-PORT"]


def test_sets_members_and_references() -> None:
    state = state_of(TESTS / "scenarios" / "nodeport.yaml")
    assert [s for s in state.ipsets] == [name for name, _, _ in IPSET_INFO]
    assert state.ipsets["KUBE-NODE-PORT-TCP"].members and all(
        m.isdigit() for m in state.ipsets["KUBE-NODE-PORT-TCP"].members
    )
    assert all(",tcp:" in m for m in state.ipsets["KUBE-CLUSTER-IP"].members)
    listing = render_ipset_list(state.ipsets, state.iptables.references())
    assert "Name: KUBE-NODE-PORT-TCP\nType: bitmap:port\n" in listing
    # KUBE-CLUSTER-IP is named by the masquerade rule, the ACCEPT rule and KUBE-IPVS-FILTER.
    assert state.iptables.references()["KUBE-CLUSTER-IP"] == 3


def test_iptables_rules_do_not_grow_with_services() -> None:
    sizes = [IpvsProxier(build_cluster(n, 2), "node-0").sync() for n in (5, 60)]
    assert sizes[0].iptables.rule_count == sizes[1].iptables.rule_count
    assert len(sizes[1].ipsets["KUBE-CLUSTER-IP"].members) == 60


def _counters(compiled: CompiledMode) -> list[int]:
    lines = compiled.texts["ipvsadm -Ln"].splitlines()
    return [int(n) for line in lines if line.startswith("  -> 10.") for n in line.split()[-2:]]


def test_compile_mode_offers_every_ipvs_view_and_zero_counters_until_asked_for_traffic() -> None:
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    compiled = compile_mode(cluster, node, "ipvs", seed=4)
    assert set(compiled.texts) == {
        "ipvsadm -Ln",
        "ip addr show kube-ipvs0",
        "ipset list",
        "iptables-save",
        "iptables-restore",
        "sysctl",
    }
    # A freshly compiled node has carried no connections.
    assert _counters(compiled) and set(_counters(compiled)) == {0}
    cluster, node = load_scenario(TESTS / "scenarios" / "db-service.yaml")
    assert sum(_counters(compile_mode(cluster, node, "ipvs", seed=4, traffic=True))) > 0
    assert compiled.rule_count == state_of(TESTS / "scenarios" / "db-service.yaml").iptables.rule_count


_REASON = unavailable_reason(("ip", "iptables-restore", "iptables-save"))
if _REASON is None and shutil.which("ipset") is None:
    _REASON = "the ipset tool is not installed: -m set rules need their sets to exist in the namespace"


@pytest.mark.kernel
@pytest.mark.skipif(_REASON is not None, reason=_REASON or "")
@pytest.mark.parametrize("name", ["db-service", "nodeport", "loadbalancer-source-ranges"])
def test_kernel_loads_ipvs_mode_rules(name: str) -> None:
    state = state_of(TESTS / "scenarios" / f"{name}.yaml")
    with network_namespace("kpt-ipvs") as ns:
        for set_name, kind, _ in IPSET_INFO:
            options = ["range", "0-65535"] if kind == "bitmap:port" else []
            ns.run(["ipset", "create", set_name, kind, *options])
            for member in state.ipsets[set_name].members:
                ns.run(["ipset", "add", set_name, member])
        for table, chain, target, comment in JUMP_CHAINS:
            ns.run(["iptables", "-t", table, "-N", target], check=False)
            ns.run(
                ["iptables", "-t", table, "-I", chain, "-m", "comment", "--comment", comment, "-j", target]
            )
        ns.run(["iptables-restore", "--noflush"], stdin=state.iptables.restore)
        saved = ns.run(["iptables-save"]).stdout
    ours = render_save(state.iptables.ruleset)
    for line in ours.splitlines():
        if line.startswith("-A "):
            assert line in saved
