"""IPVS mode: virtual/real servers per scenario (goldens), kube-ipvs0, ipvsadm layout, schedulers, deprecation flag."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.ipvs import IpvsProxier, render_ip_addr, render_ipvsadm
from kproxy_tutor.sandbox.ipvs.schedulers import SCHEDULERS, simulate
from kproxy_tutor.sandbox.modes import MODE_INFO
from tests.modes.helpers import GOLDEN, SCENARIOS, TESTS, check_golden, load_scenario


def state_of(path: Path, scheduler: str = "rr"):  # type: ignore[no-untyped-def]
    cluster, node = load_scenario(path)
    return IpvsProxier(cluster, node, scheduler).sync()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_ipvsadm_golden(path: Path, update_goldens: bool) -> None:
    state = state_of(path)
    check_golden(
        GOLDEN / "ipvs" / f"{path.stem}.txt",
        render_ipvsadm(state) + "\n" + render_ip_addr(state),
        update_goldens,
    )


def test_ipvsadm_layout_matches_the_reference_example() -> None:
    """The course's db-service, in the column layout of kube-proxy-facts.md §3.5 (real lines keep trailing spaces)."""
    state = state_of(TESTS / "scenarios" / "db-service.yaml")
    lines = [line.rstrip() for line in render_ipvsadm(state).splitlines()]
    assert lines[:4] == [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  10.96.0.12:5432 rr",
    ]
    assert lines[4] == "  -> 10.244.0.3:5432              Masq    1      0          0"


def test_affinity_is_persistence_and_local_policy_uses_local_endpoints() -> None:
    affinity = state_of(TESTS / "scenarios" / "session-affinity.yaml")
    assert "TCP  10.102.3.4:80 rr persistent 600" in render_ipvsadm(affinity)
    local = state_of(TESTS / "scenarios" / "etp-local.yaml")
    by_address = {vs.address: [rs.address for rs in vs.real_servers] for vs in local.virtual_servers}
    assert by_address["10.110.0.5"] == ["10.244.1.40", "10.244.2.40"]
    assert by_address["203.0.113.50"] == ["10.244.1.40"]
    assert "203.0.113.50" in local.bound_addresses and "192.168.0.11" not in local.bound_addresses


def _server(weights: tuple[int, ...]):  # type: ignore[no-untyped-def]
    state = state_of(TESTS / "scenarios" / "db-service.yaml")
    vs = copy.deepcopy(state.virtual_servers[0])
    for rs, weight in zip(vs.real_servers, weights, strict=True):
        rs.weight = weight
    return vs


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_serves_every_connection(scheduler: str) -> None:
    vs = _server((3, 1, 1))
    vs.scheduler = scheduler
    counts = simulate(vs, [(f"10.244.1.{i % 7}", 40000 + i) for i in range(60)], lifetime=3)
    assert sum(counts.values()) == 60
    # A connection stays active while three more open: the last four are still active.
    assert sum(rs.active for rs in vs.real_servers) == 4
    assert sum(rs.inactive for rs in vs.real_servers) == 56


def test_schedulers_differ_as_documented() -> None:
    clients = [(f"10.244.1.{i % 7}", 40000 + i) for i in range(60)]

    def run(name: str, weights: tuple[int, ...] = (3, 1, 1)) -> list[int]:
        vs = _server(weights)
        vs.scheduler = name
        return list(simulate(vs, clients, lifetime=3).values())

    assert run("rr") == [20, 20, 20]  # weights ignored
    assert run("wrr") == [36, 12, 12]  # 3:1:1
    assert run("dh") in ([60, 0, 0], [0, 60, 0], [0, 0, 60])  # one VIP: always the same server
    sh = _server((1, 1, 1))
    sh.scheduler = "sh"
    picks: dict[str, set[str]] = {}
    simulate(sh, clients, on_pick=lambda rs: None)
    for client, port in clients:
        from kproxy_tutor.sandbox.ipvs.schedulers import SchedulerState, pick

        chosen = pick(sh, SchedulerState(), client, port)
        assert chosen is not None
        picks.setdefault(client, set()).add(chosen.address)
    assert all(len(servers) == 1 for servers in picks.values())  # sticky per client


def test_ipvs_is_flagged_deprecated() -> None:
    info = MODE_INFO["ipvs"]
    assert (info.deprecated_in, info.replacement) == ("v1.35", "nftables")
    assert not MODE_INFO["nftables"].deprecated_in and MODE_INFO["iptables"].default
