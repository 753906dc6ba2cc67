"""The fast paths of reading a big node's dump give what the full parser gives, rule for rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import example, given, settings
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


def _explanations() -> list[tuple[object, object]]:
    from kproxy_tutor.explain import compare_with, explain_text
    from kproxy_tutor.explain.samples import sample_names, sample_text
    from tests.explain.helpers import real_or_rendered_iptables, real_or_rendered_nft, scenario

    found = []
    for name in sample_names():
        found.append((explain_text(sample_text(name), name), None))
    for name in ("db-service", "etp-local", "no-endpoints"):
        cluster, node = scenario(name)
        for dump in (real_or_rendered_iptables(name), real_or_rendered_nft(name)):
            explanation = explain_text(dump, name)
            found.append((explanation, compare_with(explanation, cluster, node)))
    return found


def test_the_json_text_is_the_standard_librarys() -> None:
    import json

    from kproxy_tutor.explain.export import to_data, to_json

    for explanation, differences in _explanations():
        data = to_data(explanation, differences)  # type: ignore[arg-type]
        assert to_json(explanation, differences) == json.dumps(data, ensure_ascii=False, indent=2)  # type: ignore[arg-type]


def test_the_json_written_in_pieces_is_the_same_text() -> None:
    """explain -o json writes each Service port as it is encoded: the pieces add up to the standard
    library's text, also when a value needs it (a float) or there is no Service at all."""
    import dataclasses
    import json

    from kproxy_tutor.explain.export import json_pieces, to_data

    cases = _explanations()
    explanation, differences = cases[-1]
    view = explanation.service_ports[0]  # type: ignore[attr-defined]
    odd = dataclasses.replace(view, rules=[dataclasses.replace(view.rules[0], params=(("share", 0.5),))])
    cases.append((dataclasses.replace(explanation, service_ports=[odd, view]), differences))  # type: ignore[type-var]
    cases.append((dataclasses.replace(explanation, service_ports=[]), None))  # type: ignore[type-var]
    for explanation, differences in cases:
        pieces = list(json_pieces(explanation, differences))  # type: ignore[arg-type]
        assert len(pieces) > 2
        data = to_data(explanation, differences)  # type: ignore[arg-type]
        assert "".join(pieces) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=4) | st.floats(allow_nan=False),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=12,
    )
)
@settings(max_examples=150, deadline=None)
def test_any_value_encodes_as_the_standard_library_does(value: object) -> None:
    import json

    from kproxy_tutor.explain.export import _encode, _Unusual

    try:
        text = _encode(value, 0)
    except _Unusual:
        return
    assert text == json.dumps(value, ensure_ascii=False, indent=2)


def _nft_full(text: str) -> object:
    from kproxy_tutor.sandbox.nftables.parse_rule import _TOKEN, _Parser
    from kproxy_tutor.sandbox.nftables.ruleset import NftRule

    try:
        statements = _Parser(_TOKEN.findall(text)).statements()
    except (IndexError, ValueError):
        return ValueError
    return None if statements is None else NftRule(tuple(statements), None)


@pytest.mark.parametrize("name", sorted(SCENARIO_PATHS))
def test_every_scenario_nft_rule_reads_the_same_fast(name: str) -> None:
    from kproxy_tutor.sandbox.nftables import render_listing
    from kproxy_tutor.sandbox.nftables.parse_rule import fast_rule
    from tests.explain.helpers import compiled_nft

    for line in render_listing(compiled_nft(name)).splitlines():
        rule = fast_rule(line.strip())
        if rule is not None:
            assert rule == _nft_full(line.strip()), line


NFT_VALUES = st.sampled_from(
    [
        "tcp",
        "@set",
        "10.0.0.1:80",
        "10.0.0.1:x",
        ":80",
        "!=",
        "jump",
        "10.0.0.010",
        "10.0.0.0/8",
        "10.0.0.1/8",
    ]
)
NFT_SHAPES = st.sampled_from(
    [
        "meta l4proto {} dnat to {}",
        "ip saddr {} jump {}",
        "ip daddr {} ip saddr != {} jump {}",
        "ip saddr {} {} {}",
    ]
)


@settings(max_examples=400, deadline=None)
@example(shape="meta l4proto {} dnat to {}", values=["@set", "10.0.0.1:80", "x"])
@example(shape="meta l4proto {} dnat to {}", values=["!=", "fd00::1", "x"])
@example(shape="ip daddr {} ip saddr != {} jump {}", values=["10.0.0.010", "10.0.0.1/8", "x"])
@given(shape=NFT_SHAPES, values=st.lists(NFT_VALUES | st.just("fd00::1"), min_size=3, max_size=3))
def test_any_nft_rule_reads_the_same_fast_or_is_left_to_the_parser(shape: str, values: list[str]) -> None:
    from kproxy_tutor.sandbox.nftables.parse_rule import fast_rule

    text = shape.format(*values)
    rule = fast_rule(text)
    if rule is not None:
        assert rule == _nft_full(text), text


@pytest.mark.parametrize("name", ["db-service", "etp-local", "no-endpoints", "session-affinity"])
def test_a_node_in_sync_is_compared_by_its_digest_with_the_same_findings(name: str) -> None:
    from kproxy_tutor.explain import compare_with, expected_explanation, explain_text
    from kproxy_tutor.explain.checks import compare
    from tests.explain.helpers import real_or_rendered_iptables, scenario

    cluster, node = scenario(name)
    explanation = explain_text(real_or_rendered_iptables(name), name)
    assert expected_explanation(cluster, node, "iptables", same_as=explanation) is explanation
    full = expected_explanation(cluster, node, "iptables")
    # The same explanation (explain_text adds the findings the rules alone show; compare reads none).
    assert replace(full, findings=[]) == replace(explanation, findings=[])
    assert full.rules_digest == explanation.rules_digest
    assert compare_with(explanation, cluster, node) == compare(explanation, full)
    # One of kube-proxy's rules less: another digest, and the comparison explains the manifests' rules again.
    lines = real_or_rendered_iptables(name).splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if line.startswith(("-A KUBE-", "[0:0] -A KUBE-")))
    drifted = explain_text("".join(lines[:cut] + lines[cut + 1 :]), name)
    assert drifted.rules_digest != explanation.rules_digest
    assert expected_explanation(cluster, node, "iptables", same_as=drifted) is not drifted
    assert compare_with(drifted, cluster, node) == compare(drifted, full)
