"""The db-service scenario made dual-stack, as lesson 3's dual-stack step describes it."""

from __future__ import annotations

from pathlib import Path

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.manifests import load_texts

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "db-service.yaml"
DUAL_NETWORK = (
    "apiVersion: kproxy-tutor/v1\nkind: ClusterNetwork\n"
    "serviceCIDR: 10.96.0.0/12,fd00:10:96::/112\npodCIDR: 10.244.0.0/16,fd00:10:244::/56\n---\n"
)
#: The lesson's Service (its YAML block is checked to be this one).
DUAL_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: db-service
spec:
  ipFamilyPolicy: PreferDualStack
  clusterIPs: [10.96.0.12, "fd00:10:96::12"]
  selector:
    app: database
  ports:
    - port: 5432
"""


def dual_db_service_text(service_yaml: str = DUAL_SERVICE) -> str:
    """The db-service scenario with an IPv6 Pod CIDR and address per node, and ``service_yaml`` as db-service."""
    text = SCENARIO.read_text(encoding="utf-8")
    for index, host in ((2, 10), (1, 11), (0, 12)):
        text = text.replace(
            f"spec: {{podCIDR: 10.244.{index}.0/24}}",
            f'spec: {{podCIDRs: [10.244.{index}.0/24, "fd00:10:244:{index}::/64"]}}',
        )
        text = text.replace(
            f"address: 192.168.1.{host}}}]",
            f'address: 192.168.1.{host}}}, {{type: InternalIP, address: "fd00:192:168:1::{host}"}}]',
        )
    docs = [d for d in text.split("\n---\n") if "name: db-service" not in d]
    return DUAL_NETWORK + "\n---\n".join([*docs, service_yaml])


def dual_db_service(service_yaml: str = DUAL_SERVICE) -> Cluster:
    return load_texts([(dual_db_service_text(service_yaml), "dual.yaml")]).cluster
