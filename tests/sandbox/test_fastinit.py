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
