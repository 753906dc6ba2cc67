"""Dual-stack and IPv6 input: kube-proxy runs one proxier per family, each ignoring the other family.

Real kube-proxy's IPv4 proxier skips IPv6 node IPs, IPv6 ClusterIPs and IPv6 EndpointSlices. So
the IPv4 rules of a dual-stack cluster are exactly the rules of the same cluster with its IPv6
parts removed, in every mode; and every mode shows the IPv6 proxier too.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import MODES, compile_mode
from kproxy_tutor.sandbox.trace.session import TraceSession
from tests.foundation.helpers import run_tutor

DUAL = """\
apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDR: 10.244.0.0/24}
status:
  addresses:
  - {type: InternalIP, address: 192.168.0.2}
  - {type: InternalIP, address: "fd00::2"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.20
  clusterIPs: [10.96.0.20, "fd00:10:96::20"]
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: PreferDualStack
  type: NodePort
  ports: [{port: 80, protocol: TCP, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: default}
spec:
  clusterIP: "fd00:10:96::30"
  ipFamilies: [IPv6]
  ports: [{port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-v4, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.244.0.5], conditions: {ready: true}, nodeName: n1}]
ports: [{name: "", port: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-v6, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
endpoints: [{addresses: ["fd00:244::5"], conditions: {ready: true}, nodeName: n1}]
ports: [{name: "", port: 8080, protocol: TCP}]
"""


def _ipv4_part(text: str) -> str:
    """The same manifests with everything only the IPv6 proxier would see removed."""
    out = []
    for doc in yaml.safe_load_all(text):
        kind = doc["kind"]
        if kind == "Node":
            addresses = doc["status"]["addresses"]
            doc["status"]["addresses"] = [a for a in addresses if ":" not in a["address"]]
        elif kind == "Service":
            spec = doc["spec"]
            if ":" in spec["clusterIP"]:
                continue
            spec.pop("clusterIPs", None)
            spec.pop("ipFamilies", None)
            spec.pop("ipFamilyPolicy", None)
        elif kind == "EndpointSlice" and doc["addressType"] == "IPv6":
            continue
        out.append(doc)
    return yaml.safe_dump_all(out)


def _texts(text: str, mode: str, node: str = "n1") -> dict[str, str]:
    loaded = load_texts([(text, "cluster.yaml")])
    return compile_mode(loaded.cluster, node, mode).texts


@pytest.mark.parametrize("mode", MODES)
def test_dual_stack_rules_are_the_ipv4_clusters_rules(mode: str) -> None:
    dual = _texts(DUAL, mode)
    assert dual == _texts(_ipv4_part(DUAL), mode)
    # Not vacuous: the IPv4 Service with its IPv4 endpoint is there.
    assert "10.96.0.20" in next(iter(dual.values()))
    assert "fd00" not in "".join(dual.values())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_dual_stack_node_rules_exit_0(tmp_path: Any, mode: str, lang: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(DUAL, encoding="utf-8")
    result = run_tutor("--lang", lang, "rules", "-f", str(path), "--mode", mode)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "10.96.0.20" in result.stdout
    # Both proxiers, each under its heading; no warning, nothing left unshown.
    assert result.stderr == "" or "IPVS" in result.stderr, result.stderr
    assert "fd00:10:96::20" in result.stdout and "fd00:10:96::30" in result.stdout
    assert result.stdout.count("\n# ") + result.stdout.startswith("# ") == 2


@pytest.mark.parametrize("mode", MODES)
def test_dual_stack_trace_from_the_node(tmp_path: Any, mode: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(DUAL, encoding="utf-8")
    result = run_tutor(
        "--lang", "en", "trace", "-f", str(path), "--mode", mode, "--from", "n1", "--to", "web:80"
    )
    assert result.returncode == 0, result.stderr
    assert "10.244.0.5:8080" in result.stdout, result.stdout
    six = run_tutor(
        "--lang", "en", "trace", "-f", str(path), "--mode", mode, "--from", "n1", "--to", "web6:80"
    )
    # An IPv6-only Service goes through the IPv6 proxier's rules (it has no endpoints: rejected).
    assert six.returncode == 0, six.stderr
    assert "[fd00:10:96::30]:80" in six.stdout and "rejected" in six.stdout
    assert "Traceback" not in six.stderr


def test_ipv6_only_node_is_refused_by_trace_not_crashed(tmp_path: Any) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(DUAL.replace("  - {type: InternalIP, address: 192.168.0.2}\n", ""), encoding="utf-8")
    result = run_tutor("--lang", "en", "trace", "-f", str(path), "--from", "n1", "--to", "web:80")
    assert result.returncode == 2, result.stderr
    # web's primary family is IPv4, and the node has no IPv4 address to send from.
    assert "Node 'n1' has no IPv4 InternalIP" in result.stderr


# Hypothesis: random dual-stack clusters -------------------------------------------------------------

_families = st.sampled_from(["v4", "v6", "both"])


@st.composite
def _clusters(draw: st.DrawFn) -> str:
    docs: list[dict[str, Any]] = []
    nodes = draw(st.lists(_families, min_size=1, max_size=3))
    for i, family in enumerate(nodes):
        addresses = []
        if family in ("v4", "both"):
            addresses.append({"type": "InternalIP", "address": f"192.168.0.{i + 2}"})
        if family in ("v6", "both"):
            addresses.append({"type": "InternalIP", "address": f"fd00::{i + 2}"})
        if family == "v6" and draw(st.booleans()):
            addresses.reverse()
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": f"n{i}"},
                "spec": {"podCIDR": f"10.244.{i}.0/24"},
                "status": {"addresses": addresses},
            }
        )
    services = draw(
        st.lists(st.tuples(_families, st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"])), max_size=4)
    )
    for j, (family, kind) in enumerate(services):
        v4, v6 = f"10.96.1.{j + 1}", f"fd00:10:96::{j + 1:x}"
        ips = {"v4": [v4], "v6": [v6], "both": draw(st.permutations([v4, v6]))}[family]
        spec: dict[str, Any] = {
            "type": kind,
            "clusterIP": ips[0],
            "clusterIPs": list(ips),
            "ipFamilies": ["IPv6" if ":" in ip else "IPv4" for ip in ips],
            "ports": [
                {"port": 80, "protocol": "TCP", **({"nodePort": 30000 + j} if kind != "ClusterIP" else {})}
            ],
        }
        if kind == "LoadBalancer" and draw(st.booleans()):
            spec["externalTrafficPolicy"] = "Local"
        if draw(st.booleans()):
            spec["externalIPs"] = [f"203.0.113.{j + 1}", f"2001:db8::{j + 1:x}"]
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"s{j}", "namespace": "default"},
                "spec": spec,
            }
        )
        for address_type in ("IPv4", "IPv6"):
            if (address_type == "IPv4") == (v4 in ips) or (address_type == "IPv6") == (v6 in ips):
                address = f"10.244.0.{j + 10}" if address_type == "IPv4" else f"fd00:244::{j + 10:x}"
                port: dict[str, Any] = {"port": 8080, "protocol": "TCP"}
                if draw(st.booleans()):
                    port["name"] = ""
                docs.append(
                    {
                        "apiVersion": "discovery.k8s.io/v1",
                        "kind": "EndpointSlice",
                        "metadata": {
                            "name": f"s{j}-{address_type.lower()}",
                            "namespace": "default",
                            "labels": {"kubernetes.io/service-name": f"s{j}"},
                        },
                        "addressType": address_type,
                        "endpoints": [
                            {"addresses": [address], "conditions": {"ready": True}, "nodeName": "n0"}
                        ],
                        "ports": [port],
                    }
                )
    return yaml.safe_dump_all(docs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_clusters())
def test_random_dual_stack_clusters_never_crash_rules_or_trace(text: str) -> None:
    loaded = load_texts([(text, "cluster.yaml")])
    cluster = loaded.cluster
    for mode in MODES:
        for node in cluster.nodes:
            compiled = compile_mode(cluster, node, mode)
            assert "fd00" not in "".join(compiled.texts.values())
            six = compile_mode(cluster, node, mode, family="IPv6").texts
            assert "10.96." not in "".join(six.values())
            # Every Service with an IPv6 ClusterIP gets its rules from the IPv6 proxier.
            for service in cluster.services.values():
                v6 = service.cluster_ip_of("IPv6")
                if not v6:
                    continue
                if mode == "iptables":
                    assert f"-d {v6}/128 " in six["iptables-save"], (service.name, six)
                elif mode == "nftables":
                    assert f"{v6} . tcp . 80" in six["nft list"], (service.name, six)
                else:
                    assert f"TCP  [{v6}]:80 rr" in six["ipvsadm -Ln"], (service.name, six)
    session = TraceSession.from_cluster(cluster)
    for node in cluster.nodes.values():
        for service in cluster.services.values():
            for family in ("IPv4", "IPv6"):
                if node.ips(family) and service.cluster_ip_of(family):
                    trace = session.curl(node.name, f"{service.name}:80", family=family)
                    assert trace.packet.dst_ip == service.cluster_ip_of(family)


def test_bracketed_ipv6_destination_is_traced_through_the_ipv6_rules(tmp_path: Any) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(DUAL, encoding="utf-8")
    result = run_tutor(
        "--lang", "en", "trace", "-f", str(path), "--from", "n1", "--to", "[fd00:10:96::20]:80"
    )
    assert result.returncode == 0, result.stderr
    assert "delivered to [fd00:244::5]:8080" in result.stdout and "Traceback" not in result.stderr


# Hypothesis: allocation through ipFamilyPolicy, every mode and family, the tracer's IPv6 answer ------------

_V4_SVC, _V6_SVC = "10.96.0.0/12", "fd00:10:96::/112"


@st.composite
def _allocated_clusters(draw: st.DrawFn) -> str:
    """A cluster whose ClusterIPs, slices and Pod IPs the sandbox allocates (mostly dual-stack)."""
    cidrs = draw(st.sampled_from([[_V4_SVC], [_V6_SVC], [_V4_SVC, _V6_SVC], [_V6_SVC, _V4_SVC]]))
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "kproxy-tutor/v1",
            "kind": "ClusterNetwork",
            "serviceCIDR": ",".join(cidrs),
            "podCIDR": "10.244.0.0/16,fd00:10:244::/56",
        }
    ]
    for i, family in enumerate(draw(st.lists(_families, min_size=1, max_size=2))):
        addresses = []
        if family in ("v4", "both"):
            addresses.append({"type": "InternalIP", "address": f"192.168.0.{i + 2}"})
        if family in ("v6", "both"):
            addresses.append({"type": "InternalIP", "address": f"fd00::{i + 2}"})
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": f"n{i}"},
            "status": {"addresses": addresses},
        }
        docs.append(node)
    template = {"metadata": {"labels": {"app": "app"}}, "spec": {"containers": [{"name": "c"}]}}
    deployment_spec = {"replicas": draw(st.integers(0, 3)), "selector": {"matchLabels": {"app": "app"}}}
    docs.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "app", "namespace": "default"},
            "spec": {**deployment_spec, "template": template},
        }
    )
    families = st.sampled_from([None, ["IPv4"], ["IPv6"], ["IPv6", "IPv4"], ["IPv4", "IPv6"]])
    kinds = st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"])
    for j in range(draw(st.integers(1, 3))):
        spec: dict[str, Any] = {"type": draw(kinds), "selector": {"app": "app"}, "ports": [{"port": 80}]}
        chosen = draw(families)
        # Policies the API server accepts with those families (two families need a dual policy).
        allowed = (
            [None, "SingleStack", "PreferDualStack"]
            if chosen is None or len(chosen) == 1
            else [
                "PreferDualStack",
                "RequireDualStack",
            ]
        )
        policy = draw(st.sampled_from(allowed))
        if policy is not None:
            spec["ipFamilyPolicy"] = policy
        if chosen is not None:
            spec["ipFamilies"] = chosen
        meta = {"name": f"s{j}", "namespace": "default"}
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec})
    return yaml.safe_dump_all(docs)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_allocated_clusters())
def test_allocated_dual_stack_clusters_never_crash_and_every_ipv6_service_gets_rules(text: str) -> None:
    from kproxy_tutor.errors import SandboxInputError, TutorError

    try:
        cluster = load_texts([(text, "cluster.yaml")]).cluster
    except SandboxInputError as error:
        # Only what the API server refuses: a family the cluster has no service CIDR for.
        assert "service CIDR" in str(error) or "single-stack" in str(error), str(error)
        return
    for service in cluster.services.values():
        assert len(service.cluster_ips) == len(service.ip_families) >= 1
        assert [":" in ip for ip in service.cluster_ips] == [f == "IPv6" for f in service.ip_families]
    for node in cluster.nodes:
        for mode in MODES:
            compile_mode(cluster, node, mode, family="IPv4")
            six = "".join(compile_mode(cluster, node, mode, family="IPv6").texts.values())
            for service in cluster.services.values():
                v6 = service.cluster_ip_of("IPv6")
                if v6:
                    assert v6 in six, (mode, service.name)
    session = TraceSession.from_cluster(cluster)
    for node in cluster.nodes.values():
        for service in cluster.services.values():
            try:
                trace = session.curl(node.name, f"{service.name}:80")
            except TutorError as error:
                # Only a node without an address of the Service's primary family is refused.
                assert "InternalIP" in str(error), str(error)
            else:
                assert trace.packet.dst_ip == service.cluster_ips[0]
