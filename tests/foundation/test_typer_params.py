"""Option values converted without pydantic: whole numbers, limits, lists, and typer's way for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer._coercion import resolve_type_descriptor
from typer.models import OptionInfo

from kproxy_tutor.ui.typer_params import Plain, bad_number_class, plain_for


@given(st.text(max_size=12))
def test_a_whole_number_option_takes_ascii_digits_and_says_what_else_is_wrong(text: str) -> None:
    plain = Plain("int", 1, 50)
    stripped = text.strip()
    digits = stripped.lstrip("+-")
    if digits.isascii() and digits.isdigit() and len(stripped) - len(digits) <= 1:
        number = int(stripped)
        if 1 <= number <= 50:
            assert plain.convert(text, None, None) == number
            return
        with pytest.raises(bad_number_class()) as raised:
            plain.convert(text, None, None)
        assert raised.value.problem == ("min" if number < 1 else "max")
        assert raised.value.limit == (1 if number < 1 else 50)
        return
    with pytest.raises(bad_number_class()) as raised:
        plain.convert(text, None, None)
    assert raised.value.problem == "whole" and raised.value.value == text


def test_which_annotations_are_converted_here_and_which_are_left_to_typer() -> None:
    def found(annotation: object, **info: object) -> object:
        return plain_for(resolve_type_descriptor(annotation, OptionInfo(**info)))  # type: ignore[arg-type]

    assert found(str) == (Plain("str"), False)
    assert found(list[str]) == (Plain("str"), True)
    assert found(int, min=1, max=9) == (Plain("int", 1, 9), False)
    assert found(Path) == (Plain("path"), False)
    assert found(Path, exists=True) is None  # typer checks the file: its way
    assert found(float) is None
    assert found(int, min=1, clamp=True) is None


def test_every_option_and_argument_of_the_tutor_is_converted_here() -> None:
    """So no command imports pydantic, and every bad value gets our wording (not typer's English)."""
    import typer.main

    from kproxy_tutor.cli import build_app

    left: list[str] = []

    def walk(command: object, path: str) -> None:
        for param in getattr(command, "params", []):
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and plain_for(descriptor) is None:
                left.append(f"{path} {param.name}: {descriptor.annotation!r}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(build_app(rich_help=False)), "kproxy-tutor")
    assert left == []
