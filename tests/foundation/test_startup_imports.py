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
        # typer converts option values through pydantic (about 100 ms to import): ours are
        # converted without it (ui/typer_params.py).
        (("--lang", "en", "quiz", "--count", "3", "--seed", "1", "--list"), ("pydantic", "typer._adapters")),
        (("--lang", "en", "scale-lab", "--help"), ("pydantic",)),
    ],
)
def test_commands_do_not_import_what_they_do_not_use(args: tuple[str, ...], absent: tuple[str, ...]) -> None:
    modules = _modules_after(*args)
    for prefix in absent:
        loaded = [m for m in modules if m == prefix or m.startswith(prefix + ".")]
        assert loaded == [], f"{' '.join(args)} imported {loaded[:3]}"


def test_a_file_option_is_converted_without_pydantic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "svc.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {clusterIP: 10.96.0.10, ports: [{port: 80}], selector: {app: web}}\n",
        encoding="utf-8",
    )
    modules = _modules_after("--lang", "en", "rules", "-f", str(manifest), "--format", "restore")
    assert not [m for m in modules if m == "pydantic" or m.startswith("pydantic.")]
