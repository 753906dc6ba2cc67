"""The interactive shell in a real pseudo-terminal, in Russian: deploy, expose, curl, scale with watch on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pty"),
]

PROMPT = r"\(worker-1\) \$"


def spawn(home: Path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "TERM": "xterm",
        "KPROXY_TUTOR_HOME": str(home),
        "KPROXY_TUTOR_LANG": "ru",
        # pexpect does not answer cursor-position requests; without this prompt_toolkit waits and warns.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("COLUMNS", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", "sandbox"],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=30,
    )


def test_deploy_expose_curl_and_watch_a_scale_in_russian(learner_home: Path) -> None:
    child = spawn(learner_home)
    try:
        child.expect("Оболочка песочницы")
        child.expect(PROMPT)
        child.sendline("kubectl create deployment web --image nginx --replicas 3 --port 80")
        child.expect("deployment.apps/web created")
        child.expect(PROMPT)
        child.sendline("kubectl expose deployment web --port 80")
        child.expect("service/web exposed")
        child.expect(PROMPT)
        child.sendline("curl web --from node/worker-1")
        child.expect("доставлен на 10.244.")
        child.expect(PROMPT)
        child.sendline("watch on")
        child.expect("Наблюдение включено")
        child.expect(PROMPT)
        child.sendline("kubectl scale deployment web --replicas 4")
        child.expect("kube-apiserver → kube-proxy на worker-1: 1 событие")
        child.expect(r"частичная синхронизация изменила 2 цепочки")
        child.expect(r"\+ nat KUBE-SEP-\w+ \(новая цепочка\)")
        child.expect(r"~ nat KUBE-SVC-\w+ \(цепочка переписана\)")
        child.expect(r"probability 0\.2500000000")
        child.expect(PROMPT)
        # Tab completes a command word (the line only works if "sc" became "scale").
        child.send("kubectl sc\t")
        child.send(" deployment web --replicas 2\r")
        child.expect("deployment.apps/web scaled")
        child.expect(PROMPT)
        # Ctrl-C clears the line: the half-typed command never runs.
        child.send("kubectl delete deployment web")
        child.sendcontrol("c")
        child.expect(PROMPT)
        child.sendline("kubectl get deployments")
        child.expect(r"web\s+2/2")
        child.expect(PROMPT)
        child.sendline("kubectl get pdos")
        child.expect("Ошибка: .*'pdos'.*'pods'")
        child.expect(PROMPT)
        # Tab completes "kub" to "kubectl " (with the space), and a Service name after "get svc ".
        child.send("kub\t")
        child.send("get svc w\t")
        child.send("-o name\r")
        child.expect("service/web")
        child.expect(PROMPT)
        # Ctrl-D with unsaved changes keeps them and says where.
        child.sendcontrol("d")
        child.expect("Ваши изменения в песочнице сохранены в")
        child.expect("sandbox-autosave.yaml")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_curl_in_ipvs_mode_at_a_terminal_reaches_the_other_node_and_counts(learner_home: Path) -> None:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "TERM": "xterm",
        "KPROXY_TUTOR_HOME": str(learner_home),
        "KPROXY_TUTOR_LANG": "en",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("COLUMNS", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", "sandbox", "--scenario", "db-service", "--mode", "ipvs"],
        env=env,
        dimensions=(24, 80),
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect(PROMPT)
        child.sendline("curl db-service:5432 --from node/worker-1")
        # The node process connects from the Service IP on kube-ipvs0; worker-2 is walked too.
        child.expect(r"TCP 10\.96\.0\.12:40000 → 10\.96\.0\.12:5432")
        child.expect(r"worker-2: PREROUTING#1")
        child.expect(PROMPT)
        child.sendline("ipvsadm -Ln")
        child.expect(r"-> 10\.244\.0\.3:5432 +Masq +1 +1 ")
        child.expect(PROMPT)
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
