"""Helpers of the sandbox tests: scenario loading and golden-file comparison."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.iptables import Proxier, SyncResult
from kproxy_tutor.sandbox.manifests import LoadResult, load_paths

TESTS = Path(__file__).resolve().parent.parent
SCENARIOS = TESTS / "scenarios"
GOLDEN = TESTS / "golden" / "iptables"
SCENARIO_NAMES = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@dataclass
class Scenario:
    name: str
    node: str
    loaded: LoadResult
    proxier: Proxier
    result: SyncResult


def load_scenario(name: str) -> Scenario:
    path = SCENARIOS / f"{name}.yaml"
    first = path.read_text().splitlines()[0]
    assert first.startswith("# node:"), f"{path} must start with '# node: NAME'"
    node = first.split(":", 1)[1].strip()
    loaded = load_paths([str(path)])
    proxier = Proxier(loaded.cluster, node)
    return Scenario(name, node, loaded, proxier, proxier.sync())


def strip_header(text: str) -> str:
    """Golden files start with '#' lines saying where they come from; they are not part of the dump."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def check_golden(path: Path, actual: str, update: bool, header: str = "") -> None:
    if update:
        path.write_text(header + actual)
        return
    if not path.exists():
        pytest.fail(f"missing golden file {path}; run pytest --update-goldens and review it")
    expected = strip_header(path.read_text())
    assert actual == expected, f"output differs from {path.name}"
