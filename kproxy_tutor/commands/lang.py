"""`kproxy-tutor lang`: show or save the tutor's language."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "lang",
        help=_(
            "Show the current language and the available ones, or save LANG (ru or en) as your language. "
            "Example: kproxy-tutor lang en"
        ),
    )
    def lang_command(
        language: Annotated[
            str | None,
            typer.Argument(metavar="LANG", help=_("Language to save: ru or en."), show_default=False),
        ] = None,
    ) -> None:
        from kproxy_tutor import i18n, runtime
        from kproxy_tutor.progress import settings_store
        from kproxy_tutor.ui.console import display

        unicode = display().unicode
        if language is None:
            current = i18n.current_language()
            typer.echo(
                _("Current language: {name} ({code})").format(
                    name=i18n.language_name(current, unicode), code=current
                )
            )
            typer.echo(_("Available languages:"))
            for code in i18n.SUPPORTED:
                typer.echo(f"  {code}  {i18n.language_name(code, unicode)}")
            return
        code = i18n.check_supported(language, "lang")
        settings_store().update(lambda data: data.__setitem__("lang", code))
        i18n.set_language(code)
        runtime.current().lang = code
        typer.echo(
            _("Language saved: {name} ({code}).").format(name=i18n.language_name(code, unicode), code=code)
        )
