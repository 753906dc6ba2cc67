"""The tiny TCP server in each Pod namespace: it answers every connection with its Pod's name and closes it.

A server is a stdlib-only Python process started with ``ip netns exec POD python -I -c …``.
It outlives the command that started it (the lab stays up between ``lab`` commands), so it
guards itself: it exits when its namespace's name disappears (``lab down``, or someone's
``ip netns del``) and after :data:`MAX_LIFETIME` seconds in any case. Before signalling a
recorded PID the lab checks that the process is still this server in this namespace, so a
reused PID of an unrelated process is never touched.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from kproxy_tutor.errors import N_, StateError

MARKER = "kproxy-tutor-lab-server"
#: A forgotten lab does not run forever.
MAX_LIFETIME = 12 * 3600
START_TIMEOUT = 10.0

SERVER_CODE = r"""
import os, selectors, socket, sys, time
marker, netns, name, ips, *ports = sys.argv[1:]
deadline = time.monotonic() + float(os.environ.get("KPT_LAB_LIFETIME", "43200"))
reply = (name + "\n").encode()
sel = selectors.DefaultSelector()
for ip in ips.split(","):
    for port in ports:
        s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, int(port)))
        s.listen(256)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
sys.stdout.write("ready\n")
sys.stdout.flush()
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
while time.monotonic() < deadline and os.path.exists("/run/netns/" + netns):
    for key, _ in sel.select(timeout=1.0):
        try:
            conn, _ = key.fileobj.accept()
        except OSError:
            continue
        try:
            conn.settimeout(1.0)
            conn.sendall(reply)
        except OSError:
            pass
        finally:
            conn.close()
"""

#: Popen objects of servers this process started, so that stopping one also reaps it.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True)
class ServerRecord:
    pid: int
    namespace: str
    name: str


def start_server(namespace: str, name: str, ips: tuple[str, ...], ports: tuple[int, ...]) -> ServerRecord:
    """Start the server (listening on each of ``ips``) and wait until it listens; StateError if it does not within START_TIMEOUT."""
    argv = [
        "ip",
        "netns",
        "exec",
        namespace,
        sys.executable,
        "-I",
        "-c",
        SERVER_CODE,
        MARKER,
        namespace,
        name,
        ",".join(ips),
        *map(str, ports),
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "KPT_LAB_LIFETIME": str(MAX_LIFETIME),
    }
    # A new session: Ctrl-C in the learner's terminal must not reach servers of a lab that stays up.
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else b""
    if line.strip() != b"ready":
        problem = ""
        with contextlib.suppress(Exception):
            process.kill()
            problem = (
                (process.communicate(timeout=2)[1] or b"").decode(errors="replace").strip().splitlines()[-1]
            )
        raise StateError(
            N_("The server of {name} did not start: {problem}"), name=name, problem=problem or "timeout"
        )
    process.stdout.close()
    if process.stderr is not None:
        process.stderr.close()
    _CHILDREN[process.pid] = process
    return ServerRecord(process.pid, namespace, name)


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [part.decode(errors="replace") for part in fh.read().split(b"\0") if part]
    except OSError:
        return []


def is_our_server(pid: int, namespace: str) -> bool:
    """True only for a live lab server of ``namespace`` (guards against reused PIDs)."""
    args = _cmdline(pid)
    return MARKER in args and namespace in args


def _gone(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is not None
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def stop_server(pid: int, namespace: str, timeout: float = 3.0) -> bool:
    """Terminate one server (then kill it if it lingers); False if the PID is no longer ours."""
    if not is_our_server(pid, namespace):
        _CHILDREN.pop(pid, None)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not _gone(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)
    return True


def servers_in(namespace: str) -> list[int]:
    """PIDs of lab servers still inside ``namespace`` (for cleaning up after a crash without a state file)."""
    from kproxy_tutor.lab.system import run

    result = run(["ip", "netns", "pids", namespace], check=False)
    pids = [int(word) for word in result.stdout.split() if word.isdigit()]
    return [pid for pid in pids if is_our_server(pid, namespace)]
