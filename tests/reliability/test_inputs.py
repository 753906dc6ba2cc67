"""Input a learner can type never ends in an internal error: a clear message, in their language, exit 2 or 4."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kproxy_tutor.quiz.grading import parse_number
from tests.reliability.helpers import CYRILLIC, assert_clean, run_inprocess

SCENARIO = Path(__file__).resolve().parents[2] / "kproxy_tutor" / "shell" / "scenarios" / "db-service.yaml"
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {{name: a, namespace: default}}\nspec: {{clusterIP: 10.96.0.5, ports: [{{port: {port}}}]}}\n"
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("quiz", "²"), 2),
        (("learn", "²"), 2),
        (("learn", "٣"), 2),
        (("learn", HUGE), 2),
        (("quiz", HUGE), 2),
        (("lab", "up", "--scale", f"database={HUGE}"), 2),
        (("lessons", "a", "b"), 2),
    ],
    ids=[
        "quiz-superscript",
        "learn-superscript",
        "learn-arabic-digit",
        "learn-huge",
        "quiz-huge",
        "lab-scale-huge",
        "extra-args",
    ],
)
def test_command_line_values(monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], code: int) -> None:
    result = run_inprocess(monkeypatch, *args)
    assert result.returncode == code, result.stderr
    assert_clean(result)
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize(
    "line",
    [
        'save "a\x00b"',
        'load "a\x00b"',
        'kubectl apply -f "a\x00b"',
        f"kubectl scale deployment database --replicas {HUGE}",
        'kubectl get "pods',
        "kubectl apply -f - <<EOF\n" + SERVICE.format(port="!!int") + "EOF",
        "kubectl apply -f - <<EOF\n" + SERVICE.format(port=HUGE) + "EOF",
    ],
    ids=[
        "save-nul",
        "load-nul",
        "apply-nul",
        "replicas-huge",
        "open-quote",
        "apply-bare-int",
        "apply-huge-int",
    ],
)
def test_shell_lines(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    result = run_inprocess(monkeypatch, "sandbox", "--scenario", "db-service", stdin=line + "\n")
    assert result.returncode == 4, result.stderr
    assert_clean(result)
    assert "null" not in result.stderr and "closing quotation" not in result.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "bigint.json",
            '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": '
            + HUGE
            + "}]}}",
        ),
        ("bigint.yaml", SERVICE.format(port=HUGE)),
        ("bare.yaml", SERVICE.format(port="!!int")),
        (
            "cidr.yaml",
            "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\nspec: {podCIDR: 10.244.1.0/99}\n",
        ),
        ("broken.yaml", "a: [\n"),
        ("type.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: x}\n"),
    ],
)
def test_manifests(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run_inprocess(monkeypatch, "rules", "-f", str(path))
    assert result.returncode == 4, result.stderr
    assert_clean(result)
    assert "set_int_max_str_digits" not in result.stderr
    assert "a whole number" not in result.stderr  # the field's type is said in Russian too


def test_a_duplicate_key_is_warned_about_as_kubectl_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        SERVICE.format(port=80).replace(
            "clusterIP: 10.96.0.5,", "clusterIP: 10.96.0.5, clusterIP: 10.96.0.6,"
        )
    )
    result = run_inprocess(monkeypatch, "--lang", "en", "rules", "-f", str(path))
    assert result.returncode == 0, result.stderr
    assert "Duplicate key 'clusterIP'" in result.stderr
    assert "10.96.0.6" in result.stdout


@pytest.mark.parametrize(
    "dump",
    [
        "*nat\n:\nCOMMIT\n",
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m nfacct\nCOMMIT\n",
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m statistic --mode nth --every ²\nCOMMIT\n",
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 1.2.3.999 -j ACCEPT\nCOMMIT\n",
    ],
    ids=["colon", "nfacct", "superscript", "address"],
)
def test_dumps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dump: str) -> None:
    path = tmp_path / "dump.txt"
    path.write_text(dump, encoding="utf-8")
    result = run_inprocess(
        monkeypatch,
        "trace",
        "--rules",
        str(path),
        "--from",
        "10.0.0.1",
        "--to",
        "10.96.0.1:80",
        "--node-ip",
        "10.0.0.2",
    )
    assert result.returncode == 4, result.stderr
    assert_clean(result)
    problem = result.stderr.split("(", 1)[1].split(")", 1)[0]
    assert CYRILLIC.search(problem), result.stderr  # the parser's reason is translated too


@pytest.mark.parametrize("typed", ["0x" + "f" * 300, "1e308/1e-308", HUGE, HUGE + "/3"])
def test_numeric_answers_far_out_of_range_are_not_numbers(typed: str) -> None:
    assert parse_number(typed) is None


def test_numeric_answers_in_an_answers_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kproxy_tutor.content.quiz import load_bank

    quiz = load_bank().find("1")
    answers = tmp_path / "answers.txt"
    answers.write_text("".join(f"{q.id}: 0x{'f' * 300}\n" for q in quiz.questions), encoding="utf-8")
    result = run_inprocess(monkeypatch, "quiz", "1", "--answers", str(answers))
    assert result.returncode in (0, 1, 2), result.stderr
    assert_clean(result)


def _tutor(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kproxy_tutor", *args], capture_output=True, text=True, timeout=60, **kwargs
    )


def test_closed_stdout_and_stderr_and_a_full_disk() -> None:
    closed = subprocess.run(
        f"{sys.executable} -m kproxy_tutor rules -f {SCENARIO} >&-",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 2 and CYRILLIC.search(closed.stderr) and "Traceback" not in closed.stderr
    no_stderr = subprocess.run(
        f"{sys.executable} -m kproxy_tutor rules -f missing.yaml 2>&-",
        shell=True,
        capture_output=True,
        timeout=60,
    )
    assert no_stderr.returncode == 4
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "kproxy_tutor", "lessons"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        assert (
            result.returncode == 2 and "диск заполнен" in result.stderr and "Traceback" not in result.stderr
        )


@pytest.mark.parametrize(
    "args",
    [("learn", "3"), ("rules", "-f", str(SCENARIO)), ("scale-lab",)],
    ids=["learn", "rules", "scale-lab"],
)
def test_a_pipe_closed_by_head_exits_0_quietly(args: tuple[str, ...]) -> None:
    proc = subprocess.Popen(
        f'{sys.executable} -m kproxy_tutor {" ".join(args)} 2>/dev/null | head -1; echo "rc=${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=120)
    assert out.strip().endswith("rc=0"), out
    assert err == ""


def test_a_pipe_closed_by_head_leaves_no_stderr() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m kproxy_tutor learn 3 | head -1 >/dev/null",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stderr == ""


def test_ctrl_c_in_a_command_says_one_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kproxy_tutor", "sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert len(err.strip().splitlines()) == 1 and "Прервано" in err


def test_columns_zero_still_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _tutor("lessons", env={**os.environ, "COLUMNS": "0"})
    assert result.returncode == 0 and "kube-proxy" in result.stdout


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_output_without_cyrillic_falls_back_to_english_with_a_notice(encoding: str) -> None:
    result = _tutor("lessons", env={**os.environ, "PYTHONIOENCODING": encoding})
    assert result.returncode == 0
    assert "?????" not in result.stdout
    assert "kube-proxy" in result.stdout
    assert result.stderr.count("cannot show Russian") == 1 and "UTF-8" in result.stderr


def test_detect_local_interface_names_are_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = (
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
        "detectLocalMode: BridgeInterface\ndetectLocal: {{bridgeInterface: {name!r}, interfaceNamePrefix: veth}}\n"
    )
    path = tmp_path / "config.yaml"
    for bad in ("br0 -j ACCEPT", "a" * 16, "br/0", 'br"0', "veth+"):
        path.write_text(config.format(name=bad), encoding="utf-8")
        result = run_inprocess(monkeypatch, "rules", "-f", str(path))
        assert result.returncode == 4, (bad, result.stderr)
        assert_clean(result)
    path.write_text(config.format(name="cni0"), encoding="utf-8")
    assert run_inprocess(monkeypatch, "rules", "-f", str(path)).returncode == 0


def test_a_lab_plan_with_a_full_slash_24_is_a_clear_refusal() -> None:
    from kproxy_tutor.errors import SandboxInputError
    from kproxy_tutor.lab.plan import make_plan
    from kproxy_tutor.sandbox.manifests import load_texts

    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: default}}\n"
        f"spec: {{nodeName: worker-1, containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n"
        f"status: {{podIP: 10.244.1.{i}}}\n"
        for i in range(1, 255)
    )
    node = "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\nspec: {podCIDR: 10.244.1.0/24}\n"
    cluster = load_texts([(node + pods, "pods.yaml")]).cluster
    with pytest.raises(SandboxInputError):
        make_plan(cluster, "worker-1", "kptlab-1-abcdef-")
