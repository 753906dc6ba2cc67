"""The question bank: load every ``lessons/*.quiz.yaml``, validate it, and report problems with file:line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kproxy_tutor.content.yamlio import load_yaml
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_, ContentError, Msg, TutorError, UsageError
from kproxy_tutor.quiz.model import Question
from kproxy_tutor.quiz.parse import QuestionParser
from kproxy_tutor.resources import lessons_dir

QUIZ_SUFFIX = ".quiz.yaml"
MIN_QUESTIONS_PER_LESSON = 10


@dataclass(frozen=True)
class QuizFile:
    """One lesson's quiz: its place in the course (1-based, None if not listed) and questions."""

    path: Path
    where: str  # the path as shown in messages: "lessons/01-role.quiz.yaml"
    stem: str  # "01-role"
    number: int | None
    lesson_id: str
    questions: tuple[Question, ...]
    #: How many questions the file has, counting ones that failed validation.
    declared: int = 0


@dataclass(frozen=True)
class Bank:
    """Every quiz of the course, in course order."""

    quizzes: tuple[QuizFile, ...]

    def questions(self) -> list[Question]:
        return [q for quiz in self.quizzes for q in quiz.questions]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)

    def for_lesson(self, lesson_id: str) -> QuizFile | None:
        return next((quiz for quiz in self.quizzes if quiz.lesson_id == lesson_id), None)

    def find(self, target: str) -> QuizFile:
        """The quiz for a lesson number ("3"), id ("modes") or file stem ("04-modes"); else a UsageError."""
        target = target.strip()
        if target.isascii() and target.isdigit() and len(target) <= 6:
            quiz = next((q for q in self.quizzes if q.number == int(target)), None)
        else:
            quiz = self.for_lesson(target) or next((q for q in self.quizzes if q.stem == target), None)
        if quiz is None:
            available = ", ".join(f"{q.number} ({q.lesson_id})" for q in self.quizzes if q.number)
            raise UsageError(
                N_("There is no quiz for lesson {lesson!r}. Quizzes exist for: {available}."),
                lesson=target,
                available=available or "-",
            )
        return quiz


def _where(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _course_stems(root: Path) -> list[str]:
    try:
        course = load_yaml(root / "course.yaml")
    except ContentError:
        return []  # the lesson checks report a broken course file
    lessons = course.get("lessons") if isinstance(course, dict) else None
    return [str(s) for s in lessons] if isinstance(lessons, list) else []


def _parse_file(
    path: Path, where: str, stem: str, number: int | None, report: Callable[[Problem], None]
) -> QuizFile | None:
    try:
        data = load_yaml(path)
    except TutorError as exc:
        report(
            Problem(
                exc.location or where,
                exc.message,
                tuple((k, v if isinstance(v, Msg) else str(v)) for k, v in exc.params.items()),
            )
        )
        return None
    parser = QuestionParser(where, report)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        parser.problem(data, None, N_("A quiz file needs 'lesson' and a list of 'questions'."))
        return None
    parser.unknown_keys(data, {"lesson", "questions"}, "quiz")
    lesson_id = parser.identifier(data, "lesson", "lesson")
    questions = [parser.question(node, i, lesson_id or "") for i, node in enumerate(data["questions"])]
    if lesson_id is None:
        return None
    # Valid questions are kept even when others are broken, so the course-wide checks still run.
    valid = tuple(q for q in questions if q is not None)
    return QuizFile(path, where, stem, number, lesson_id, valid, declared=len(questions))


def _load(root: Path, report: Callable[[Problem], None]) -> list[QuizFile]:
    stems = _course_stems(root)
    found = sorted(p for p in root.glob(f"*{QUIZ_SUFFIX}") if p.is_file()) if root.is_dir() else []
    by_stem = {p.name[: -len(QUIZ_SUFFIX)]: p for p in found}
    ordered = [s for s in stems if s in by_stem] + sorted(s for s in by_stem if s not in stems)
    quizzes: list[QuizFile] = []
    first_use: dict[str, str] = {}
    for stem in ordered:
        path = by_stem[stem]
        where = _where(path, root)
        number = stems.index(stem) + 1 if stem in stems else None
        if number is None:
            report(Problem(where, N_("This quiz file is not listed in course.yaml.")))
        quiz = _parse_file(path, where, stem, number, report)
        if quiz is None:
            continue
        for question in quiz.questions:
            key = f"{question.id}"
            if key in first_use:
                report(
                    Problem(
                        where,
                        N_("{field}: the question id {id!r} is also used in {other}; ids must be unique."),
                        (("field", key), ("id", key), ("other", first_use[key])),
                    )
                )
            else:
                first_use[key] = where
        quizzes.append(quiz)
    return quizzes


def load_bank(root: Path | None = None) -> Bank:
    """Load and validate every quiz; the first problem becomes a ContentError naming file:line."""
    problems: list[Problem] = []
    quizzes = _load(root or lessons_dir(), problems.append)
    if problems:
        first = problems[0]
        raise ContentError(first.message, location=first.where, **dict(first.params))
    return Bank(tuple(quizzes))


def _lesson_ids(root: Path, stems: list[str]) -> dict[str, str | None]:
    """Each course entry's lesson id, read from its lesson file (None if it cannot be read)."""
    ids: dict[str, str | None] = {}
    for stem in stems:
        try:
            data = load_yaml(root / f"{stem}.yaml")
        except ContentError:
            ids[stem] = None
            continue
        value = data.get("id") if isinstance(data, dict) else None
        ids[stem] = str(value) if isinstance(value, str | int) else None
    return ids


def check_quizzes(root: Path | None = None) -> list[Problem]:
    """Every problem of the bank, plus course-wide rules: a quiz for each lesson, of 10+ questions."""
    root = root or lessons_dir()
    problems: list[Problem] = []
    quizzes = _load(root, problems.append)
    stems = _course_stems(root)
    lesson_ids = _lesson_ids(root, stems)
    known = sorted({i for i in lesson_ids.values() if i})
    by_lesson: dict[str, QuizFile] = {}
    for quiz in quizzes:
        own = lesson_ids.get(quiz.stem)
        if quiz.lesson_id not in known:
            problems.append(
                Problem(
                    quiz.where,
                    N_("The lesson {lesson!r} does not exist (lesson ids: {known})."),
                    (("lesson", quiz.lesson_id), ("known", ", ".join(known) or "-")),
                )
            )
        elif own is not None and own != quiz.lesson_id:
            problems.append(
                Problem(
                    quiz.where,
                    N_("The quiz is for lesson {lesson!r}, but {file} is lesson {expected!r}."),
                    (("lesson", quiz.lesson_id), ("file", f"{quiz.stem}.yaml"), ("expected", own)),
                )
            )
        if quiz.lesson_id in by_lesson:
            problems.append(
                Problem(
                    quiz.where,
                    N_("Lesson {lesson!r} already has a quiz: {other}."),
                    (("lesson", quiz.lesson_id), ("other", by_lesson[quiz.lesson_id].where)),
                )
            )
        by_lesson.setdefault(quiz.lesson_id, quiz)
        if quiz.declared < MIN_QUESTIONS_PER_LESSON:
            problems.append(
                Problem(
                    quiz.where,
                    N_("The quiz has {n} questions; each lesson needs at least {min}."),
                    (("n", str(quiz.declared)), ("min", str(MIN_QUESTIONS_PER_LESSON))),
                )
            )
    for stem in stems:
        if not (root / f"{stem}{QUIZ_SUFFIX}").is_file():
            problems.append(
                Problem(
                    _where(root / "course.yaml", root),
                    N_("Lesson {lesson} has no quiz file ({file})."),
                    (("lesson", stem), ("file", f"{stem}{QUIZ_SUFFIX}")),
                )
            )
    return problems
