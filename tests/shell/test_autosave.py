"""Leaving the shell with unsaved changes keeps them in the state directory, and ``load`` brings them back."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session
from kproxy_tutor.ui.shell_repl import autosave_path, keep_unsaved
from kproxy_tutor.ui.shell_view import ShellView


def test_unsaved_changes_are_kept_and_load_back(
    run_shell: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPROXY_TUTOR_HOME", str(tmp_path))
    _code, _text, session = run_shell("kubectl scale deployment database --replicas 5", "db-service")
    assert session.unsaved
    out = io.StringIO()
    keep_unsaved(session, ShellView(Console(file=out, width=200)))
    path = autosave_path()
    assert path.is_file() and str(path) in out.getvalue()
    assert not session.unsaved
    code, _text, restored = run_shell(f"load {path}")
    assert code == 0
    assert dict(restored.cluster.pods) == dict(session.cluster.pods)
    assert restored.scenario == "db-service"


def test_nothing_is_written_without_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPROXY_TUTOR_HOME", str(tmp_path))
    session = Session(find_scenario("db-service"))
    out = io.StringIO()
    keep_unsaved(session, ShellView(Console(file=out, width=200)))
    assert out.getvalue() == "" and not autosave_path().exists()
