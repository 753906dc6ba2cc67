"""Compiled chains keep two lines per rule; the structured rules built from them are the parser's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.sandbox.families import IPV6
from kproxy_tutor.sandbox.iptables import Proxier
from kproxy_tutor.sandbox.iptables.parse import tokenize
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.iptables.rules import _simple_tokens, rule_from_line
from kproxy_tutor.sandbox.iptables.structure import rule_from_lines

from .helpers import SCENARIO_NAMES, load_scenario


def _compiled_chains(proxier: Proxier):  # type: ignore[no-untyped-def]
    for table in proxier.kernel.ruleset.tables.values():
        for chain in table.chains.values():
            if chain.has_lines:
                yield chain


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_lines_and_structure_agree(name: str) -> None:
    """Each rule's save line is what iptables-save prints for the rule its restore line means,
    and the fast reading of the two lines is the parser's reading of the restore line."""
    proxier = load_scenario(name).proxier
    seen = 0
    for chain in _compiled_chains(proxier):
        for line, save in zip(chain.lines(), chain.save_lines(), strict=True):
            parsed = rule_from_line(line)
            assert save_line(parsed) == save
            fast = rule_from_lines(line, save)
            assert fast == parsed and fast.spelling == parsed.spelling
            seen += 1
    assert seen > 5


def test_ipv6_lines_and_structure_agree() -> None:
    from pathlib import Path

    from kproxy_tutor.sandbox.manifests import load_paths

    cluster = load_paths([str(Path(__file__).parent / "data" / "dual-stack.yaml")]).cluster
    proxier = Proxier(cluster, family=IPV6)
    proxier.sync()
    seen = 0
    for chain in _compiled_chains(proxier):
        for line, save in zip(chain.lines(), chain.save_lines(), strict=True):
            # The restore line leaves REJECT's type to the kernel (icmp6 here): read the save line.
            fast = rule_from_lines(line, save)
            assert fast == rule_from_line(save) and save_line(fast) == save
            assert fast.spelling == rule_from_line(line).spelling
            seen += 1
    assert seen > 5


def test_a_changed_rule_list_makes_the_lines_again() -> None:
    proxier = load_scenario(SCENARIO_NAMES[0]).proxier
    chain = next(c for c in _compiled_chains(proxier) if len(c) > 1)
    first = chain.rules[0]
    chain.rules.append(first)
    assert chain.save_lines()[-1] == save_line(first)
    assert len(chain.lines()) == len(chain.rules)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=' ab"\\-', max_size=12))
def test_simple_split_agrees_with_the_tokenizer(text: str) -> None:
    tokens = _simple_tokens(text)
    if tokens is not None:
        assert tokens == tokenize(text)


def test_one_services_payload_is_its_lines_of_the_full_payload() -> None:
    from kproxy_tutor.sandbox.iptables.dump import rules_text

    cluster = load_scenario("session-affinity").loaded.cluster
    full = rules_text(cluster, fmt="restore").splitlines()
    own = rules_text(cluster, fmt="restore", service="shop/cart").splitlines()
    rules = [line for line in own if line.startswith("-A ")]
    assert rules and all(line in full for line in rules)
    assert any(line.startswith("-A KUBE-SERVICES ") and "shop/cart:http cluster IP" in line for line in rules)
    assert {line.split()[1] for line in rules} >= {"KUBE-SERVICES", "KUBE-SVC-I5LIAMPLWKMBJ54B"}
