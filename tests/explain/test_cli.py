"""`kproxy-tutor explain` as a learner runs it: stdin, exit codes 0/1/2/4, --service, -o json, narrow terminals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.explain.helpers import SCENARIO_PATHS, real_or_rendered_iptables, real_or_rendered_nft
from tests.foundation.helpers import run_tutor

DB_YAML = str(SCENARIO_PATHS["db-service"])


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / "node.txt"
    path.write_text(real_or_rendered_iptables("db-service"), encoding="utf-8")
    return path


def _stdin(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    return subprocess.run(
        [sys.executable, "-m", "kproxy_tutor", *args],
        input=text,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=60,
    )


def test_clean_dump_from_stdin_exits_0_and_names_the_format() -> None:
    result = _stdin(
        real_or_rendered_iptables("db-service"), "--lang", "en", "--plain", "explain", "--rules", "-"
    )
    assert result.returncode == 0, result.stderr
    assert "Read iptables-save output: kube-proxy in iptables mode." in result.stdout
    assert "default/db-service" in result.stdout and "\x1b[" not in result.stdout


def test_russian_is_the_default(dump: Path) -> None:
    result = run_tutor("--plain", "explain", "--rules", str(dump), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "Прочитан вывод iptables-save" in result.stdout


def test_agreeing_with_manifests_exits_0_and_drift_exits_1(dump: Path, tmp_path: Path) -> None:
    ok = run_tutor("--lang", "en", "explain", "--rules", str(dump), "-f", DB_YAML, "--node", "worker-1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "The rules agree with what kube-proxy v1.35 writes" in " ".join(ok.stdout.split())
    drift = tmp_path / "drift.txt"
    drift.write_text(dump.read_text().replace("0.33333333349", "0.25000000000"), encoding="utf-8")
    bad = run_tutor("--lang", "en", "explain", "--rules", str(drift), "-f", DB_YAML, "--node", "worker-1")
    assert bad.returncode == 1
    assert "kube-proxy writes 1/3" in " ".join(bad.stdout.split())


def test_unreadable_input_exits_4_with_a_message(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n", encoding="utf-8")
    result = run_tutor("--lang", "en", "explain", "--rules", str(junk))
    assert result.returncode == 4
    assert "not a dump explain can read" in result.stderr and "Traceback" not in result.stderr
    missing = run_tutor("--lang", "en", "explain", "--rules", str(tmp_path / "nope.txt"))
    assert missing.returncode == 4 and "Traceback" not in missing.stderr


def test_usage_errors_exit_2(dump: Path) -> None:
    assert run_tutor("explain", "--rules", str(dump), "-o", "yaml").returncode == 2
    assert run_tutor("explain", "--rules", str(dump), "--node", "worker-1").returncode == 2
    unknown = run_tutor("--lang", "en", "explain", "--rules", str(dump), "--service", "default/nope")
    assert unknown.returncode == 2 and "There is no Service default/nope" in unknown.stderr


def test_json_and_service_filter(tmp_path: Path) -> None:
    listing = tmp_path / "nft.txt"
    listing.write_text(real_or_rendered_nft("etp-local"), encoding="utf-8")
    result = run_tutor("explain", "--rules", str(listing), "-o", "json", "--service", "edge/ingress")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "nft list" and data["mode"] == "nftables"
    assert [v["name"] for v in data["service_ports"]] == ["edge/ingress:http"]
    assert [e["share"] for e in data["service_ports"][0]["endpoints"]] == ["1/2", "1/2", "1"]


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_output_fits_the_terminal(dump: Path, columns: int) -> None:
    result = run_tutor("--lang", "ru", "explain", "--rules", str(dump), env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= columns


def test_help_documents_the_exit_codes() -> None:
    result = run_tutor("--lang", "en", "explain", "--help", env={"COLUMNS": "100"})
    flat = " ".join(result.stdout.split())
    assert "1 differences or problems found" in flat and "4 unreadable input" in flat
