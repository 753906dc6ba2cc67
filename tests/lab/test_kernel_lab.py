"""Real connections through the kernel lab agree with the request-flow evaluator, in iptables and nftables mode.

One lab per scenario and mode; every TCP port of every Service with a ClusterIP gets a batch
of real connections from the client namespace. The set of outcomes (Pods reached, refused,
no answer) must equal the evaluator's, and the kernel's own records (conntrack entries, and
in iptables mode the DNAT rules' counters) must account for every answered connection.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kproxy_tutor.lab.measure import CurlReport, curl
from kproxy_tutor.lab.session import Lab
from kproxy_tutor.lab.state import lab_store

from .conftest import SCENARIOS, scenario_source

pytestmark = pytest.mark.kernel
SCENARIO_NAMES = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
MODES = ("iptables", "nftables")
#: With shares of at least 1/4, an endpoint is missed by 30 connections with probability < 2e-4.
COUNT = 30
#: A DROP rule makes every connection wait this long; it keeps those cases short.
CONNECT_TIMEOUT = 0.2
#: chi-square critical values at p = 0.001 for 1..4 degrees of freedom.
CHI2_CRITICAL = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47}


def _targets(lab: Lab) -> list[tuple[str, bool]]:
    """(SERVICE:PORT, has session affinity) for each TCP port of each Service with a ClusterIP."""
    out = []
    for service in sorted(lab.cluster.services.values(), key=lambda s: s.key):
        if service.cluster_ip in ("", "None") or service.type == "ExternalName":
            continue
        for port in service.ports:
            if port.protocol == "TCP":
                out.append(
                    (
                        f"{service.namespace}/{service.name}:{port.name or port.port}",
                        service.session_affinity == "ClientIP",
                    )
                )
    return out


def _check_kernel_records(report: CurlReport) -> None:
    answered = report.result.answered
    assert report.conntrack == answered, "conntrack's DNAT destinations differ from the Pods that answered"
    if report.counters is not None:
        dnat = Counter()
        for row in report.counters:
            if "-j DNAT" in row.rule and row.packets:
                dnat[row.rule.rsplit(" ", 1)[1].rpartition(":")[0]] += row.packets
        assert sum(dnat.values()) == sum(answered.values()), report.counters


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_real_connections_agree_with_the_evaluator(kernel: None, name: str, mode: str) -> None:
    sources, node = scenario_source(name)
    with Lab.up(sources, name, mode, node) as lab:
        targets = _targets(lab)
        assert targets, f"{name} has no TCP Service port to connect to"
        for target, sticky in targets:
            report = curl(lab, target, COUNT, connect_timeout=CONNECT_TIMEOUT)
            prediction = report.prediction
            assert prediction.problem is None, prediction.problem
            real = Counter(k for k in report.result.keys if k != "skipped")
            assert real, f"{target}: no connection was tried"
            if sticky:
                # ClientIP affinity: the first connection picks a Pod at random, every later one follows it.
                assert len(real) == 1 and len(prediction.counts) == 1, (target, real, prediction.counts)
                assert set(real) <= set(prediction.shares) | {"refused", "timeout"}
            else:
                assert set(real) == set(prediction.counts), (target, dict(real), prediction.counts)
            _check_kernel_records(report)


def _chi_square(observed: Counter[str], shares: dict[str, float]) -> float:
    total = sum(observed.values())
    return sum((observed.get(k, 0) - total * p) ** 2 / (total * p) for k, p in shares.items())


@pytest.mark.parametrize("mode", MODES)
def test_spread_matches_the_rules_probabilities(kernel: None, mode: str) -> None:
    """Three endpoints, 300 connections: the kernel's random choice fits the shares the evaluator reads from the rules."""
    sources, node = scenario_source("clusterip-multi")
    with Lab.up(sources, "clusterip-multi", mode, node) as lab:
        report = curl(lab, "default/web:http", 300)
    shares = report.prediction.shares
    assert len(shares) == 3 and all(abs(p - 1 / 3) < 1e-6 for p in shares.values())
    answered = report.result.answered
    assert sum(answered.values()) == 300 and set(answered) == set(shares)
    assert _chi_square(answered, shares) < CHI2_CRITICAL[2], answered


@pytest.mark.parametrize("mode", MODES)
def test_scaling_and_sync_reach_the_new_pod(kernel: None, mode: str) -> None:
    sources, node = scenario_source("db-service")
    with Lab.up(sources, "db-service", mode, node) as lab:
        before = {h.name for h in lab.plan.hosts}
        grown = lab.scale("database", 4)
        assert len(grown.added) == 1 and not grown.removed
        if mode == "iptables":
            assert not grown.load.full and grown.load.updated_services == ("default/db-service",)
        new_pod = grown.added[0]
        assert new_pod not in before
        report = curl(lab, "db-service", 120)
        assert new_pod in report.result.answered, report.result.answered
        assert set(report.result.answered) == set(report.prediction.counts)

        shrunk = lab.scale("database", 1)
        assert len(shrunk.removed) == 3
        gone = {h.namespace for h in lab.plan.hosts}
        assert all(ns in gone for ns in lab.existing_namespaces() if "-pod-" in ns)
        report = curl(lab, "db-service", 20)
        assert len(report.result.answered) == 1 and sum(report.result.answered.values()) == 20
        assert set(report.result.answered) == set(report.prediction.counts)


def test_a_later_command_attaches_and_replays_the_syncs(kernel: None, learner_home: Path) -> None:
    """What `lab curl` in a new process does: read lab.json, replay kube-proxy's syncs, then measure."""
    sources, node = scenario_source("db-service")
    with Lab.up(sources, "db-service", "iptables", node, store=lab_store()) as lab:
        lab.scale("database", 2)
        again = Lab.attach()
        assert again.plan == lab.plan
        assert again.loader.proxier.kernel.ruleset == lab.loader.proxier.kernel.ruleset  # type: ignore[attr-defined]
        report = again.resync()
        # Nothing changed since the last sync: kube-proxy rewrites no Service chain.
        assert report.load.updated_services == () and not report.added and not report.removed
        assert len(curl(again, "db-service", 20).result.answered) == 2
