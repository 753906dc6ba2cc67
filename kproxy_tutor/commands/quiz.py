"""`kproxy-tutor quiz`: a lesson's self-check quiz, the final exam, or today's review."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kproxy_tutor.errors import N_, ContentError, ExitCode, Interrupted
from kproxy_tutor.i18n import _

if TYPE_CHECKING:
    from kproxy_tutor.quiz.model import Question
    from kproxy_tutor.quiz.selection import Selection
    from kproxy_tutor.quiz.session import Answerer, RunResult
    from kproxy_tutor.ui.quiz_view import QuizView


def register(app: typer.Typer) -> None:
    @app.command(
        "quiz",
        help=_(
            "Self-check quiz. LESSON is a lesson number or id; without it, the quiz of your current "
            "lesson. --all is a final exam drawn from every lesson; --review asks the questions due "
            "for review today (spaced repetition). After each answer you see why it is right or "
            "wrong; at the end, your score and the questions to look at again."
            "\n\n"
            "--answers FILE takes the answers from a file instead of menus (for scripts, or when "
            "arrow-key menus are hard to use). One line per question: 'question-id: answer'. Choices "
            "by id: 'role-dns: coredns'; several: 'multi-id: a, c'; an order: 'order-id: b a c'; "
            "true or false: 'tf-id: false'; text and numbers as typed: 'how-probability-3: 0,3333' "
            "(1/3 works too). Lines starting with # are comments. Questions missing from the file "
            "count as unanswered. With --answers the exit code is 0 when every answer is right, "
            "1 otherwise. --list prints the questions with their ids; more: kproxy-tutor help quiz-answers."
        ),
    )
    def quiz(
        lesson: Annotated[
            str | None,
            typer.Argument(
                metavar=_("LESSON"),
                help=_("Lesson number or id (default: your current lesson, else lesson 1)."),
                show_default=False,
            ),
        ] = None,
        all_lessons: Annotated[
            bool, typer.Option("--all", help=_("Final exam: questions from every lesson."))
        ] = False,
        review: Annotated[
            bool, typer.Option("--review", help=_("Ask the questions that are due for review today."))
        ] = False,
        count: Annotated[
            int | None,
            typer.Option(
                "--count", "-n", metavar="N", help=_("Ask at most N questions."), show_default=False
            ),
        ] = None,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed",
                metavar="S",
                help=_("Fix the order of questions and choices (the same S gives the same quiz)."),
                show_default=False,
            ),
        ] = None,
        answers: Annotated[
            Path | None,
            typer.Option(
                "--answers",
                metavar=_("FILE"),
                help=_("Answer from FILE instead of menus; the format is described above."),
                show_default=False,
            ),
        ] = None,
        list_only: Annotated[
            bool,
            typer.Option(
                "--list",
                help=_(
                    "Only print the questions with their ids and choice ids (to write an answers "
                    "file); nothing is asked or saved."
                ),
            ),
        ] = False,
    ) -> int:
        return run_quiz(lesson, all_lessons, review, count, seed, answers, list_only)


def run_quiz(
    lesson: str | None,
    all_lessons: bool,
    review: bool,
    count: int | None,
    seed: int | None,
    answers_path: Path | None,
    list_only: bool = False,
    today: date | None = None,
) -> int:
    """Pick the questions, ask them, save the result, offer to retry the missed ones."""
    from kproxy_tutor import runtime
    from kproxy_tutor.content.quiz import load_bank
    from kproxy_tutor.progress import progress_store
    from kproxy_tutor.quiz.answers import FileAnswerer, load_answers
    from kproxy_tutor.quiz.generated import with_generated
    from kproxy_tutor.quiz.selection import select
    from kproxy_tutor.quiz.session import RETRY, REVIEW, new_seed, plan
    from kproxy_tutor.ui.prompts import ScriptedPrompter, make_prompter
    from kproxy_tutor.ui.quiz_view import QuizView

    # Questions computed from sandbox scenarios join the written ones (their answers computed now).
    bank = with_generated(load_bank())
    if not bank.quizzes:
        raise ContentError(N_("No quizzes are installed yet."))
    seed = seed if seed is not None else new_seed()
    rng = random.Random(seed)
    progress_data = progress_store().read()
    selection = select(bank, rng, progress_data, lesson, all_lessons, review, count, today)
    # The answers file is checked in full before the first question, so a typo fails fast.
    file_answers = load_answers(answers_path, bank) if answers_path is not None else None
    prompter = (
        ScriptedPrompter([]) if file_answers is not None else make_prompter(plain=runtime.current().plain)
    )
    view = QuizView(prompter, show_ids=file_answers is not None)
    if not selection.questions:
        view.nothing_due(progress_data)
        view.next_step()
        return int(ExitCode.OK)
    title = _title(selection)
    if list_only:
        view.list_questions(title, plan(selection.questions, rng))
        return int(ExitCode.OK)
    answerer: Answerer = FileAnswerer(file_answers) if file_answers is not None else view
    lesson_id = selection.lesson_id
    result = _ask(view, answerer, selection.kind, lesson_id, seed, selection.questions, rng, title, today)
    all_right = result.correct_count == result.total
    missed = result.missed()
    while missed and view.offer_retry(len(missed)):
        retry_questions = [asked.question for asked in missed]
        retry = _ask(view, answerer, RETRY, lesson_id, seed, retry_questions, rng, _("Retry"), today)
        missed = retry.missed()
    # The lesson just quizzed is in focus: its quiz again if not passed, else what comes next.
    view.next_step(focus=lesson_id)
    if selection.kind != REVIEW and file_answers is not None and not all_right:
        return int(ExitCode.FAILURE)
    return int(ExitCode.OK)


def _ask(
    view: QuizView,
    answerer: Answerer,
    kind: str,
    lesson_id: str | None,
    seed: int,
    questions: list[Question],
    rng: random.Random,
    title: str,
    today: date | None,
) -> RunResult:
    from kproxy_tutor.quiz.record import save_run
    from kproxy_tutor.quiz.session import LESSON, plan, run

    planned = plan(questions, rng)
    view.intro(title, len(planned))
    result = run(kind, lesson_id, seed, planned, answerer, on_answer=view.feedback)
    # Saved before anything else, so Ctrl-C keeps the answers given so far.
    save_run(result, today=today)
    if result.interrupted:
        view.say(_("Quiz stopped. The answers you gave are saved."))
        raise Interrupted(reported=True)  # that line is the only one: the CLI adds no second
    view.summary(result)
    if kind == LESSON and lesson_id:
        _show_best(view, lesson_id)
    return result


def _show_best(view: QuizView, lesson_id: str) -> None:
    from kproxy_tutor.progress import progress_store
    from kproxy_tutor.quiz.record import best_score

    best = best_score(progress_store().read(), lesson_id)
    if best is not None:
        from kproxy_tutor.ui.progress_view import score_percent

        view.say(_("Your best score for this lesson: {percent}").format(percent=score_percent(best)))


def _title(selection: Selection) -> str:
    from kproxy_tutor.i18n import pick
    from kproxy_tutor.quiz.session import EXAM, REVIEW

    if selection.kind == REVIEW:
        return _("Review")
    if selection.kind == EXAM or selection.quiz is None:
        return _("Final exam")
    quiz_file = selection.quiz
    title = None
    if quiz_file.number is not None:
        try:
            from kproxy_tutor.content.loader import load_course

            title = load_course().lesson(quiz_file.number).title
        except (ImportError, ContentError, IndexError, AttributeError):
            title = None  # the quiz works without the lesson's title
    if title:
        return _("Quiz for lesson {number}, {title}").format(number=quiz_file.number, title=pick(title))
    return _("Quiz for lesson {lesson}").format(lesson=quiz_file.number or quiz_file.lesson_id)
