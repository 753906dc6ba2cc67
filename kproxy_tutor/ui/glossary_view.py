"""The glossary and the lesson search on screen: definitions, where each term is taught, hits.

Everything is printed as wrapped text with a hanging indent, so it fits 40, 80 or 120 columns
without cutting identifiers; every screen ends with the command to run next.
:func:`show_glossary` is what the lesson reader calls to open the glossary from inside a lesson.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from kproxy_tutor.content.glossary import Glossary, Hit, Place, Term, find_term, suggestions
from kproxy_tutor.content.loader import Course
from kproxy_tutor.i18n import _, current_language, ngettext, pick
from kproxy_tutor.ui.console import glyphs


def _sort_key(term: Term, lang: str) -> str:
    return term.name[lang].casefold().replace("ё", "е")


def where_taught(course: Course, place: Place) -> tuple[str, str] | None:
    """("lesson 3, step 9 of 15 «title»", "kproxy-tutor learn 3 --step 9") for a step, or None if it is gone."""
    number = course.number_of(place.lesson)
    if number is None:
        return None
    lesson = course.lesson(number)
    index = lesson.step_index(place.step)
    if index is None:
        return None
    where = _('lesson {number} "{lesson}", step {k} of {n} "{step}"').format(
        number=number,
        lesson=pick(lesson.title),
        k=index + 1,
        n=len(lesson.steps),
        step=pick(lesson.steps[index].title),
    )
    return where, f"kproxy-tutor learn {number} --step {index + 1}"


def _line(console: Console, text: str, *, indent: int = 0, style: str = "") -> None:
    """One paragraph, wrapped at spaces with a hanging indent (identifiers are never split).

    Lines are wrapped here rather than padded by rich, so nothing trails at the end of a line
    (pipes and screen readers get clean text).
    """
    body = Text(glyphs(text), style=style)
    width = max(console.width - indent, 10)
    for piece in body.wrap(console, width, overflow="fold"):
        piece.rstrip()
        console.print(Text(" " * indent) + piece if indent else piece, overflow="fold", soft_wrap=True)


def _command_line(console: Console, message: str, command: str, *, indent: int = 0) -> None:
    """``message`` with ``{command}``; when it does not fit, the command goes whole on its own line."""
    from rich.cells import cell_len

    text = message.format(command=command)
    if indent + cell_len(text) <= console.width:
        _line(console, text, indent=indent)
        return
    _line(console, message.format(command="").rstrip(), indent=indent)
    _line(console, command, indent=indent + 2)


def print_term(console: Console, course: Course, term: Term) -> None:
    """One term in full: both names, the definition, where it is taught and how to open that step."""
    lang = current_language()
    other = "en" if lang == "ru" else "ru"
    heading = term.name[lang]
    if term.name[other] != heading:
        heading += f" ({other}: {term.name[other]})"
    _line(console, heading, style="bold")
    _line(console, pick(term.definition), indent=2)
    taught = where_taught(course, term.taught_in)
    if taught is not None:
        _line(console, _("Taught in: {where}").format(where=taught[0]), indent=2)
        if term.introduced_in is not None and term.introduced_in != term.taught_in:
            first = where_taught(course, term.introduced_in)
            if first is not None:
                _line(console, _("First mentioned in: {where}").format(where=first[0]), indent=2)
        _command_line(console, _("Open it: {command}"), taught[1], indent=2)
    spellings = [s.rstrip("*") for s in term.accept.get(lang, ()) if s.rstrip("*") != term.name[lang]]
    if spellings:
        _line(console, _("Also written: {spellings}").format(spellings=", ".join(spellings)), indent=2)


def print_glossary(console: Console, course: Course, glossary: Glossary) -> None:
    """Every term with its definition, alphabetically in the learner's language."""
    lang = current_language()
    terms = sorted(glossary.terms, key=lambda t: _sort_key(t, lang))
    n = len(terms)
    _line(
        console,
        ngettext("The course glossary: {n} term.", "The course glossary: {n} terms.", n).format(n=n),
        style="bold",
    )
    console.print()
    for term in terms:
        taught = where_taught(course, term.taught_in)
        _line(console, term.name[lang], style="bold")
        _line(console, pick(term.definition), indent=2)
        if taught is not None:
            _line(console, _("Taught in: {where}").format(where=taught[0]), indent=2, style="dim")
    console.print()
    _line(console, _("One term in full, with the step to open: kproxy-tutor glossary TERM"))


def print_unknown(console: Console, glossary: Glossary, query: str) -> None:
    """What to say about a term the glossary does not have: did you mean …?"""
    close = suggestions(glossary, query, current_language())
    if close:
        names = ", ".join(t.name[current_language()] for t in close)
        _line(
            console,
            _("The glossary has no term {query!r}. Did you mean: {names}?").format(query=query, names=names),
        )
        _command_line(
            console, _("Try: {command}"), f"kproxy-tutor glossary {_quote(close[0].name[current_language()])}"
        )
    else:
        _line(console, _("The glossary has no term {query!r}.").format(query=query))
        _line(
            console, _("See every term: kproxy-tutor glossary; search the lessons: kproxy-tutor search WORDS")
        )


def _quote(text: str) -> str:
    return f'"{text}"' if any(ch in text for ch in " :'") else text


def show_glossary(console: Console, course: Course, glossary: Glossary, query: str | None = None) -> bool:
    """The glossary screen: one term when ``query`` names it, else the whole list.

    Returns False when ``query`` names no term (the did-you-mean text is printed). The lesson
    reader calls this to open the glossary with one key and then redraws its own step.
    """
    if not query:
        print_glossary(console, course, glossary)
        return True
    term = find_term(glossary, query)
    if term is None:
        print_unknown(console, glossary, query)
        return False
    print_term(console, course, term)
    return True


def print_hits(
    console: Console, course: Course, glossary: Glossary, words: Iterable[str], hits: list[Hit]
) -> None:
    """Search results: a glossary term first if the words name one, then each step with a line of text."""
    words = list(words)
    query = " ".join(words)
    term = find_term(glossary, query)
    if term is not None:
        _line(
            console,
            _("Glossary: {term}: {definition}").format(
                term=term.name[current_language()], definition=pick(term.definition)
            ),
        )
        _command_line(
            console,
            _("More: {command}"),
            f"kproxy-tutor glossary {_quote(term.name[current_language()])}",
            indent=2,
        )
        console.print()
    if not hits:
        _line(console, _("No step of the lessons contains: {words}").format(words=query))
        close = suggestions(glossary, query, current_language())
        if close and term is None:
            names = ", ".join(t.name[current_language()] for t in close)
            _line(console, _("Did you mean: {names}?").format(names=names))
        return
    n = len(hits)
    _line(
        console,
        ngettext("{n} step mentions {words}:", "{n} steps mention {words}:", n).format(n=n, words=query),
        style="bold",
    )
    for hit in hits:
        lesson = hit.lesson
        step = lesson.steps[hit.step_index]
        # The command comes first, so a narrow terminal never breaks it across lines.
        _line(
            console,
            _("{command}: {step}").format(
                command=f"kproxy-tutor learn {lesson.number} --step {hit.step_index + 1}",
                step=pick(step.title),
            ),
        )
        if hit.snippet:
            _line(console, hit.snippet, indent=2, style="dim")
