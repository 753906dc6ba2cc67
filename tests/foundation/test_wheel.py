"""The wheel carries lessons and catalogs, and works from a fresh environment outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)], cwd=out
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{result.stdout}\n{result.stderr}")
    wheels = list(out.glob("kproxy_tutor-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_lessons_and_locales(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "kproxy_tutor/_data/locales/ru/LC_MESSAGES/kproxy_tutor.po" in names
    assert "kproxy_tutor/_data/lessons/course.yaml" in names


def test_installed_wheel_runs_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path).returncode == 0
    pip = venv / "bin" / "pip"
    installed = _run([str(pip), "install", "-q", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["KPROXY_TUTOR_HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    exe = str(venv / "bin" / "kproxy-tutor")
    ru = _run([exe, "--help"], cwd=tmp_path, env=env)
    assert ru.returncode == 0, ru.stderr
    assert "Использование" in ru.stdout and "Параметры" in ru.stdout
    en = _run([exe, "--lang", "en", "--help"], cwd=tmp_path, env=env)
    assert en.returncode == 0, en.stderr
    assert "Usage" in en.stdout and "Options" in en.stdout
    # The installed package, not the checkout, answered.
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import kproxy_tutor; print(kproxy_tutor.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert str(ROOT) not in where.stdout
