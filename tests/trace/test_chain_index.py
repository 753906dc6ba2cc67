"""The chain index a trace walks: built from a compiled chain's lines it files every rule as the rules themselves would,
builds only the rules a packet reaches, and a batch of connections leaves the garbage collector as it found it."""

from __future__ import annotations

import gc

import pytest

from kproxy_tutor.sandbox.cluster import Cluster, service_port
from kproxy_tutor.sandbox.iptables import structure
from kproxy_tutor.sandbox.iptables.proxier import Proxier
from kproxy_tutor.sandbox.iptables.rules import Chain, rule_from_line
from kproxy_tutor.sandbox.model import Endpoint, EndpointPort, EndpointSlice, Node, Pod, Service
from kproxy_tutor.sandbox.trace import matching
from kproxy_tutor.sandbox.trace.load import run_load
from kproxy_tutor.sandbox.trace.matching import ChainIndex
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.sandbox.trace.tracer import Client

SERVICES = 40  # more than matching.INDEX_THRESHOLD rules in KUBE-SERVICES


def _cluster() -> Cluster:
    cluster = Cluster()
    cluster.add_node(Node("node-a", ("192.168.0.11",)))
    cluster.apply_pod(Pod("default", "client", node_name="node-a"))
    for i in range(SERVICES):
        name = f"svc-{i}"
        cluster.apply_service(Service("bench", name, ports=(service_port(80, "http"),)))
        endpoint = Endpoint((f"10.64.0.{i + 10}",), node_name="node-a")
        cluster.apply_endpoint_slice(
            EndpointSlice(
                "bench", f"{name}-x", name, endpoints=(endpoint,), ports=(EndpointPort("http", 8080),)
            )
        )
    return cluster


def _keys(index: ChainIndex) -> tuple[object, ...]:
    return (index.size, index.by_dst, index.by_dport, index.unkeyed)


def test_index_from_lines_files_rules_as_the_rules_do() -> None:
    proxier = Proxier(_cluster(), "node-a")
    proxier.sync()
    checked = 0
    for table in proxier.kernel.ruleset.tables.values():
        for chain in table.chains.values():
            if not chain.has_lines:
                continue
            lazy = ChainIndex(chain)
            rules = list(chain.rules)
            assert _keys(lazy) == _keys(ChainIndex(Chain(chain.name, chain.policy, rules))), chain.name
            assert [lazy.rule(i).rule for i in range(len(rules))] == rules
            assert lazy.is_current(chain)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    "args",
    [
        "-d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A",
        "-s 10.0.0.0/8 -d 10.96.0.2/32 -j KUBE-SVC-B",
        "! -s 10.0.0.0/8 -d 10.96.0.3/32 -j KUBE-MARK-MASQ",
        "! -d 10.96.0.4/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-C",
        "-d 10.96.0.0/16 -j KUBE-SVC-D",
        "-d fd00::10/128 -p tcp -m tcp --dport 443 -j KUBE-SVC-E",
        "-p udp -m udp --dport 53 -j KUBE-SVC-F",
        '-m comment --comment "-d 10.96.0.5/32" -j KUBE-NODEPORTS',
        "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
    ],
)
def test_index_from_lines_for_each_line_shape(args: str) -> None:
    rules = [rule_from_line(f"-A KUBE-SERVICES {args}")] * 2 + [
        rule_from_line(f"-A KUBE-SERVICES -d 10.96.1.{i}/32 -j KUBE-SVC-{i}") for i in range(20)
    ]
    built = Chain("KUBE-SERVICES", None, rules)
    from_lines = Chain.from_lines("KUBE-SERVICES", None, built.lines(), built.save_lines())
    lazy = ChainIndex(from_lines)
    assert _keys(lazy) == _keys(ChainIndex(built))
    assert [lazy.rule(i).rule for i in range(len(rules))] == rules


def test_a_trace_builds_only_the_rules_it_reaches(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = _cluster()
    session = TraceSession.from_cluster(cluster)
    client = Client("pod", cluster.pods[("default", "client")].pod_ip, "node-a", "default/client")
    built: list[str] = []
    real = structure.rule_from_lines

    def counted(line: str, save: str) -> object:
        built.append(save)
        return real(line, save)

    monkeypatch.setattr(structure, "rule_from_lines", counted)
    monkeypatch.setattr(matching, "rule_from_lines", counted)
    last = cluster.services[("bench", f"svc-{SERVICES - 1}")]
    trace = session.tracer.connect(client, last.cluster_ip, 80)
    assert trace.outcome.endpoint == f"10.64.0.{SERVICES + 9}:8080"
    assert trace.rules_examined > SERVICES  # the kernel still tests every rule before the match
    in_services = [s for s in built if s.startswith("-A KUBE-SERVICES ")]
    assert 0 < len(in_services) <= 2, in_services  # the Service's own rule (and the NodePort jump)


@pytest.mark.parametrize("caller_froze", [False, True])
def test_a_batch_leaves_the_collector_as_it_found_it(caller_froze: bool) -> None:
    cluster = _cluster()
    session = TraceSession.from_cluster(cluster)
    client = Client("pod", cluster.pods[("default", "client")].pod_ip, "node-a", "default/client")
    gc.unfreeze()
    if caller_froze:
        gc.freeze()
    try:
        before = gc.get_freeze_count()
        result = run_load(
            session.tracer, client, cluster.services[("bench", "svc-3")].cluster_ip, 80, "tcp", 50
        )
        assert result.counts == {"10.64.0.13:8080": 50}
        after = gc.get_freeze_count()
        assert (after >= before) if caller_froze else (after == 0)
    finally:
        gc.unfreeze()
