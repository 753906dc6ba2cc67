"""The lab removes exactly what it built: from a damaged record, past a foreign namespace, after kill -9 during `up`.

Kernel tests: they run as root with ip/iptables, create and remove their own namespaces only,
and skip with a reason elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kproxy_tutor.lab import servers
from kproxy_tutor.lab.session import Lab, remove_recorded
from kproxy_tutor.lab.state import PREFIX_ROOT, lab_store, read_record
from tests.netns import unavailable_reason

REASON = unavailable_reason(("ip", "iptables", "iptables-restore", "iptables-save"))
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "db-service.yaml"
pytestmark = pytest.mark.kernel


def _namespaces(start: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(start)]


def _servers(start: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = servers._cmdline(int(entry))
            if servers.MARKER in args and any(a.startswith(start) for a in args):
                found.append(int(entry))
    return found


def _force_clean(start: str) -> None:
    for pid in _servers(start):
        with_ns = [a for a in servers._cmdline(pid) if a.startswith(start)]
        servers.stop_server(pid, with_ns[0])
    for name in _namespaces(start):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


@pytest.fixture
def kernel() -> Iterator[str]:
    """Skip without the tools; afterwards remove whatever this process's labs left (and fail if any)."""
    if REASON is not None:
        pytest.skip(REASON)
    mine = f"{PREFIX_ROOT}{os.getpid()}-"
    yield mine
    left = _namespaces(mine), _servers(mine)
    _force_clean(mine)
    assert left == ([], []), f"left behind: {left}"


def _up() -> Lab:
    text = SCENARIO.read_text()
    node = text.splitlines()[0].split(":", 1)[1].strip()
    return Lab.up([(text, SCENARIO.name)], "db-service", "iptables", node)


@pytest.mark.parametrize(
    "damage", ["{not json", '{"version": 1, "lab": {"prefix": "kptlab-"}}', '{"version": 1, "lab": 7}']
)
def test_a_damaged_record_is_recovered_from_the_kernel(kernel: str, damage: str) -> None:
    lab = _up()
    built = lab.existing_namespaces()
    # The client, the node and four Pods (CoreDNS and three database Pods); three of them serve.
    assert len(built) == 6 and len(_servers(lab.record.prefix)) == 3
    lab_store().path.write_text(damage, encoding="utf-8")
    record, (stopped, deleted) = remove_recorded()
    assert record is None
    assert (stopped, deleted) == (3, 6)
    assert _namespaces(kernel) == [] and _servers(kernel) == []


def test_a_foreign_namespace_with_the_labs_prefix_is_left_alone(kernel: str) -> None:
    lab = _up()
    foreign = f"{lab.record.prefix}foreign"
    other = f"{PREFIX_ROOT}someone-else"
    for name in (foreign, other):
        subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        assert foreign not in lab.existing_namespaces()
        assert lab.down() == (3, 6)
        assert _namespaces(lab.record.prefix) == [foreign]
        assert other in _namespaces(PREFIX_ROOT)
        # With the record gone too, recovery finds nothing of ours and touches neither.
        assert remove_recorded() == (None, (0, 0))
        assert foreign in _namespaces(foreign) and other in _namespaces(other)
    finally:
        for name in (foreign, other):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


UP = """
import sys
from pathlib import Path
from kproxy_tutor.lab.session import Lab
text = Path(sys.argv[1]).read_text()
node = text.splitlines()[0].split(":", 1)[1].strip()
Lab.up([(text, "db-service.yaml")], "db-service", "iptables", node)
print("up", flush=True)
"""


@pytest.mark.parametrize("delay", [0.05, 0.4, 0.8, 1.2, 2.0])
def test_kill_9_during_up_then_down_leaves_nothing(kernel: str, delay: float) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", UP, str(SCENARIO)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    theirs = f"{PREFIX_ROOT}{child.pid}-"
    try:
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        remove_recorded()
        assert _namespaces(theirs) == []
        assert _servers(theirs) == []
        assert read_record(lab_store()) is None
    finally:
        _force_clean(theirs)
