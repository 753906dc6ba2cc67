"""The shell's curl and kubectl exec in nftables and IPVS modes: node to node and back, conntrack, counters per node, state across syncs."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from .test_modes import section

#: The lessons' database Pods all run on worker-2; web (the client) on worker-1.
SCALED = "kubectl scale deployment database --replicas 4"


@pytest.mark.parametrize("mode", ["nftables", "ipvs"])
def test_curl_follows_the_packet_to_the_endpoints_node(run_shell: Callable, mode: str) -> None:
    _code, text, _session = run_shell(f"mode {mode}\ncurl db-service:5432 --from web\n", "db-service")
    out = section(text, "curl db-service:5432 --from web")
    # The first node chose the endpoint; the second one is walked too, as in iptables mode.
    assert re.search(r"^  worker-1: ", out, re.M) and re.search(r"^  worker-2: ", out, re.M)
    assert re.search(r"delivered to 10\.244\.0\.[345]:5432 \(default/database-\S+, node worker-2\)", out)


@pytest.mark.parametrize("mode", ["nftables", "ipvs"])
def test_conntrack_lists_the_connections_curl_opened(run_shell: Callable, mode: str) -> None:
    _code, text, _session = run_shell(
        f"mode {mode}\nkubectl exec web -- curl db-service:5432\nconntrack -L\n", "db-service"
    )
    listing = section(text, "conntrack -L")
    assert re.search(
        r"^tcp +6 431999 ESTABLISHED src=10\.244\.1\.5 dst=10\.96\.0\.12 sport=40000 dport=5432 "
        r"src=10\.244\.0\.[345] dst=10\.244\.1\.5 sport=5432 dport=40000 \[ASSURED\]",
        listing,
        re.M,
    )
    assert "1 flow entries have been shown." in listing


def _active(listing: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"-> (\S+) +Masq +1 +(\d+) +\d+", listing)}


def test_ipvs_round_robin_goes_on_after_a_sync_and_only_the_choosing_node_counts(run_shell: Callable) -> None:
    script = (
        "mode ipvs\ncurl db-service:5432 --from web --brief\n"
        f"{SCALED}\ncurl db-service:5432 --from web -n 2 --brief\nipvsadm -Ln\n"
        "node worker-2\nipvsadm\n"
    )
    _code, text, _session = run_shell(script, "db-service")
    counts = _active(section(text, "ipvsadm -Ln"))
    # rr picked .3, then after the sync goes on from there: .4, .5 (a scheduler made afresh would
    # start again at .3).
    assert counts == {"10.244.0.3:5432": 1, "10.244.0.4:5432": 1, "10.244.0.5:5432": 1, "10.244.0.6:5432": 0}
    # worker-2 forwarded nothing through its own virtual servers: its counters stay at 0.
    assert set(_active(section(text, "ipvsadm")).values()) == {0}


def test_nftables_affinity_survives_a_sync(run_shell: Callable) -> None:
    patch = 'kubectl patch service db-service -p \'{"spec":{"sessionAffinity":"ClientIP"}}\''
    _code, text, _session = run_shell(
        f"mode nftables\n{patch}\ncurl db-service:5432 --from web --brief\n{SCALED}\n"
        "curl db-service:5432 --from web -n 5 --brief\n",
        "db-service",
    )
    first = re.search(r"delivered to (\S+)", section(text, "curl db-service:5432 --from web --brief"))
    assert first is not None
    after = section(text, "curl db-service:5432 --from web -n 5 --brief")
    assert f"5   100.0%  delivered to {first[1]} " in after


def test_ipvs_node_process_connects_from_the_service_address(run_shell: Callable) -> None:
    _code, text, _session = run_shell(
        "mode ipvs\ncurl db-service:5432 --from node/worker-1\nconntrack -L\n", "db-service"
    )
    out = section(text, "curl db-service:5432 --from node/worker-1")
    assert "TCP 10.96.0.12:40000 → 10.96.0.12:5432" in out
    assert "source masqueraded to 192.168.1.11" in out
    listing = section(text, "conntrack -L")
    assert re.search(
        r"src=10\.96\.0\.12 dst=10\.96\.0\.12 sport=40000 dport=5432 src=10\.244\.0\.3 dst=192\.168\.1\.11",
        listing,
    )


def test_nftables_node_process_keeps_the_node_address(run_shell: Callable) -> None:
    _code, text, _session = run_shell(
        "mode nftables\ncurl db-service:5432 --from node/worker-1\n", "db-service"
    )
    assert "TCP 192.168.1.11:40000 → 10.96.0.12:5432" in section(
        text, "curl db-service:5432 --from node/worker-1"
    )
