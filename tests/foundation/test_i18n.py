"""Language resolution, catalogs and plural forms."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kproxy_tutor import i18n
from kproxy_tutor.devcheck import check_catalogs
from kproxy_tutor.errors import UsageError
from kproxy_tutor.resources import locales_dir

ROOT = Path(__file__).resolve().parents[2]


def _msgids(path: Path) -> set[object]:
    with open(path, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_fresh_extract_equals_committed_template(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import i18n as tool  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    tool.extract(fresh)
    committed = _msgids(locales_dir() / "kproxy_tutor.pot")
    extracted = _msgids(fresh)
    assert extracted - committed == set(), "strings in code but not in the .pot: run tools/i18n.py sync"
    assert committed - extracted == set(), "stale strings in the .pot: run tools/i18n.py sync"


def test_catalogs_complete_no_fuzzy() -> None:
    problems = check_catalogs()
    assert problems == [], [(p.where, p.message.format(**dict(p.params))) for p in problems]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "Найдена 1 проблема."),
        (2, "Найдено 2 проблемы."),
        (5, "Найдено 5 проблем."),
        (11, "Найдено 11 проблем."),
        (21, "Найдена 21 проблема."),
        (22, "Найдено 22 проблемы."),
        (111, "Найдено 111 проблем."),
    ],
)
def test_russian_plural_forms(n: int, expected: str) -> None:
    i18n.set_language("ru")
    try:
        assert i18n.ngettext("{n} problem found.", "{n} problems found.", n).format(n=n) == expected
    finally:
        i18n.set_language(i18n.DEFAULT)


def test_english_plural_forms() -> None:
    i18n.set_language("en")
    try:
        assert i18n.ngettext("{n} problem found.", "{n} problems found.", 1).format(n=1) == "1 problem found."
        assert (
            i18n.ngettext("{n} problem found.", "{n} problems found.", 21).format(n=21)
            == "21 problems found."
        )
    finally:
        i18n.set_language(i18n.DEFAULT)


@pytest.mark.parametrize(
    ("option", "env", "saved", "expected"),
    [
        ("en", {"KPROXY_TUTOR_LANG": "ru"}, "ru", "en"),
        (None, {"KPROXY_TUTOR_LANG": "en"}, "ru", "en"),
        (None, {}, "en", "en"),
        (None, {"LANG": "en_US.UTF-8"}, None, "en"),
        (None, {"LANGUAGE": "de:en", "LANG": "ru_RU.UTF-8"}, None, "en"),
        (None, {"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, None, "ru"),
        (None, {"LANG": "de_DE.UTF-8"}, None, "ru"),
        (None, {"LANG": "C.UTF-8"}, None, "ru"),
        (None, {}, None, "ru"),
    ],
)
def test_resolution_order(option: str | None, env: dict[str, str], saved: str | None, expected: str) -> None:
    assert i18n.resolve(option, env, saved) == expected


@pytest.mark.parametrize("bad", ["de", "english", "xx_YY"])
def test_unsupported_language_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        i18n.resolve(bad, {}, None)
    assert "ru, en" in str(info.value)


def test_stale_compiled_catalog_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing the .po changes what is shown at once: compiled catalogs are keyed by the .po's hash."""
    locales = tmp_path / "locales"
    po_dir = locales / "ru" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    monkeypatch.setattr(i18n, "locales_dir", lambda: locales)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    template = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Hello"\nmsgstr "{}"\n'
    )
    for text in ("Привет", "Здравствуйте"):
        (po_dir / "kproxy_tutor.po").write_text(template.format(text), encoding="utf-8")
        i18n._translations.clear()
        assert i18n.translations("ru").gettext("Hello") == text
    i18n._translations.clear()


def test_unsupported_language_from_cli_exits_2() -> None:
    from tests.foundation.helpers import run_tutor

    result = run_tutor("--lang", "de", "lang")
    assert result.returncode == 2
    assert "ru, en" in result.stderr
    assert "Traceback" not in result.stderr


def test_lang_saves_setting(learner_home: Path) -> None:
    from tests.foundation.helpers import run_tutor

    saved = run_tutor("lang", "en")
    assert saved.returncode == 0, saved.stderr
    assert "English" in saved.stdout
    shown = run_tutor("lang")
    assert "Current language: English (en)" in shown.stdout
    # The option still wins over the saved setting.
    assert "Текущий язык: Русский (ru)" in run_tutor("--lang", "ru", "lang").stdout
