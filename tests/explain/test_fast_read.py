"""The fast paths of reading a big node's dump give what the full parser gives, rule for rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import TutorError
from kproxy_tutor.sandbox.iptables import render_restore, render_save
from kproxy_tutor.sandbox.iptables.parse import _fast_rule, parse_rule_args, tokenize
from tests.explain.helpers import SCENARIO_PATHS, compiled_iptables


def _full(chain: str, args: str) -> object:
    try:
        return parse_rule_args(chain, tokenize(args), spelling=args)
    except (TutorError, IndexError, KeyError, ValueError, OverflowError) as error:
        return type(error)


def _fast(chain: str, args: str) -> object:
    try:
        return _fast_rule(chain, args)
    except (TutorError, IndexError, KeyError, ValueError, OverflowError) as error:
        return type(error)


def _rule_lines(name: str) -> list[str]:
    proxier, result = compiled_iptables(name)
    # iptables-save's canonical order and kube-proxy's own (the restore payload's) order.
    text = render_save(proxier.kernel.ruleset) + render_restore(result.payload)
    return [line for line in text.splitlines() if line.startswith("-A ")]


@pytest.mark.parametrize("name", sorted(SCENARIO_PATHS))
def test_every_scenario_rule_reads_the_same_fast(name: str) -> None:
    fast = 0
    for line in _rule_lines(name):
        chain, _, args = line[3:].partition(" ")
        rule = _fast(chain, args)
        if rule is not None:
            fast += 1
            assert rule == _full(chain, args), line
            assert rule.spelling == args  # type: ignore[attr-defined]
    assert fast > 0


PARTS = st.sampled_from(
    [
        "!",
        "-s 10.0.0.0/8",
        "! -s 10.0.0.1/8",
        "-d 1.2.3.4",
        "-d 1.2.3.4/32",
        "-d",
        "-p tcp",
        "! -p UDP",
        "-i eth0",
        "-o eth1",
        '-m comment --comment "a b"',
        "-m comment --comment x",
        '-m comment --comment "x"y',
        '-m comment --comment ""',
        "-m comment",
        "-m tcp",
        "-m udp --dport 80",
        "-m tcp --dport 0x10",
        "-m sctp --dport",
        "-m tcp ! --dport 80",
        "-m statistic --mode random --probability 0.33333333349",
        "-m statistic --mode random --probability x",
        "-m statistic --mode nth --every 2",
        "-m mark --mark 0x4000",
        "-m recent --name X --rcheck",
        "\t-s 10.0.0.0/8",
        "-s 10.0.0.1\\",
    ]
)
TARGETS = st.sampled_from(
    [
        "-j KUBE-SEP-X",
        "-j DNAT --to-destination 10.0.0.1:80",
        "-j ACCEPT",
        "-j",
        "-g KUBE-X",
        "",
        "-j MARK --or-mark 0x4000",
    ]
)


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(PARTS, max_size=7), target=TARGETS, spaces=st.sampled_from([" ", "  "]))
def test_any_line_reads_the_same_fast_or_is_left_to_the_parser(
    parts: list[str], target: str, spaces: str
) -> None:
    args = spaces.join([*parts, target])
    fast = _fast("KUBE-X", args)
    if fast is not None:
        assert fast == _full("KUBE-X", args), args
