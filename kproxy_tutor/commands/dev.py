"""`kproxy-tutor dev`: tools for content authors and translators."""

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    group = typer.Typer(help=_("Tools for authors and translators."), no_args_is_help=True)

    @group.command("check", help=_("Check all content and translation catalogs; exit 3 on any problem."))
    def check() -> None:
        from kproxy_tutor.devcheck import run_checks
        from kproxy_tutor.ui.devcheck_view import print_report

        problems = run_checks()
        print_report(problems)
        if problems:
            raise typer.Exit(3)

    app.add_typer(group, name="dev")
