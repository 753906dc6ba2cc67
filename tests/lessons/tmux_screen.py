"""Drive the tutor in a real terminal (tmux) and read what is on its screen, row by row.

A pseudo-terminal's byte stream is not the screen: a full-screen program redraws only what
changed. tmux keeps the screen, so ``capture-pane`` shows exactly what a learner sees. Each screen
runs on its own tmux server (a socket named after the test process), killed at the end.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

_numbers = itertools.count()


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Screen:
    def __init__(self, home: Path, args: list[str], width: int, height: int, **env: str) -> None:
        self.socket = f"kproxy-reader-test-{os.getpid()}-{next(_numbers)}"
        conf = home / f"{self.socket}.conf"
        conf.write_text("set -g remain-on-exit on\nset -g status off\n", encoding="utf-8")
        variables = {
            "KPROXY_TUTOR_HOME": str(home),
            "NO_COLOR": "1",
            "TERM": "xterm-256color",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "XDG_CACHE_HOME": str(home / "cache"),
            **env,
        }
        command = " ".join(
            [
                "env",
                *(
                    f"-u {name}"
                    for name in ("LANG", "LC_ALL", "LANGUAGE", "LC_MESSAGES", "KPROXY_TUTOR_LANG")
                ),
                *(f"{k}={shlex.quote(v)}" for k, v in variables.items()),
                shlex.join([sys.executable, "-m", "kproxy_tutor", *args]),
            ]
        )
        self.tmux(
            "-f", str(conf), "new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command
        )

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20, check=False
        )
        return out.stdout

    def rows(self, joined: bool = False) -> list[str]:
        """The screen's rows (``joined``: rows the terminal wrapped are joined back, as ``-J`` does)."""
        text = self.tmux("capture-pane", "-p", "-t", "t", *(["-J"] if joined else []))
        return [row.rstrip() for row in text.rstrip("\n").split("\n")]

    def text(self) -> str:
        return "\n".join(self.rows())

    def wait_for(self, *needles: str, timeout: float = 20.0) -> list[str]:
        """Rows once every needle is on screen; fails with the screen when it does not come."""
        deadline = time.monotonic() + timeout
        rows: list[str] = []
        while time.monotonic() < deadline:
            rows = self.rows()
            screen = "\n".join(rows)
            if all(needle in screen for needle in needles):
                return rows
            time.sleep(0.05)
        raise AssertionError(f"{needles!r} not on screen:\n" + "\n".join(rows))

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def size(self) -> tuple[int, int]:
        out = self.tmux("display-message", "-p", "-t", "t", "#{pane_width} #{pane_height}").split()
        return int(out[0]), int(out[1])

    def exit_status(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.tmux("display-message", "-p", "-t", "t", "#{pane_dead} #{pane_dead_status}")
            dead, status = [*shown.split(), "", ""][:2]
            if dead == "1":
                return int(status or 0)
            time.sleep(0.05)
        raise AssertionError("the tutor did not exit:\n" + self.text())

    def close(self) -> None:
        self.tmux("kill-server")
