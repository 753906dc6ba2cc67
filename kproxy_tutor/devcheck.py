"""`dev check`: every content and catalog check, returning problems as values."""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.errors import N_


@dataclass(frozen=True)
class Problem:
    """One problem found: where (file, line, field) and an English msgid with parameters."""

    where: str
    message: str
    params: tuple[tuple[str, str], ...] = ()


def check_catalogs() -> list[Problem]:
    """Every msgid of the template is translated in every language, none fuzzy."""
    from babel.messages.pofile import read_po

    from kproxy_tutor.i18n import DOMAIN, SUPPORTED
    from kproxy_tutor.resources import locales_dir

    problems: list[Problem] = []
    pot = locales_dir() / f"{DOMAIN}.pot"
    if not pot.is_file():
        return [Problem(str(pot), N_("The message template is missing."))]
    with open(pot, "rb") as fh:
        template = read_po(fh)
    for lang in SUPPORTED:
        po = locales_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.is_file():
            problems.append(Problem(str(po), N_("The catalog is missing.")))
            continue
        with open(po, "rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in template:
            if not message.id:
                continue
            entry = catalog.get(message.id)
            where = f"{po.name} ({lang})"
            if entry is None:
                problems.append(
                    Problem(where, N_("Message not in catalog: {msgid}"), (("msgid", str(message.id)),))
                )
            elif entry.fuzzy:
                problems.append(
                    Problem(where, N_("Fuzzy translation: {msgid}"), (("msgid", str(message.id)),))
                )
            elif lang != "en" and (
                not entry.string or (isinstance(entry.string, tuple) and not all(entry.string))
            ):
                problems.append(Problem(where, N_("Untranslated: {msgid}"), (("msgid", str(message.id)),)))
    return problems


def run_checks() -> list[Problem]:
    problems = check_catalogs()
    try:
        from kproxy_tutor.content.check import check_content
    except ImportError:  # the content engine is optional while it is being built
        return problems
    return problems + check_content()
