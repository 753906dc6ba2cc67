"""A long load shows its progress in a real terminal, in the learner's language; Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pty"),
]


def big_manifests(path: Path, services: int = 20_000) -> Path:
    """Many small YAML documents: parsing them takes well over the one-second threshold."""
    path.write_text(
        "".join(
            f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: n{i % 20}}}\n"
            f"spec: {{clusterIP: 10.{96 + i // 62500}.{i // 250 % 250}.{1 + i % 250}, ports: [{{port: 80}}]}}\n"
            for i in range(services)
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("lang", "words"), [("ru", "Чтение манифестов"), ("en", "Reading the manifests")])
def test_a_long_load_shows_progress_and_ctrl_c_exits_130(
    learner_home: Path, tmp_path: Path, lang: str, words: str
) -> None:
    manifests = big_manifests(tmp_path / "big.yaml")
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "KPROXY_TUTOR_HOME": str(learner_home)}
    env.pop("KPROXY_TUTOR_PLAIN", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", "--lang", lang, "rules", "-f", str(manifests)],
        env=env,
        dimensions=(24, 80),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect(words)
        child.sendintr()
        child.expect(pexpect.EOF)
        output = child.before or ""
    finally:
        child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in output


def test_no_progress_when_stderr_is_not_a_terminal(learner_home: Path, tmp_path: Path) -> None:
    import subprocess

    manifests = big_manifests(tmp_path / "big.yaml", services=6_000)
    env = {**os.environ, "TERM": "xterm", "KPROXY_TUTOR_HOME": str(learner_home)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kproxy_tutor",
            "--lang",
            "en",
            "rules",
            "-f",
            str(manifests),
            "--format",
            "restore",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Reading the manifests" not in done.stderr and "\x1b[" not in done.stderr
    assert done.stdout.startswith("*filter")
