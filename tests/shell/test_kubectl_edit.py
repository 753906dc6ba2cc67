"""``kubectl edit`` driven by a fake $EDITOR: a good edit applies, a bad one changes nothing and says where."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.shell.editor import open_editor
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session


def fake_editor(tmp_path: Path, script: str) -> str:
    """A shell script that edits the file it is given the way ``script`` (sh, with $1) says."""
    path = tmp_path / "editor.sh"
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def session() -> Session:
    session = Session(find_scenario("db-service"))
    session.editor = open_editor
    return session


def test_saved_edit_is_applied(
    session: Session, run_shell: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "sed -i 's/type: ClusterIP/type: NodePort/' \"$1\""))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("KUBE_EDITOR", raising=False)
    code, text, session = run_shell("kubectl edit svc db-service", session=session)
    assert code == 0, text
    assert "service/db-service edited" in text
    service = session.cluster.services[("default", "db-service")]
    assert service.type == "NodePort" and service.ports[0].node_port
    assert session.unsaved


def _error(text: str) -> tuple[Path, int]:
    error = next(line for line in text.splitlines() if line.startswith("Error: "))
    location = error.split("Error: ", 1)[1]
    path, line = location.split(":")[:2]
    return Path(path), int(line)


@pytest.mark.parametrize(
    ("edit", "broken"),
    [
        # A valid change (the type) and a line that is no YAML: the error names that line.
        ("s/type: ClusterIP/type: NodePort/; s/port: 5432/port: 5432: x/", "port: 5432: x"),
        # A valid change and an invalid port: all or nothing; the error names the object's first line.
        ("s/type: ClusterIP/type: NodePort/; s/port: 5432/port: 99999/", "apiVersion: v1"),
    ],
)
def test_bad_edit_changes_nothing_and_names_the_line(
    edit: str,
    broken: str,
    session: Session,
    run_shell: Callable,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, f"sed -i '{edit}' \"$1\""))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("KUBE_EDITOR", raising=False)
    before = session.snapshot()
    code, text, session = run_shell("kubectl edit svc db-service", session=session, keep_going=True)
    assert code == 4
    assert session.snapshot() == before
    kept, line = _error(text)
    assert kept.name.startswith("kubectl-edit-") and kept.exists()
    lines = kept.read_text().splitlines()
    assert "  type: NodePort" in lines  # the learner's edit is all there
    assert broken in lines[line - 1]
    assert f"your edit is kept in {kept}" in text
    kept.unlink()


def test_changing_the_name_is_refused(
    session: Session, run_shell: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", fake_editor(tmp_path, "sed -i 's/name: db-service/name: other/' \"$1\""))
    before = session.snapshot()
    code, text, session = run_shell("kubectl edit svc db-service", session=session, keep_going=True)
    assert code == 4 and "metadata.name cannot be changed" in text
    assert session.snapshot() == before


def test_quitting_without_saving_cancels(
    session: Session, run_shell: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBE_EDITOR", fake_editor(tmp_path, "true"))
    before = session.snapshot()
    code, text, session = run_shell("kubectl edit deploy database", session=session)
    assert code == 0 and "Edit cancelled, no changes made." in text
    assert session.snapshot() == before


def test_a_failing_editor_changes_nothing(
    session: Session, run_shell: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBE_EDITOR", fake_editor(tmp_path, "exit 3"))
    code, text, _s = run_shell("kubectl edit svc db-service", session=session, keep_going=True)
    assert code == 4 and "exited with status 3" in text


def test_without_a_terminal_edit_refuses_clearly(run_shell: Callable) -> None:
    code, text, _s = run_shell("kubectl edit svc db-service", "db-service", keep_going=True)
    assert code == 4 and "needs a terminal" in text and "kubectl patch" in text
