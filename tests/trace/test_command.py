"""`kproxy-tutor trace` as a learner runs it: plain text, JSON for scripts, load, a real dump, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from kproxy_tutor.sandbox.iptables.render import render_save
from tests.foundation.helpers import run_tutor

from .conftest import SCENARIOS, make_lab

WEB = str(SCENARIOS / "clusterip-multi.yaml")
NODEPORT = str(SCENARIOS / "nodeport.yaml")


def test_plain_trace_tells_the_whole_story_in_english() -> None:
    result = run_tutor(
        "--lang", "en", "--plain", "trace", "-f", WEB, "--from", "worker-1", "--to", "web", "--seed", "1"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The plain output wraps at the terminal's width; a long rule's continuation lines start with ↪.
    flat = " ".join(word for word in out.split() if word != "↪")
    for needle in (
        "DNS: web.default.svc.cluster.local",
        "not kube-proxy",
        "OUTPUT",
        "-j DNAT --to-destination",
        "Result: delivered to",
        "Source NAT: yes",
        "covers the node's own processes too",
        "rules for this packet",
        "Reply:",
    ):
        assert needle in flat, needle
    assert "\x1b[" not in out


def test_russian_is_the_default() -> None:
    result = run_tutor("--plain", "trace", "-f", WEB, "--from", "worker-1", "--to", "web", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert "Итог: доставлено" in result.stdout
    assert "-A KUBE-SERVICES" in result.stdout  # rule text stays as iptables prints it


def test_json_has_the_documented_fields() -> None:
    lab = make_lab("clusterip-multi")
    endpoints = lab.endpoints({"app": "web"}, 8080)
    result = run_tutor(
        "trace", "-f", WEB, "--from", "worker-1", "--to", "web:80", "--seed", "4", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "delivered"
    assert data["endpoint"] in endpoints
    assert data["masquerade"] is True
    assert data["rules_examined"] == sum(data["rules_examined_by_table"].values()) > 0
    assert data["seed"] == 4
    kinds = [step["kind"] for step in data["steps"]]
    assert kinds[0] == "dns" and "dnat" in kinds and "reply" in kinds
    assert all(
        set(step) >= {"kind", "node", "hook", "table", "chain", "rule", "packet", "detail"}
        for step in data["steps"]
    )


def test_count_shows_the_distribution(tmp_path: Path) -> None:
    result = run_tutor(
        "--lang",
        "en",
        "--plain",
        "trace",
        "-f",
        NODEPORT,
        "--from",
        "203.0.113.9",
        "--to",
        "worker-1:30080",
        "--count",
        "400",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert "400 new connections" in result.stdout
    assert (
        "10.244.1.7:8080 (shop/shop-a)" in result.stdout and "10.244.2.9:8080 (shop/shop-b)" in result.stdout
    )
    assert "50.0%" in result.stdout  # the rules' probability next to the observed share


def test_count_json() -> None:
    result = run_tutor(
        "trace",
        "-f",
        NODEPORT,
        "--from",
        "203.0.113.9",
        "--to",
        "worker-1:30080",
        "-n",
        "100",
        "--seed",
        "3",
        "-o",
        "json",
    )
    data = json.loads(result.stdout)
    assert sum(data["load"]["counts"].values()) == 100
    assert set(data["load"]["expected"]) == {"10.244.1.7:8080", "10.244.2.9:8080"}


def test_rules_dump(tmp_path: Path) -> None:
    lab = make_lab("nodeport")
    dump = tmp_path / "node.rules"
    dump.write_text(render_save(lab.session.tracer.network.node("worker-1").rules()))
    result = run_tutor(
        "trace",
        "--rules",
        str(dump),
        "--node-ip",
        "192.168.0.11",
        "--from",
        "203.0.113.9",
        "--to",
        "192.168.0.11:30080",
        "-o",
        "json",
        "--seed",
        "1",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["endpoint"] in {"10.244.1.7:8080", "10.244.2.9:8080"} and data["masquerade"] is True


def test_usage_errors(tmp_path: Path) -> None:
    both = run_tutor("--lang", "en", "trace", "-f", WEB, "--rules", WEB, "--from", "x", "--to", "web")
    assert both.returncode == 2 and "one of the two" in both.stderr
    unknown = run_tutor("--lang", "en", "trace", "-f", WEB, "--from", "worker-1", "--to", "nosuch")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr
    dump = tmp_path / "node.rules"
    dump.write_text("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n")
    dump_name = run_tutor(
        "--lang",
        "en",
        "trace",
        "--rules",
        str(dump),
        "--node-ip",
        "192.168.0.11",
        "--from",
        "client",
        "--to",
        "10.0.0.1:80",
    )
    assert dump_name.returncode == 2 and "must be an IP" in dump_name.stderr
