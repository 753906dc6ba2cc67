"""Throwaway network namespaces for tests that talk to the real netfilter tools (never the host's own tables)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

REQUIRED_TOOLS = ("ip", "iptables", "iptables-restore", "iptables-save")


def unavailable_reason(tools: Sequence[str] = REQUIRED_TOOLS) -> str | None:
    """Why namespace tests cannot run here, or None when they can."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)}"
    probe = f"kpt-probe-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if created.returncode != 0:
        return f"cannot create a network namespace: {created.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@dataclass(frozen=True)
class Namespace:
    name: str

    def run(
        self, argv: Sequence[str], stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace (always through ``ip netns exec``)."""
        result = subprocess.run(
            ["ip", "netns", "exec", self.name, *argv], input=stdin, capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed in {self.name}: {result.stderr.strip()}")
        return result


@contextmanager
def network_namespace(prefix: str = "kpt") -> Iterator[Namespace]:
    """A fresh namespace with a unique name, removed afterwards even when the test fails."""
    name = f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield Namespace(name)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
