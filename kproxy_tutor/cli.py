"""The typer application: global options and the list of command modules.

Help texts are evaluated when the app is built, after the language is resolved, so every
``--help`` reads in the learner's language. Command modules import their heavy dependencies
inside the command functions, which keeps ``kproxy-tutor --help`` fast.
"""

import importlib
import shutil
from typing import Annotated

import typer

from kproxy_tutor import __version__
from kproxy_tutor.i18n import _

#: Each module has ``register(app)``; the order here is the order in ``--help``.
COMMAND_MODULES = (
    "kproxy_tutor.commands.learn",
    "kproxy_tutor.commands.exercise",
    "kproxy_tutor.commands.quiz",
    "kproxy_tutor.commands.glossary",
    "kproxy_tutor.commands.sandbox",
    "kproxy_tutor.commands.rules",
    "kproxy_tutor.commands.progress",
    "kproxy_tutor.commands.trace",
    "kproxy_tutor.commands.explain",
    "kproxy_tutor.commands.lang",
    "kproxy_tutor.commands.lab",
    "kproxy_tutor.commands.scale_lab",
    "kproxy_tutor.commands.dev",
)


def build_app(rich_help: bool = True) -> typer.Typer:
    """The app; ``rich_help=False`` gives linear help (plain mode, narrow terminals)."""
    # Linear help wraps to the real width (click would otherwise never go below 50 columns).
    width_settings = {} if rich_help else {"terminal_width": max(shutil.get_terminal_size().columns - 1, 30)}
    app = typer.Typer(
        name="kproxy-tutor",
        help=_(
            "An interactive tutor that teaches how kube-proxy works: lessons, self-check quizzes "
            "and a sandbox cluster whose rules are the ones real kube-proxy writes.\n\n"
            "Start with: kproxy-tutor learn"
        ),
        no_args_is_help=True,
        suggest_commands=False,  # our error boundary suggests, in the learner's language
        rich_markup_mode="rich" if rich_help else None,
        context_settings={"help_option_names": ["-h", "--help"], **width_settings},
        pretty_exceptions_enable=False,
    )

    def version_callback(value: bool) -> None:
        if value:
            typer.echo(f"kproxy-tutor {__version__}")
            raise typer.Exit()

    @app.callback()
    def main(
        lang: Annotated[
            str | None,
            typer.Option(
                "--lang",
                metavar="ru|en",
                help=_("Language of the tutor (ru or en). Also: KPROXY_TUTOR_LANG, `kproxy-tutor lang`."),
            ),
        ] = None,
        plain: Annotated[
            bool,
            typer.Option(
                "--plain",
                help=_(
                    "Plain output: no colour, boxes or animation; numbered prompts (screen readers, scripts)."
                ),
            ),
        ] = False,
        debug: Annotated[
            bool, typer.Option("--debug", help=_("Show the full traceback of an internal error."))
        ] = False,
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=version_callback, is_eager=True, help=_("Show the version and exit.")
            ),
        ] = False,
    ) -> None:
        # --lang, --plain and --debug are read before the app is built (see entry.py),
        # because they decide the language of this very help text.
        return None

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    register_help(app)
    return app


def register_help(app: typer.Typer) -> None:
    """``kproxy-tutor help [COMMAND|TOPIC]``: a command's --help, or one of the documents that ship with the tutor."""

    @app.command(
        "help",
        help=_(
            "Show the help of a command (kproxy-tutor help sandbox is kproxy-tutor sandbox --help), or read "
            "a document that comes with the tutor: {topics}. Without an argument, the list of commands."
        ).format(topics=", ".join(doc_topics())),
    )
    def help_command(
        ctx: typer.Context,
        topic: Annotated[
            str | None,
            typer.Argument(
                metavar="COMMAND|TOPIC",
                help=_("A command or a document."),
                show_default=False,
                autocompletion=lambda: [*sorted(ctx_commands(app)), *doc_topics()],
            ),
        ] = None,
    ) -> None:
        from kproxy_tutor.errors import N_, UsageError

        parent = ctx.parent
        assert parent is not None
        group = parent.command
        if topic is None:
            typer.echo(parent.get_help())
            return
        command = group.get_command(parent, topic)  # type: ignore[attr-defined]
        if command is not None:
            sub = command.make_context(topic, ["--help"], parent=parent, resilient_parsing=True)
            typer.echo(command.get_help(sub))
            return
        path = doc_path(topic)
        if path is not None:
            import sys

            document = path.read_text(encoding="utf-8").rstrip("\n")
            if sys.stdout.isatty():  # fitted to the terminal; exact when piped
                from kproxy_tutor.ui.console import make_console
                from kproxy_tutor.ui.doc_view import print_document

                print_document(make_console(), document)
            else:
                typer.echo(document)
            return
        from kproxy_tutor.suggest import close_match

        names = [*sorted(group.list_commands(parent)), *doc_topics()]  # type: ignore[attr-defined]
        suggestion = close_match(topic, names)
        if suggestion is not None:
            raise UsageError(
                N_("There is no command or document {name!r}. Did you mean {suggestion!r}?"),
                name=topic,
                suggestion=suggestion,
            )
        raise UsageError(
            N_("There is no command or document {name!r}. Commands and documents: {names}."),
            name=topic,
            names=", ".join(names),
        )


def ctx_commands(app: typer.Typer) -> list[str]:
    return [c.name or "" for c in app.registered_commands if c.name]


def doc_topics() -> list[str]:
    from kproxy_tutor.resources import docs_dir

    directory = docs_dir()
    return sorted(p.stem for p in directory.glob("*.md")) if directory.is_dir() else []


def doc_path(topic: str, language: str | None = None):  # type: ignore[no-untyped-def]
    """The document ``topic`` in ``language`` (default: the learner's): ``docs/<language>/TOPIC.md``
    when there is one, else the English ``docs/TOPIC.md``; None for no such topic."""
    from kproxy_tutor.i18n import current_language
    from kproxy_tutor.resources import docs_dir

    name = topic.removesuffix(".md")
    if name not in doc_topics():
        return None
    language = language or current_language()
    translated = docs_dir() / language / f"{name}.md"
    if language != "en" and translated.is_file():
        return translated
    path = docs_dir() / f"{name}.md"
    return path if path.is_file() else None
