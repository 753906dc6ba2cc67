"""explain on a big node: its analysis against a plain read of the same dump.

    python benchmarks/bench_explain.py [--services N] [--endpoints E] [--runs R] [--no-profile]

Writes an N-Service cluster (E endpoints each) as ``kubectl get svc,endpointslices,nodes -A -o
json`` prints it, renders node-0's dump from it (iptables-save and nft list) and times, best of R
runs: a straightforward script that only splits the dump into rules and counts them per chain
(the reference), the project's parser alone, explain's analysis, ``explain_text`` (parse +
explanation + findings), the text a learner reads (the lines at 80 columns), and the whole
process ``kproxy-tutor explain --rules DUMP > FILE`` (start-up, reading the file, everything
above, writing the output) with its CPU time, also with ``-o json``, with ``--plain`` and in
comparison mode (``-f cluster.json --node node-0``, which loads the manifests and compiles what
kube-proxy would write). Prints absolute seconds and ratios to the reference, then (without
--no-profile) where the time of one whole explanation goes. The figures are this program's
speed, not kube-proxy's; on a busy machine compare the CPU times and run it with --runs 3.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
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


def _whole_process(path: str, *options: str) -> tuple[float, float]:
    """``kproxy-tutor [--plain] explain --rules PATH [options]`` with its output in a file: wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    head = ["--plain"] if "--plain" in options else []
    rest = [option for option in options if option != "--plain"]
    with tempfile.TemporaryFile("w") as out:
        subprocess.run(
            [sys.executable, "-m", "kproxy_tutor", *head, "explain", "--rules", path, *rest],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "80"},
            check=False,
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _profile(text: str, top: int = 12) -> None:
    """Where the time of one explanation (read, explain, lines) goes: the functions with most own time."""
    import cProfile
    import pstats

    from kproxy_tutor.explain import explain_text
    from kproxy_tutor.sandbox.gcpause import paused_gc
    from kproxy_tutor.ui.explain_view import explanation_lines

    profile = cProfile.Profile()
    with paused_gc():
        profile.enable()
        explanation_lines(explain_text(text, "bench"), 80)
        profile.disable()
    stats = pstats.Stats(profile)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    print(f"  profile (own time, of {total:.2f} s under the profiler):")
    for (filename, line, function), (_cc, calls, own, _cumulative, _callers) in rows:
        where = filename.split("kproxy_tutor/")[-1] if "kproxy_tutor/" in filename else filename
        print(f"    {own / total:5.1%}  {own:5.2f} s  {calls:>9,} calls  {function} ({where}:{line})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_sync import kubectl_json

    from kproxy_tutor.explain import explain_text
    from kproxy_tutor.sandbox.manifests import load_paths
    from kproxy_tutor.sandbox.modes import compile_mode

    workdir = tempfile.mkdtemp(prefix="bench-explain-")
    manifests = os.path.join(workdir, "cluster.json")
    with open(manifests, "w", encoding="utf-8") as out:
        json.dump(kubectl_json(args.services, args.endpoints, pods=False), out, indent=4)
    cluster = load_paths([manifests]).cluster
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    try:
        for mode, view in (("iptables", "iptables-save"), ("nftables", "nft list")):
            text = compile_mode(cluster, "node-0", mode).texts[view]
            reference = _best(args.runs, lambda text=text: _plain_read(text))
            parse = _best(args.runs, lambda text=text: _parse(text))
            whole = _best(args.runs, lambda text=text: explain_text(text, "bench"))
            dump = _parse(text)
            state = dump.ruleset if dump.ruleset is not None else dump.tables  # type: ignore[attr-defined]
            analysis = _best(args.runs, lambda state=state, view=view: _analyse(state, view))
            explanation = explain_text(text, "bench")
            lines = _best(args.runs, lambda explanation=explanation: _lines(explanation))
            del dump, state, explanation
            path = os.path.join(workdir, f"{mode}.txt")
            with open(path, "w", encoding="utf-8") as dump_file:
                dump_file.write(text)
            print(
                f"{view:14} {len(text) / 1e6:6.1f} MB  plain read {reference:6.2f} s  "
                f"parser {parse:6.2f} s ({parse / reference:5.1f}x)  "
                f"analysis {analysis:6.2f} s ({analysis / reference:5.1f}x)  "
                f"explain_text {whole:6.2f} s ({whole / reference:5.1f}x)  "
                f"lines {lines:6.2f} s ({lines / reference:5.1f}x)"
            )
            for label, options in (
                ("text to a file", ()),
                ("-o json", ("-o", "json")),
                ("--plain", ("--plain",)),
                ("-f cluster.json", ("-f", manifests, "--node", "node-0")),
            ):
                runs = [_whole_process(path, *options) for _ in range(args.runs)]
                wall = min(w for w, _cpu in runs)
                cpu = min(c for _w, c in runs)
                print(
                    f"  whole process, {label:16} {wall:6.2f} s ({wall / reference:6.1f}x the plain read), "
                    f"CPU {cpu:6.2f} s"
                )
            if not args.no_profile:
                _profile(text)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
