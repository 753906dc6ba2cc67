"""Startup timings: `kproxy-tutor --help` and the first lesson screen against bare typer/rich programs.

    python benchmarks/bench_startup.py [--runs N]

Each command runs in a fresh interpreter (a subprocess), N times; the best wall time counts, since
the slower runs measure the machine, not the program. Targets: --help at most 1.2 times a bare typer
app's help, the first lesson screen at most 1.5 times a bare typer app printing one rich line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BARE_HELP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


app()
'''

BARE_LINE = """
import typer

app = typer.Typer()


@app.command()
def hello() -> None:
    from rich.console import Console

    Console().print("[bold]kube-proxy[/bold] writes the rules")


app()
"""

#: The time to the first menu in a real terminal: the screen a learner waits for.
PTY_PROBE = """
import os, sys, time
import pexpect

start = time.perf_counter()
child = pexpect.spawn(sys.argv[1], sys.argv[3:], env=dict(os.environ), dimensions=(40, 100), timeout=30,
                      encoding="utf-8")
child.expect(sys.argv[2])
print(time.perf_counter() - start)
child.terminate(force=True)
"""


def wall(command: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def cpu(command: Sequence[str], env: dict[str, str]) -> float:
    """CPU time (user + system) of the child: steadier than wall time on a busy machine."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pty_wall(probe: Path, command: Sequence[str], expect: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, str(probe), command[0], expect, *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def compare(ours: Callable[[], float], bare: Callable[[], float], runs: int) -> tuple[float, float]:
    """Best times of both, the runs interleaved so a busy moment of the machine hits both alike."""
    ours_best = bare_best = float("inf")
    for _ in range(runs):
        ours_best = min(ours_best, ours())
        bare_best = min(bare_best, bare())
    return ours_best, bare_best


def report(name: str, times: tuple[float, float], target: float | None) -> None:
    ours, bare = times
    ratio = ours / bare
    verdict = "" if target is None else f"(target {target}) " + ("ok" if ratio <= target else "OVER TARGET")
    print(f"{name:<50} {ours * 1000:6.0f} ms  bare {bare * 1000:5.0f} ms  ratio {ratio:4.2f} {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bare_help.py").write_text(BARE_HELP)
        (work / "bare_line.py").write_text(BARE_LINE)
        (work / "probe.py").write_text(PTY_PROBE)
        env = dict(os.environ, KPROXY_TUTOR_HOME=str(work / "home"), KPROXY_TUTOR_LANG="ru", COLUMNS="100")
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # pexpect does not answer cursor-position queries
        # An installed package has compiled bytecode; without it every run would compile our
        # modules while typer and rich come precompiled. Keep the bytecode outside the tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        # Catalogs and parsed lessons are cached per user; the warm-up run below fills this one.
        env["XDG_CACHE_HOME"] = str(work / "cache")
        env.pop("NO_COLOR", None)
        tutor = [python, "-m", "kproxy_tutor"]
        bare_help = [python, str(work / "bare_help.py"), "--help"]
        bare_line = [python, str(work / "bare_line.py")]
        # Warm the catalog cache and the bytecode, as every run after the first one finds them.
        for command in ([*tutor, "--help"], [*tutor, "--plain", "learn", "1"], bare_help, bare_line):
            wall(command, env)
        runs = args.runs

        def run(command: list[str]) -> Callable[[], float]:
            return lambda: wall(command, env)

        def run_cpu(command: list[str]) -> Callable[[], float]:
            return lambda: cpu(command, env)

        learn_piped = [*tutor, "--plain", "learn", "1"]
        report("kproxy-tutor --help", compare(run([*tutor, "--help"]), run(bare_help), runs), 1.2)
        report(
            "kproxy-tutor --help (CPU time)",
            compare(run_cpu([*tutor, "--help"]), run_cpu(bare_help), runs),
            1.2,
        )
        report(
            "kproxy-tutor --plain learn 1 (piped, whole)",
            compare(run(learn_piped), run(bare_line), runs),
            1.5,
        )
        report(
            "kproxy-tutor --plain learn 1 (piped, CPU time)",
            compare(run_cpu(learn_piped), run_cpu(bare_line), runs),
            1.5,
        )
        try:
            import pexpect  # noqa: F401
        except ImportError:
            print("pexpect is not installed: the timings in a terminal are skipped")
            return 0
        probe = work / "probe.py"

        def in_pty(command: list[str], expect: str) -> Callable[[], float]:
            return lambda: pty_wall(probe, command, expect, env)

        bare_pty = in_pty(bare_line, "writes the rules")
        report(
            "kproxy-tutor learn 1 (terminal, first screen)",
            compare(in_pty([*tutor, "learn", "1"], "Шаг 1 из"), bare_pty, runs),
            1.5,
        )
        # The reader's keys need prompt_toolkit, imported once the first screen is painted; its own
        # first frame repeats the footer, so the second footer marks the keys as ready: no target.
        report(
            "kproxy-tutor learn 1 (terminal, keys ready)",
            compare(in_pty([*tutor, "learn", "1"], "Enter: далее[\\s\\S]*Enter: далее"), bare_pty, runs),
            None,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
