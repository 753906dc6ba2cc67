"""The documents ``kproxy-tutor help TOPIC`` shows: every learner-facing one in Russian and English."""

from __future__ import annotations

import re

import pytest

from kproxy_tutor.cli import doc_path, doc_topics
from kproxy_tutor.entry import main
from kproxy_tutor.resources import docs_dir

#: Written for lesson authors, not learners: English only, shown in English whatever the language.
AUTHORS_ONLY = {"content-format"}


def _code(text: str) -> list[str]:
    """The fenced code blocks: what a translation keeps as it is (only comments may be translated)."""
    return re.findall(r"```.*?```", text, re.S)


def test_every_learner_topic_ships_in_both_languages() -> None:
    topics = set(doc_topics())
    assert {
        "sandbox-shell",
        "sandbox-manifests",
        "lab",
        "trace-json",
        "explain-json",
        "quiz-answers",
    } <= topics
    for topic in sorted(topics - AUTHORS_ONLY):
        english = (docs_dir() / f"{topic}.md").read_text(encoding="utf-8")
        russian_path = docs_dir() / "ru" / f"{topic}.md"
        assert russian_path.is_file(), f"no Russian version of {topic}"
        russian = russian_path.read_text(encoding="utf-8")
        assert re.search("[а-яё]{4}", russian), topic
        # Code blocks are copied, not translated: the same commands in the same number of blocks.
        english_code, russian_code = _code(english), _code(russian)
        assert len(english_code) == len(russian_code), topic
        for block_en, block_ru in zip(english_code, russian_code, strict=True):
            commands = [line.split("#")[0].rstrip() for line in block_en.splitlines()]
            assert commands == [line.split("#")[0].rstrip() for line in block_ru.splitlines()], topic
    # Only translations of shipped topics: a Russian file without an English original is never shown.
    assert {p.stem for p in (docs_dir() / "ru").glob("*.md")} <= topics


@pytest.mark.parametrize("topic", ["quiz-answers", "explain-json", "sandbox-shell"])
def test_help_shows_the_learners_language_with_english_as_the_fallback(
    topic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "ru", "help", topic]) == 0
    russian = capsys.readouterr().out
    assert main(["--lang", "en", "help", topic]) == 0
    english = capsys.readouterr().out
    assert russian.rstrip("\n") == (docs_dir() / "ru" / f"{topic}.md").read_text(encoding="utf-8").rstrip(
        "\n"
    )
    assert english.rstrip("\n") == (docs_dir() / f"{topic}.md").read_text(encoding="utf-8").rstrip("\n")
    assert doc_path(topic, "en") == docs_dir() / f"{topic}.md"


def test_a_topic_without_a_translation_is_shown_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert doc_path("content-format", "ru") == docs_dir() / "content-format.md"
    assert main(["--lang", "ru", "help", "content-format"]) == 0
    assert "content" in capsys.readouterr().out.lower()
    assert doc_path("no-such-topic", "ru") is None
