"""Translate the strings typer and its vendored click print themselves (panel titles, usage, help)."""

from __future__ import annotations

import textwrap
from typing import Any

from kproxy_tutor.i18n import _


def _typer_strings() -> dict[str, str]:
    # Each literal below is one that typer prints; listing them here puts them in our catalog.
    return {
        "Show this message and exit.": _("Show this message and exit."),
        "default: {default}": _("default: {default}"),
        "env var: {var}": _("env var: {var}"),
        "required": _("required"),
        "(dynamic)": _("(dynamic)"),
        "Aborted!": _("Aborted!"),
        "Missing command.": _("Missing command."),
        "No such command {name!r}.": _("No such command {name!r}."),
        "Install completion for the current shell.": _("Install completion for the current shell."),
        "Show completion for the current shell, to copy it or customize the installation.": _(
            "Show completion for the current shell, to copy it or customize the installation."
        ),
        "Install completion for the specified shell.": _("Install completion for the specified shell."),
        "Show completion for the specified shell, to copy it or customize the installation.": _(
            "Show completion for the specified shell, to copy it or customize the installation."
        ),
    }


def _localize_rich_utils() -> None:
    import typer.rich_utils as ru

    ru.ARGUMENTS_PANEL_TITLE = _("Arguments")
    ru.OPTIONS_PANEL_TITLE = _("Options")
    ru.COMMANDS_PANEL_TITLE = _("Commands")
    ru.ERRORS_PANEL_TITLE = _("Error")
    ru.ABORTED_TEXT = _("Aborted.")
    ru.DEFAULT_STRING = _("[default: {}]")
    ru.ENVVAR_STRING = _("[env var: {}]")
    ru.REQUIRED_LONG_STRING = _("[required]")
    ru.DEPRECATED_STRING = _("(deprecated) ")
    ru.RICH_HELP = _("Try [blue]'{command_path} {help_option}'[/] for help.")
    if not getattr(ru._get_rich_console, "_trimmed", False):
        from kproxy_tutor.ui.console import output_stream

        original = ru._get_rich_console

        def get_console(stderr: bool = False) -> Any:
            console = original(stderr=stderr)
            stream = output_stream(stderr)
            if stream is not None:
                console.file = stream
            return console

        get_console._trimmed = True  # type: ignore[attr-defined]
        ru._get_rich_console = get_console


def localize_typer() -> None:
    """Point typer's help strings at the current language; call before any help is rendered."""
    import typer.core
    from typer._click import core as click_core
    from typer._click import formatting

    # typer.core looks its strings up at render time through the global gettext domain,
    # which has no Russian catalog: route them through ours.
    typer.core._ = _  # type: ignore[attr-defined]

    # typer.rich_utils is heavy (a Markdown parser, a syntax highlighter): it is imported only
    # when rich help is about to be drawn, and its panel titles are translated right then.
    for cls in (typer.core.TyperCommand, typer.core.TyperGroup):
        original_format_help = cls.format_help
        if getattr(original_format_help, "_localized", False):
            continue

        def format_help(self: Any, ctx: Any, formatter: Any, _original: Any = original_format_help) -> None:
            if getattr(self, "rich_markup_mode", None) is not None:
                _localize_rich_utils()
            return _original(self, ctx, formatter)

        format_help._localized = True  # type: ignore[attr-defined]
        cls.format_help = format_help  # type: ignore[method-assign]

    original_write_usage = formatting.HelpFormatter.write_usage
    if not getattr(original_write_usage, "_localized", False):

        def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
            original_write_usage(self, prog, args, _("Usage: ") if prefix is None else prefix)

        write_usage._localized = True  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]

    # Never split a word at a hyphen or cut a long one: "kube-proxy", "--proxy-mode" and
    # "KPROXY_TUTOR_LANG" must stay whole, even in a narrow help column. TextWrapper.__init__
    # sets both as instance attributes, so they are forced there (a class attribute is shadowed).
    from typer._click import _textwrap

    original_init = _textwrap.TextWrapper.__init__
    if not getattr(original_init, "_localized", False):

        def wrapper_init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            self.break_on_hyphens = False
            self.break_long_words = False

        wrapper_init._localized = True  # type: ignore[attr-defined]
        _textwrap.TextWrapper.__init__ = wrapper_init  # type: ignore[method-assign]
        # click's own long-word handler always cuts; the standard one honours break_long_words.
        _textwrap.TextWrapper._handle_long_word = textwrap.TextWrapper._handle_long_word  # type: ignore[method-assign]

    original_write_dl = formatting.HelpFormatter.write_dl
    if not getattr(original_write_dl, "_localized", False):

        def write_dl(self: Any, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = list(rows)
            if not _needs_stacked_list(rows, self.width, col_max, col_spacing):
                return original_write_dl(self, rows, col_max, col_spacing)
            # A word wider than the description column (an identifier: KPROXY_TUTOR_LANG,
            # svc,endpointslices,pods,nodes) would stick out and be cut by the terminal: each
            # description goes under its term instead, across (almost) the whole width.
            indent = self.current_indent + 4
            for first, second in rows:
                self.write(f"{'':>{self.current_indent}}{first}\n")
                if second:
                    text = formatting.wrap_text(
                        second, max(self.width - indent, 10), preserve_paragraphs=True
                    )
                    for line in text.splitlines():
                        self.write(f"{'':>{indent}}{line}\n" if line else "\n")
            return None

        write_dl._localized = True  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_dl = write_dl  # type: ignore[method-assign]

    _hide_python_type_names()

    original_get_help_option = click_core.Command.get_help_option
    if not getattr(original_get_help_option, "_localized", False):

        def get_help_option(self: Any, ctx: Any) -> Any:
            option = original_get_help_option(self, ctx)
            strings = _typer_strings()
            if option is not None and option.help in strings:
                option.help = strings[option.help]
            return option

        get_help_option._localized = True  # type: ignore[attr-defined]
        click_core.Command.get_help_option = get_help_option  # type: ignore[method-assign]


def _needs_stacked_list(rows: list[tuple[str, str]], width: int, col_max: int, col_spacing: int) -> bool:
    """Whether a description holds a word wider than click's description column."""
    from typer._click.formatting import term_len

    if not rows:
        return False
    first_col = min(max(term_len(first) for first, _second in rows), col_max) + col_spacing
    column = max(width - first_col - 2, 10)
    return any(term_len(word) > column for _first, second in rows for word in second.split())


#: Python type names typer shows next to a parameter, and what a learner reads instead
#: (None: nothing — a flag takes no value, and an argument's name already says what it is).
_TYPE_NAMES: dict[str, str | None] = {
    "<bool>": None,
    "<str>": None,
    "<list[str]>": None,
    "<int>": "N",
    "<int range>": "N",
}


def _hide_python_type_names() -> None:
    """Show no "<bool>", "<str>" or "<int range>": English type names that teach nothing."""
    import typer.core

    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        original = cls.display_type_rich
        if getattr(original, "_localized", False):
            continue

        def display_type_rich(self: Any, ctx: Any, _original: Any = original) -> str | None:
            shown = _original(self, ctx)
            if getattr(self, "is_flag", False):
                return None
            return _TYPE_NAMES.get(shown, shown) if isinstance(shown, str) else shown

        display_type_rich._localized = True  # type: ignore[attr-defined]
        cls.display_type_rich = display_type_rich  # type: ignore[method-assign]


def localize_params(command: Any) -> None:
    """Translate typer's own option help texts (shell completion) throughout a click command tree."""
    strings = _typer_strings()
    help_text = getattr(command, "help", None)
    if help_text and not getattr(command, "short_help", None):
        # Linear help would cut a command's summary to 45 characters with "..."; keep it whole.
        command.short_help = help_text.split("\n\n")[0]
    for param in getattr(command, "params", []):
        if getattr(param, "help", None) in strings:
            param.help = strings[param.help]
    for sub in getattr(command, "commands", {}).values():
        localize_params(sub)
