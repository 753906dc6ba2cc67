"""``kubectl get``: what -o json and -o yaml print goes back in with ``kubectl apply -f`` and gives the same cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kproxy_tutor.sandbox.iptables import render_save
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.shell.scenarios import scenario_names
from kproxy_tutor.shell.session import Session

EVERYTHING = "kubectl get svc,endpointslices,deployments,pods,nodes -A -o {fmt}"


def state(session: Session) -> tuple[object, ...]:
    cluster = session.cluster
    return (
        dict(cluster.nodes),
        dict(cluster.services),
        dict(cluster.endpoint_slices),
        dict(cluster.deployments),
        dict(cluster.pods),
        tuple(render_save(p.kernel.ruleset) for p in session.proxiers.values()),
    )


def printed(text: str) -> str:
    """The command's output without the echoed command line."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("$ "))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_get_output_applied_to_an_empty_sandbox_gives_the_same_cluster(
    scenario: str, fmt: str, run_shell: Callable, tmp_path: Path
) -> None:
    code, text, original = run_shell(EVERYTHING.format(fmt=fmt), scenario)
    assert code == 0
    dump = tmp_path / f"cluster.{fmt}"
    dump.write_text(printed(text), encoding="utf-8")
    parsed = json.loads(dump.read_text()) if fmt == "json" else yaml.safe_load(dump.read_text())
    assert parsed["kind"] == "List" and parsed["items"]
    code, _text, rebuilt = run_shell(f"kubectl apply -f {dump}")
    assert code == 0
    assert state(rebuilt) == state(original)
    # The same dump is also what `kproxy-tutor rules -f` reads.
    loaded = load_texts([(dump.read_text(), str(dump))]).cluster
    assert dict(loaded.services) == dict(original.cluster.services)


def test_applying_the_output_to_its_own_cluster_changes_nothing(run_shell: Callable, tmp_path: Path) -> None:
    code, text, session = run_shell(EVERYTHING.format(fmt="json"), "db-service")
    dump = tmp_path / "same.json"
    dump.write_text(printed(text), encoding="utf-8")
    before = session.snapshot()
    code, text, session = run_shell(f"kubectl apply -f {dump}", session=session)
    assert code == 0
    assert "created" not in text and "configured" not in text
    assert session.snapshot() == before


def test_one_named_object_prints_as_itself_and_a_list_otherwise(run_shell: Callable) -> None:
    _code, text, _s = run_shell("kubectl get svc db-service -o json", "db-service")
    assert json.loads(printed(text))["kind"] == "Service"
    _code, text, _s = run_shell("kubectl get svc -o yaml", "db-service")
    assert yaml.safe_load(printed(text))["kind"] == "List"


def test_endpoints_warning_goes_to_stderr_so_json_stays_json(language: Callable) -> None:
    import io

    from rich.console import Console

    from kproxy_tutor.shell.scenarios import find_scenario
    from kproxy_tutor.ui.shell_repl import run_script
    from kproxy_tutor.ui.shell_view import ShellView

    language("en")
    out, err = io.StringIO(), io.StringIO()
    view = ShellView(Console(file=out, width=200), Console(file=err, width=200))
    run_script(Session(find_scenario("db-service")), ["kubectl get ep -o json"], view)
    assert "deprecated" in err.getvalue()
    assert json.loads(printed(out.getvalue()))["items"][0]["kind"] == "Endpoints"


def test_describe_service_shows_three_endpoints_then_how_many_more(
    run_shell: Callable[..., tuple[int, str, Session]],
) -> None:
    """As kubectl's formatEndpointSlices: the first three IP:PORT, then "+ N more..."."""
    code, out, _session = run_shell(
        "kubectl scale deployment database --replicas 5\nkubectl describe service db-service",
        scenario="db-service",
    )
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("Endpoints:"))
    assert line.split(None, 1)[1] == "10.244.0.3:5432,10.244.0.4:5432,10.244.0.5:5432 + 2 more..."
