"""Error output: one line in the learner's language on stderr, with the documented exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from kproxy_tutor.errors import ExitCode, Msg, TutorError
from kproxy_tutor.i18n import _
from kproxy_tutor.ui.console import glyphs


def _emit(line: str) -> None:
    if sys.stderr is None:  # started with stderr closed
        return
    try:
        text = glyphs(line)
        if sys.stderr.isatty():  # a terminal would cut a long message anywhere, even mid-word
            from kproxy_tutor.ui.wrap import wrap_words

            width = _stderr_width()
            if len(text) > width:
                text = "\n".join(
                    piece.plain for part in text.split("\n") for piece in wrap_words(part, width)
                )
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed: nothing more we can do
        pass


def _stderr_width() -> int:
    """The terminal's width for messages on stderr (``COLUMNS`` first, as rich does)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return int(os.get_terminal_size(sys.stderr.fileno()).columns) or 80
    except (OSError, ValueError):
        return 80


def translated_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with every :class:`Msg` value translated (and every nested error worded); others as they are."""
    return {
        key: _(value)
        if isinstance(value, Msg)
        else message_of(value)
        if isinstance(value, TutorError)
        else value
        for key, value in params.items()
    }


def message_of(exc: TutorError) -> str:
    """The translated, formatted text of ``exc`` (without location)."""
    template = _(exc.message)
    params = translated_params(exc.params)
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder
        return exc.message.format(**params)


def report(exc: TutorError) -> None:
    text = message_of(exc)
    if exc.location:
        text = f"{exc.location}: {text}"
    _emit(_("Error: {message}").format(message=text))


def report_encoding_fallback() -> None:
    """Said once per run, in English: the output's encoding cannot show Russian."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    _emit(
        _(
            "Note: this terminal's encoding ({encoding}) cannot show Russian, so kproxy-tutor speaks "
            "English. For Russian, use a UTF-8 locale (export LANG=ru_RU.UTF-8, or PYTHONIOENCODING=utf-8)."
        ).format(encoding=encoding)
    )


def report_interrupted() -> None:
    _emit(_("Interrupted. Your progress so far is saved."))


def report_quarantine() -> None:
    from kproxy_tutor.store import QUARANTINED

    for notice in QUARANTINED:
        if notice.reason == "newer":
            text = _(
                "{path} was written by a newer version of kproxy-tutor; it was kept as {kept} "
                "and a fresh one was started."
            )
        else:
            text = _("{path} was damaged; it was kept as {kept} and a fresh one was started.")
        _emit(_("Warning: {message}").format(message=text.format(path=notice.original, kept=notice.moved_to)))
    QUARANTINED.clear()


def report_internal(exc: BaseException, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(exc)
    else:
        _emit(
            _("Internal error: {kind}: {detail}. Run again with --debug to see the traceback.").format(
                kind=type(exc).__name__, detail=str(exc) or "-"
            )
        )
    return int(ExitCode.INTERNAL)


def _help_hint(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "kproxy-tutor"
    return _("See: {command} --help").format(command=path)


def _command_names(ctx: Any) -> list[str]:
    command = getattr(ctx, "command", None)
    return sorted(getattr(command, "commands", {}) or {})


def usage_message(exc: Any) -> str:
    """Our translation of a click usage error (typer's own messages are English only)."""
    from typer._click import exceptions as ce

    from kproxy_tutor.ui.usage_errors import error_classes

    if isinstance(exc, ce.NoSuchOption):
        text = _("No such option: {option}.").format(option=exc.option_name)
        if exc.possibilities:
            text += " " + _("Did you mean {suggestion}?").format(
                suggestion=", ".join(sorted(exc.possibilities))
            )
        return text
    if isinstance(exc, ce.MissingParameter):
        param = exc.param
        name = param.opts[0] if param is not None and param.opts else (param.name if param else "?")
        if param is not None and getattr(param, "param_type_name", "") == "argument":
            return _("Missing argument {name}.").format(name=(param.name or name).upper())
        return _("Missing option {name}.").format(name=name)
    if isinstance(exc, ce.BadParameter):
        param = exc.param
        name = (param.opts[0] if param is not None and param.opts else getattr(param, "name", "")) or "?"
        from kproxy_tutor.ui.typer_params import bad_number_class

        if isinstance(exc, bad_number_class()):
            return _number_message(exc, name)
        return _("Invalid value for {name}: {detail}").format(name=name, detail=exc.message)
    if isinstance(exc, ce.BadOptionUsage):
        # click says "requires an argument" of an option that takes a value and "does not take a
        # value" of a flag given one: the option itself tells which.
        option = _option(exc.ctx, exc.option_name)
        if option is not None and (getattr(option, "is_flag", False) or getattr(option, "count", False)):
            return _("Option {option} does not take a value.").format(option=exc.option_name)
        return _("Option {option} needs a value.").format(option=exc.option_name)
    no_such_command, extra_arguments, missing_command = error_classes()
    if isinstance(exc, no_such_command):
        text = _("Unknown command {name!r}.").format(name=exc.name)
        from kproxy_tutor.suggest import close_match

        close = close_match(exc.name, _command_names(exc.ctx))
        if close:
            text += " " + _("Did you mean {suggestion!r}?").format(suggestion=close)
        return text
    if isinstance(exc, extra_arguments):
        return _("Unexpected extra argument: {args}.").format(args=" ".join(_shown(a) for a in exc.args_left))
    if isinstance(exc, missing_command):
        return _("Missing command.")
    return exc.message


def _option(ctx: Any, name: str) -> Any:
    """The option of ``ctx``'s command spelled ``name`` (``--plain``), or None."""
    command = getattr(ctx, "command", None)
    for param in getattr(command, "params", ()):
        if name in getattr(param, "opts", ()) or name in getattr(param, "secondary_opts", ()):
            return param
    return None


def _shown(arg: str) -> str:
    """An argument as a terminal can show it: control characters escaped, as click does."""
    return arg if arg.isprintable() else arg.encode("unicode_escape").decode("ascii")


def _number_message(exc: Any, name: str) -> str:
    """Our wording of a bad whole number (``ui/typer_params.py`` says what was wrong as data)."""
    if exc.problem == "min":
        template = _("Invalid value for {name}: {value!r}; it must be {limit} or more.")
    elif exc.problem == "max":
        template = _("Invalid value for {name}: {value!r}; it must be {limit} or less.")
    else:
        template = _("Invalid value for {name}: {value!r} is not a whole number.")
    return template.format(name=name, value=exc.value, limit=exc.limit)


def report_usage(exc: Any, command: Any) -> int:
    from typer._click import exceptions as ce

    if isinstance(exc, ce.NoArgsIsHelpError):
        # `kproxy-tutor` (or a command group) with nothing after it: show its help.
        ctx = exc.ctx
        sys.stdout.write(
            ctx.get_help() if ctx is not None else command.get_help(command.make_context("kproxy-tutor", []))
        )
        return int(ExitCode.OK)
    _emit(_("Error: {message}").format(message=usage_message(exc)) + " " + _help_hint(exc))
    return int(ExitCode.USAGE)
