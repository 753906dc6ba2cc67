"""The linear reading loop in a real pseudo-terminal (--plain); the full-screen reader is in test_reader_pty."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(os.name != "posix", reason="pexpect.spawn needs a POSIX pseudo-terminal"),
]
DOWN, ENTER = "\x1b[B", "\r"


def spawn(home: Path, *args: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPROXY_TUTOR", "LC_", "LANG"))}
    env.update({"KPROXY_TUTOR_HOME": str(home), "NO_COLOR": "1", "TERM": "xterm"})
    # pexpect does not answer prompt_toolkit's cursor-position queries, which then wait a second.
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"
    return pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", *(args or ["learn"])],
        env=env,
        dimensions=(40, 100),
        timeout=30,
        encoding="utf-8",
    )


def pick(child: pexpect.spawn, downs: int) -> None:
    child.send(DOWN * downs + ENTER)


def test_plain_mode_at_a_terminal_uses_numbered_prompts(learner_home: Path) -> None:
    child = spawn(learner_home, "--plain", "learn", "2")
    child.expect("Урок 2\\.")
    child.expect("Номер: ")
    child.sendline("3")  # Содержание
    child.expect("\\(вы здесь\\)")
    child.expect("Номер: ")
    child.sendline("2")  # the second step
    child.expect("Шаг 2 из")
    child.expect("Номер: ")
    child.sendline("5")  # Выйти
    child.expect("Место сохранено")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "╔" not in (child.before or "")
