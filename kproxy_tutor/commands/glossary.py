"""`kproxy-tutor glossary [TERM]` and `kproxy-tutor search WORDS`: terms and where they are taught."""

from __future__ import annotations

from typing import Annotated

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "glossary",
        help=_(
            "The course glossary: every term with a one-line definition and the lesson step that teaches "
            "it. With TERM (in Russian or English, any spelling the course uses), that term in full; a "
            "misspelt term gets suggestions. Example: kproxy-tutor glossary masquerade"
        ),
    )
    def glossary(
        term: Annotated[
            list[str] | None,
            typer.Argument(
                metavar=_("TERM"), help=_("The term to show (default: all terms)."), show_default=False
            ),
        ] = None,
    ) -> None:
        from kproxy_tutor.content.glossary import load_glossary
        from kproxy_tutor.content.loader import load_course
        from kproxy_tutor.ui.console import make_console
        from kproxy_tutor.ui.glossary_view import show_glossary

        query = " ".join(term or []).strip() or None
        if not show_glossary(make_console(), load_course(), load_glossary(), query):
            raise typer.Exit(1)

    @app.command(
        "search",
        help=_(
            "Find the lesson steps that mention all the WORDS, in your language (case does not matter; "
            "a word may be the start of a longer one). Example: kproxy-tutor search conntrack"
        ),
    )
    def search(
        words: Annotated[
            list[str],
            typer.Argument(metavar=_("WORDS"), help=_("Words to look for."), show_default=False),
        ],
    ) -> None:
        from kproxy_tutor.content.glossary import load_glossary, search_lessons
        from kproxy_tutor.content.loader import load_course
        from kproxy_tutor.i18n import current_language
        from kproxy_tutor.ui.console import make_console
        from kproxy_tutor.ui.glossary_view import print_hits

        course = load_course()
        hits = search_lessons(course.lessons, words, current_language())
        print_hits(make_console(), course, load_glossary(), words, hits)
        if not hits:
            raise typer.Exit(1)
