"""IPVS mode: ipvsadm -Ln with ipset list and iptables-save from a real namespace, explained and checked."""

from __future__ import annotations

import pytest

from kproxy_tutor.explain import compare_with, explain_text
from kproxy_tutor.sandbox.modes import compile_mode
from tests.explain.helpers import kernel_ipvs_report, scenario

pytestmark = pytest.mark.kernel
NAMES = ["db-service", "etp-local", "nodeport", "session-affinity", "no-endpoints"]


@pytest.mark.parametrize("name", NAMES)
def test_real_ipvs_report_is_explained_and_agrees(name: str) -> None:
    cluster, node = scenario(name)
    explanation = explain_text(kernel_ipvs_report(name), "node")
    assert explanation.format == "ipvsadm -Ln + ipset list + iptables-save"
    assert explanation.mode == "ipvs"
    state = compile_mode(cluster, node, "ipvs").state
    assert len(explanation.service_ports) == len(state.virtual_servers)  # type: ignore[union-attr]
    assert explanation.unknown == [] and explanation.unreadable == []
    expected_findings = {"ipvs-no-real-servers"} if name == "no-endpoints" else set()
    assert {f.code for f in explanation.findings} == expected_findings
    assert compare_with(explanation, cluster, node) == []


def test_db_service_virtual_server_in_words() -> None:
    explanation = explain_text(kernel_ipvs_report("db-service"), "node")
    (view,) = [v for v in explanation.service_ports if v.cluster_ips == ["10.96.0.12"]]
    assert view.name == "TCP 10.96.0.12:5432"
    assert [str(e.share) for e in view.endpoints] == ["1/3", "1/3", "1/3"]


def test_removed_real_server_and_stale_virtual_server() -> None:
    cluster, node = scenario("db-service")
    report = kernel_ipvs_report("db-service")
    lines = report.splitlines(keepends=True)
    real = next(i for i, line in enumerate(lines) if line.startswith("  -> 10.244.0.5:5432"))
    del lines[real]
    head = next(i for i, line in enumerate(lines) if line.startswith("TCP  10.96.0.12:5432"))
    lines[head:head] = [
        "TCP  10.96.99.99:80 rr\n",
        "  -> 10.244.9.9:8080             Masq    1      0          0\n",
    ]
    explanation = explain_text("".join(lines), "node")
    differences = compare_with(explanation, cluster, node)
    codes = {(d.code, d.service) for d in differences}
    assert ("missing-endpoint", "TCP 10.96.0.12:5432") in codes
    assert ("stale-service", "TCP 10.96.99.99:80") in codes
