"""Sandbox test setup: the --update-goldens option (also defined by the root conftest) and its fixture."""

from __future__ import annotations

import contextlib
import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    # The root conftest normally defines it already; then pytest refuses a second definition.
    with contextlib.suppress(ValueError):
        parser.addoption(
            "--update-goldens",
            action="store_true",
            default=False,
            help="rewrite golden files from the current output instead of comparing",
        )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return (
        bool(request.config.getoption("--update-goldens", default=False))
        or os.environ.get("UPDATE_GOLDENS") == "1"
    )
