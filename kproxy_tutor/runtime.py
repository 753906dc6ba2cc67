"""The options of the current run (language, plain mode, debug), shared by all commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Run:
    lang: str = "ru"
    plain: bool = False
    debug: bool = False


_run = Run()


def current() -> Run:
    return _run


def start(run: Run) -> None:
    global _run
    _run = run
