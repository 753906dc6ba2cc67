"""Languages: resolve the learner's language, load gettext catalogs, and pick bilingual content."""

from __future__ import annotations

import gettext as _gettext
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.resources import locales_dir

DOMAIN = "kproxy_tutor"
SUPPORTED = ("ru", "en")
DEFAULT = "ru"
#: Names of the languages in their own language, for `kproxy-tutor lang`.
NATIVE_NAMES = {"ru": "Русский", "en": "English"}
#: The same names for output encodings that cannot show Cyrillic.
ASCII_NAMES = {"ru": "Russkiy", "en": "English"}
LOCALE_ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current = DEFAULT
_translations: dict[str, _gettext.NullTranslations] = {}


def normalize(value: str) -> str | None:
    """Map ``ru``, ``RU``, ``ru_RU.UTF-8``, ``en-GB`` to a supported code, or None."""
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in SUPPORTED else None


def check_supported(value: str, source: str) -> str:
    """Return the language code for ``value`` or raise a usage error listing the supported ones."""
    code = normalize(value)
    if code is None:
        raise UsageError(
            N_("Unsupported language {value!r} (from {source}). Supported languages: {supported}."),
            value=value,
            source=source,
            supported=", ".join(SUPPORTED),
        )
    return code


def system_language(environ: Mapping[str, str]) -> str | None:
    """The first supported language named by the POSIX locale variables, in gettext's order."""
    for var in LOCALE_ENV_VARS:
        value = environ.get(var, "")
        if not value:
            continue
        # LANGUAGE is a priority list ("uk:ru:en"); the others name one locale.
        for part in value.split(":") if var == "LANGUAGE" else [value]:
            code = normalize(part)
            if code:
                return code
        if var != "LANGUAGE":
            # The first set variable among LC_ALL, LC_MESSAGES, LANG decides, as in gettext.
            return None
    return None


def resolve(option: str | None, environ: Mapping[str, str], saved: str | None) -> str:
    """Resolution order: --lang, KPROXY_TUTOR_LANG, the saved setting, the system locale, Russian."""
    if option:
        return check_supported(option, "--lang")
    env_value = environ.get("KPROXY_TUTOR_LANG")
    if env_value:
        return check_supported(env_value, "KPROXY_TUTOR_LANG")
    if saved and normalize(saved):
        return normalize(saved) or DEFAULT
    return system_language(environ) or DEFAULT


def _compiled_catalog(lang: str) -> Path | None:
    """Path of an up-to-date .mo for ``lang``, compiled from the .po when the .po changed.

    The compiled file is named after the hash of the .po it came from, so a stale catalog can
    never be used: any edit to the .po makes a new name.
    """
    po_path = locales_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        po_bytes = po_path.read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(po_bytes).hexdigest()[:20]
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kproxy-tutor"
    mo_path = cache_root / "catalogs" / f"{lang}-{digest}.mo"
    if mo_path.is_file():
        return mo_path
    data = compile_po(po_bytes, lang)
    try:
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, mo_path)
        return mo_path
    except OSError:
        # A read-only home: keep the compiled catalog in memory only.
        _translations[lang] = _gettext.GNUTranslations(_BytesReader(data))
        return None


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


def compile_po(po_bytes: bytes, lang: str) -> bytes:
    """Compile .po text to .mo bytes with Babel (fuzzy entries are left out, as msgfmt does)."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(po_bytes), locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def translations(lang: str) -> _gettext.NullTranslations:
    """The gettext translations for ``lang`` (cached per process)."""
    if lang in _translations:
        return _translations[lang]
    mo_path = _compiled_catalog(lang)
    if lang in _translations:  # compiled in memory
        return _translations[lang]
    result: _gettext.NullTranslations
    if mo_path is None:
        result = _gettext.NullTranslations()
    else:
        with open(mo_path, "rb") as fh:
            result = _gettext.GNUTranslations(fh)
    _translations[lang] = result
    return result


def language_name(code: str, unicode: bool = True) -> str:
    return (NATIVE_NAMES if unicode else ASCII_NAMES)[code]


def set_language(lang: str) -> None:
    """Make ``lang`` the language of every later ``_()`` call in this process."""
    global _current
    _current = lang


def current_language() -> str:
    return _current


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return translations(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with the plural form for ``n`` (Russian has three: 1 вопрос, 2 вопроса, 5 вопросов)."""
    return translations(_current).ngettext(singular, plural, n)


def pick(text: Mapping[str, str], lang: str | None = None) -> str:
    """The ``lang`` (default: current) side of a bilingual content field ``{ru: …, en: …}``."""
    lang = lang or _current
    value = text.get(lang)
    if value:
        return value
    # dev check guarantees both languages; this fallback only protects a learner from a crash.
    return next((v for v in text.values() if v), "")


def format_number(n: float) -> str:
    """``n`` written for the learner's locale (Russian: ``1 234,5`` with a no-break space)."""
    from babel.numbers import format_decimal

    return format_decimal(n, locale=_current)


def format_percent(x: float, digits: int = 1) -> str:
    """The share ``x`` (0.335) as a percentage for the learner's locale, with ``digits`` decimals (``33,5 %``)."""
    from babel.core import Locale
    from babel.numbers import format_percent as babel_percent

    pattern = Locale.parse(_current).percent_formats[None].pattern
    if digits > 0:
        head, zero, tail = pattern.rpartition("0")
        pattern = f"{head}{zero}.{'0' * digits}{tail}"
    return babel_percent(x, format=pattern, locale=_current)
