"""One exercise attempt, terminal-free: the prepared sandbox, the learner's commands, checks, hints and solution.

The shell engine runs every sandbox command unchanged; this layer only adds the exercise's own
words (``check``, ``hint``, ``solution``, ``task``, ``answer``) and remembers the traces the
learner's curls produced, because some checks ask "did you show it with a trace?".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kproxy_tutor.content.schema import Bilingual, ExerciseBlock
from kproxy_tutor.errors import N_, ContentError, TutorError
from kproxy_tutor.exercises.checks import CheckResult, run_check
from kproxy_tutor.exercises.state import ExerciseState, restore_sandbox, save_sandbox
from kproxy_tutor.shell.output import Output, TraceReport
from kproxy_tutor.shell.parser import parse_line, split_line
from kproxy_tutor.shell.script import Block, blocks
from kproxy_tutor.shell.session import Session

#: Words the exercise shell understands besides the sandbox's commands.
EXERCISE_WORDS = ("check", "hint", "solution", "task", "answer")
#: Failed checks after which the solution opens.
SOLUTION_AFTER = 3


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...]
    #: Failed checks so far in this exercise (this one included).
    failures: int

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def prepared_session(exercise: ExerciseBlock) -> Session:
    """The scenario with the exercise's setup applied; ``reset`` comes back to this state."""
    from kproxy_tutor.shell.scenarios import find_scenario

    try:
        session = Session(find_scenario(exercise.scenario), exercise.node)
        for block in blocks(exercise.setup):
            invocation = parse_line(block.line)
            if invocation is not None:
                session.execute(invocation, block.document)
    except TutorError as error:
        raise ContentError(
            N_("Exercise {id}: its sandbox cannot be prepared: {problem}"), id=exercise.id, problem=error
        ) from None
    if exercise.setup:
        # Make the prepared cluster the session's starting point, so `reset` returns to it.
        from kproxy_tutor.shell.commands import state_yaml

        start = session.load_start(state_yaml(session), f"exercise {exercise.id}")
        start.scenario = exercise.scenario
        session.restart(start)
        session.origin = start
    return session


def save_state(session: Session, path: Path) -> None:
    """The sandbox as an ordinary sandbox state file, written atomically (see ``save_sandbox``)."""
    save_sandbox(session, path)


def restore_state(session: Session, path: Path) -> bool:
    """Load a state saved by :func:`save_state`; False (nothing changed) when it is missing or broken."""
    return restore_sandbox(session, path)


class ExerciseRun:
    """The learner's attempt at one exercise."""

    def __init__(self, exercise: ExerciseBlock, session: Session | None = None) -> None:
        self.exercise = exercise
        self.state = ExerciseState(session or prepared_session(exercise))
        self.failures = 0
        self.hints_shown = 0
        self.done = False

    @property
    def session(self) -> Session:
        return self.state.session

    # Commands ----------------------------------------------------------------------------
    @staticmethod
    def is_exercise_line(line: str) -> bool:
        try:
            words = split_line(line)
        except TutorError:
            return False
        return bool(words) and words[0] in EXERCISE_WORDS

    def execute(self, block: Block) -> list[Output]:
        """A sandbox command through the shell engine; raises TutorError as the shell does."""
        invocation = parse_line(block.line)
        if invocation is None:
            return []
        outputs = self.session.execute(invocation, block.document)
        for output in outputs:
            if isinstance(output, TraceReport):
                self.state.traces.extend(output.traces)
        if invocation.command.name in ("reset", "load", "scenario"):
            self.state.traces.clear()  # traces of another cluster prove nothing about this one
        return outputs

    def give_answer(self, value: str) -> None:
        self.state.answer = value.strip()

    def check(self) -> CheckReport:
        results = tuple(run_check(self.state, c.kind, c.params) for c in self.exercise.checks)
        report = CheckReport(results, self.failures)
        if report.passed:
            self.done = True
        else:
            self.failures += 1
            report = CheckReport(results, self.failures)
        return report

    def next_hint(self) -> Bilingual | None:
        """The next hint of the ladder (nudge, pointer, command), or None when all were shown."""
        if self.hints_shown >= len(self.exercise.hints):
            return None
        self.hints_shown += 1
        return self.exercise.hints[self.hints_shown - 1]

    @property
    def solution_open(self) -> bool:
        return self.failures >= SOLUTION_AFTER or self.done

    def evaluate(self) -> tuple[CheckResult, ...]:
        """The checks' verdicts without counting an attempt (for dev check and tests)."""
        return tuple(run_check(self.state, c.kind, c.params) for c in self.exercise.checks)

    def run_lines(self, lines: Iterable[str]) -> None:
        """Run command lines as a learner would type them (``answer`` included); errors raise."""
        for block in blocks(lines):
            if not block.line.strip() or block.line.lstrip().startswith("#"):
                continue
            words = split_line(block.line)
            if words and words[0] == "answer":
                self.give_answer(" ".join(words[1:]))
            elif words and words[0] in EXERCISE_WORDS:
                continue
            else:
                self.execute(block)
