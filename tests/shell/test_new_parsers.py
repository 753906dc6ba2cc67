"""The new parsers (label selectors, patches, exec's client lines) on any input: a clear error or a result, never a crash."""

from __future__ import annotations

import contextlib
import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.shell.kubectl_exec import parse_client
from kproxy_tutor.shell.patches import apply_patch, json_patch, merge_patch, strategic_merge
from kproxy_tutor.shell.selectors import parse_selector

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_selector_parses_or_refuses(text: str) -> None:
    try:
        selector = parse_selector(text)
    except SandboxInputError:
        return
    selector.matches({"app": "web"})


def test_selector_semantics() -> None:
    labels = {"app": "web", "tier": "front"}
    assert parse_selector("app=web,tier!=db").matches(labels)
    assert parse_selector("app in (web,db),!canary").matches(labels)
    assert not parse_selector("app notin (web)").matches(labels)
    assert parse_selector("missing!=x").matches(labels)  # != matches an absent label, as in Kubernetes
    assert not parse_selector("tier").matches({"app": "web"})


@settings(max_examples=200)
@given(json_values, json_values, st.sampled_from(["strategic", "merge", "json"]))
def test_patches_apply_or_refuse_and_never_change_their_input(
    target: object, patch: object, kind: str
) -> None:
    document = {"spec": target}
    before = copy.deepcopy(document)
    with contextlib.suppress(SandboxInputError):
        apply_patch(document, patch, kind)
    assert document == before


def test_patch_semantics() -> None:
    service = {"spec": {"ports": [{"port": 80, "targetPort": 80}, {"port": 443}], "type": "ClusterIP"}}
    merged = strategic_merge(service, {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})
    assert merged["spec"]["ports"] == [{"port": 80, "targetPort": 8080}, {"port": 443}]
    deleted = strategic_merge(service, {"spec": {"ports": [{"port": 443, "$patch": "delete"}]}})
    assert deleted["spec"]["ports"] == [{"port": 80, "targetPort": 80}]
    replaced = merge_patch(service, {"spec": {"ports": [{"port": 81}], "type": None}})
    assert replaced == {"spec": {"ports": [{"port": 81}]}}
    operations = [
        {"op": "replace", "path": "/spec/type", "value": "NodePort"},
        {"op": "add", "path": "/spec/ports/-", "value": {"port": 8443}},
        {"op": "remove", "path": "/spec/ports/0"},
        {"op": "test", "path": "/spec/ports/0/port", "value": 443},
    ]
    patched = json_patch(service, operations)
    assert patched["spec"] == {"ports": [{"port": 443}, {"port": 8443}], "type": "NodePort"}


@settings(max_examples=200)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_exec_client_lines_parse_or_refuse(words: list[str]) -> None:
    with contextlib.suppress(SandboxInputError):
        parse_client(words)


def test_exec_clients() -> None:
    assert parse_client(["curl", "-s", "-m", "5", "http://web:8080/x"]).port == 8080
    assert parse_client(["wget", "-qO-", "https://web"]).port is None
    assert parse_client(["wget", "-qO-", "https://web"]).default_port == 443
    request = parse_client(["nc", "-zvu", "dns", "53"])
    assert (request.host, request.port, request.protocol) == ("dns", 53, "udp")


def test_close_match() -> None:
    from kproxy_tutor.suggest import close_match

    assert close_match("wbe", ["web", "database"]) == "web"
    assert close_match("how-scale", ["how-scale-probability", "how-nodeport"]) == "how-scale-probability"
    assert close_match("WEB", ["web"]) == "web"
    assert close_match("zzz", ["web", "database"]) is None
    assert close_match("", ["web"]) is None
