"""`rules --mode` and `trace --mode` as a learner runs them: goldens of the other modes, agreement on outcomes, deprecation."""

from __future__ import annotations

import json
import re

import pytest

from tests.foundation.helpers import run_tutor
from tests.modes.helpers import GOLDEN, TESTS, scenario_node

DB = TESTS / "scenarios" / "db-service.yaml"


@pytest.mark.parametrize("scenario", ["db-service", "nodeport", "loadbalancer-source-ranges"])
@pytest.mark.parametrize(
    ("mode", "fmt", "golden"),
    [
        ("nftables", None, "nftables/{}.list.txt"),
        ("nftables", "transaction", "nftables/{}.sync.txt"),
        ("nftables", "transaction-sorted", "nftables/{}.txt"),
        ("ipvs", "ipset", "ipvs/{}.ipset.txt"),
    ],
)
def test_rules_mode_matches_the_mode_goldens(scenario: str, mode: str, fmt: str | None, golden: str) -> None:
    path = TESTS / "scenarios" / f"{scenario}.yaml"
    args = ["rules", "-f", str(path), "--node", scenario_node(path), "--mode", mode]
    result = run_tutor(*args, *(["--format", fmt] if fmt else []))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (GOLDEN / golden.format(scenario)).read_text(encoding="utf-8")


@pytest.mark.parametrize("scenario", ["db-service", "nodeport"])
def test_rules_mode_ipvs_iptables_holds_the_golden_rules(scenario: str) -> None:
    """The view is iptables-save on the node; the golden is the restore payload kube-proxy wrote: same rules."""
    path = TESTS / "scenarios" / f"{scenario}.yaml"
    result = run_tutor(
        "rules", "-f", str(path), "--node", scenario_node(path), "--mode", "ipvs", "--format", "iptables"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("*filter")
    from kproxy_tutor.sandbox.iptables import render_save
    from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

    # iptables-save spells each rule in its own canonical order: compare after the same rendering.
    golden = render_save(
        parse_ruleset((GOLDEN / "ipvs" / f"{scenario}.iptables.txt").read_text(encoding="utf-8"), "golden")
    )
    written = [line for line in golden.splitlines() if line.startswith("-A ")]
    shown = set(result.stdout.splitlines())
    assert written and all(line in shown for line in written)


def test_rules_mode_ipvs_shows_ipvsadm_and_says_it_is_deprecated() -> None:
    result = run_tutor("--lang", "en", "rules", "-f", str(DB), "--node", scenario_node(DB), "--mode", "ipvs")
    assert result.returncode == 0, result.stderr
    # Exactly the golden, counters included: nothing has been sent through a freshly computed node.
    golden = (GOLDEN / "ipvs" / "db-service.txt").read_text(encoding="utf-8").split("\n\n")[0]
    assert result.stdout.rstrip("\n") == golden.rstrip("\n")
    assert "deprecated since Kubernetes v1.35" in result.stderr
    assert "nftables mode replaces it" in result.stderr


def test_rules_default_mode_comes_from_kube_proxy_configuration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = (
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n---\n"
    )
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(config + DB.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_tutor("--lang", "en", "rules", "-f", str(manifests), "--node", scenario_node(DB))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("table ip kube-proxy {")
    assert "KubeProxyConfiguration" in result.stderr
    explicit = run_tutor("rules", "-f", str(manifests), "--node", scenario_node(DB), "--mode", "iptables")
    assert explicit.stdout.startswith("*")
    assert "KUBE-SERVICES" in explicit.stdout and "table ip kube-proxy" not in explicit.stdout


def test_rules_mode_rejects_a_format_of_another_mode() -> None:
    result = run_tutor("--lang", "en", "rules", "-f", str(DB), "--mode", "nftables", "--format", "save")
    assert result.returncode != 0
    assert "list, transaction" in result.stderr
    assert run_tutor("rules", "-f", str(DB), "--mode", "ipvs", "--table", "nat").returncode != 0


def _outcome(mode: str, source: str) -> dict[str, object]:
    result = run_tutor(
        "trace",
        "-f",
        str(DB),
        "--from",
        source,
        "--to",
        "db-service",
        "--seed",
        "3",
        "--mode",
        mode,
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("mode", ["nftables", "ipvs"])
def test_trace_mode_outcome_equals_iptables_on_db_service(mode: str) -> None:
    for source in ("worker-1", "203.0.113.9"):
        iptables, other = _outcome("iptables", source), _outcome(mode, source)
        assert other["outcome"] == iptables["outcome"] == "delivered"
        assert other["masquerade"] == iptables["masquerade"]
        endpoint = re.compile(r"10\.244\.\d+\.\d+:5432")
        assert endpoint.fullmatch(str(other["endpoint"])) and endpoint.fullmatch(str(iptables["endpoint"]))


def test_trace_mode_nftables_renders_the_chain_path() -> None:
    result = run_tutor(
        "--lang",
        "en",
        "--plain",
        "trace",
        "-f",
        str(DB),
        "--from",
        "worker-1",
        "--to",
        "db-service",
        "--seed",
        "1",
        "--mode",
        "nftables",
    )
    assert result.returncode == 0, result.stderr
    for needle in (
        "Mode nftables",
        "kube-proxy services",
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "numgen random mod 3",
        "Result: delivered to 10.244.",
        "Source NAT: yes",
        "rules for this packet",
    ):
        assert needle in result.stdout, needle


def test_trace_mode_ipvs_names_the_scheduler_and_is_deprecated() -> None:
    result = run_tutor(
        "--lang",
        "en",
        "--plain",
        "trace",
        "-f",
        str(DB),
        "--from",
        "worker-1",
        "--to",
        "db-service",
        "--mode",
        "ipvs",
    )
    assert result.returncode == 0, result.stderr
    assert "IPVS: virtual server 10.96.0.12:5432, scheduler rr" in result.stdout
    assert "deprecated since Kubernetes v1.35" in result.stderr
