"""Run the tutor in-process (fast, for fuzzing) or in a subprocess (for real streams and signals)."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from kproxy_tutor.entry import main

#: The exit codes the README documents.
DOCUMENTED = {0, 1, 2, 3, 4, 5, 130}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_inprocess(
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
) -> Result:
    """``kproxy-tutor ARGS`` in this process, with its own stdin/stdout/stderr and environment."""
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as m:
        for key, value in (env or {}).items():
            m.setenv(key, value)
        m.setattr(sys, "stdin", io.StringIO(stdin))
        m.setattr(sys, "stdout", out)
        m.setattr(sys, "stderr", err)
        m.setenv("COLUMNS", (env or {}).get("COLUMNS", "100"))
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def assert_clean(result: Result, codes: set[int] = DOCUMENTED, russian: bool = True) -> None:
    """A documented exit code, no traceback, and any error said in the learner's language."""
    assert result.returncode in codes, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert "Internal error" not in result.stderr and "Внутренняя ошибка" not in result.stderr
    if russian and result.returncode not in (0, 1):
        # An error goes to stderr; an interrupted quiz says what was kept where its questions were.
        said = result.stderr if result.returncode != 130 else result.stderr + result.stdout[-500:]
        assert CYRILLIC.search(said), result.stderr[-2000:]
