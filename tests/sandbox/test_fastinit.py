"""Objects from the fast constructors are ordinary, immutable instances of their classes."""

from __future__ import annotations

import dataclasses

import pytest

from kproxy_tutor.sandbox.iptables.rules import CommentMatch, Jump, Rule, make_rule


def test_make_rule_equals_rule() -> None:
    args = dict(matches=(CommentMatch("ns/svc:p"),), target=Jump("KUBE-SVC-X"), spelling="-j KUBE-SVC-X")
    fast, plain = make_rule("KUBE-SERVICES", **args), Rule("KUBE-SERVICES", **args)
    assert type(fast) is Rule
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert dataclasses.replace(fast, chain="X") == Rule("X", **args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.chain = "X"  # type: ignore[misc]


def test_default_factory_fields_get_a_fresh_default_or_the_argument() -> None:
    from kproxy_tutor.sandbox.fastinit import fast_constructor

    @dataclasses.dataclass(frozen=True, slots=True)
    class Sample:
        name: str
        tags: list[str] = dataclasses.field(default_factory=list)
        note: str | None = None

    make = fast_constructor(Sample)
    first, second = make("a"), make("b")
    assert type(first) is Sample and first == Sample("a") and first.tags == []
    assert first.tags is not second.tags
    given = ["x"]
    assert make("c", given, None).tags is given
    assert make(name="d", note="n") == Sample("d", note="n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.name = "z"  # type: ignore[misc]
