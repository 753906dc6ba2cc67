"""``trace -o json`` has one schema in every mode, with and without --count (docs/trace-json.schema.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.sandbox.serviceport import service_cluster_ip
from kproxy_tutor.sandbox.trace.export import trace_data
from kproxy_tutor.sandbox.trace.load import run_load
from kproxy_tutor.sandbox.trace.session import TraceSession
from tests.foundation.helpers import run_tutor

from .conftest import SCENARIOS, make_lab
from .json_schema import errors

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "trace-json.schema.json").read_text())
NAMES = ("clusterip-multi", "no-endpoints", "nodeport", "external-ips", "session-affinity", "etp-local")
SOURCES = ("client", "worker-1", "203.0.113.9")


@cache
def _targets(name: str) -> tuple[str, ...]:
    cluster = make_lab(name).cluster
    out = ["10.96.0.250:81", "192.168.0.12:22"]
    for service in cluster.services.values():
        ip = service_cluster_ip(service)
        for port in service.ports:
            if ip is not None:
                out.append(f"{service.namespace}/{service.name}:{port.port}")
            if port.node_port:
                out.append(f"worker-2:{port.node_port}")
            out.extend(f"{e}:{port.port}" for e in service.external_ips)
    return tuple(out)


def _data(mode: str, name: str, source: str, target: str, count: int, seed: int) -> dict[str, object]:
    """What ``trace -o json`` prints (the command does the same calls)."""
    session = TraceSession.from_cluster(make_lab(name).cluster, seed, mode=mode)
    client, destination = session.resolve(source, target)
    if count > 1:
        result = run_load(
            session.tracer, client, destination.ip, destination.port, destination.protocol, count
        )
        return trace_data(result.first, client, destination, result, mode=mode, seed=seed)
    return trace_data(session.connect(client, destination), client, destination, mode=mode, seed=seed)


def test_the_checker_finds_what_breaks_the_schema() -> None:
    good = _data("iptables", "clusterip-multi", "client", "web:80", 1, 1)
    assert errors(SCHEMA, good) == []
    assert errors(SCHEMA, {k: v for k, v in good.items() if k != "load"}) == ["$: 'load' is missing"]
    assert errors(SCHEMA, good | {"counts": {}}) == ["$: 'counts' is not in the schema"]
    assert errors(SCHEMA, good | {"route": "elsewhere"})
    assert errors(SCHEMA, good | {"load": {"connections": 3, "counts": {}, "expected": {}, "chain": None}})
    step = dict(good["steps"][0]) | {"rule_number": "1"}  # type: ignore[index]
    assert errors(SCHEMA, good | {"steps": [step]})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(MODES),
    name=st.sampled_from(NAMES),
    source=st.sampled_from(SOURCES),
    count=st.sampled_from((1, 4)),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_every_mode_prints_the_documented_schema(
    mode: str, name: str, source: str, count: int, seed: int, data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(_targets(name)))
    out = _data(mode, name, source, target, count, seed)
    assert errors(SCHEMA, out) == [], (mode, name, source, target)
    assert out["mode"] == mode
    assert (out["load"] is None) == (count == 1)
    if out["outcome"] == "delivered":
        assert out["service"] is not None
        assert out["rules_examined_by_table"]


@pytest.mark.parametrize("mode", MODES)
def test_the_command_fills_load_in_every_mode(mode: str) -> None:
    scenario = str(SCENARIOS / "clusterip-multi.yaml")
    args = ["trace", "-f", scenario, "--from", "worker-1", "--to", "web:80", "--seed", "2", "--mode", mode]
    result = run_tutor(*args, "-n", "6", "-o", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert errors(SCHEMA, out) == []
    load = out["load"]
    assert load["connections"] == sum(load["counts"].values()) == 6
    assert load["chain"] and load["expected"]
    assert abs(sum(load["expected"].values()) - 1) < 1e-6
    assert set(load["counts"]) <= set(load["expected"])
    assert out["service"] == "default/web:http"
