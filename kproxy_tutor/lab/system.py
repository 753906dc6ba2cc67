"""What the lab needs from the machine (Linux, root, ``ip``/``iptables``/``nft``) and the one way it runs commands.

Every command that touches networking runs through :func:`in_netns`, i.e. ``ip netns exec
NAME …`` inside one of the lab's own namespaces; the only commands run in the caller's
namespace are ``ip netns add|del|list|pids`` and ``ip -n NAME link add … netns OTHER``,
which create or remove the lab's namespaces and links and change nothing else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from kproxy_tutor.errors import N_, StateError, UsageError
from kproxy_tutor.sandbox.families import IPV4, IPV6

#: Seconds any one command may take; netfilter restores of big payloads finish well within it.
COMMAND_TIMEOUT = 30.0

#: Tool → the Debian package that ships it.
PACKAGES = {
    "ip": "iproute2",
    "iptables": "iptables",
    "iptables-restore": "iptables",
    "iptables-save": "iptables",
    "ip6tables": "iptables",
    "ip6tables-restore": "iptables",
    "ip6tables-save": "iptables",
    "nft": "nftables",
}


def _tools(mode: str, families: tuple[str, ...]) -> list[str]:
    if mode != "iptables":
        return ["ip", "nft"]
    tools = ["ip"]
    if IPV4 in families:
        tools += ["iptables", "iptables-restore", "iptables-save"]
    if IPV6 in families:
        tools += ["ip6tables", "ip6tables-restore", "ip6tables-save"]
    return tools


def ipv6_available() -> bool:
    """The kernel has IPv6 (not built out or disabled with ipv6.disable=1); new namespaces then have it too."""
    return os.path.exists("/proc/sys/net/ipv6/conf/default/forwarding")


def check_environment(mode: str = "iptables", families: tuple[str, ...] = (IPV4,)) -> None:
    """Refuse (with a message in the learner's language) when the lab cannot run here."""
    if not sys.platform.startswith("linux"):
        raise UsageError(N_("The kernel lab needs Linux: it builds a small node from network namespaces."))
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        raise UsageError(
            N_("The kernel lab needs root, because it creates network namespaces. Run it with sudo.")
        )
    tools = _tools(mode, families)
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        packages = sorted({PACKAGES[tool] for tool in missing})
        raise UsageError(
            N_(
                "The kernel lab needs {tools}, which is not installed. On Debian or Ubuntu: apt-get install {packages}"
            ),
            tools=", ".join(missing),
            packages=" ".join(packages),
        )
    if IPV6 in families and not ipv6_available():
        raise UsageError(
            N_(
                "The cluster has IPv6, but this kernel has IPv6 turned off (ipv6.disable=1 or built without it), "
                "so the lab cannot give its namespaces IPv6 addresses."
            )
        )


def have_tool(name: str) -> bool:
    return shutil.which(name) is not None


def run(
    argv: Sequence[str],
    stdin: str | None = None,
    check: bool = True,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a command with a time limit; a failure becomes a StateError naming the command."""
    try:
        result = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise StateError(
            N_("The command {command} did not finish within {seconds} s."),
            command=" ".join(argv),
            seconds=int(timeout),
        ) from None
    except OSError as error:
        raise StateError(
            N_("Cannot run {command}: {problem}."), command=argv[0], problem=str(error)
        ) from None
    if check and result.returncode != 0:
        raise StateError(
            N_("The command {command} failed: {problem}"),
            command=" ".join(argv),
            problem=(result.stderr or result.stdout).strip() or f"exit status {result.returncode}",
        )
    return result


def in_netns(
    namespace: str,
    argv: Sequence[str],
    stdin: str | None = None,
    check: bool = True,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside one of the lab's namespaces (never in the caller's own)."""
    return run(["ip", "netns", "exec", namespace, *argv], stdin=stdin, check=check, timeout=timeout)


def list_namespaces() -> list[str]:
    """Names from ``ip netns list`` (the first word of each line; ids follow in parentheses)."""
    result = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the lab builds or measures, SIGTERM unwinds like Ctrl-C, so its clean-up code runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
