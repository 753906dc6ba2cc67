"""Golden transcripts of the kubectl forms people type, in both languages (regenerate with --update-goldens)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

#: name → (scenario, script). Each runs in English and in Russian: tool output stays English,
#: the messages around it (and every error) follow the language.
FORMS: dict[str, tuple[str | None, str]] = {
    "watch": (
        None,
        """
watch on
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl scale deployment web --replicas 1
""",
    ),
    "get": (
        None,
        """
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
k get svc,pods
kubectl get ep
kubectl get endpoints web
kubectl get all
kubectl get all -A
kubectl get pods -l app=web --show-labels
kubectl get po -l 'tier in (test,prod),app!=web' -o name
kubectl get svc/web pod/client -o name
kubectl get nodes -o wide
kubectl get deploy -o wide
kubectl get pods -n kube-system
kubectl get pdos
kubectl get svc wbe
kubectl get pods -l 'app in web'
""",
    ),
    "get-output": (
        None,
        """
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
kubectl get svc web -o yaml
kubectl get pod client -o json
kubectl get ep web -o yaml
kubectl get deploy -o name
""",
    ),
    "describe": (
        None,
        """
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
kubectl describe svc web
kubectl describe pod client
kubectl describe node worker-1
kubectl get endpointslices -o name
kubectl describe endpointslice web-4krcn
kubectl describe nodes worker-3
kubectl describe pod clinet
""",
    ),
    "exec": (
        None,
        """
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
kubectl exec client -- curl web:80
kubectl exec -it client -- wget -qO- http://web
kubectl exec client -c client -- nc -zv web 80
kubectl exec deploy/web -- curl -s -m 5 http://web.default.svc.cluster.local/
kubectl exec client -- curl http://web:8080
kubectl exec client -c main -- curl web
kubectl exec client -- bash
kubectl exec clinet -- curl web
""",
    ),
    "patch": (
        None,
        """
watch on
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
kubectl patch svc web -p '{"spec":{"sessionAffinity":"ClientIP"}}'
kubectl patch svc web -p '{"spec":{"sessionAffinity":"ClientIP"}}'
kubectl patch deploy web -p '{"spec":{"replicas":2}}'
kubectl patch svc/web --type merge -p '{"metadata":{"labels":{"tier":"front"}}}'
kubectl patch svc web --type json -p '[{"op":"replace","path":"/spec/type","value":"NodePort"}]'
kubectl patch svc web --type json -p '[{"op":"replace","path":"/spec/clusterIP","value":"10.96.0.99"}]'
kubectl patch svc web -p '{"spec":{"ports":[{"port":80,"targetPort":8080}]}}'
kubectl patch svc web -p 'spec: ['
kubectl patch ep web -p '{}'
kubectl patch svc wbe -p '{}'
""",
    ),
    "shell": (
        None,
        """
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl run client --image busybox --labels app=client,tier=test
clear
history
history 2
kubectl edit svc web
kubectl describ svc web
kubect get pods
""",
    ),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", sorted(FORMS))
def test_kubectl_form(name: str, lang: str, run_shell: Callable, golden: Callable[[str, str], None]) -> None:
    scenario, script = FORMS[name]
    _code, text, _session = run_shell(script, scenario, lang, keep_going=True)
    golden(f"kubectl-{name}" + ("" if lang == "en" else ".ru"), text)


EDITS = """
watch on
kubectl create deployment web --image nginx --replicas 2 --port 80
kubectl expose deployment web --port 80
kubectl edit svc web
kubectl edit deploy web
"""


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_kubectl_edit_form(
    lang: str,
    run_shell: Callable,
    golden: Callable[[str, str], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An editor that turns the Service into NodePort (then leaves the Deployment as it was: cancelled)."""
    from kproxy_tutor.shell.editor import open_editor
    from kproxy_tutor.shell.session import Session

    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/type: ClusterIP/type: NodePort/' \"$1\"\n", encoding="utf-8")
    editor.chmod(0o755)
    for variable in ("KUBE_EDITOR", "VISUAL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    session = Session()
    session.editor = open_editor
    code, text, _session = run_shell(EDITS, lang=lang, session=session)
    assert code == 0
    golden("kubectl-edit" + ("" if lang == "en" else ".ru"), text)
