"""The lab's layout (no kernel needed) and its refusals: not Linux, not root, tools missing, with no traceback."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import pytest
from foundation.helpers import run_tutor

from kproxy_tutor.errors import UsageError
from kproxy_tutor.lab import system
from kproxy_tutor.lab.plan import make_plan, used_addresses
from kproxy_tutor.sandbox.manifests import load_texts

from .conftest import SCENARIOS, scenario_source

SCENARIO_NAMES = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_plan_names_and_addresses_fit_the_kernel(name: str) -> None:
    sources, node = scenario_source(name)
    cluster = load_texts(sources).cluster
    plan = make_plan(cluster, node, "kptlab-1-abcdef-")
    assert all(ns.startswith("kptlab-1-abcdef-") for ns in plan.namespaces)
    assert len(set(plan.namespaces)) == len(plan.namespaces)
    assert all(len(h.node_veth) <= 15 for h in plan.hosts)  # IFNAMSIZ - 1
    assert len({h.node_veth for h in plan.hosts}) == len(plan.hosts)
    taken = used_addresses(cluster)
    assert plan.client_ip not in taken
    host_ips = {h.ip for h in plan.hosts}
    assert not host_ips & set(plan.gateways())
    # The client sits on the node's own subnet, as a machine next to the node would.
    assert ipaddress.ip_address(plan.client_ip) in ipaddress.ip_network(
        f"{plan.node_ips[0]}/24", strict=False
    )


def test_sloppy_endpoint_addresses_become_canonical() -> None:
    sources, node = scenario_source("upstream-bad-ips")
    plan = make_plan(load_texts(sources).cluster, node, "kptlab-1-abcdef-")
    assert [h.ip for h in plan.hosts] == ["10.180.0.1"]
    assert plan.hosts[0].tcp_ports == (80,)


def test_not_root_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UsageError) as caught:
        system.check_environment()
    assert "root" in caught.value.message


def test_other_systems_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(UsageError) as caught:
        system.check_environment()
    assert "Linux" in caught.value.message


@pytest.mark.parametrize(
    ("mode", "missing", "package"),
    [("iptables", "iptables", "iptables"), ("iptables", "ip", "iproute2"), ("nftables", "nft", "nftables")],
)
def test_missing_tools_name_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, mode: str, missing: str, package: str
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(system.shutil, "which", lambda tool: None if tool == missing else f"/sbin/{tool}")
    with pytest.raises(UsageError) as caught:
        system.check_environment(mode)
    assert caught.value.params["packages"] == package


def test_cli_refusal_is_one_line_in_the_learners_language(tmp_path: Path) -> None:
    """With no tools on PATH (or without root) `lab up` explains in Russian, exits 2, prints no traceback."""
    result = run_tutor("lab", "up", env={"PATH": str(tmp_path), "KPROXY_TUTOR_LANG": "ru"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "apt-get install" in result.stderr or "root" in result.stderr
    assert any("а" <= ch <= "я" for ch in result.stderr.lower()), result.stderr
