"""The exercise pane's state without a terminal: commands, a YAML document, checks ticking, solving, leaving."""

from __future__ import annotations

from rich.cells import cell_len

from kproxy_tutor.exercises import record
from kproxy_tutor.ui.exercise_pane import ExercisePane
from tests.exercises.conftest import exercise

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: db-service
spec:
  selector:
    app: database
  ports:
  - port: 5432
    protocol: TCP"""


def plain(lines: list) -> list[str]:
    return [line.plain for line in lines]


def test_a_document_after_apply_is_collected_until_eof_and_the_checks_tick_off() -> None:
    pane = ExercisePane(exercise("network-expose-db"), "Next: step 6")
    pane.set_width(60)
    pane.start()
    assert "Checks: 0 of 3 pass" in plain(pane.task_lines(60))
    assert pane.submit("kubectl apply -f - <<EOF") is False
    assert pane.prompt == "> "
    for line in SERVICE.splitlines():
        pane.submit(line)
    pane.submit("EOF")
    shell = plain(pane.shell_lines(60))
    assert any("service/db-service" in row for row in shell), shell
    task = plain(pane.task_lines(60))
    assert "Checks: 3 of 3 pass" in task  # ticked off by the command alone, no attempt counted
    assert record.entry("network-expose-db").get("attempts", 0) == 0
    assert not pane.solved  # solved only once the learner types check
    assert pane.submit("check") is False
    assert pane.solved
    task = plain(pane.task_lines(60))
    assert "Check passed: the task is done." in task
    assert any(row.startswith("Solved. Next: step 6") for row in task)
    assert pane.prompt.startswith("Enter: continue the lesson")
    assert pane.submit("") is True  # Enter goes on
    assert record.entry("network-expose-db")["done"] is True


def test_shell_output_fits_the_pane_and_hints_go_to_the_task() -> None:
    pane = ExercisePane(exercise("role-first-request"), "Next")
    pane.set_width(50)
    pane.start()
    pane.submit("iptables-save -t nat")
    assert all(cell_len(row) <= 50 for row in plain(pane.shell_lines(50)))
    assert any(row.lstrip().startswith("↪") for row in plain(pane.shell_lines(50)))
    pane.submit("hint")
    assert any(row.startswith("Hint 1 of 3:") for row in plain(pane.task_lines(50)))
    assert all(cell_len(row) <= 50 for row in plain(pane.task_lines(50)))


def test_leaving_saves_the_sandbox_and_exit_leaves() -> None:
    pane = ExercisePane(exercise("network-expose-db"), "Next")
    pane.start()
    pane.submit("kubectl expose deployment database --name db-service --port 5432")
    assert pane.submit("exit") is True
    assert pane.left and not pane.solved
    assert record.state_path("network-expose-db").is_file()
    again = ExercisePane(exercise("network-expose-db"), "Next")
    again.start()
    assert "Checks: 3 of 3 pass" in plain(again.task_lines(80))  # the sandbox came back
