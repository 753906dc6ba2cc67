"""`kproxy-tutor sandbox` from the command line: scenario list, scripts, stdin, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kproxy_tutor.entry import main


def test_list_scenarios_in_russian(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "ru", "sandbox", "--list-scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("db-service", "nodeport-web", "session-affinity", "no-endpoints", "etp-local"):
        assert name in out
    assert "db-service из курса: ClusterIP и три Pod'а базы данных" in out


def test_list_scenarios_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "sandbox", "--list-scenarios"]) == 0
    assert "A Service without endpoints: REJECT" in capsys.readouterr().out


def test_script_file_echoes_commands_and_exits_4_on_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text("kubectl get svc\nkubectl get nope\nkubectl get nodes\n", encoding="utf-8")
    code = main(["--lang", "en", "sandbox", "--scenario", "db-service", "--script", str(script)])
    captured = capsys.readouterr()
    assert code == 4
    assert captured.out.startswith("$ kubectl get svc\n")
    assert "$ kubectl get nodes" not in captured.out
    assert "Error: The sandbox has no resource type 'nope'" in captured.err


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # --scenario is a command-line option: a wrong value is a usage error (exit 2), not sandbox input.
    assert main(["--lang", "en", "sandbox", "--scenario", "db-servce", "--script", "-"]) == 2
    assert "Did you mean 'db-service'?" in capsys.readouterr().err


def test_stdin_that_is_not_a_terminal_is_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kproxy_tutor", "--lang", "en", "sandbox", "--scenario", "no-endpoints"],
        input="curl orders:8080 --from client --brief\nexit\nkubectl get svc\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "$ curl orders:8080 --from client --brief" in result.stdout
    assert "rejected by filter KUBE-SERVICES" in result.stdout
    assert "$ kubectl get svc" not in result.stdout  # exit ends the script
