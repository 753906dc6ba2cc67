"""`dev check` for exercises: well-formed checks, and proof that each one can be solved.

For every exercise the sandbox is prepared, its checks must fail on the starting state (or the
exercise asks for nothing), then the reference solution runs through the shell engine and every
check must pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from kproxy_tutor.content.loader import file_label
from kproxy_tutor.content.schema import ExerciseBlock, ExerciseCheck, Lesson
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, TutorError
from kproxy_tutor.exercises.answers import parse_expectation
from kproxy_tutor.exercises.checks import CHECKS


def _problem(lesson: Lesson, line: int, field: str, message: str, **params: object) -> Problem:
    where = file_label(lesson.path) if lesson.path else lesson.id
    location = f"{where}:{line}" if line else where
    return Problem(location, message, (("field", field), *((k, str(v)) for k, v in params.items())))


def check_shape(check: ExerciseCheck) -> tuple[str, dict[str, object]] | None:
    """A problem with one check's kind or parameters, as (message, params), or None."""
    kind = CHECKS.get(check.kind)
    if kind is None:
        return N_("{field}: unknown check {kind!r}; known: {known}."), {
            "kind": check.kind,
            "known": ", ".join(CHECKS),
        }
    missing = [name for name in kind.required if name not in check.params]
    if missing:
        return N_("{field}: {kind} needs {missing}."), {"kind": check.kind, "missing": ", ".join(missing)}
    unknown = [name for name in check.params if name not in (*kind.required, *kind.optional)]
    if unknown:
        return N_("{field}: {kind} has no parameter {unknown}."), {
            "kind": check.kind,
            "unknown": ", ".join(unknown),
        }
    if check.kind == "answer":
        try:
            parse_expectation(check.params["expect"])
        except TutorError as error:
            return error.message, dict(error.params)
    return None


def exercise_problems(lesson: Lesson, exercise: ExerciseBlock, seen: dict[str, str]) -> list[Problem]:
    from kproxy_tutor.exercises.runner import ExerciseRun, prepared_session

    where = f"exercise[{exercise.id}]"
    problems: list[Problem] = []
    if exercise.id in seen:
        problems.append(
            _problem(
                lesson,
                exercise.line,
                f"{where}.id",
                N_("{field}: duplicate exercise id {id!r} (first in lesson {other})."),
                id=exercise.id,
                other=seen[exercise.id],
            )
        )
    seen.setdefault(exercise.id, lesson.id)
    for index, check in enumerate(exercise.checks):
        shape = check_shape(check)
        if shape is not None:
            message, params = shape
            problems.append(_problem(lesson, check.line, f"{where}.checks[{index}]", message, **params))
    if problems:
        return problems
    try:
        start = ExerciseRun(exercise, prepared_session(exercise))
        if all(result.passed for result in start.evaluate()):
            problems.append(
                _problem(
                    lesson,
                    exercise.line,
                    where,
                    N_("{field}: every check already passes before the learner does anything."),
                )
            )
        solved = ExerciseRun(exercise, prepared_session(exercise))
        solved.run_lines(exercise.solution)
        for check, result in zip(exercise.checks, solved.evaluate(), strict=True):
            if not result.passed:
                problems.append(
                    _problem(
                        lesson,
                        check.line,
                        f"{where}.checks",
                        N_("{field}: the reference solution does not pass the {kind} check ({reason})."),
                        kind=check.kind,
                        reason=result.reason.format(**result.params),
                    )
                )
    except TutorError as error:
        problems.append(
            _problem(
                lesson,
                exercise.line,
                where,
                N_("{field}: the exercise cannot run: {problem}"),
                problem=str(error),
            )
        )
    return problems


def check_exercises(lessons: Iterable[Lesson]) -> list[Problem]:
    """Every problem of every exercise of ``lessons``, in course order."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for lesson in lessons:
        for exercise in lesson.exercises:
            problems.extend(exercise_problems(lesson, exercise, seen))
    return problems
