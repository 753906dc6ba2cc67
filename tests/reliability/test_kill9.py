"""kill -9 while progress and the exercise sandbox are being written: never corrupt, never lost, no temp file left."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kproxy_tutor.exercises import record
from kproxy_tutor.exercises.runner import restore_state
from kproxy_tutor.progress import progress_store
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session
from kproxy_tutor.store import QUARANTINED
from tests.reliability.helpers import run_inprocess

WRITER = """
import sys
from kproxy_tutor.exercises import record
from kproxy_tutor.exercises.runner import save_state
from kproxy_tutor.progress import progress_store
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session

store = progress_store()
session = Session(find_scenario("db-service"), None)
path = record.state_path("kill-test")
i = int(sys.argv[1])
print("ready", flush=True)
while True:
    # A large document, so that a kill lands inside a write often.
    store.update(lambda d: d["exercises"].__setitem__(f"k{i}", {"done": True, "attempts": i, "hints": 0}))
    print("progress", i, flush=True)
    save_state(session, path)
    print("sandbox", i, flush=True)
    i += 1
"""
KILLS = 12


def test_kill_9_during_writes_never_corrupts_or_loses(
    monkeypatch: pytest.MonkeyPatch, learner_home: Path
) -> None:
    # Start from a big progress file (about 150 kB), so writes take a while.
    progress_store().update(
        lambda d: d["exercises"].update(
            {f"pad{n}": {"done": False, "attempts": n, "hints": 0} for n in range(3000)}
        )
    )
    confirmed: set[int] = set()
    sandbox_written = False
    rng = random.Random(7)
    next_id = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(next_id)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.1, 1.0))
        child.send_signal(signal.SIGKILL)
        out, _err = child.communicate(timeout=30)
        # Only whole lines: the kill can land while a line is being written ("progress " alone).
        for line in out.split("\n")[:-1]:
            kind, _, number = line.partition(" ")
            if kind == "progress":
                confirmed.add(int(number))
                next_id = max(next_id, int(number) + 1)
            elif kind == "sandbox":
                sandbox_written = True
        next_id += 1
        # After every kill: the file is whole JSON and holds every write the writer saw finish.
        data = json.loads((learner_home / "progress.json").read_text(encoding="utf-8"))
        assert {f"k{n}" for n in confirmed} <= set(data["exercises"])
        assert len([k for k in data["exercises"] if k.startswith("pad")]) == 3000
    assert len(confirmed) >= KILLS // 2, "the writer hardly wrote: the test proves nothing"
    assert sandbox_written
    QUARANTINED.clear()
    # The next start: the sandbox comes back whole, nothing was quarantined, no temp file is left.
    assert run_inprocess(monkeypatch, "lessons").returncode == 0
    sandbox = record.state_path("kill-test")
    assert restore_state(Session(find_scenario("db-service"), None), sandbox)
    assert QUARANTINED == []
    for directory in (learner_home, sandbox.parent):
        assert [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []
        assert [p.name for p in directory.iterdir() if ".corrupt-" in p.name] == []
