"""IPv6 destinations in trace: the IPv6 proxier's own rules in every mode, the family picked from the address or the Service, clean refusals."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import UsageError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables.render import save_line
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.model import Pod
from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.sandbox.packet import OutcomeKind, StepKind
from kproxy_tutor.sandbox.trace.export import trace_data
from kproxy_tutor.sandbox.trace.load import run_load
from kproxy_tutor.sandbox.trace.request import resolve_destination, split_host_port
from kproxy_tutor.sandbox.trace.session import TraceSession
from tests.foundation.helpers import run_tutor

from .json_schema import errors

DUAL = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "dual-stack.yaml"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "trace-json.schema.json").read_text())
#: A node with IPv4 only, next to the dual-stack ones (its Pods get IPv4 addresses only).
OLD_NODE = """
---
apiVersion: v1
kind: Node
metadata: {name: old-4}
status:
  addresses: [{type: InternalIP, address: 192.168.0.13}]
"""


@cache
def _text() -> str:
    return DUAL.read_text(encoding="utf-8")


def _cluster(extra: str = "") -> Cluster:
    return load_texts([(_text() + extra, "dual-stack.yaml")]).cluster


def _pods(cluster: Cluster, app: str = "web") -> dict[str, str]:
    """IPv6 podIP → Pod name of the Pods ``app`` selects."""
    return {
        p.ip("IPv6"): p.name for p in cluster.pods.values() if p.labels.get("app") == app and p.ip("IPv6")
    }


def _client(cluster: Cluster, node: str = "worker-1") -> str:
    return next(p.name for p in cluster.pods.values() if p.node_name == node)


@pytest.mark.parametrize("mode", MODES)
def test_a_pod_reaches_a_dual_stack_service_through_the_ipv6_rules(mode: str) -> None:
    cluster = _cluster()
    session = TraceSession.from_cluster(cluster, seed=3, mode=mode)
    client, destination = session.resolve(_client(cluster), "web:80", family="IPv6")
    assert destination.family == "IPv6" and destination.ip == cluster.services[
        ("default", "web")
    ].cluster_ip_of("IPv6")
    pod = cluster.pods[tuple(client.name.split("/"))]  # type: ignore[union-attr,arg-type]
    assert client.ip == pod.ip("IPv6")
    trace = session.connect(client, destination)
    endpoints = {f"[{ip}]:8080" for ip in _pods(cluster)}
    assert trace.outcome.kind == OutcomeKind.DELIVERED and trace.outcome.endpoint in endpoints
    # The rules walked are the IPv6 proxier's: every address a rule names is IPv6.
    rules = [save_line(s.rule) for s in trace.steps if s.kind == StepKind.RULE and s.rule is not None]
    nft = [str(s.detail.get("nft_rule")) for s in trace.steps if "nft_rule" in s.detail]
    assert rules or nft
    ipv4 = re.compile(r"(?<![\w.])\d+\.\d+\.\d+\.\d+(?![\w.])")  # not an nftables chain's fd00.10.244..2
    assert not any(ipv4.search(r) for r in rules + nft), rules + nft
    if mode == "nftables":
        assert set(trace.examined_by_table) == {"ip6 kube-proxy"}
    data = trace_data(session.annotate(trace, destination), client, destination, mode=mode, seed=3)
    assert errors(SCHEMA, data) == []
    assert data["to"]["family"] == "IPv6" and data["endpoint"] in endpoints  # type: ignore[index]
    # The reply comes back from the address the client connected to, in brackets with its port.
    assert data["reply"]["src"] == f"[{destination.ip}]:80"  # type: ignore[index]


@pytest.mark.parametrize("mode", MODES)
def test_the_ipv6_affinity_and_the_missing_endpoints_follow_the_ipv6_rules(mode: str) -> None:
    cluster = _cluster()
    session = TraceSession.from_cluster(cluster, seed=5, mode=mode)
    client, destination = session.resolve(_client(cluster), "web:80", family="IPv6")
    # sessionAffinity: ClientIP: -m recent --mask ffff:…, the affinity set, or IPVS persistence.
    result = run_load(session.tracer_for("IPv6"), client, destination.ip, 80, "tcp", 12)
    assert len(result.counts) == 1 and result.sticky == 11
    rejected = session.curl(_client(cluster), "nobody:81", family="IPv6")
    assert rejected.outcome.kind == OutcomeKind.REJECTED
    if mode == "iptables":
        assert rejected.outcome.rule is not None
        assert rejected.outcome.rule.target.save() == "-j REJECT --reject-with icmp6-port-unreachable"  # type: ignore[union-attr]


def test_a_service_name_picks_its_primary_family_and_family_picks_the_other() -> None:
    session = TraceSession.from_cluster(_cluster(), seed=1)
    # lb lists ipFamilies [IPv6, IPv4]: its spec.clusterIP is the IPv6 one.
    assert session.resolve("worker-1", "lb:443")[1].family == "IPv6"
    assert session.resolve("worker-1", "lb:443", family="IPv4")[1].family == "IPv4"
    # web (PreferDualStack, no ipFamilies) gets the cluster's first family, IPv4.
    client, destination = session.resolve("worker-1", "web:80")
    assert (destination.family, client.ip) == ("IPv4", "192.168.0.11")
    client, destination = session.resolve("worker-1", "web:80", family="IPv6")
    assert (destination.family, client.ip) == ("IPv6", "fd00:192:168::11")
    # An address picks its own family, written as Kubernetes writes it (compressed).
    _client6, literal = session.resolve("worker-1", "[fd00:10:96:0::ecf2]:80")
    assert (literal.ip, literal.family, literal.service) == ("fd00:10:96::ecf2", "IPv6", None)


@pytest.mark.parametrize(
    ("source", "target", "family", "words"),
    [
        ("old-4", "only6:8080", None, "Node 'old-4' has no IPv6 InternalIP"),
        ("worker-1", "only6:8080", "IPv4", "Service default/only6 has no IPv4 ClusterIP"),
        ("192.168.0.99", "[2001:db8:100::50]:443", None, "a connection stays in one IP family"),
        ("worker-1", "[fd00:10:96::ecf2]", None, "needs a port: write [ADDRESS]:PORT"),
        ("worker-1", "fd00:10:96::ecf2:80", None, "needs a port: write [ADDRESS]:PORT"),
        ("worker-1", "[fd00:10:96::ecf2", None, "write an IPv6 address with a port as [ADDRESS]:PORT"),
        ("worker-1", "[fd00:10:96::ecf2]:80", "IPv4", "is an IPv6 address, not IPv4"),
    ],
)
def test_a_source_or_destination_without_the_family_is_refused(
    source: str, target: str, family: str | None, words: str
) -> None:
    session = TraceSession.from_cluster(_cluster(OLD_NODE), seed=1)
    with pytest.raises(UsageError) as caught:
        session.curl(source, target, family=family)
    assert words in str(caught.value)


def test_a_pod_without_an_ipv6_address_is_refused() -> None:
    cluster = _cluster(OLD_NODE)
    old = next((p for p in cluster.pods.values() if p.node_name == "old-4"), None)
    if old is None:  # the scheduler put no Pod there: place one
        old = cluster.apply_pod(Pod("default", "old-client", node_name="old-4", pod_ip="10.244.2.50"))
    session = TraceSession.from_cluster(cluster, seed=1)
    with pytest.raises(UsageError) as caught:
        session.curl(f"{old.namespace}/{old.name}", "only6:8080")
    assert f"Pod {old.namespace}/{old.name} has no IPv6 address" in str(caught.value)


def test_localhost_nodeports_are_off_in_ipv6_and_the_trace_says_why() -> None:
    session = TraceSession.from_cluster(_cluster(), seed=1)
    trace = session.curl("worker-1", "[::1]:30080")
    assert trace.packet.src_ip == "::1" and trace.outcome.kind == OutcomeKind.NOT_SERVICE
    assert trace.outcome.route == "local" and trace.outcome.endpoint == "[::1]:30080"
    result = run_tutor("--lang", "en", "trace", "-f", str(DUAL), "--from", "worker-1", "--to", "[::1]:30080")
    assert result.returncode == 0, result.stderr
    assert "route_localnet" in result.stdout and "Traceback" not in result.stderr


def test_the_trace_command_follows_ipv6_and_refuses_cleanly() -> None:
    ok = run_tutor(
        "--lang", "en", "trace", "-f", str(DUAL), "--from", "worker-1", "--to", "web:80", "--family", "ipv6",
        "--seed", "2", "-o", "json",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert errors(SCHEMA, data) == []
    assert data["to"]["family"] == "IPv6" and data["from"]["ip"] == "fd00:192:168::11"
    assert data["endpoint"] in {"[fd00:10:244::2]:8080", "[fd00:10:244:1::2]:8080"}
    bad = run_tutor("--lang", "ru", "trace", "-f", str(DUAL), "--from", "worker-1", "--to", "only6:8080",
                    "--family", "ipv4")  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "нет ClusterIP семейства IPv4" in bad.stderr


_ADDRESSES = st.ip_addresses(v=6).map(str)


@settings(max_examples=40, deadline=None)
@given(_ADDRESSES, st.integers(1, 65535), st.sampled_from(["compressed", "exploded"]))
def test_the_request_parser_reads_ipv6_as_curl_writes_it(address: str, port: int, spelling: str) -> None:
    written = getattr(ipaddress.IPv6Address(address), spelling)
    canonical = str(ipaddress.IPv6Address(address))
    if "." in canonical:  # an IPv4-mapped address: Python and Go spell those differently
        return
    destination = resolve_destination(None, f"[{written}]:{port}", None)
    assert (destination.ip, destination.port, destination.family) == (canonical, port, "IPv6")
    assert split_host_port(f"[{written}]:{port}") == (written, str(port))
    for without_port in (written, f"[{written}]"):
        with pytest.raises(UsageError):
            resolve_destination(None, without_port, None)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789abcdef:[]./", max_size=24))
def test_the_request_parser_never_crashes_on_address_like_text(text: str) -> None:
    with contextlib.suppress(UsageError):  # any other exception fails the test
        resolve_destination(None, text, None)


#: (IPv4 target, IPv6 target): the same Service port in each family.
_TWINS = [
    ("web:80", "web:80"),
    ("lb:443", "lb:443"),
    ("nobody:81", "nobody:81"),
    ("worker-1:30080", "worker-1:30080"),
    ("worker-2:30443", "worker-2:30443"),
    ("203.0.113.10:80", "[2001:db8::10]:80"),
    ("198.51.100.50:443", "[2001:db8:100::50]:443"),
]


@pytest.mark.parametrize("mode", MODES)
def test_both_families_tell_the_same_story_in_every_mode(mode: str) -> None:
    """One proxier per family, written alike: outcome, masquerade and its reasons agree; only addresses differ."""
    cluster = _cluster()
    # A client no Service selects (a web Pod would sometimes reach itself: hairpin).
    cluster.apply_pod(
        Pod(
            "default",
            "client",
            node_name="worker-1",
            pod_ip="10.244.0.200",
            pod_ips=("10.244.0.200", "fd00:10:244::c8"),
        )
    )
    session = TraceSession.from_cluster(cluster, seed=9, mode=mode)
    pod = "client"
    sources = [(pod, pod), ("worker-1", "worker-1"), ("203.0.113.77", "2001:db8:ffff::77")]
    for four_from, six_from in sources:
        for four_to, six_to in _TWINS:
            four = session.curl(four_from, four_to, family="IPv4")
            six = session.curl(six_from, six_to, family="IPv6")
            assert ":" not in four.packet.dst_ip and ":" in six.packet.dst_ip
            story = [
                (
                    t.outcome.kind,
                    t.outcome.masquerade,
                    [s.reason for s in t.outcome.mark_setters],
                    t.outcome.route,
                )
                for t in (four, six)
            ]
            assert story[0] == story[1], (mode, four_from, four_to, story)


def test_ready_made_ipv6_rules_are_the_ones_traced() -> None:
    """``family_rules`` (the lab's loaded IPv6 rules): a rule set without the Service's rules sends the packet on as addressed."""
    from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

    empty = parse_ruleset("*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", "empty")
    cluster = _cluster()
    ready = TraceSession.from_cluster(cluster, seed=1, family_rules={"IPv6": {"worker-1": empty}})
    compiled = TraceSession.from_cluster(cluster, seed=1)
    assert ready.curl("worker-1", "web:80", family="IPv6").outcome.kind == OutcomeKind.NOT_SERVICE
    assert compiled.curl("worker-1", "web:80", family="IPv6").outcome.kind == OutcomeKind.DELIVERED
