"""Sources a learner can open: `dev check` refuses anything but labelled public URLs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.content import check
from kproxy_tutor.content.check import check_content
from kproxy_tutor.content.sources import format_sources, parse_sources, source_problems
from kproxy_tutor.devcheck import Problem

MakeCourse = Callable[..., Path]

VIPS = "Virtual IPs and Service Proxies <https://kubernetes.io/docs/reference/networking/virtual-ips/>"
PROXIER = "iptables proxier.go <https://github.com/kubernetes/kubernetes/blob/v1.35.0/pkg/proxy/iptables/proxier.go>"

LESSON = """\
    id: role
    title: {{ru: "Роль", en: "Role"}}
    summary: {{ru: "Кратко.", en: "In short."}}
    steps:
      - id: first
        title: {{ru: "Шаг", en: "Step"}}
        blocks:
          - update: {{ru: "Сейчас так.", en: "Now it is so."}}
            source: "{source}"
    """

QUIZ = """\
    lesson: role
    questions:
      - id: role-q
        type: truefalse
        prompt: {{ru: "Да?", en: "Yes?"}}
        answer: true
        explanation: {{ru: "Да.", en: "Yes."}}
        source: "{source}"
    """


def text_of(problem: Problem) -> str:
    return f"{problem.where}: {problem.message.format(**dict(problem.params))}"


@pytest.fixture(autouse=True)
def without_quiz_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "_check_quizzes", lambda directory: [])
    monkeypatch.setattr(check, "_check_exercises", lambda directory, lessons: [])


def lesson_problems(make_course: MakeCourse, source: str) -> list[str]:
    return [text_of(p) for p in check_content(make_course("role", role=LESSON.format(source=source)))]


def quiz_problems(make_course: MakeCourse, source: str) -> list[str]:
    directory = make_course("role", extra={"01-role.quiz.yaml": QUIZ.format(source=source)})
    return [text_of(p) for p in check_content(directory)]


def test_labelled_urls_pass(make_course: MakeCourse) -> None:
    assert lesson_problems(make_course, f"{VIPS}; {PROXIER}") == []
    assert quiz_problems(make_course, VIPS) == []


def test_a_file_reference_is_not_a_source(make_course: MakeCourse) -> None:
    problems = lesson_problems(make_course, "kube-proxy-facts.md §8 #5")
    assert problems == [
        "lessons/01-role.yaml:8: steps[first].blocks[0].source: 'kube-proxy-facts.md §8 #5' is not a public "
        "URL with a label; write LABEL <https://…>."
    ]


def test_quiz_source_without_url_is_refused_with_its_line(make_course: MakeCourse) -> None:
    problems = quiz_problems(make_course, f"course §1; {VIPS}")
    assert problems == [
        "lessons/01-role.quiz.yaml:8: questions[role-q].source: 'course §1' is not a public URL with a "
        "label; write LABEL <https://…>."
    ]


def test_a_file_of_this_repository_is_refused_even_with_a_url(make_course: MakeCourse) -> None:
    # course.yaml is a file of the project (the fixture writes it next to the lesson).
    problems = lesson_problems(make_course, "see course.yaml <https://example.org/course.yaml>")
    assert problems == [
        "lessons/01-role.yaml:8: steps[first].blocks[0].source: course.yaml is a file of this project, "
        "not a source a learner can open."
    ]


@pytest.mark.parametrize(
    "text",
    [
        "virtual-ips <http://kubernetes.io/docs/>",  # not https
        "virtual-ips <https://localhost/x>",  # no public host
        "https://kubernetes.io/docs/",  # no label, no brackets
        "<https://kubernetes.io/docs/>",  # empty label
        "notes <file:///home/notes.md>",
    ],
)
def test_malformed_sources(text: str) -> None:
    assert source_problems(text) != []


def test_label_naming_another_file_than_the_url() -> None:
    [problem] = source_problems(
        "proxier.md <https://github.com/kubernetes/kubernetes/blob/v1.35.0/README.md>"
    )
    assert "does not point at that file" in problem.message


def test_parse_and_format_for_display() -> None:
    assert [s.label for s in parse_sources(f"{VIPS}; {PROXIER}")] == [
        "Virtual IPs and Service Proxies",
        "iptables proxier.go",
    ]
    assert format_sources(VIPS) == [
        "Virtual IPs and Service Proxies: https://kubernetes.io/docs/reference/networking/virtual-ips/"
    ]


def test_code_inside_bold_is_refused(make_course: MakeCourse) -> None:
    lesson = LESSON.format(source=VIPS).replace(
        '- update: {{ru: "Сейчас так.", en: "Now it is so."}}'.replace("{{", "{").replace("}}", "}"),
        '- update: {ru: "Сейчас **не трогать `nf_conntrack_max`**.", en: "Now it is so."}',
    )
    problems = [text_of(p) for p in check_content(make_course("role", role=lesson))]
    assert problems == [
        "lessons/01-role.yaml:8: steps[first].blocks[0].ru: `code` inside **bold** is printed with its "
        "backticks; take it out of the bold."
    ]


def test_code_between_two_bold_spans_is_not_inside_either(make_course: MakeCourse) -> None:
    lesson = LESSON.format(source=VIPS).replace(
        '- update: {{ru: "Сейчас так.", en: "Now it is so."}}'.replace("{{", "{").replace("}}", "}"),
        '- update: {ru: "**Устаревшие цепочки** (`KUBE-SVC`) и **пропавшие endpoint\'ы**.", en: "Now it is so."}',
    )
    assert [text_of(p) for p in check_content(make_course("role", role=lesson))] == []
