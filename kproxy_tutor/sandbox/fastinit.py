"""Fast constructors for frozen, slotted dataclasses built by the hundred thousand (rules, endpoints).

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, which costs
about three times a plain slot store. ``fast_constructor(cls)`` returns a function with the
same parameters as ``cls(...)`` that fills a mutable twin class (the same slots, so the same
memory layout) and then switches the object's class to ``cls``. The result is an ordinary
``cls`` instance: same type, equality, hash, repr and immutability. A field with a default
factory gets a fresh default when its argument is left out, as ``cls(...)`` gives it. Only
classes without ``__post_init__`` or field converters qualify, which is checked.

Kept while it pays: ``benchmarks/bench_matrix.py`` prints what a run saves with it ("the tricks").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


#: The default of a parameter whose field has a default factory (None may be a real argument).
_MISSING = object()


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    params = dataclasses.fields(cls)  # type: ignore[arg-type]
    slots = getattr(cls, "__slots__", None)
    if (
        not dataclasses.is_dataclass(cls)
        or hasattr(cls, "__post_init__")
        or slots is None
        or tuple(slots) != tuple(f.name for f in params)
        or any(not f.init for f in params)
    ):
        raise TypeError(f"{cls.__name__} is not a plain frozen slotted dataclass")
    twin = type(f"_{cls.__name__}Builder", (), {"__slots__": tuple(slots)})
    namespace: dict[str, Any] = {"_twin": twin, "_cls": cls, "_missing": _MISSING}
    signature = []
    lines = []
    for index, f in enumerate(params):
        if f.default is not dataclasses.MISSING:
            namespace[f"_d{index}"] = f.default
            signature.append(f"{f.name}=_d{index}")
            lines.append(f"    o.{f.name} = {f.name}\n")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_f{index}"] = f.default_factory
            signature.append(f"{f.name}=_missing")
            lines.append(f"    o.{f.name} = _f{index}() if {f.name} is _missing else {f.name}\n")
        else:
            signature.append(f.name)
            lines.append(f"    o.{f.name} = {f.name}\n")
    body = "".join(lines)
    source = (
        f"def make({', '.join(signature)}):\n    o = _twin()\n{body}    o.__class__ = _cls\n    return o\n"
    )
    exec(source, namespace)
    make = namespace["make"]
    make.__name__ = make.__qualname__ = f"make_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}(...)``, built without the frozen-dataclass ``__setattr__`` overhead."
    return make  # type: ignore[no-any-return]
