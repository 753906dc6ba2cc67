"""`kproxy-tutor progress`: show the learner's progress, or reset it after asking."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help=_("Show your progress, or start over with `progress reset`."),
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @group.callback()
    def show(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is not None:
            return
        from kproxy_tutor.app import progress_summary
        from kproxy_tutor.ui.progress_view import print_progress

        print_progress(progress_summary())

    @group.command("reset", help=_("Delete all progress (lessons, quiz results, review queue). Asks first."))
    def reset(
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help=_("Do not ask; needed when there is no terminal."))
        ] = False,
    ) -> None:
        from kproxy_tutor import runtime
        from kproxy_tutor.progress import progress_store
        from kproxy_tutor.ui.prompts import confirm_destructive, make_prompter

        prompter = make_prompter(plain=runtime.current().plain)
        if not confirm_destructive(prompter, _("Delete all your progress?"), yes):
            typer.echo(_("Nothing was deleted."))
            return
        store = progress_store()
        store.replace({k: v for k, v in store.make_empty().items()})
        typer.echo(_("Progress deleted."))

    app.add_typer(group, name="progress")
