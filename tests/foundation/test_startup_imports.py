"""Start-up stays light: commands import only what they need (the benchmark shows the time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from kproxy_tutor.entry import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    last = result.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    assert data["code"] == 0, result.stderr
    return set(data["modules"])


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (
            ("--plain", "--lang", "en", "learn", "1"),
            ("kproxy_tutor.sandbox", "kproxy_tutor.shell", "kproxy_tutor.exercises"),
        ),
        (
            ("--lang", "en", "lang"),
            ("typer.rich_utils", "kproxy_tutor.sandbox", "questionary", "babel.numbers"),
        ),
    ],
)
def test_commands_do_not_import_what_they_do_not_use(args: tuple[str, ...], absent: tuple[str, ...]) -> None:
    modules = _modules_after(*args)
    for prefix in absent:
        loaded = [m for m in modules if m == prefix or m.startswith(prefix + ".")]
        assert loaded == [], f"{' '.join(args)} imported {loaded[:3]}"
