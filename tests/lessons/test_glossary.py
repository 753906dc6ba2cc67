"""The glossary: dev check refuses rejected variants, taught-in steps that do not exist and quiz
questions that use a term before the lesson that teaches it; lookup and search serve the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.content import check
from kproxy_tutor.content.check import check_content
from kproxy_tutor.content.glossary import (
    check_glossary,
    find_term,
    load_glossary,
    mentions,
    search_lessons,
    suggestions,
)
from kproxy_tutor.content.loader import load_course
from kproxy_tutor.devcheck import Problem

MakeCourse = Callable[..., Path]

GLOSSARY = """\
    format_version: 1
    terms:
      - term: masquerade
        ru: "masquerade"
        en: "masquerading"
        definition: {ru: "Подмена адреса источника.", en: "Rewriting the source address."}
        taught_in: {lesson: modes, step: second}
        accept: {ru: ["masquerade"], en: ["masquerad*"]}
        reject: ["маскарад\\\\w*"]
      - term: pod
        ru: "Pod"
        en: "Pod"
        definition: {ru: "Группа контейнеров.", en: "A group of containers."}
        taught_in: {lesson: role, step: {step}}
        accept: {ru: ["Pod"], en: ["Pod"]}
    """

QUIZ = """\
    lesson: role
    questions:
      - id: role-q
        type: truefalse
        prompt: {{ru: "{prompt}", en: "Is it so?"}}
        answer: true
        explanation: {{ru: "Да.", en: "Yes."}}
        source: "Virtual IPs and Service Proxies <https://kubernetes.io/docs/reference/networking/virtual-ips/>"
    """


def text_of(problem: Problem) -> str:
    return f"{problem.where}: {problem.message.format(**dict(problem.params))}"


@pytest.fixture(autouse=True)
def only_the_glossary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "_check_quizzes", lambda directory: [])
    monkeypatch.setattr(check, "_check_exercises", lambda directory, lessons: [])


def course_with(
    make_course: MakeCourse, *, step: str = "first", prompt: str = "Верно ли?", lesson: str = ""
) -> Path:
    extra = {
        "glossary.yaml": GLOSSARY.replace("{step}", step),
        "01-role.quiz.yaml": QUIZ.format(prompt=prompt),
    }
    texts = {"role": lesson} if lesson else {}
    return make_course("role", "modes", extra=extra, **texts)


def problems(directory: Path) -> list[str]:
    return [text_of(p) for p in check_content(directory)]


def test_a_consistent_glossary_passes(make_course: MakeCourse) -> None:
    assert problems(course_with(make_course)) == []


def test_a_taught_in_step_that_does_not_exist_fails(make_course: MakeCourse) -> None:
    found = problems(course_with(make_course, step="nowhere"))
    assert found == [
        "lessons/glossary.yaml:10: terms[pod].taught_in: the term is taught in lesson 'role', step "
        "'nowhere', which does not exist."
    ]


def test_a_rejected_variant_in_a_lesson_or_a_quiz_fails(make_course: MakeCourse) -> None:
    lesson = """\
        id: role
        title: {ru: "Роль", en: "Role"}
        summary: {ru: "Кратко.", en: "In short."}
        steps:
          - id: first
            title: {ru: "Шаг", en: "Step"}
            blocks:
              - text: {ru: "Здесь маскарадинг, а «маскарадинг» в цитате курса и `маскарад` в коде можно.", en: "Here."}
        """
    found = problems(course_with(make_course, lesson=lesson, prompt="Нужен ли маскарад?"))
    assert found == [
        "lessons/01-role.quiz.yaml:5: questions[0].prompt.ru: 'маскарад' is a variant the glossary "
        "rejects; write 'masquerade'.",
        "lessons/01-role.yaml:8: steps[0].blocks[0].text.ru: 'маскарадинг' is a variant the glossary "
        "rejects; write 'masquerade'.",
    ]


def test_a_rejected_variant_in_the_russian_catalog_fails(make_course: MakeCourse, tmp_path: Path) -> None:
    directory = course_with(make_course)
    po = tmp_path / "kproxy_tutor.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "The packet is masqueraded."\nmsgstr "Пакет маскарадится."\n',
        encoding="utf-8",
    )
    found = [text_of(p) for p in check_glossary(directory, list(load_lessons(directory)), catalog=po)]
    assert found == [
        "kproxy_tutor.po (ru): The packet is masqueraded.: 'маскарадится' is a variant the glossary "
        "rejects; write 'masquerade'."
    ]


def load_lessons(directory: Path):
    from kproxy_tutor.content.loader import Findings, parse_course_file, read_yaml
    from kproxy_tutor.content.parse import parse_lesson

    for entry in parse_course_file(directory, Findings(directory / "course.yaml")):
        lesson = parse_lesson(read_yaml(entry.path), entry, Findings(entry.path))
        assert lesson is not None
        yield lesson


def test_a_question_using_a_term_taught_later_fails(make_course: MakeCourse) -> None:
    found = problems(course_with(make_course, prompt="Делает ли kube-proxy masquerade для этого запроса?"))
    assert found == [
        "lessons/01-role.quiz.yaml:5: questions[role-q]: the question (lesson 1) uses the term "
        "'masquerading', which is first taught in lesson 2, step 2."
    ]


def test_shipped_glossary_terms_and_lookup() -> None:
    glossary = load_glossary()
    assert len(glossary.terms) >= 40
    # Each term is found by its id, either name and its accepted spellings, in any case.
    for query in (
        "masquerade",
        "MASQUERADING",
        "SNAT",
        "verdict map",
        "Нода",
        "EndpointSlice'ы",
        "endpoints",
    ):
        assert find_term(glossary, query) is not None, query
    assert find_term(glossary, "маскарадинг") is None
    assert [t.id for t in suggestions(glossary, "masquarade", "en")][:1] == ["masquerade"]
    assert [t.id for t in suggestions(glossary, "EndpointSlise", "ru")][:1] == ["endpointslice"]


def test_mentions_handles_russian_endings() -> None:
    glossary = load_glossary()
    pod = find_term(glossary, "pod")
    cni = find_term(glossary, "cni")
    assert pod is not None and cni is not None
    assert mentions(pod, "у Pod'ов нет", "ru") and not mentions(pod, "podCIDR", "ru")
    assert mentions(cni, "CNI-плагин выдаёт", "ru")


def test_search_finds_steps_in_the_learners_language() -> None:
    course = load_course()
    ru = search_lessons(course.lessons, ["канареечн"], "ru")
    en = search_lessons(course.lessons, ["canary", "chain"], "en")
    assert ru and en
    assert {(h.lesson.id, h.lesson.steps[h.step_index].id) for h in ru} >= {("how-it-works", "watch")}
    assert all("canary" in h.snippet.lower() or "chain" in h.snippet.lower() for h in en)
    assert search_lessons(course.lessons, ["zzzz-nothing"], "en") == []
