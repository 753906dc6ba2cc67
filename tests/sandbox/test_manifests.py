"""Loading real Kubernetes YAML/JSON: lists, kubectl dumps, errors with file:line, warnings, garbage."""

from __future__ import annotations

import contextlib
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.manifests import load_texts

SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def load(text: str, name: str = "m.yaml"):
    return load_texts([(text, name)])


def test_multi_document_and_list_with_unknown_kinds_as_warnings() -> None:
    text = (
        SERVICE
        + """---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop, labels: {app: web}}
  spec: {nodeName: worker-1}
  status: {podIP: 10.244.1.9}
- apiVersion: v1
  kind: Secret
  metadata: {name: s, namespace: shop}
"""
    )
    result = load(text)
    assert ("shop", "web") in result.cluster.services
    assert [str(w) for w in result.warnings] == [
        "m.yaml:16: Skipped Secret: the sandbox does not use this kind."
    ]
    slices = result.cluster.slices_of("shop", "web")
    assert slices[0].endpoints[0].addresses == ("10.244.1.9",)
    assert slices[0].ports[0].port == 8080


def test_json_fast_path_reads_kubectl_get_output() -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(SERVICE)]}
    result = load(json.dumps(doc), "dump.json")
    assert result.cluster.services[("shop", "web")].cluster_ip.startswith("10.")


def test_invalid_service_name_names_file_and_line() -> None:
    text = "# comment\n" + SERVICE.replace("name: web,", "name: Web_1,")
    with pytest.raises(SandboxInputError) as error:
        load(text)
    assert error.value.location == "m.yaml:2"
    assert "DNS-1035" in str(error.value)


def test_malformed_yaml_names_the_line() -> None:
    with pytest.raises(SandboxInputError) as error:
        load("apiVersion: v1\nkind: Service\nmetadata: {name: x\n  bad: [\n")
    assert error.value.location is not None and error.value.location.startswith("m.yaml:")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("ports: [{port: 70000}]", "between 1 and 65535"),
        ("ports: [{port: 80, protocol: ICMP}]", "Unsupported protocol"),
        ("ports: [{port: 80}]\n  externalIPs: [300.1.2.3]", "not an IP address"),
        ("ports: [{port: 80}]\n  type: Bogus", "Unsupported Service type"),
        ("ports: [{port: '80'}]", "whole number"),
    ],
)
def test_invalid_fields(change: str, message: str) -> None:
    text = SERVICE.replace("ports: [{port: 80, targetPort: 8080}]", change)
    with pytest.raises(SandboxInputError) as error:
        load(text)
    assert message in str(error.value)


def test_duplicate_cluster_ip_and_node_port() -> None:
    a = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort, clusterIP: 10.96.5.5, ports: [{port: 80, nodePort: 30001}]}\n"
    with pytest.raises(SandboxInputError, match=r"ClusterIP 10\.96\.5\.5 is already used"):
        load(a + "---\n" + a.replace("name: a", "name: b"))
    with pytest.raises(SandboxInputError, match=r"NodePort 30001/TCP is already used"):
        load(a + "---\n" + a.replace("name: a", "name: b").replace("10.96.5.5", "10.96.5.6"))


def test_kubeadm_allocation_is_deterministic() -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: kube-dns, namespace: kube-system}\nspec: {ports: [{port: 53, protocol: UDP}]}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: kubernetes}\nspec: {ports: [{port: 443}]}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec: {type: NodePort, ports: [{port: 80}]}\n"
    )
    first, second = load(text).cluster, load(text).cluster
    assert first.services[("kube-system", "kube-dns")].cluster_ip == "10.96.0.10"
    assert first.services[("default", "kubernetes")].cluster_ip == "10.96.0.1"
    node_port = first.services[("default", "np")].ports[0].node_port
    assert 30000 <= node_port <= 32767
    assert node_port == second.services[("default", "np")].ports[0].node_port
    assert [n.pod_cidr() for n in first.nodes.values()] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]


def test_deployment_pods_are_deterministic_and_spread() -> None:
    text = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}
"""
    pods = sorted(load(text).cluster.pods.values(), key=lambda p: p.pod_ip)
    assert [p.pod_ip for p in pods] == ["10.244.1.2", "10.244.1.3", "10.244.2.2"]
    assert all(p.name.startswith("web-") and len(p.name.split("-")) == 3 for p in pods)
    assert [p.name for p in pods] == [
        p.name for p in sorted(load(text).cluster.pods.values(), key=lambda p: p.pod_ip)
    ]


def test_kube_proxy_configmap_and_sandbox_kinds() -> None:
    text = """apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system}
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    clusterCIDR: 10.32.0.0/12
    iptables: {masqueradeAll: true, masqueradeBit: 15}
---
apiVersion: kproxy-tutor/v1
kind: NodeFacts
randomFully: false
"""
    cluster = load(text).cluster
    assert cluster.config.cluster_cidr == "10.32.0.0/12"
    assert cluster.config.masquerade_all and cluster.config.masquerade_bit == 15
    assert not cluster.facts.random_fully


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "apiVersion",
                    "kind",
                    "metadata",
                    "spec",
                    "status",
                    "name",
                    "ports",
                    "items",
                    "port",
                    "endpoints",
                    "addresses",
                    "selector",
                    "clusterIP",
                    "type",
                    "namespace",
                    "labels",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
_kinds = st.sampled_from(
    [
        "Service",
        "Pod",
        "Node",
        "Deployment",
        "EndpointSlice",
        "List",
        "KubeProxyConfiguration",
        "NodeFacts",
        "ClusterNetwork",
        "ConfigMap",
        "Weird",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_garbage_text_only_raises_input_errors(text: str) -> None:
    with contextlib.suppress(SandboxInputError):
        load(text)


@settings(max_examples=200, deadline=None)
@given(_kinds, _json_values, _json_values, st.booleans())
def test_garbage_objects_only_raise_input_errors(
    kind: str, spec: object, extra: object, as_json: bool
) -> None:
    obj = {
        "apiVersion": "kproxy-tutor/v1" if kind in ("NodeFacts", "ClusterNetwork") else "v1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "default"},
        "spec": spec,
        "items": extra,
        "data": extra,
    }
    text = json.dumps(obj) if as_json else yaml.safe_dump(obj)
    with contextlib.suppress(SandboxInputError):
        load(text)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["clusterCIDR", "detectLocalMode", "nodePortAddresses", "iptables", "mode"]),
        _json_values,
        max_size=4,
    )
)
def test_garbage_proxy_configuration_then_rules_only_raise_input_errors(fields: dict) -> None:
    from kproxy_tutor.sandbox.iptables.dump import rules_text

    obj = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration", **fields}
    with contextlib.suppress(SandboxInputError):
        rules_text(load(yaml.safe_dump(obj) + "---\n" + SERVICE).cluster)
