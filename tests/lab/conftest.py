"""Kernel-lab test setup: a skip reason where namespaces cannot be made, labs reused per scenario, and a leak check.

The session finalizer looks for namespaces and server processes of *this* pytest process
(lab prefixes embed the PID of the process that created them) after the whole suite, also
when a test failed halfway; it removes what it finds and then fails the run, so a leak can
neither go unnoticed nor stay on the machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns import unavailable_reason

from kproxy_tutor.lab import servers
from kproxy_tutor.lab.state import PREFIX_ROOT

TESTS = Path(__file__).resolve().parent.parent
SCENARIOS = TESTS / "scenarios"
REASON = unavailable_reason(("ip", "iptables", "iptables-restore", "iptables-save", "nft"))
OUR_PREFIX = f"{PREFIX_ROOT}{os.getpid()}-"


def _our_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(OUR_PREFIX)]


def _our_servers() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = servers._cmdline(int(entry))
            if servers.MARKER in args and any(a.startswith(OUR_PREFIX) for a in args):
                pids.append(int(entry))
    return pids


@pytest.fixture(scope="session", autouse=True)
def no_leftovers() -> Iterator[None]:
    yield
    if REASON is not None:
        return
    namespaces, pids = _our_namespaces(), _our_servers()
    for pid in pids:
        for name in namespaces:
            servers.stop_server(pid, name)
    for name in namespaces:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    assert not namespaces and not pids, f"the lab tests left namespaces {namespaces} and servers {pids}"


@pytest.fixture
def kernel() -> None:
    if REASON is not None:
        pytest.skip(REASON)


def scenario_source(name: str) -> tuple[list[tuple[str, str]], str]:
    """(sources, node) of a sandbox-core scenario; its first line names the node."""
    path = SCENARIOS / f"{name}.yaml"
    text = path.read_text()
    return [(text, path.name)], text.splitlines()[0].split(":", 1)[1].strip()
