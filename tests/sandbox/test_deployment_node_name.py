"""A Deployment whose Pod template names a node (``spec.template.spec.nodeName``) puts every replica there."""

from __future__ import annotations

import dataclasses

from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.shell.manifests_out import deployment_manifest

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      nodeName: worker-2
      containers: [{name: db, image: postgres}]
"""


def test_every_replica_is_bound_to_the_named_node_and_ips_come_from_its_range() -> None:
    cluster = load_texts([(MANIFEST, "db.yaml")]).cluster
    pods = sorted(cluster.pods.values(), key=lambda p: p.pod_ip)
    assert {p.node_name for p in pods} == {"worker-2"}
    assert [p.pod_ip for p in pods] == ["10.244.2.2", "10.244.2.3", "10.244.2.4"]
    deployment = cluster.deployments[("default", "db")]
    cluster.apply_deployment(dataclasses.replace(deployment, replicas=5))
    assert {p.node_name for p in cluster.pods.values()} == {"worker-2"}


def test_without_a_node_name_replicas_are_spread_over_the_workers() -> None:
    cluster = load_texts([(MANIFEST.replace("      nodeName: worker-2\n", ""), "db.yaml")]).cluster
    assert {p.node_name for p in cluster.pods.values()} == {"worker-1", "worker-2"}


def test_the_node_name_survives_a_save() -> None:
    cluster = load_texts([(MANIFEST, "db.yaml")]).cluster
    manifest = deployment_manifest(cluster.deployments[("default", "db")])
    assert manifest["spec"]["template"]["spec"]["nodeName"] == "worker-2"
