"""Load our restore payloads into a real kernel (throwaway netns) and check iptables-save prints our save rendering."""

from __future__ import annotations

import re
import shutil

import pytest
from netns import Namespace, network_namespace, unavailable_reason

from kproxy_tutor.sandbox.iptables import render_restore, render_save
from kproxy_tutor.sandbox.iptables.fixed import jump_rules
from kproxy_tutor.sandbox.iptables.parse import tokenize
from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, LOCALHOST_NODEPORT_COUNTER
from kproxy_tutor.sandbox.model import Deployment

from .helpers import SCENARIO_NAMES, Scenario, load_scenario

pytestmark = pytest.mark.kernel
_REASON = unavailable_reason()
_COUNTERS = re.compile(r"\[\d+:\d+\]")


@pytest.fixture
def netns() -> Namespace:
    if _REASON is not None:
        pytest.skip(_REASON)
    with network_namespace() as ns:
        yield ns


def _kernel_save(ns: Namespace) -> str:
    text = ns.run(["iptables-save"]).stdout
    lines = [_COUNTERS.sub("[0:0]", line) for line in text.splitlines() if not line.startswith("#")]
    return "\n".join(lines) + "\n"


def _prepare_node(ns: Namespace, scenario: Scenario) -> None:
    """What kube-proxy does before its first restore: nfacct counters, jump rules, canary chains."""
    if scenario.loaded.cluster.facts.nfacct:
        if shutil.which("nfacct") is None:
            pytest.skip("nfacct tool missing")
        for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
            ns.run(["nfacct", "add", counter])
    for table, rule in jump_rules():
        ns.run(["iptables", "-w", "-t", table, "-N", rule.target.chain], check=False)  # type: ignore[union-attr]
        ns.run(["iptables", "-w", "-t", table, "-I", rule.chain, "1", *tokenize(rule.spelling or "")])
    if scenario.loaded.cluster.facts.canary_chains:
        for table in ("mangle", "nat", "filter"):
            ns.run(["iptables", "-w", "-t", table, "-N", "KUBE-PROXY-CANARY"])


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_kernel_prints_our_save_rendering(netns: Namespace, name: str) -> None:
    scenario = load_scenario(name)
    _prepare_node(netns, scenario)
    netns.run(["iptables-restore", "--noflush"], stdin=render_restore(scenario.result.payload))
    assert _kernel_save(netns) == render_save(scenario.proxier.kernel.ruleset)


def test_kernel_follows_partial_syncs(netns: Namespace) -> None:
    """Scale a Deployment down and up: partial payloads flush and delete stale chains in the kernel too."""
    scenario = load_scenario("db-service")
    _prepare_node(netns, scenario)
    netns.run(["iptables-restore", "--noflush"], stdin=render_restore(scenario.result.payload))
    cluster = scenario.loaded.cluster
    deployment = cluster.deployments[("default", "database")]
    for replicas in (1, 4, 0, 2):
        cluster.apply_deployment(
            Deployment(
                deployment.namespace,
                deployment.name,
                replicas,
                deployment.selector,
                deployment.template_labels,
                deployment.ports,
            )
        )
        result = scenario.proxier.sync()
        assert not result.full
        netns.run(["iptables-restore", "--noflush"], stdin=render_restore(result.payload))
        assert _kernel_save(netns) == render_save(scenario.proxier.kernel.ruleset)
