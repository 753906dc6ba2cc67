"""One exercise in a real pseudo-terminal, in English: a wrong attempt, a hint, then the right commands.

Below 80x24 the exercise is the linear shell (driven here with pexpect); from 80x24 on the task
stands beside the shell (tests in test_pane_pty, read from tmux's screen).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pty"),
]
PROMPT = "exercise $"


def spawn(home: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "KPROXY_TUTOR_HOME": str(home),
        "NO_COLOR": "1",
        "TERM": "xterm",
        # No terminal answers cursor-position queries here; without this each prompt waits for one.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("KPROXY_TUTOR_PLAIN", None)
    args = ["-m", "kproxy_tutor", "--lang", "en", "exercise", "network-expose-db"]
    # 20 rows: too small for the task beside the shell, so the linear exercise runs.
    return pexpect.spawn(sys.executable, args, env=env, dimensions=(20, 120), encoding="utf-8", timeout=30)


def run(child: pexpect.spawn, line: str) -> None:
    child.expect_exact(PROMPT)
    child.sendline(line)


def test_exercise_in_a_terminal(learner_home: Path) -> None:
    child = spawn(learner_home)
    child.expect_exact("Exercise: network-expose-db")
    run(child, "kubectl expose deployment database --name db-service --port 5433")
    child.expect_exact("service/db-service exposed")
    run(child, "check")
    child.expect_exact("listens on 5433/TCP, not on 5432/TCP")
    child.expect_exact("Not yet (1 failed check so far).")
    run(child, "hint")
    child.expect_exact("Hint 1 of 3:")
    run(child, "kubectl delete svc db-service")
    run(child, "kubectl expose deployment database --name db-service --port 5432")
    run(child, "check")
    child.expect_exact("Check passed: the task is done.")
    child.expect_exact("Next: kproxy-tutor learn 2 (read lesson 2)")  # the one next thing to do
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    progress = json.loads((learner_home / "progress.json").read_text(encoding="utf-8"))
    assert progress["exercises"]["network-expose-db"] == {
        "done": True,
        "attempts": 2,
        "hints": 1,
        "active": False,
    }
