"""Progress and settings on disk: atomic, locked, and never silently lost."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from pathlib import Path

from kproxy_tutor.progress import PROGRESS_VERSION, progress_store
from kproxy_tutor.store import QUARANTINED, config_dir, state_dir
from tests.foundation.helpers import run_tutor


def _seed_progress(home: Path) -> Path:
    path = home / "progress.json"
    progress_store().update(
        lambda d: d["lessons"].__setitem__("role", {"step": "analogy", "status": "in_progress"})
    )
    assert path.is_file()
    return path


def test_home_override_and_xdg(monkeypatch, tmp_path: Path) -> None:
    assert state_dir() == config_dir() == Path(os.environ["KPROXY_TUTOR_HOME"])
    monkeypatch.delenv("KPROXY_TUTOR_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert state_dir() == tmp_path / "state" / "kproxy-tutor"
    assert config_dir() == tmp_path / "config" / "kproxy-tutor"


def test_write_is_atomic_and_versioned(learner_home: Path) -> None:
    path = _seed_progress(learner_home)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == PROGRESS_VERSION
    assert data["lessons"]["role"]["step"] == "analogy"
    leftovers = [p.name for p in learner_home.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_corrupt_file_is_quarantined_and_reported(learner_home: Path) -> None:
    path = learner_home / "progress.json"
    path.write_text('{"version": 1, "lessons": {', encoding="utf-8")
    result = run_tutor("--lang", "en", "progress")
    assert result.returncode == 0, result.stderr
    kept = [p for p in learner_home.iterdir() if p.name.startswith("progress.json.corrupt-")]
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == '{"version": 1, "lessons": {'
    assert "was damaged" in result.stderr and kept[0].name in result.stderr


def test_newer_version_is_kept_aside(learner_home: Path) -> None:
    path = learner_home / "progress.json"
    path.write_text(json.dumps({"version": PROGRESS_VERSION + 1, "lessons": {}}), encoding="utf-8")
    data = progress_store().read()
    assert data["lessons"] == {}
    kept = [p for p in learner_home.iterdir() if p.name.startswith("progress.json.newer-")]
    assert len(kept) == 1
    assert QUARANTINED and QUARANTINED[-1].reason == "newer"
    QUARANTINED.clear()


def test_reset_without_terminal_and_without_yes_resets_nothing(learner_home: Path) -> None:
    path = _seed_progress(learner_home)
    before = path.read_bytes()
    for stdin in (subprocess.DEVNULL, None):
        result = subprocess.run(
            [os.sys.executable, "-m", "kproxy_tutor", "--lang", "en", "progress", "reset"],
            input=b"y\n" if stdin is None else None,
            stdin=stdin,
            capture_output=True,
            env=dict(os.environ),
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert b"--yes" in result.stderr
        assert path.read_bytes() == before


def test_reset_with_yes(learner_home: Path) -> None:
    path = _seed_progress(learner_home)
    result = run_tutor("--lang", "en", "progress", "reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text(encoding="utf-8"))["lessons"] == {}


def _bump(args: tuple[str, int, int]) -> None:
    home, worker, count = args
    os.environ["KPROXY_TUTOR_HOME"] = home
    store = progress_store()
    for i in range(count):
        store.update(lambda d, i=i: d["exercises"].__setitem__(f"w{worker}-{i}", {"done": True}))


def test_two_processes_updating_at_once_lose_nothing(learner_home: Path) -> None:
    count = 60
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_bump, [(str(learner_home), w, count) for w in range(2)])
    data = progress_store().read()
    assert len(data["exercises"]) == 2 * count
