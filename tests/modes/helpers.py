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
