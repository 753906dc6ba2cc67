"""Program entry: read the global options, resolve the language, run the app inside one error boundary."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Sequence

from kproxy_tutor.errors import ExitCode, Interrupted, TutorError

GLOBAL_FLAGS = ("--plain", "--debug")
RICH_HELP_MIN_WIDTH = 60


def split_global_options(argv: Sequence[str]) -> tuple[dict[str, str | bool], list[str]]:
    """Take ``--lang X``/``--lang=X``, ``--plain`` and ``--debug`` from anywhere before ``--``.

    They may be typed before or after the command (``kproxy-tutor learn --lang en``).
    """
    found: dict[str, str | bool] = {}
    rest: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--lang" and i + 1 < len(args):
            found["lang"] = args[i + 1]
            i += 2
            continue
        if arg.startswith("--lang="):
            found["lang"] = arg.split("=", 1)[1]
        elif arg in GLOBAL_FLAGS:
            found[arg[2:]] = True
        else:
            rest.append(arg)
        i += 1
    return found, rest


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kproxy-tutor`` with ``argv`` (default: sys.argv[1:]) and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    options, rest = split_global_options(args)
    debug = bool(options.get("debug")) or os.environ.get("KPROXY_TUTOR_DEBUG", "") not in ("", "0")
    stdout_closed = _fill_closed_streams()
    try:
        code = _run(options, rest, debug, stdout_closed)
        code = _flush_output(code)
    except KeyboardInterrupt:  # Ctrl-C while still starting, before the error boundary is set up
        with contextlib.suppress(Exception):
            from kproxy_tutor.ui import errors as error_ui

            error_ui.report_interrupted()
        code = int(ExitCode.INTERRUPTED)
    if argv is None:
        sys.exit(code)
    return code


def _fill_closed_streams() -> bool:
    """Put /dev/null where stdin or stderr is closed (``2>&-``); True when stdout is closed (``>&-``)."""
    closed = {}
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name)
        ok = stream is not None
        if ok:
            try:
                fd = stream.fileno()
            except (OSError, ValueError, AttributeError):
                fd = None  # not a real file (tests capture into memory): nothing to check
            if fd is not None:
                try:
                    os.fstat(fd)
                except OSError:
                    ok = False
        if not ok:
            setattr(sys, name, open(os.devnull, "r" if name == "stdin" else "w"))  # noqa: SIM115
        closed[name] = not ok
    return closed["stdout"]


def _silence_stdout() -> None:
    """The reader is gone: anything still buffered goes to /dev/null, so exiting cannot fail on it."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _flush_output(code: int) -> int:
    """Flush stdout now, while a failure can still be reported (else Python's exit would print a traceback)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        _silence_stdout()
        return _report_output_error(exc)
    return code


def _report_output_error(exc: OSError) -> int:
    from kproxy_tutor.errors import N_, UsageError, write_problem
    from kproxy_tutor.ui import errors as error_ui

    error_ui.report(UsageError(N_("Cannot write the output: {problem}."), problem=write_problem(exc)))
    return int(ExitCode.USAGE)


#: Write errors that can only come from the output stream (files we write report their own).
_OUTPUT_ERRNOS = {"ENOSPC", "EDQUOT", "EIO", "EBADF", "EFBIG"}


def _run(options: dict[str, str | bool], rest: list[str], debug: bool, stdout_closed: bool = False) -> int:
    from kproxy_tutor import i18n, runtime
    from kproxy_tutor.progress import saved_language
    from kproxy_tutor.ui import errors as error_ui
    from kproxy_tutor.ui.console import detect

    try:
        display = detect(plain=bool(options.get("plain")))
        lang_option = options.get("lang")
        try:
            lang = i18n.resolve(str(lang_option) if lang_option else None, os.environ, saved_language())
        except TutorError as exc:
            i18n.set_language(
                i18n.resolve(
                    None, {k: v for k, v in os.environ.items() if k != "KPROXY_TUTOR_LANG"}, saved_language()
                )
            )
            error_ui.report(exc)
            return int(exc.exit_code)
        lang = _language_the_output_can_show(lang)
        i18n.set_language(lang)
        if stdout_closed:
            from kproxy_tutor.errors import N_, UsageError

            raise UsageError(N_("Cannot write the output: standard output is closed."))
        runtime.start(runtime.Run(lang=lang, plain=display.plain, debug=debug))
        return _invoke(rest)
    except Interrupted as exc:
        if not exc.reported:
            error_ui.report_interrupted()
        return int(ExitCode.INTERRUPTED)
    except TutorError as exc:
        error_ui.report(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        error_ui.report_interrupted()
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`kproxy-tutor rules | head`): not an error of ours; exit 0 as cat does.
        _silence_stdout()
        return int(ExitCode.OK)
    except OSError as exc:
        import errno

        if errno.errorcode.get(exc.errno or 0) in _OUTPUT_ERRNOS:
            _silence_stdout()
            return _report_output_error(exc)
        return error_ui.report_internal(exc, debug)
    except Exception as exc:  # the boundary: never a raw traceback unless asked
        return error_ui.report_internal(exc, debug)
    finally:
        error_ui.report_quarantine()


def _language_the_output_can_show(lang: str) -> str:
    """Russian on an output that cannot encode Cyrillic (ascii, latin-1) falls back to English, with a notice."""
    from kproxy_tutor.ui.console import can_show_cyrillic

    if lang != "ru" or can_show_cyrillic():
        return lang
    from kproxy_tutor import i18n
    from kproxy_tutor.ui import errors as error_ui

    i18n.set_language("en")
    error_ui.report_encoding_fallback()
    return "en"


def _invoke(args: list[str]) -> int:
    import typer
    import typer.main

    from kproxy_tutor.cli import build_app
    from kproxy_tutor.ui import errors as error_ui
    from kproxy_tutor.ui import typer_params, usage_errors
    from kproxy_tutor.ui.console import display
    from kproxy_tutor.ui.typer_i18n import localize_params, localize_typer

    localize_typer()
    typer_params.install()
    usage_errors.install()
    # Rich help tables cut long words with an ellipsis below about 60 columns; there, and in
    # plain mode, typer's linear help is used instead: it wraps and never truncates.
    rich_help = display().boxes and shutil.get_terminal_size().columns >= RICH_HELP_MIN_WIDTH
    command = typer.main.get_command(build_app(rich_help=rich_help))
    localize_params(command)
    from typer._click import exceptions as click_exc

    try:
        result = command.main(args=args, prog_name="kproxy-tutor", standalone_mode=False)
    except click_exc.UsageError as exc:
        return error_ui.report_usage(exc, command)
    except typer.Abort:
        error_ui.report_interrupted()
        return int(ExitCode.INTERRUPTED)
    if result == ExitCode.INTERRUPTED:
        # typer turns a Ctrl-C inside a command into exit status 130 without a word: say it.
        error_ui.report_interrupted()
    if isinstance(result, int):
        return result
    return int(ExitCode.OK)
