"""Converting command-line values for typer without pydantic, with errors that carry their facts.

typer 0.29 converts every value that is not a boolean flag through a pydantic ``TypeAdapter``:
importing pydantic costs about 100 ms, a quarter of the start-up of a command, for values that are
only strings, whole numbers, lists of strings and one path. Its errors are English sentences,
which the error screen would have to take apart to translate.

:func:`install` makes typer use :class:`PlainParam` for those kinds of value (typer's own coercion
stays for anything else). A bad value raises :class:`BadNumber`, a ``BadParameter`` that says
what was wrong (not a whole number, or under or over a limit) as data, which
``ui/errors.py`` words in the learner's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

#: An ASCII whole number, as kubectl and most tools take one (no "1_000", no other scripts' digits).
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: The words click takes for a boolean value.
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def _bad_parameter() -> type[Exception]:
    from typer._click.exceptions import BadParameter

    return BadParameter


class _Registry:
    """The classes built on first use (typer is imported only by then)."""

    number_error: type[Exception] | None = None
    plain_param: type | None = None


def bad_number_class() -> type[Exception]:
    """:class:`BadNumber`: built on typer's ``BadParameter`` (importing typer is left to the caller)."""
    if _Registry.number_error is None:

        class BadNumber(_bad_parameter()):  # type: ignore[misc, valid-type]
            """``value`` is not a whole number (``problem`` "whole"), or is under ("min") or over
            ("max") ``limit``."""

            def __init__(self, value: str, problem: str, limit: int | None, ctx: Any, param: Any) -> None:
                self.value = value
                self.problem = problem
                self.limit = limit
                english = {
                    "whole": f"{value!r} is not a whole number.",
                    "min": f"{value!r}: it must be {limit} or more.",
                    "max": f"{value!r}: it must be {limit} or less.",
                }[problem]
                super().__init__(english, ctx=ctx, param=param)

        _Registry.number_error = BadNumber
    return _Registry.number_error


@dataclass(frozen=True)
class Plain:
    """How to convert one value: ``kind`` is "str", "int", "bool" or "path"; ``low``/``high`` bound an int."""

    kind: str
    low: int | None = None
    high: int | None = None

    def convert(self, value: Any, ctx: Any, param: Any) -> Any:
        if self.kind == "str":
            return value if isinstance(value, str) else str(value)
        if self.kind == "path":
            return value if isinstance(value, Path) else Path(value)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise _bad_parameter()(f"{value!r} is not a boolean.", ctx=ctx, param=param)
        if isinstance(value, bool) or not isinstance(value, int):
            text = str(value).strip()
            if not _WHOLE.fullmatch(text):
                raise bad_number_class()(str(value), "whole", None, ctx, param)
            value = int(text)
        if self.low is not None and value < self.low:
            raise bad_number_class()(str(value), "min", self.low, ctx, param)
        if self.high is not None and value > self.high:
            raise bad_number_class()(str(value), "max", self.high, ctx, param)
        return value


def plain_for(descriptor: Any) -> tuple[Plain, bool] | None:
    """(how to convert each value, whether the parameter takes a list), or None: typer's own way."""
    info = descriptor.parameter_info
    if getattr(descriptor, "file_annotation", None) is not None or getattr(info, "parser", None) is not None:
        return None
    annotation = descriptor.annotation
    many = get_origin(annotation) is list
    if many:
        (annotation,) = get_args(annotation) or (None,)
    if annotation is str:
        plain = Plain("str")
    elif annotation is bool:  # a flag's value when it is not already a bool (an unset default)
        plain = Plain("bool")
    elif annotation is int:
        plain = Plain("int", getattr(info, "min", None), getattr(info, "max", None))
        if getattr(info, "clamp", False):
            return None
    elif annotation is Path:
        # A bare path: typer checks nothing about it either (no exists, no resolve, no "-").
        if any(getattr(info, name, False) for name in ("exists", "resolve_path", "allow_dash")) or not all(
            getattr(info, name, False) for name in ("file_okay", "dir_okay")
        ):
            return None
        plain = Plain("path")
    else:
        return None
    return plain, many


def _plain_param_class() -> type:
    if _Registry.plain_param is None:
        from typer._coercion import RuntimeParam

        @dataclass(frozen=True)
        class PlainParam(RuntimeParam):  # type: ignore[misc]
            plain: Plain = Plain("str")
            many: bool = False

            def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
                if self.many:
                    items = value if isinstance(value, (list, tuple)) else [value]
                    return [self.plain.convert(item, ctx, param) for item in items]
                return self.plain.convert(value, ctx, param)

        _Registry.plain_param = PlainParam
    return _Registry.plain_param


def install() -> None:
    """Make typer convert strings, whole numbers, string lists and bare paths with :class:`Plain`.

    Where typer's internals are not the ones this was written for, nothing changes: typer's own
    conversion (through pydantic) goes on working, only slower to start.
    """
    import typer.core

    parameter = getattr(typer.core, "_TyperParameter", None)
    original = getattr(parameter, "get_runtime_param", None)
    if original is None or getattr(original, "_plain", False):
        return
    try:
        param_class = _plain_param_class()
    except ImportError:
        return

    def get_runtime_param(self: Any, _original: Any = original) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            found = plain_for(self.type_descriptor)
            if found is not None:
                plain, many = found
                descriptor = self.type_descriptor
                self._runtime_param = param_class(
                    parameter_info=descriptor.parameter_info,
                    annotation=descriptor.annotation,
                    plain=plain,
                    many=many,
                )
        return _original(self)

    get_runtime_param._plain = True  # type: ignore[attr-defined]
    parameter.get_runtime_param = get_runtime_param
