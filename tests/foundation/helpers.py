"""Run the tutor in a subprocess, as a learner would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_tutor(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: int | None = subprocess.DEVNULL,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kproxy_tutor", *args],
        env=full_env,
        stdin=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )
