"""Tab completion candidates, and save/load giving back the same sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.shell.completion import complete
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session


@pytest.fixture(scope="module")
def session() -> Session:
    return Session(find_scenario("db-service"))


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("kub", "kub", ["kubectl"]),
        ("kubectl ex", "ex", ["exec", "expose"]),
        ("kubectl expose ", "", ["deployment", "pod"]),
        ("kubectl scale deployment ", "", ["database"]),
        ("kubectl scale deployment database --rep", "--rep", ["--replicas"]),
        ("kubectl expose deployment database --port 80 --type N", "N", ["NodePort"]),
        ("curl db", "db", ["db-service", "db-service:5432"]),
        ("curl db-service --from w", "w", ["web"]),
        ("node worker", "worker", ["worker-1", "worker-2"]),
        ("iptables -t nat -L KUBE-SVC", "KUBE-SVC", ["KUBE-SVC-PKJNZ2BPYAP7WCVG"]),
        ("scenario no", "no", ["no-endpoints", "nodeport-web"]),
        (
            "kubectl get ",
            "",
            [
                "all",
                "deployments",
                "endpoints",
                "endpointslices",
                "nodes",
                "pods",
                "servicecidrs",
                "services",
            ],
        ),
        ("k get svc,po", "svc,po", ["svc,pods"]),
        ("kubectl get svc ", "", ["db-service"]),
        ("kubectl describe pod w", "w", ["web"]),
        ("kubectl describe endpointslice ", "", ["db-service-nbggt"]),
        (
            "kubectl exec ",
            "",
            ["database-bbhfmz28w9-7hf5n", "database-bbhfmz28w9-f6qh4", "database-bbhfmz28w9-thdfz", "web"],
        ),
        ("kubectl exec web -c ", "", ["database", "web"]),
        ("kubectl patch svc ", "", ["db-service"]),
        ("kubectl edit deployment ", "", ["database"]),
        ("mode ", "", ["iptables", "ipvs", "nftables"]),
        ("kubectl get pods -l app=d", "app=d", ["app=database"]),
    ],
)
def test_completion(session: Session, text: str, word: str, expected: list[str]) -> None:
    assert complete(session, text) == (word, expected)


def test_tab_leaves_a_space_after_a_whole_word_only() -> None:
    from kproxy_tutor.shell.completion import inserted

    assert inserted("kubectl") == "kubectl "
    assert inserted("manifests/") == "manifests/"
    assert inserted("svc,") == "svc,"


def test_save_then_load_gives_the_same_cluster_and_rules(run_shell: Callable, tmp_path: Path) -> None:
    path = tmp_path / "saved.yaml"
    script = f"""
kubectl create deployment api --image api:1 --replicas 2 --port 8080 -n shop
kubectl expose deployment api --port 80 --target-port 8080 --type NodePort -n shop
pod database-bbhfmz28w9-7hf5n not-ready
save {path}
"""
    code, _text, session = run_shell(script, "db-service")
    assert code == 0
    saved = session.snapshot()
    fresh = Session()
    code, text, fresh = run_shell(f"load {path}\n", session=fresh)
    assert code == 0, text
    assert fresh.snapshot()[:6] == saved[:6]  # objects and every node's rules
    assert fresh.node == session.node
