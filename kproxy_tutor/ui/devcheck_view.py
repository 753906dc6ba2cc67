"""Show the problems found by `dev check`."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from kproxy_tutor.devcheck import Problem
from kproxy_tutor.i18n import _, format_number, ngettext
from kproxy_tutor.ui.errors import translated_params


def print_report(problems: Sequence[Problem]) -> None:
    for problem in problems:
        text = _(problem.message).format(**translated_params(dict(problem.params)))
        typer.echo(f"{problem.where}: {text}", err=True)
    if problems:
        typer.echo(
            ngettext("{n} problem found.", "{n} problems found.", len(problems)).format(
                n=format_number(len(problems))
            ),
            err=True,
        )
    else:
        typer.echo(_("All content and catalogs are in order."))
