"""State files: wrong shapes kept aside, atomic exercise sandboxes, temp files cleaned, read-only homes, safe locks."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from kproxy_tutor.errors import StateError
from kproxy_tutor.exercises import record
from kproxy_tutor.exercises.runner import restore_state, save_state
from kproxy_tutor.progress import progress_store
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session
from kproxy_tutor.store import QUARANTINED
from tests.reliability.helpers import assert_clean, run_inprocess

WRONG_SHAPES = [
    {"version": 1, "quiz": "x"},
    {"version": 1, "lessons": []},
    {"version": 1, "lessons": {"role": "done"}},
    {"version": 1, "exercises": {"e": {"attempts": "many"}}},
    {"version": 1, "quiz": {"best": {"role": "x"}}},
    {"version": 1, "quiz": {"review": {"q": {"box": "1"}}}},
    {"version": 1, "current_lesson": 3},
    {"version": True},
]


@pytest.mark.parametrize("document", WRONG_SHAPES, ids=[json.dumps(d) for d in WRONG_SHAPES])
@pytest.mark.parametrize("command", [("progress",), ("lessons",), ("quiz", "1", "--answers", "ANSWERS")])
def test_a_wrong_typed_progress_file_is_kept_aside_and_reported(
    monkeypatch: pytest.MonkeyPatch, learner_home: Path, document: dict, command: tuple[str, ...]
) -> None:
    (learner_home / "progress.json").write_text(json.dumps(document), encoding="utf-8")
    answers = learner_home.parent / "answers.txt"
    answers.write_text("", encoding="utf-8")
    args = [str(answers) if a == "ANSWERS" else a for a in command]
    result = run_inprocess(monkeypatch, *args)
    assert_clean(result)
    kept = [p for p in learner_home.iterdir() if p.name.startswith("progress.json.corrupt-")]
    assert len(kept) == 1
    assert json.loads(kept[0].read_text(encoding="utf-8")) == document
    assert kept[0].name in result.stderr and "повреждён" in result.stderr


def _session() -> Session:
    return Session(find_scenario("db-service"), None)


def test_the_exercise_sandbox_is_saved_in_a_directory_with_an_apostrophe(tmp_path: Path) -> None:
    path = tmp_path / "o'brien" / "ex.yaml"
    session = _session()
    save_state(session, path)
    assert "kind:" in path.read_text(encoding="utf-8")
    other = _session()
    assert restore_state(other, path)
    assert [p for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_truncated_exercise_sandbox_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    save_state(_session(), path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 3] + "\n  - [", encoding="utf-8")
    QUARANTINED.clear()
    assert not restore_state(_session(), path)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("ex.yaml.corrupt-")]
    assert len(kept) == 1 and not path.exists()
    assert QUARANTINED and QUARANTINED[-1].moved_to == kept[0]
    QUARANTINED.clear()


def test_a_temp_file_left_by_a_killed_writer_is_removed_at_the_next_start(
    monkeypatch: pytest.MonkeyPatch, learner_home: Path
) -> None:
    progress_store().update(lambda d: d["lessons"].__setitem__("role", {"step": "a"}))
    left = learner_home / ".progress.json.k1ll3d.tmp"
    left.write_text("x" * 100_000, encoding="utf-8")
    sandbox = record.state_path("some-exercise")
    save_state(_session(), sandbox)
    left_sandbox = sandbox.parent / f".{sandbox.name}.zz.tmp"
    left_sandbox.write_text("half", encoding="utf-8")
    result = run_inprocess(monkeypatch, "lessons")  # only reads
    assert result.returncode == 0
    assert not left.exists()
    assert restore_state(_session(), sandbox)
    assert not left_sandbox.exists()


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """A read-only state directory (root ignores file modes, so the refusal is simulated)."""
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(home)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)


def test_a_read_only_state_directory_still_reads(monkeypatch: pytest.MonkeyPatch, learner_home: Path) -> None:
    progress_store().update(lambda d: d["lessons"].__setitem__("role", {"step": "analogy", "status": "done"}))
    (learner_home / "progress.json.lock").unlink()
    _refuse_writes(monkeypatch, learner_home)
    assert progress_store().read()["lessons"]["role"]["status"] == "done"
    for command in ("progress", "lessons"):
        result = run_inprocess(monkeypatch, command)
        assert result.returncode == 0, result.stderr
    with pytest.raises(StateError) as caught:
        progress_store().update(lambda d: None)
    assert "read-only" in str(caught.value.params["reason"])


def test_the_lock_file_never_follows_a_symlink(monkeypatch: pytest.MonkeyPatch, learner_home: Path) -> None:
    target = learner_home.parent / "elsewhere" / "victim"
    target.parent.mkdir()
    (learner_home / "progress.json.lock").symlink_to(target)
    with pytest.raises(StateError):
        progress_store().update(lambda d: None)
    assert not target.exists()
    result = run_inprocess(monkeypatch, "progress")
    assert result.returncode == 5
    assert_clean(result)
    assert not target.exists()
