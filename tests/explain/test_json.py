"""``explain -o json``: every field and code the output can hold is documented in docs/explain-json.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kproxy_tutor.explain import compare_with, explain_text
from kproxy_tutor.explain.export import SCHEMA_VERSION, to_data
from tests.explain.helpers import SCENARIO_PATHS, real_or_rendered_iptables, real_or_rendered_nft, scenario

DOC = (Path(__file__).resolve().parents[2] / "docs" / "explain-json.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"`([a-z_@-]+)`", DOC))


def _keys(value: object, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "params" and key != "rules_per_table":
                found.add(key)
                _keys(item, found)
            elif key == "params":
                found.update(item)
    elif isinstance(value, list):
        for item in value:
            _keys(item, found)
    return found


def _codes(data: dict) -> set[str]:  # type: ignore[type-arg]
    rules = [r for v in data["service_ports"] for r in v["rules"]] + data["kube_proxy_rules"]
    rules += data["not_kube_proxy"]["rules_in_kube_proxy_chains"]
    codes = {r["kind"] for r in rules} | {f["code"] for f in data["findings"] + (data["differences"] or [])}
    return codes | {data["mode"], data["format"]}


@pytest.mark.parametrize("name", sorted(SCENARIO_PATHS))
@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_every_field_and_code_is_documented(name: str, mode: str) -> None:
    dump = real_or_rendered_iptables(name) if mode == "iptables" else real_or_rendered_nft(name)
    explanation = explain_text(dump, "node")
    cluster, node = scenario(name)
    data = json.loads(json.dumps(to_data(explanation, compare_with(explanation, cluster, node))))
    assert data["schema"] == SCHEMA_VERSION == 1
    undocumented = (_keys(data, set()) | _codes(data)) - DOCUMENTED - {"nft list", "ip kube-proxy"}
    assert not undocumented, f"document these in docs/explain-json.md: {sorted(undocumented)}"


def test_finding_codes_and_params_are_documented() -> None:
    from kproxy_tutor.ui.explain_view import FINDING_TEXTS, RULE_TEXTS

    kinds = {code.split("@")[0] for code in RULE_TEXTS} | set(FINDING_TEXTS)
    assert kinds - DOCUMENTED == set()


def test_without_manifests_differences_is_null() -> None:
    data = to_data(explain_text(real_or_rendered_iptables("nodeport"), "node"))
    assert data["differences"] is None
    assert data["summary"]["service_ports"] == len(data["service_ports"]) >= 1
