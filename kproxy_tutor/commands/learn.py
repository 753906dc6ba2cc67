"""`kproxy-tutor learn` and `kproxy-tutor lessons`: read the lessons."""

import typer

from kproxy_tutor.errors import N_, ContentError
from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command("learn", help=_("Read the lessons, resuming where you stopped."))
    def learn() -> None:
        raise ContentError(N_("No lessons are installed yet."))
