"""The fast paths give what the checked, general code gives: converters, kernel apply, diff, rendering."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox import manifest_fast as fast
from kproxy_tutor.sandbox import manifest_objects as convert
from kproxy_tutor.sandbox.iptables.diff import diff_apply
from kproxy_tutor.sandbox.iptables.kernel import KernelState, RestoreError
from kproxy_tutor.sandbox.iptables.render import render_save, save_args, save_line
from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    CommentMatch,
    DeleteChain,
    InterfaceMatch,
    Jump,
    Payload,
    PayloadTable,
    ProtocolMatch,
    Rule,
    Verdict,
)
from kproxy_tutor.sandbox.iptables.spelling import save_string
from kproxy_tutor.sandbox.manifests import _convert, _guard, _Object, load_texts

from .helpers import SCENARIO_NAMES, SCENARIOS, load_scenario

FAST = {
    "Service": (fast.fast_service, lambda f: convert.to_service(f, f.location)),
    "EndpointSlice": (fast.fast_endpoint_slice, lambda f: convert.to_endpoint_slice(f, f.location)),
    "Pod": (fast.fast_pod, convert.to_pod),
    "Node": (fast.fast_node, convert.to_node),
}

SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {
        "type": "LoadBalancer",
        "clusterIP": "10.96.0.20",
        "clusterIPs": ["10.96.0.20"],
        "ipFamilies": ["IPv4"],
        "ports": [
            {"name": "http", "port": 80, "targetPort": "8080", "nodePort": 30080},
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
        ],
        "selector": {"app": "web"},
        "externalIPs": ["192.0.2.7"],
        "loadBalancerSourceRanges": ["203.0.113.0/24"],
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
        "externalTrafficPolicy": "Local",
        "internalTrafficPolicy": "Cluster",
        "healthCheckNodePort": 31000,
    },
    "status": {
        "loadBalancer": {"ingress": [{"ip": "198.51.100.9", "ipMode": "VIP"}, {"hostname": "lb.example"}]}
    },
}
SLICE: dict[str, Any] = {
    "apiVersion": "discovery.k8s.io/v1",
    "kind": "EndpointSlice",
    "addressType": "IPv4",
    "metadata": {
        "name": "web-abc",
        "namespace": "shop",
        "labels": {
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        },
    },
    "endpoints": [
        {
            "addresses": ["10.244.1.5"],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": "worker-1",
            "zone": "a",
            "hints": {"forZones": [{"name": "a"}], "forNodes": [{"name": "worker-1"}]},
        },
        {"addresses": ["10.244.2.5", "10.244.2.6"], "conditions": {"ready": False}, "hostname": "h"},
        {"addresses": []},
    ],
    "ports": [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
        {"name": ""},
    ],
}
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-1",
        "namespace": "shop",
        "labels": {"app": "web"},
        "deletionTimestamp": "2025-01-01T00:00:00Z",
    },
    "spec": {
        "nodeName": "worker-1",
        "containers": [{"name": "a", "ports": [{"containerPort": 8080, "name": "http"}]}, {"name": "b"}],
    },
    "status": {"podIP": "10.244.1.5", "conditions": [{"type": "Ready", "status": "False"}]},
}
NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "worker-1", "labels": {"topology.kubernetes.io/zone": "a"}},
    "spec": {"podCIDR": "10.244.1.0/24"},
    "status": {
        "addresses": [
            {"type": "InternalIP", "address": "192.168.0.11"},
            {"type": "Hostname", "address": "w1"},
        ]
    },
}
TEMPLATES = {"Service": SERVICE, "EndpointSlice": SLICE, "Pod": POD, "Node": NODE}


def _checked(kind: str, data: dict[str, Any]) -> Any:
    return _guard(FAST[kind][1], _Object(kind, data, "test.json (object 1)"))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a template, so a test can replace any field with a value of another type."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_fast_converter_equals_checked_converter(kind: str) -> None:
    data = TEMPLATES[kind]
    assert FAST[kind][0](data) == _checked(kind, data)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_fast_converters_agree_on_every_scenario_object(name: str) -> None:
    for document in yaml.safe_load_all((SCENARIOS / f"{name}.yaml").read_text()):
        items = document.get("items", [document]) if isinstance(document, dict) else []
        for item in items:
            kind = item.get("kind") if isinstance(item, dict) else None
            if kind not in FAST:
                continue
            try:
                fast = FAST[kind][0](item)
            except fast.Irregular:
                continue
            assert fast == _checked(kind, item)


ODD_VALUES = (
    None,
    0,
    1,
    True,
    False,
    1.5,
    "",
    "x",
    "10",
    [],
    [None],
    ["a"],
    [1],
    {},
    {"a": 1},
    {"name": "n"},
)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(sorted(TEMPLATES)), data=st.data())
def test_fast_path_never_accepts_what_the_checked_converter_would_not(kind: str, data: st.DataObject) -> None:
    template = TEMPLATES[kind]
    path = data.draw(st.sampled_from(_paths(template)))
    value = data.draw(st.sampled_from(ODD_VALUES))
    changed = _replace(template, path, value)
    try:
        expected: Any = _checked(kind, changed)
    except SandboxInputError as error:
        expected = error
    # Through the loader's entry point: the fast converter, or the checked one when it gives up.
    try:
        got: Any = _convert(FAST[kind][0], FAST[kind][1], _Object(kind, changed, "test.json (object 1)"))
    except SandboxInputError as error:
        got = error
    if isinstance(expected, SandboxInputError):
        assert isinstance(got, SandboxInputError)
        assert (got.message, got.location, got.params) == (
            expected.message,
            expected.location,
            expected.params,
        )
    else:
        assert got == expected


def test_bad_field_in_a_json_dump_still_names_the_field_and_object() -> None:
    slice_ = _replace(SLICE, ("endpoints", 1, "nodeName"), 7)
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [SERVICE, slice_]})
    with pytest.raises(SandboxInputError) as error:
        load_texts([(text, "dump.json")])
    assert error.value.location == "dump.json (object 2)"
    assert error.value.params["path"] == "EndpointSlice.endpoints[1].nodeName"


def test_integer_conditions_are_not_taken_for_booleans() -> None:
    odd = _replace(SLICE, ("endpoints", 0, "conditions", "ready"), 1)
    with pytest.raises(fast.Irregular):
        fast.fast_endpoint_slice(odd)
    with pytest.raises(SandboxInputError):
        _checked("EndpointSlice", odd)


def test_non_canonical_pod_ip_is_stored_canonically() -> None:
    pod = _replace(POD, ("status", "podIP"), "10.244.001.005")
    loaded = load_texts([(json.dumps({"kind": "List", "items": [NODE, pod]}), "p.json")])
    assert loaded.cluster.pods[("shop", "web-1")].pod_ip == "10.244.1.5"


# Kernel and diff ------------------------------------------------------------------------------


def _rule(chain: str, target: str) -> Rule:
    return Rule(chain, matches=(CommentMatch(f"{chain} to {target}"),), target=Jump(target))


def test_first_apply_names_the_first_rule_that_jumps_nowhere() -> None:
    kernel = KernelState()
    payload = Payload(
        [PayloadTable("nat", ["A", "B"], [_rule("A", "B"), _rule("A", "MISSING-1"), _rule("B", "MISSING-2")])]
    )
    with pytest.raises(RestoreError) as error:
        kernel.apply(payload)
    assert error.value.params == {"chain": "A", "target": "MISSING-1"}
    assert "A" not in kernel.ruleset.table("nat").chains


def test_first_apply_builds_chains_and_references() -> None:
    kernel = KernelState()
    rules = [_rule("A", "B"), _rule("B", "C"), _rule("A", "C")]
    diff = diff_apply(kernel, Payload([PayloadTable("nat", ["A", "B", "C"], rules)]))
    chains = kernel.ruleset.tables["nat"].chains
    assert chains["A"].rules == [rules[0], rules[2]] and chains["A"].policy is None
    assert [(c.chain, c.kind, c.added_rules) for c in diff.changes] == [
        ("A", "added", (rules[0], rules[2])),
        ("B", "added", (rules[1],)),
        ("C", "added", ()),
    ]
    with pytest.raises(RestoreError):
        kernel.apply(Payload([PayloadTable("nat", [], [DeleteChain("C")])]))  # still referenced


def test_diff_keeps_first_touched_order_when_a_table_comes_back() -> None:
    kernel = KernelState()
    payload = Payload(
        [
            PayloadTable("nat", ["N1"], []),
            PayloadTable("filter", ["F1"], []),
            PayloadTable("nat", ["N2", "N1"], []),
        ]
    )
    diff = diff_apply(kernel, payload)
    assert [(c.table, c.chain) for c in diff.changes] == [("nat", "N1"), ("filter", "F1"), ("nat", "N2")]


# Rendering ------------------------------------------------------------------------------------


def _reference_save_args(rule: Rule) -> str:
    parts = []
    for flag, part in (("-s", rule.source), ("-d", rule.destination)):
        if part is not None:
            parts.append(f"{'! ' if part.negated else ''}{flag} {part.cidr}")
    for flag, interface in (("-i", rule.in_interface), ("-o", rule.out_interface)):
        if interface is not None:
            parts.append(f"{'! ' if interface.negated else ''}{flag} {interface.name}")
    if rule.protocol is not None:
        parts.append(f"{'! ' if rule.protocol.negated else ''}-p {rule.protocol.protocol}")
    for match in rule.matches:
        options = match.save_options()
        parts.append(f"-m {match.module} {options}" if options else f"-m {match.module}")
    if rule.target is not None:
        parts.append(rule.target.save())
    return " ".join(parts)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_rendering_with_shared_parts_equals_rule_by_rule_rendering(name: str) -> None:
    ruleset = load_scenario(name).proxier.kernel.ruleset
    lines = [line for line in render_save(ruleset).splitlines() if line.startswith("-A ")]
    rules = [
        rule for table in ruleset.tables.values() for chain in table.chains.values() for rule in chain.rules
    ]
    assert sorted(lines) == sorted(save_line(rule) for rule in rules)
    for rule in rules:
        assert save_args(rule) == _reference_save_args(rule)


def test_rendering_of_negated_and_empty_parts() -> None:
    rule = Rule(
        "X",
        AddressMatch("10.0.0.0/8", True),
        AddressMatch("10.1.0.0/16"),
        InterfaceMatch("eth0", True),
        InterfaceMatch("cni+"),
        ProtocolMatch("tcp", True),
        (CommentMatch("a b"),),
        Verdict("ACCEPT"),
    )
    assert save_args(rule) == _reference_save_args(rule)
    assert save_line(Rule("EMPTY")) == "-A EMPTY"


@given(st.text(max_size=12))
def test_save_string_quotes_exactly_like_iptables(value: str) -> None:
    if value and all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        expected = value
    else:
        expected = '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'") + '"'
    assert save_string(value) == expected
