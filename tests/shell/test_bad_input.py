"""Bad input: a message in the learner's language, never a traceback, and the sandbox exactly as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import TutorError
from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.parser import ShellUsageError, parse, parse_line
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.script import blocks
from kproxy_tutor.shell.session import Session

SESSION = Session(find_scenario("db-service"))

WORDS = sorted(
    {w for c in grammar.COMMANDS for w in c.words}
    | {n for c in grammar.COMMANDS for f in c.flags for n in f.names}
)
VALUES = [
    "web",
    "database",
    "db-service",
    "worker-1",
    "-1",
    "0",
    "70000",
    "Web",
    "a..b",
    "10.96.0.12",
    "999.1.1.1",
    "NodePort",
    "tcp",
    "k=v",
    "k-",
    "-",
    "--",
    "'",
    '"',
    "x" * 300,
    "/nonexistent/file.yaml",
    "=",
    "app=",
    "€",
]


def run_line(session: Session, line: str, document: str | None = None) -> bool:
    """True when the line ran; False when it was refused with a TutorError (anything else fails the test)."""
    try:
        invocation = parse_line(line)
        if invocation is None:
            return True
        session.execute(invocation, document)
    except TutorError:
        return False
    return True


garbage = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS + VALUES), min_size=1, max_size=8).map(" ".join),
    st.tuples(
        st.sampled_from([c.name for c in grammar.COMMANDS]),
        st.lists(st.sampled_from(WORDS + VALUES), max_size=6),
    ).map(lambda t: " ".join([t[0], *t[1]])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=garbage)
def test_garbage_never_crashes_and_a_refused_line_changes_nothing(line: str) -> None:
    if line.split()[:1] in (["save"], ["exit"], ["quit"]):
        return  # save writes files: not for random input
    before = SESSION.snapshot()
    ran = run_line(SESSION, line)
    if not ran:
        assert SESSION.snapshot() == before, line


YAML_SECOND_INVALID = """apiVersion: v1
kind: Service
metadata: {name: first}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: second}
spec:
  clusterIP: 10.96.0.300
  ports: [{port: 81}]
"""


@pytest.mark.parametrize(
    ("line", "document"),
    [
        ("kubectl apply -f -", YAML_SECOND_INVALID),
        ("kubectl apply -f -", "kind: Service\nmetadata: {name: [\n"),
        ("kubectl apply -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
        (
            "kubectl apply -f -",
            "apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 80}]}\n",
        ),
        ("kubectl expose deployment database --port 80 --name db-service", None),
        ("kubectl create deployment Web --image nginx", None),
        ("kubectl scale deployment database --replicas -1", None),
        ("kubectl expose deployment database --port 0", None),
        ("kubectl expose deployment database --port 80 --target-port 99999", None),
        ("kubectl label pod web app=database", None),
        ("kubectl run web --image nginx", None),
        ("load /nonexistent/cluster.yaml", None),
        ("scenario nope", None),
        ("node worker-9", None),
    ],
)
def test_refused_edits_leave_everything_as_it_was(line: str, document: str | None) -> None:
    session = Session(find_scenario("db-service"))
    before = session.snapshot()
    assert not run_line(session, line, document)
    assert session.snapshot() == before


def test_multi_document_apply_is_all_or_nothing() -> None:
    session = Session(find_scenario("db-service"))
    assert not run_line(session, "kubectl apply -f -", YAML_SECOND_INVALID)
    assert ("default", "first") not in session.cluster.services
    # Fixed, both documents go in together.
    assert run_line(session, "kubectl apply -f -", YAML_SECOND_INVALID.replace("10.96.0.300", "10.96.0.30"))
    assert {("default", "first"), ("default", "second")} <= set(session.cluster.services)


def test_did_you_mean_for_commands_flags_and_values() -> None:
    with pytest.raises(ShellUsageError) as error:
        parse(["kubectl", "expsoe", "deployment", "web"])
    assert error.value.params["suggestion"] == "kubectl expose"
    with pytest.raises(ShellUsageError) as error:
        parse(["kubectl", "scale", "deployment", "web", "--replcias", "3"])
    assert error.value.params["suggestion"] == "--replicas"
    with pytest.raises(ShellUsageError) as error:
        parse(["get", "pods"])
    assert error.value.params["suggestion"] == "kubectl get"
    with pytest.raises(ShellUsageError) as error:
        parse(["iptabels-save"])
    assert error.value.params["suggestion"] == "iptables-save"


def test_errors_are_in_the_learners_language(run_shell: Callable) -> None:
    code, text, _session = run_shell("kubectl scael deployment database --replicas 2\n", "db-service", "ru")
    assert code == 4
    assert "Ошибка: Неизвестная команда 'kubectl scael'. Может быть, вы имели в виду 'kubectl scale'?" in text
    code, text, _session = run_shell("kubectl scale deployment database --replicas two\n", "db-service", "en")
    assert "Error: Invalid value for --replicas: 'two' is not a number." in text
    assert "Usage: kubectl scale deployment NAME --replicas N [-n NAMESPACE]" in text


def test_a_script_stops_at_the_first_error_unless_keep_going(run_shell: Callable) -> None:
    script = "kubectl get nodes\nkubectl nonsense\nkubectl get svc\n"
    code, text, _session = run_shell(script, "db-service")
    assert code == 4 and "$ kubectl get svc" not in text
    code, text, _session = run_shell(script, "db-service", keep_going=True)
    assert code == 4 and "db-service   ClusterIP" in text


def test_pasted_yaml_ends_at_eof_and_a_missing_eof_is_an_error() -> None:
    lines = ["kubectl apply -f - <<EOF", "kind: Pod", "EOF", "kubectl get pods"]
    found = list(blocks(lines))
    assert [b.line for b in found] == ["kubectl apply -f -", "kubectl get pods"]
    assert found[0].document == "kind: Pod\n" and not found[0].unterminated
    assert next(iter(blocks(["kubectl apply -f -", "kind: Pod"]))).unterminated
