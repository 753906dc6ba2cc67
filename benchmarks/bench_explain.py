"""explain on a big node: its analysis against a plain read of the same dump.

    python benchmarks/bench_explain.py [--services N] [--endpoints E] [--runs R]

Builds an N-Service cluster (E endpoints each), renders the node's dump (iptables-save and
nft list) and times, best of R runs: a straightforward script that only splits the dump into
rules and counts them per chain (the reference), the project's parser alone, explain's analysis,
``explain_text`` (parse + explanation + findings), the text a learner reads (the lines at 80
columns), and the whole process ``kproxy-tutor explain --rules DUMP > FILE`` (start-up, reading
the file, everything above, writing the output), with its CPU time. Prints absolute seconds and
ratios to the reference. The figures are this program's speed, not kube-proxy's; on a busy
machine compare the CPU times and run it with --runs 3.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable


def _best(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _plain_read(text: str) -> Counter[str]:
    """The reference: what a short script would do to look at a dump (rules per chain)."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("-A "):
            counts[line.split(" ", 2)[1]] += 1
        elif line and not line.startswith(
            ("#", "*", ":", "COMMIT", "table", "}", "chain", "type", "elements")
        ):
            counts["nft"] += 1
    return counts


def _parse(text: str) -> object:
    """The parser alone, under the same collector pause explain uses."""
    from kproxy_tutor.explain.read import read_dump
    from kproxy_tutor.sandbox.gcpause import paused_gc

    with paused_gc():
        return read_dump(text, "bench")


def _analyse(state: object, fmt: str) -> object:
    """explain's own work on the parsed dump: the explanation and its findings."""
    from kproxy_tutor.explain import explain_structure
    from kproxy_tutor.explain.checks import check
    from kproxy_tutor.sandbox.gcpause import paused_gc

    with paused_gc():
        explanation = explain_structure(state, fmt)
        return check(explanation)


def _lines(explanation: object) -> object:
    """The explanation as the learner reads it, at 80 columns (in the default language)."""
    from kproxy_tutor.sandbox.gcpause import paused_gc
    from kproxy_tutor.ui.explain_view import explanation_lines

    with paused_gc():
        return explanation_lines(explanation, 80)  # type: ignore[arg-type]


def _whole_process(path: str) -> tuple[float, float]:
    """``kproxy-tutor explain --rules PATH`` with its output in a file: wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w") as out:
        subprocess.run(
            [sys.executable, "-m", "kproxy_tutor", "explain", "--rules", path],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "80"},
            check=False,
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from kproxy_tutor.explain import explain_text
    from kproxy_tutor.sandbox.modes import compile_mode
    from kproxy_tutor.sandbox.scaling import build_cluster

    cluster = build_cluster(args.services, args.endpoints)
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    for mode, view in (("iptables", "iptables-save"), ("nftables", "nft list")):
        text = compile_mode(cluster, None, mode).texts[view]
        reference = _best(args.runs, lambda text=text: _plain_read(text))
        parse = _best(args.runs, lambda text=text: _parse(text))
        whole = _best(args.runs, lambda text=text: explain_text(text, "bench"))
        dump = _parse(text)
        state = dump.ruleset if dump.ruleset is not None else dump.tables  # type: ignore[attr-defined]
        analysis = _best(args.runs, lambda state=state, view=view: _analyse(state, view))
        explanation = explain_text(text, "bench")
        lines = _best(args.runs, lambda explanation=explanation: _lines(explanation))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as dump_file:
            dump_file.write(text)
        try:
            runs = [_whole_process(dump_file.name) for _ in range(args.runs)]
        finally:
            os.unlink(dump_file.name)
        process_wall = min(wall for wall, _cpu in runs)
        process_cpu = min(cpu for _wall, cpu in runs)
        print(
            f"{view:14} {len(text) / 1e6:6.1f} MB  plain read {reference:6.2f} s  "
            f"parser {parse:6.2f} s ({parse / reference:5.1f}x)  "
            f"analysis {analysis:6.2f} s ({analysis / reference:5.1f}x)  "
            f"explain_text {whole:6.2f} s ({whole / reference:5.1f}x)  "
            f"lines {lines:6.2f} s ({lines / reference:5.1f}x)  "
            f"whole process {process_wall:6.2f} s ({process_wall / reference:5.1f}x), "
            f"CPU {process_cpu:6.2f} s"
        )


if __name__ == "__main__":
    main()
