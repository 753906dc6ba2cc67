"""Usage errors that carry their facts: the unknown command, the extra arguments, the missing command.

typer's vendored click words these as English sentences and keeps nothing else: the error screen
would have to take the sentence apart to say it in the learner's language. :func:`install` makes
typer raise subclasses of the same ``UsageError`` that hold what went wrong as data (so anything
catching ``UsageError`` still catches them); ``ui/errors.py`` words them.
"""

from __future__ import annotations

from typing import Any


class _Classes:
    built: tuple[type[Exception], type[Exception], type[Exception]] | None = None


def error_classes() -> tuple[type[Exception], type[Exception], type[Exception]]:
    """``(NoSuchCommand, ExtraArguments, MissingCommand)``, built on typer's ``UsageError``."""
    if _Classes.built is None:
        from typer._click.exceptions import UsageError

        class NoSuchCommand(UsageError):  # type: ignore[misc, valid-type]
            """``name`` is no command of the group ``ctx`` belongs to."""

            def __init__(self, name: str, ctx: Any) -> None:
                self.name = name
                super().__init__(f"No such command {name!r}.", ctx)

        class ExtraArguments(UsageError):  # type: ignore[misc, valid-type]
            """``args`` were left over after the command took its own."""

            def __init__(self, args: tuple[str, ...], ctx: Any) -> None:
                self.args_left = args
                super().__init__(f"Got unexpected extra argument(s) ({' '.join(args)})", ctx)

        class MissingCommand(UsageError):  # type: ignore[misc, valid-type]
            """A group was given options but no command."""

            def __init__(self, ctx: Any) -> None:
                super().__init__("Missing command.", ctx)

        _Classes.built = (NoSuchCommand, ExtraArguments, MissingCommand)
    return _Classes.built


def install() -> None:
    """Raise the errors above where typer would raise a bare ``UsageError`` with a sentence.

    Where typer's internals are not the ones this was written for, nothing changes (the error
    screen then shows typer's own English sentence).
    """
    import typer.core
    from typer._click import core as click_core

    group = getattr(typer.core, "TyperGroup", None)
    command = getattr(click_core, "Command", None)
    if group is None or command is None or getattr(group.resolve_command, "_facts", False):
        return
    from typer._click.exceptions import UsageError

    no_such_command, extra_arguments, missing_command = error_classes()
    original_resolve, original_invoke = group.resolve_command, group.invoke
    original_parse = command.parse_args

    def resolve_command(self: Any, ctx: Any, args: list[str], _original: Any = original_resolve) -> Any:
        if args and not ctx.resilient_parsing and not args[0].startswith("-"):
            name = args[0]
            normalize = ctx.token_normalize_func
            if self.get_command(ctx, name) is None and (
                normalize is None or self.get_command(ctx, normalize(name)) is None
            ):
                raise no_such_command(name, ctx)
        return _original(self, ctx, args)

    def invoke(self: Any, ctx: Any, _original: Any = original_invoke) -> Any:
        pending = getattr(ctx, "_protected_args", None)
        if pending is not None and not pending and not self.invoke_without_command:
            raise missing_command(ctx)
        return _original(self, ctx)

    def parse_args(self: Any, ctx: Any, args: list[str], _original: Any = original_parse) -> Any:
        # Let click keep what is left over (then say what it is), unless the command takes it.
        collect = not (ctx.allow_extra_args or ctx.resilient_parsing)
        if collect:
            ctx.allow_extra_args = True
        try:
            rest = _original(self, ctx, args)
        except UsageError as error:
            # click's option parser raises without a context: give it the command's, so the
            # message can look at the option and point at the right --help.
            if error.ctx is None:
                error.ctx = ctx
            raise
        finally:
            if collect:
                ctx.allow_extra_args = False
        if collect and rest:
            raise extra_arguments(tuple(str(arg) for arg in rest), ctx)
        return rest

    resolve_command._facts = True  # type: ignore[attr-defined]
    group.resolve_command = resolve_command
    group.invoke = invoke
    command.parse_args = parse_args
