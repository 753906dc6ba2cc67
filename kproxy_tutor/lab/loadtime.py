"""Real kernel figures for the scaling lab: how long ``iptables-restore`` and ``nft -f`` take on this machine
to load what kube-proxy writes, measured in throwaway network namespaces.

Each measurement creates its own namespace (``ip netns add kpt-scale-…``), loads the full-sync
input there, then the partial-sync input (one endpoint added), and deletes the namespace in a
``finally``, so nothing is left behind even when a load fails or the learner presses Ctrl-C.
Nothing runs in the caller's namespace except ``ip netns add|del`` of that name. The time of
starting an empty command in the namespace (``ip netns exec … true``) is subtracted, so the
figure is the tool's own work. At most 1,000 Services: enough to see the trend, cheap to load.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, StateError
from kproxy_tutor.lab.system import have_tool, in_netns, run, sigterm_as_interrupt

MAX_SERVICES = 1000
DEFAULT_SIZES = (100, 1000)
PREFIX = "kpt-scale-"
TOOLS = {"iptables": ("iptables-restore", "--version"), "nftables": ("nft", "--version")}


@dataclass(frozen=True, slots=True)
class LoadTime:
    mode: str
    services: int
    #: Median wall-clock seconds of loading the full-sync input into an empty namespace.
    full_seconds: float
    #: Median seconds of loading the partial-sync input on top of it.
    partial_seconds: float


@dataclass(frozen=True, slots=True)
class Skipped:
    #: ``iptables``, ``nftables`` or ``all``.
    mode: str
    #: A message id (English, for gettext) and its parameters.
    reason: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class KernelReport:
    #: Tool → its ``--version`` line, and ``kernel`` → the running kernel's release.
    versions: dict[str, str] = field(default_factory=dict)
    times: list[LoadTime] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    endpoints: int = 5
    repeats: int = 3


def environment_problem() -> Skipped | None:
    """Why no kernel figures can be measured here at all (None: they can)."""
    if not sys.platform.startswith("linux"):
        return Skipped("all", N_("not measured: this needs Linux (network namespaces)"))
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return Skipped(
            "all", N_("not measured: this needs root to create a network namespace (run with sudo)")
        )
    if shutil.which("ip") is None:
        return Skipped("all", N_("not measured: {tool} is not installed"), {"tool": "ip (iproute2)"})
    return None


def _version(argv: tuple[str, str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    result = run(list(argv), check=False)
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else argv[0]


class _Namespace:
    """One throwaway namespace; removed on exit whatever happened inside."""

    def __init__(self) -> None:
        self.name = PREFIX + secrets.token_hex(4)

    def __enter__(self) -> str:
        run(["ip", "netns", "add", self.name])
        return self.name

    def __exit__(self, *exc: object) -> None:
        run(["ip", "netns", "del", self.name], check=False)


def _timed(namespace: str, argv: list[str], stdin: str) -> float:
    start = time.perf_counter()
    in_netns(namespace, argv, stdin=stdin)
    return time.perf_counter() - start


def _startup(namespace: str) -> float:
    """What starting an empty command in the namespace costs (subtracted from every load)."""
    return min(_timed(namespace, ["true"], "") for _ in range(3))


def _inputs(services: int, endpoints: int) -> dict[str, tuple[str, str]]:
    """(full, partial) input per mode, compiled by the sandbox exactly as the scaling lab counts them."""
    from kproxy_tutor.sandbox.iptables import Proxier, render_restore
    from kproxy_tutor.sandbox.nftables import NftProxier
    from kproxy_tutor.sandbox.scaling import (
        NODE,
        add_one_endpoint,
        build_cluster,
        nft_full_transaction,
        nft_partial_transaction,
    )

    cluster = build_cluster(services, endpoints)
    if not have_tool("nfacct"):  # kube-proxy writes its nfacct rules only where the counters exist
        cluster.facts = dataclasses.replace(cluster.facts, nfacct=False)
    iptables, nftables = Proxier(cluster, NODE), NftProxier(cluster, NODE)
    ipt_full = render_restore(iptables.sync().payload)
    first = nftables.sync()
    nft_full = "\n".join(nft_full_transaction(first.table)) + "\n"
    add_one_endpoint(cluster, services, endpoints)
    ipt_partial = render_restore(iptables.sync().payload)
    second = nftables.sync()
    nft_partial = (
        "\n".join(nft_partial_transaction(first.table, second.table, second.updated_services)) + "\n"
    )
    return {"iptables": (ipt_full, ipt_partial), "nftables": (nft_full, nft_partial)}


ARGV = {"iptables": ["iptables-restore", "-w", "--noflush"], "nftables": ["nft", "-f", "-"]}


def _prepare(namespace: str, mode: str) -> None:
    """What kube-proxy finds or creates before its first restore: its nfacct counters."""
    from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, LOCALHOST_NODEPORT_COUNTER

    if mode == "iptables" and have_tool("nfacct"):
        for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
            in_netns(namespace, ["nfacct", "add", counter])


def _measure_once(mode: str, full: str, partial: str) -> tuple[float, float]:
    # SIGTERM unwinds like Ctrl-C, so the namespace is deleted either way.
    with sigterm_as_interrupt(), _Namespace() as namespace:
        _prepare(namespace, mode)
        base = _startup(namespace)
        full_seconds = _timed(namespace, ARGV[mode], full) - base
        partial_seconds = _timed(namespace, ARGV[mode], partial) - base
    return max(full_seconds, 0.0), max(partial_seconds, 0.0)


def measure_load_times(
    sizes: Iterable[int] = DEFAULT_SIZES,
    endpoints: int = 5,
    repeats: int = 3,
    progress: Callable[[int, str], None] | None = None,
) -> KernelReport:
    """Load times per mode and size; a mode that cannot be measured is reported as skipped with a reason."""
    report = KernelReport(endpoints=endpoints, repeats=repeats)
    problem = environment_problem()
    if problem is not None:
        report.skipped.append(problem)
        return report
    report.versions["kernel"] = platform.release()
    modes = []
    for mode, argv in TOOLS.items():
        version = _version(argv)
        if version is None:
            report.skipped.append(
                Skipped(mode, N_("not measured: {tool} is not installed"), {"tool": argv[0]})
            )
        else:
            report.versions[mode] = version
            modes.append(mode)
    for size in sorted({min(s, MAX_SERVICES) for s in sizes}):
        if not modes:
            break
        inputs = _inputs(size, endpoints)
        for mode in list(modes):
            if progress is not None:
                progress(size, mode)
            try:
                # Three runs where a load is quick; one where it takes seconds (1,000 Services).
                count = max(1, repeats if size <= 100 else 1)
                runs = [_measure_once(mode, *inputs[mode]) for _ in range(count)]
            except StateError as error:
                problem_text = str(error.params.get("problem", "")).splitlines()
                report.skipped.append(
                    Skipped(
                        mode,
                        N_("not measured: {tool} failed: {problem}"),
                        {"tool": TOOLS[mode][0], "problem": problem_text[0] if problem_text else ""},
                    )
                )
                modes.remove(mode)
                continue
            report.times.append(
                LoadTime(
                    mode,
                    size,
                    statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                )
            )
    return report


def leftover_namespaces() -> list[str]:
    """Namespaces of this module still present (there should never be any)."""
    result = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in result.stdout.splitlines() if line.startswith(PREFIX)]
