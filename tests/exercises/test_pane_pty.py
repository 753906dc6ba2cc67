"""An exercise beside its shell in a real terminal: the task stays in view, solving it leads on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kproxy_tutor.content.loader import load_course
from tests.lessons.tmux_screen import Screen, have_tmux

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(os.name != "posix" or not have_tmux(), reason="needs tmux on a POSIX system"),
]


WORDS = {
    "en": {
        "step": "Step {k} of {n}",
        "exercise": "Exercise: {id}",
        "checks": "Checks: {done} of {total} pass",
        "passed": "Check passed",
        "solved": "Solved. Next: step {k}",
        "enter": "Enter to continue",
    },
    "ru": {
        "step": "Шаг {k} из {n}",
        "exercise": "Упражнение: {id}",
        "checks": "Проверки: пройдено {done} из {total}",
        "passed": "Проверка пройдена",
        "solved": "Решено. Дальше: шаг {k}",
        "enter": "Enter, чтобы продолжить",
    },
}


@pytest.mark.parametrize(("lang", "size"), [("en", (100, 32)), ("ru", (80, 24))])
def test_task_stays_visible_while_commands_run_and_solving_shows_the_next_step(
    learner_home: Path, lang: str, size: tuple[int, int]
) -> None:
    words = WORDS[lang]
    lesson = load_course().lesson(1)
    index = next(
        i for i, step in enumerate(lesson.steps) if any(b for b in step.blocks if hasattr(b, "checks"))
    )
    exercise = next(b for b in lesson.steps[index].blocks if hasattr(b, "checks"))
    n = len(lesson.steps)
    screen = Screen(learner_home, ["--lang", lang, "learn", "1"], *size)
    try:
        for k in range(1, index + 1):
            screen.wait_for(words["step"].format(k=k, n=n))
            screen.keys("Enter")
        screen.wait_for(words["step"].format(k=index + 1, n=n))
        screen.keys("e")
        heading = words["exercise"].format(id=exercise.id)
        total = len(exercise.checks)
        screen.wait_for(heading, words["checks"].format(done=0, total=total), "exercise $")
        for line in exercise.solution:
            screen.type(line)
            screen.keys("Enter")
            rows = wait_for_prompt(screen)
            assert heading in rows[0], "the task scrolled away"
            # Nothing wrapped by the terminal: joining wrapped rows back (-J) yields no longer row.
            assert all(len(row) <= size[0] for row in screen.rows(joined=True))
        # iptables-save printed far more than the shell pane holds: the task is still on top, ticked off.
        screen.wait_for(heading, words["checks"].format(done=total, total=total))
        screen.type("check")
        screen.keys("Enter")
        following = lesson.steps[index + 1].title[lang]
        rows = screen.wait_for(words["passed"], words["solved"].format(k=index + 2), words["enter"])
        assert following[:20] in " ".join(rows)
        screen.keys("Enter")
        screen.wait_for(words["step"].format(k=index + 2, n=n), following[:20])
        screen.keys("q")
        assert screen.exit_status() == 0
    finally:
        screen.close()


def wait_for_prompt(screen: Screen) -> list[str]:
    """Rows once the command ran: the input line is an empty prompt again."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = screen.rows()
        if rows and rows[-1].endswith("exercise $"):
            return rows
        time.sleep(0.05)
    raise AssertionError("the prompt did not come back:\n" + screen.text())


def test_the_exercise_command_puts_the_task_beside_the_shell(learner_home: Path) -> None:
    """`kproxy-tutor exercise ID` at 120 columns: task on the left, shell on the right; exit 0 when solved."""
    screen = Screen(learner_home, ["--lang", "en", "exercise", "network-expose-db"], 120, 30)
    try:
        screen.wait_for("Exercise: network-expose-db", "Checks: 0 of 3 pass", "exercise $")
        screen.type("kubectl expose deployment database --name db-service --port 5433")
        screen.keys("Enter")
        screen.type("check")
        screen.keys("Enter")
        rows = screen.wait_for("Not yet (1 failed check so far).", "listens on 5433/TCP")
        # The task's column and the shell's column share the rows.
        assert any(row.startswith("Exercise: network-expose-db") and "│" in row for row in rows)
        screen.type("kubectl delete svc db-service")
        screen.keys("Enter")
        screen.type("kubectl expose deployment database --name db-service --port 5432")
        screen.keys("Enter")
        screen.type("check")
        screen.keys("Enter")
        screen.wait_for(
            "Check passed",
            "Solved. Back to the lesson:",
            "kproxy-tutor learn 2 --step 5",
            "Press Enter to leave.",
        )
        screen.keys("Enter")
        assert screen.exit_status() == 0
    finally:
        screen.close()
