"""Shared test helpers for the proxy-mode tests: scenario loading, golden files, transaction comparison."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.manifests import load_paths

TESTS = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((TESTS / "scenarios").glob("*.yaml"))
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = TESTS / "golden"

# The one-node cluster the small mode tests build on: node n1, Pod CIDR 10.244.0.0/24.
NODE_N1 = """\
apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDR: 10.244.0.0/24}
status:
  addresses: [{type: InternalIP, address: 192.168.0.2}]
"""


def endpoint_slice(service: str, addresses: list[str], port: int, port_name: str = "http") -> str:
    """A ready IPv4 EndpointSlice document (with its leading ``---``) for Service ``ns/<service>``."""
    endpoints = "".join(
        f"- {{addresses: [{address}], conditions: {{ready: true}}}}\n" for address in addresses
    )
    return (
        "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        f"metadata: {{name: {service}-1, namespace: ns, labels: {{kubernetes.io/service-name: {service}}}}}\n"
        f"addressType: IPv4\nendpoints:\n{endpoints}"
        f"ports: [{{name: {port_name}, port: {port}, protocol: TCP}}]\n"
    )


def scenario_node(path: Path) -> str:
    """The node named in the scenario's first line (``# node: worker-1``)."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first.split("node:", 1)[1].strip()


def load_scenario(path: Path) -> tuple[Cluster, str]:
    return load_paths([str(path)]).cluster, scenario_node(path)


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare exactly; ``--update-goldens`` rewrites; a missing golden fails."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path} (run pytest --update-goldens and review it)"
    assert actual == path.read_text(encoding="utf-8")


def transaction_shape(text: str) -> tuple[Counter[str], dict[str, list[str]]]:
    """Upstream's comparison: non-rule lines as a multiset, rules per chain in order."""
    others: Counter[str] = Counter()
    rules: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("add rule "):
            chain = line.split()[4]
            rules.setdefault(chain, []).append(line)
        else:
            others[line] += 1
    return others, rules
