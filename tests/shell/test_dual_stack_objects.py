"""The shell's objects show their IP families as the API server and kubectl do (dual-stack cluster, IPv6 primary)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

DUAL = """\
apiVersion: kproxy-tutor/v1
kind: ClusterNetwork
serviceCIDR: 10.96.0.0/12,fd00:10:96::/112
podCIDR: 10.244.0.0/16,fd00:10:244::/56
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.2}, {type: InternalIP, address: "fd00:192:168::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [IPv6, IPv4]
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def _printed(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("$ "))


def _run(run_shell: Callable, tmp_path: Path, command: str) -> tuple[str, object]:
    path = tmp_path / "dual.yaml"
    path.write_text(DUAL, encoding="utf-8")
    code, text, session = run_shell(f"load {path}\n{command}")
    assert code == 0, text
    return _printed(text).split("\n", 1)[1], session  # without the "Loaded …" note


def test_service_yaml_has_both_cluster_ips_and_families_in_api_order(
    run_shell: Callable, tmp_path: Path
) -> None:
    text, session = _run(run_shell, tmp_path, "kubectl get svc web -o yaml")
    spec = yaml.safe_load(text)["spec"]
    service = session.cluster.services[("default", "web")]  # type: ignore[attr-defined]
    six, four = service.cluster_ips
    assert ":" in six and ":" not in four
    assert spec["clusterIP"] == six and spec["clusterIPs"] == [six, four]
    assert spec["ipFamilies"] == ["IPv6", "IPv4"] and spec["ipFamilyPolicy"] == "PreferDualStack"
    keys = list(spec)
    # clusterIPs follows clusterIP; ipFamilies precedes ipFamilyPolicy, as the API server writes them.
    assert keys.index("clusterIPs") == keys.index("clusterIP") + 1
    assert keys.index("ipFamilyPolicy") == keys.index("ipFamilies") + 1


def test_pod_and_node_json_have_every_family(run_shell: Callable, tmp_path: Path) -> None:
    text, session = _run(run_shell, tmp_path, "kubectl get pod web -o json")
    status = json.loads(text)["status"]
    pod = session.cluster.pods[("default", "web")]  # type: ignore[attr-defined]
    assert len(pod.pod_ips) == 2 and status["podIP"] == pod.pod_ips[0]
    assert status["podIPs"] == [{"ip": ip} for ip in pod.pod_ips]
    text, _ = _run(run_shell, tmp_path, "kubectl get node n1 -o json")
    node = json.loads(text)
    assert [a["address"] for a in node["status"]["addresses"]] == ["192.168.0.2", "fd00:192:168::2"]
    assert len(node["spec"]["podCIDRs"]) == 2 and node["spec"]["podCIDR"] == node["spec"]["podCIDRs"][0]


def test_tables_show_the_primary_address(run_shell: Callable, tmp_path: Path) -> None:
    text, session = _run(run_shell, tmp_path, "kubectl get svc web -o wide\nkubectl get nodes -o wide")
    service = session.cluster.services[("default", "web")]  # type: ignore[attr-defined]
    svc_table, node_table = text.split("$ ")[0], text
    row = next(line for line in svc_table.splitlines() if line.startswith("web "))
    assert row.split()[2] == service.cluster_ip and service.cluster_ips[1] not in row
    node_row = next(line for line in node_table.splitlines() if line.startswith("n1 "))
    assert "192.168.0.2" in node_row and "fd00:192:168::2" not in node_row


def test_describe_shows_families_and_ips_as_kubectl(run_shell: Callable, tmp_path: Path) -> None:
    text, session = _run(run_shell, tmp_path, "kubectl describe svc web")
    service = session.cluster.services[("default", "web")]  # type: ignore[attr-defined]
    labels = [line.split(":", 1)[0] for line in text.splitlines() if ":" in line]
    fields = {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in text.splitlines() if ":" in line
    }
    assert fields["IP Family Policy"] == "PreferDualStack" and fields["IP Families"] == "IPv6,IPv4"
    assert fields["IP"] == service.cluster_ip and fields["IPs"] == ",".join(service.cluster_ips)
    pod = session.cluster.pods[("default", "web")]  # type: ignore[attr-defined]
    assert fields["Endpoints"] == f"{pod.pod_ips[0]}:8080,[{pod.pod_ips[1]}]:8080"  # net.JoinHostPort
    wanted = ["Type", "IP Family Policy", "IP Families", "IP", "IPs", "Port"]
    assert [label for label in labels if label in wanted] == wanted  # kubectl's describe.go order
    text, session = _run(run_shell, tmp_path, "kubectl describe pod web")
    pod = session.cluster.pods[("default", "web")]  # type: ignore[attr-defined]
    block = text.split("IPs:\n", 1)[1].splitlines()[:2]
    assert [line.split() for line in block] == [["IP:", ip] for ip in pod.pod_ips]
    text, _ = _run(run_shell, tmp_path, "kubectl describe node n1")
    assert "  InternalIP:  fd00:192:168::2" in text
    cidrs = [line.split()[1] for line in text.splitlines() if line.startswith("PodCIDRs:")]
    assert len(cidrs) == 1 and len(cidrs[0].split(",")) == 2
