"""Hangs and unbounded memory: inputs past the limits a real cluster or kernel has are refused at once."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.iptables.rules import Chain, Jump, Rule, Ruleset
from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset
from kproxy_tutor.shell.script import bounded_lines
from tests.reliability.helpers import assert_clean, run_inprocess

LOOP = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
-A PREROUTING -j A
-A A -g B
-A B -m comment --comment "back" -j A
COMMIT
"""


def test_a_chain_loop_in_a_dump_is_refused_as_the_kernel_does() -> None:
    with pytest.raises(SandboxInputError) as caught:
        parse_ruleset(LOOP, "loop.txt")
    assert "Too many links" in str(caught.value)
    assert "A -> B -> A" in str(caught.value)


def test_a_loop_only_among_unreachable_chains_loads_as_in_the_kernel() -> None:
    text = "*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n-A X -j X\nCOMMIT\n"
    assert "X" in parse_ruleset(text).tables["nat"].chains


def test_trace_over_a_looping_dump_stops_with_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dump = tmp_path / "loop.txt"
    dump.write_text(LOOP.replace("-A A -g B", "-A A -j A"))
    started = time.monotonic()
    result = run_inprocess(
        monkeypatch,
        "trace",
        "--rules",
        str(dump),
        "--from",
        "10.0.0.1",
        "--to",
        "10.96.0.1:80",
        "--node-ip",
        "10.0.0.2",
    )
    assert time.monotonic() - started < 10
    assert result.returncode == 4
    assert_clean(result)
    assert "Too many links" in result.stderr


def test_the_evaluator_bounds_a_loop_it_is_given_directly() -> None:
    """Rules that never went through a dump (built in code) still cannot run a packet forever."""
    from kproxy_tutor.sandbox.trace.session import TraceSession

    rules = Ruleset()
    nat = rules.table("nat")
    nat.chains["X"] = Chain("X", None, [])
    nat.chains["X"].rules.append(Rule(chain="X", target=Jump("X")))
    nat.chains["PREROUTING"].rules.append(Rule(chain="PREROUTING", target=Jump("X")))
    session = TraceSession.from_dump(rules, ["10.0.0.2"], "node", 0)
    with pytest.raises(SandboxInputError) as caught:
        session.curl("10.0.0.1", "10.96.0.1:80")
    assert "loop" in str(caught.value)


REPLICAS = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: nginx}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: worker-1}}
spec: {{podCIDR: 10.244.1.0/24}}
"""


@pytest.mark.parametrize(
    ("replicas", "words"),
    [
        ("1" + "0" * 39, "2147483647"),  # past int32: the API server refuses it
        ("100000000", "10000"),  # int32, but far past anything the sandbox (or a node) runs
        ("-1", "0"),
    ],
)
def test_replicas_beyond_the_limits_are_refused_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, replicas: str, words: str
) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(REPLICAS.format(replicas=replicas))
    started = time.monotonic()
    result = run_inprocess(monkeypatch, "rules", "-f", str(manifest))
    assert time.monotonic() - started < 5
    assert result.returncode == 4
    assert_clean(result)
    assert words in result.stderr


def test_replicas_at_the_limit_still_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kproxy_tutor.sandbox.manifests import load_texts

    text = REPLICAS.format(replicas=10_000).replace("10.244.1.0/24", "10.244.0.0/16")
    loaded = load_texts([(text, "deploy.yaml")])
    assert len(loaded.cluster.pods) == 10_000


def test_the_shell_apply_refuses_huge_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    script = "kubectl apply -f - <<EOF\n" + REPLICAS.format(replicas="9" * 40) + "EOF\n"
    result = run_inprocess(monkeypatch, "sandbox", stdin=script)
    assert result.returncode == 4
    assert_clean(result)


def test_an_endless_stdin_line_is_refused_in_bounded_memory() -> None:
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20));"
        "from kproxy_tutor.entry import main; sys.exit(main(['sandbox']))"
    )
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-c", code], stdin=zero, capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 4, done.stderr
    assert "1048576" in done.stderr
    assert "Traceback" not in done.stderr


def test_bounded_lines_passes_ordinary_lines_and_refuses_a_long_one() -> None:
    assert list(bounded_lines(io.StringIO("a\nb"), limit=4)) == ["a\n", "b"]
    assert list(bounded_lines(io.StringIO("abcd\n"), limit=4)) == ["abcd\n"]
    with pytest.raises(SandboxInputError):
        list(bounded_lines(io.StringIO("abcdef\n"), limit=4))
