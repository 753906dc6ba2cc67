"""Fast constructors for frozen, slotted dataclasses built by the hundred thousand (rules, endpoints).

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, which costs
about three times a plain slot store. ``fast_constructor(cls)`` returns a function with the
same parameters as ``cls(...)`` that fills a mutable twin class (the same slots, so the same
memory layout) and then switches the object's class to ``cls``. The result is an ordinary
``cls`` instance: same type, equality, hash, repr and immutability. Only classes without
``__post_init__`` or field converters qualify, which is checked.

Kept while it pays: ``benchmarks/bench_matrix.py`` prints what a run saves with it ("the tricks").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


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
    namespace: dict[str, Any] = {"_twin": twin, "_cls": cls}
    signature = []
    for index, f in enumerate(params):
        if f.default is not dataclasses.MISSING:
            namespace[f"_d{index}"] = f.default
            signature.append(f"{f.name}=_d{index}")
        elif f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default factory")
        else:
            signature.append(f.name)
    body = "".join(f"    o.{f.name} = {f.name}\n" for f in params)
    source = (
        f"def make({', '.join(signature)}):\n    o = _twin()\n{body}    o.__class__ = _cls\n    return o\n"
    )
    exec(source, namespace)
    make = namespace["make"]
    make.__name__ = make.__qualname__ = f"make_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}(...)``, built without the frozen-dataclass ``__setattr__`` overhead."
    return make  # type: ignore[no-any-return]
