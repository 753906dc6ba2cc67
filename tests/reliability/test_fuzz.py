"""Fuzzing every input surface: manifests, shell lines, answers files, dumps, state files, argv/env.

For any input: an exit code from the documented set, a message in the learner's language, no
traceback or internal error, a bounded time per input (hypothesis' deadline) and bounded memory
(the process's peak grows by less than MEMORY_MB over a whole test). Everything runs in this
process through ``entry.main``, so the whole file takes well under two minutes.
"""

from __future__ import annotations

import json
import os
import resource
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.helpers import assert_clean, run_inprocess

MEMORY_MB = 400
FUZZ = settings(
    deadline=timedelta(seconds=20),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    derandomize=True,
    database=None,
    max_examples=25,
)


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import everything once, so the first example's deadline measures the input, not the imports."""
    _run("lessons")
    _run("rules", "-f", "/nonexistent")


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Durability is the kill -9 test's subject; here fsync would only make every write wait for the disk."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(autouse=True)
def bounded_memory() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < MEMORY_MB, f"peak memory grew by {grown_mb:.0f} MB"


def _run(*args: str, stdin: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        return run_inprocess(mp, *args, stdin=stdin, env=env)


# Values that broke parsers before: huge and odd numbers, tags, anchors, control characters.
NASTY = st.sampled_from(
    [
        "9" * 5000, "-1", "0", "1e308", "0x" + "f" * 300, "²", "٣", "!!int", "!!str", "!!binary",
        "!!python/object:os.system", "&a [*a]", "*x", "~", "null", "{", "[", "- [", "'", '"', "\x00",
        "\t", "10.0.0.999", "10.244.1.0/99", "::1", "fe80::/10", "a" * 300, "-j ACCEPT", "br0 -j DROP",
        "65536", "2147483648", "1" + "0" * 40, "true", "[1, 2]", "{a: 1}",
    ]
)  # fmt: skip
#: Values written into YAML by hand (unquoted), where the YAML reader itself meets them.
RAW_VALUES = st.sampled_from(
    ["!!int", "9" * 5000, "!!float", "!!int 0x", "!!binary ?", "!!timestamp x", "&a [*a]", "*nope",
     "10.244.1.0/99", "{", "2147483648", "1" + "0" * 40, "-", "!!set {a}", "!!omap [1]", "\"\\x\""]
)  # fmt: skip
SCALAR = st.one_of(
    NASTY,
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

MANIFESTS = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
     "spec": {"clusterIP": "10.96.0.10", "selector": {"app": "web"}, "type": "NodePort",
              "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web"}},
     "spec": {"nodeName": "worker-1"}, "status": {"podIP": "10.244.1.7"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
     "spec": {"podCIDR": "10.244.1.0/24"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.11"}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "web-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
     "addressType": "IPv4", "ports": [{"port": 8080, "protocol": "TCP"}],
     "endpoints": [{"addresses": ["10.244.1.7"], "conditions": {"ready": True}, "nodeName": "worker-1"}]},
    {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration", "mode": "iptables",
     "clusterCIDR": "10.244.0.0/16", "detectLocalMode": "BridgeInterface", "detectLocal": {"bridgeInterface": "cni0"},
     "iptables": {"masqueradeBit": 14, "masqueradeAll": False}},
]  # fmt: skip


def _replace(doc: object, path: tuple[object, ...], value: object) -> None:
    """Put ``value`` at ``path`` if the path still leads somewhere (an earlier change may have cut it)."""
    target = doc
    for step in path[:-1]:
        try:
            target = target[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(target, dict) or (
        isinstance(target, list) and isinstance(path[-1], int) and path[-1] < len(target)
    ):
        target[path[-1]] = value  # type: ignore[index]


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def manifest_texts(draw: st.DrawFn) -> str:
    """Real-looking manifests with some fields replaced by hostile values, or broken as text."""
    docs = json.loads(json.dumps(draw(st.lists(st.sampled_from(MANIFESTS), min_size=1, max_size=4))))
    for doc in docs:
        paths = _paths(doc)
        for path in draw(st.lists(st.sampled_from(paths), max_size=3)):
            _replace(doc, path, draw(VALUE))
    text = "---\n".join(yaml.safe_dump(d, allow_unicode=True) for d in docs)
    how = draw(st.sampled_from(["yaml", "json", "raw", "cut", "token", "field", "field", "field"]))
    if how == "field":
        # A value written by hand, unquoted: tags, anchors and huge numbers reach the YAML reader as such.
        lines = text.splitlines()
        fields = [i for i, line in enumerate(lines) if ": " in line]
        for i in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)) if fields else []:
            key = lines[i].split(": ", 1)[0]
            lines[i] = f"{key}: {draw(st.one_of(RAW_VALUES, NASTY))}"
        return "\n".join(lines) + "\n"
    if how == "json":
        return json.dumps(docs[0] if len(docs) == 1 else {"kind": "List", "items": docs}, default=str)
    if how == "raw":
        return draw(st.text(max_size=200))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if how == "token":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(NASTY) + text[at:]
    return text


@settings(FUZZ, max_examples=120)
@given(text=manifest_texts())
def test_fuzz_manifests(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = _run("rules", "-f", str(path))
    assert_clean(result, {0, 4})


SHELL_WORDS = [
    "kubectl get pods", "kubectl get svc -A", "kubectl create deployment", "kubectl expose deployment",
    "kubectl scale deployment database --replicas", "kubectl delete pod", "kubectl apply -f", "kubectl label pod web",
    "kubectl describe svc", "iptables-save", "iptables-save -t nat", "curl", "curl db-service:5432 --from",
    "watch on", "watch off", "save", "load", "reset", "scenario", "mode", "nft list ruleset", "ipvsadm -Ln",
    "help", "node", "conntrack -L", "exit",
]  # fmt: skip
SHELL_ARGS = st.one_of(
    NASTY,
    st.text(alphabet=string.printable, max_size=20),
    st.sampled_from(
        [
            "web",
            "-n",
            "--port",
            "80",
            "db-service",
            "-o",
            "yaml",
            "|",
            ">",
            "$(id)",
            "`id`",
            "~/x",
            "/dev/zero",
        ]
    ),
)


@st.composite
def shell_scripts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        words = [draw(st.sampled_from(SHELL_WORDS)), *draw(st.lists(SHELL_ARGS, max_size=4))]
        line = " ".join(words)
        if draw(st.booleans()) and line.startswith("kubectl apply"):
            line = "kubectl apply -f - <<EOF\n" + draw(manifest_texts()) + "\nEOF"
        lines.append(line.replace("\x00", "\\x00") if draw(st.booleans()) else line)
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=60)
@given(script=shell_scripts())
def test_fuzz_shell_lines(script: str) -> None:
    if "/dev/zero" in script:
        script = script.replace("/dev/zero", "/dev/null")  # a file of zeros is a file, not a command
    result = _run("sandbox", "--scenario", "db-service", "--keep-going", stdin=script)
    assert_clean(result, {0, 4})


QUESTION_IDS = [
    "role-dns-provider", "role-clusterip-allocator", "role-traffic-path", "role-responsibilities",
    "role-pod-count", "role-service-lifecycle", "role-daemonset-only", "no-such-question",
]  # fmt: skip
ANSWER = st.one_of(
    NASTY,
    st.sampled_from(
        ["a", "b, c", "c a b", "true", "false", "да", "нет", "1/3", "0,25", "1e308/1e-308", "1/0"]
    ),
    st.text(max_size=40),
)


@st.composite
def answer_files(draw: st.DrawFn) -> str:
    lines = [f"{draw(st.sampled_from(QUESTION_IDS))}: {draw(ANSWER)}" for _ in range(draw(st.integers(0, 8)))]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=40)))
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=8)  # every run loads the whole quiz bank (about a second)
@given(text=answer_files())
def test_fuzz_answers_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "answers.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = _run("quiz", "1", "--answers", str(path))
    assert_clean(result, {0, 1, 2})


CHAINS = [
    "PREROUTING",
    "OUTPUT",
    "POSTROUTING",
    "INPUT",
    "FORWARD",
    "KUBE-SERVICES",
    "KUBE-SVC-X",
    "KUBE-SEP-Y",
    "X",
]
RULE_PARTS = st.sampled_from(
    [
        "-s 10.0.0.0/8", "-d 10.96.0.1/32", "! -s 10.244.0.0/16", "-p tcp", "-p udp", "--dport 80", "-m tcp",
        "--dport 1:65535", "-m comment --comment \"x y\"", "-m statistic --mode random --probability 0.5",
        "-m statistic --mode nth --every 2 --packet 0", "-m recent --name a --rcheck --seconds 10",
        "-m mark --mark 0x4000/0x4000", "-m addrtype --dst-type LOCAL", "-m conntrack --ctstate NEW",
        "-m nfacct", "-m nfacct --nfacct-name n", "-m set --match-set s dst", "-i eth0", "-o eth0",
        "-j ACCEPT", "-j DROP", "-j RETURN", "-j MASQUERADE", "-j DNAT --to-destination 10.244.1.7:80",
        "-j MARK --set-xmark 0x4000/0x4000", "-j KUBE-SVC-X", "-g KUBE-SEP-Y", "-j X", "-j REJECT",
        "-j SNAT --to-source 1.2.3.4", "--probability", "-m", "-j",
    ]
)  # fmt: skip


#: Lines that once stopped the dump reader with an internal error.
HOSTILE_LINES = st.sampled_from(
    [":", ": ACCEPT", "-A INPUT -m nfacct", "-A INPUT -m statistic --mode nth --every ²", "[²:1] -A INPUT -j ACCEPT",
     "-A INPUT -m recent --name", "-A INPUT -p tcp --dport ١", "-A INPUT -m mark --mark", "-A INPUT -j X -j"]
)  # fmt: skip


@st.composite
def dumps(draw: st.DrawFn) -> str:
    lines = []
    for table in draw(
        st.lists(
            st.sampled_from(["nat", "filter", "mangle", "raw", "bogus"]), min_size=1, max_size=3, unique=True
        )
    ):
        lines.append(f"*{table}")
        if not draw(st.integers(0, 2)):
            lines.append(draw(HOSTILE_LINES))
        declared = CHAINS if draw(st.integers(0, 3)) else draw(st.lists(st.sampled_from(CHAINS), unique=True))
        for chain in declared:
            lines.append(f":{chain} {draw(st.sampled_from(['ACCEPT', 'DROP', '-']))} [0:0]")
        for _ in range(draw(st.integers(0, 10))):
            parts = draw(st.lists(st.one_of(RULE_PARTS, NASTY), max_size=5))
            lines.append(f"-A {draw(st.sampled_from(CHAINS))} " + " ".join(parts))
        if draw(st.integers(0, 9)):
            lines.append("COMMIT")
    if draw(st.booleans()):
        odd = st.one_of(
            NASTY, st.text(max_size=30), st.sampled_from([":", "-A", "-A X", "[1:2]", "[x] -A X", "*"])
        )
        lines.insert(draw(st.integers(0, len(lines))), draw(odd))
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=120)
@given(
    text=dumps(),
    target=st.sampled_from(["10.96.0.1:80", "10.244.1.7:80", "192.168.0.11:30080", "10.0.0.2:22"]),
)
def test_fuzz_dumps(tmp_path: Path, text: str, target: str) -> None:
    path = tmp_path / "dump.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = _run(
        "trace", "--rules", str(path), "--from", "10.0.0.1", "--to", target, "--node-ip", "10.0.0.2"
    )
    assert_clean(result, {0, 1, 4})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def state_documents(draw: st.DrawFn) -> bytes:
    base = {"version": 1, "current_lesson": "role", "lessons": {"role": {"step": "analogy", "status": "done"}},
            "quiz": {"best": {"role": 0.5}, "review": {"role-pod-count": {"box": 2, "due": "2026-01-01"}}},
            "exercises": {"role-first": {"done": False, "attempts": 1, "hints": 0, "active": True}}}  # fmt: skip
    paths = _paths(base)
    for path in draw(st.lists(st.sampled_from(paths), max_size=3)):
        _replace(base, path, draw(JSON))
    text = json.dumps(base)
    how = draw(st.sampled_from(["json", "json", "cut", "bytes", "other"]))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))].encode()
    if how == "bytes":
        return draw(st.binary(max_size=60))
    if how == "other":
        return json.dumps(draw(JSON)).encode()
    return text.encode()


@settings(FUZZ, max_examples=50)
@given(document=state_documents(), settings_document=state_documents())
def test_fuzz_state_files(learner_home: Path, document: bytes, settings_document: bytes) -> None:
    for old in learner_home.iterdir():
        old.unlink()
    (learner_home / "progress.json").write_bytes(document)
    (learner_home / "settings.json").write_bytes(settings_document)
    for command in (("progress",), ("lessons",)):
        result = _run(*command)
        assert_clean(result, {0, 5}, russian=False)  # a saved "lang: en" is the learner's choice
    # Whatever was there is either still there as it was, or kept aside: never lost.
    names = {p.name for p in learner_home.iterdir()}
    if not any(n.startswith("progress.json.corrupt-") for n in names):
        assert (learner_home / "progress.json").read_bytes() == document or json.loads(
            (learner_home / "progress.json").read_text(encoding="utf-8")
        )


COMMANDS = [
    ["learn"], ["lessons"], ["quiz"], ["quiz", "--review"], ["sandbox"], ["rules"], ["trace"], ["progress"],
    ["progress", "reset"], ["lang"], ["exercise"], ["rules", "-f"], ["trace", "--from"], ["sandbox", "--scenario"],
    ["--help"], ["learn", "--help"], ["nonsense"], [],
]  # fmt: skip
ARGS = st.one_of(
    NASTY,
    st.sampled_from(["--lang", "ru", "--plain", "--debug=0", "-f", "-", "--mode", "nftables", "ipvs", "--count", "-n",
                     "--to", "web:80", "--from", "10.0.0.1", "--node-ip", "--seed", "3", "1", "7", "8", "--all",
                     "--answers", "/nonexistent", "--", "-x", "--no-such-option", "--script", "--yes"]),
    st.text(alphabet=string.printable, max_size=12),
)  # fmt: skip
ENV = st.fixed_dictionaries(
    {},
    optional={
        "COLUMNS": st.sampled_from(["0", "1", "40", "-5", "abc", "99999999", "²"]),
        "LINES": st.sampled_from(["0", "24", "x"]),
        "NO_COLOR": st.sampled_from(["", "1"]),
        "TERM": st.sampled_from(["dumb", "xterm", ""]),
        "KPROXY_TUTOR_PLAIN": st.sampled_from(["1", "0", "yes"]),
        "KPROXY_TUTOR_LANG": st.sampled_from(["ru", "de", "", "r\x01u", "ru_RU.UTF-8"]),
        "KPROXY_TUTOR_DEBUG": st.sampled_from(["0", ""]),
    },
)


@settings(FUZZ, max_examples=100)
@given(command=st.sampled_from(COMMANDS), args=st.lists(ARGS, max_size=4), env=ENV)
def test_fuzz_argv_and_env(command: list[str], args: list[str], env: dict[str, str]) -> None:
    argv = [*command, *(a.replace("\x00", "") for a in args)]
    result = _run(*argv, env=env)
    english = "en" in argv or any(a.startswith("--lang=en") for a in argv)
    assert_clean(result, russian=not english)
