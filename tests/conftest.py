"""Shared test setup: an isolated learner home for every test, and the golden-file option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def learner_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own empty KPROXY_TUTOR_HOME and a neutral environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("KPROXY_TUTOR_HOME", str(home))
    for var in ("KPROXY_TUTOR_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "KPROXY_TUTOR_PLAIN"):
        monkeypatch.delenv(var, raising=False)
    yield home
