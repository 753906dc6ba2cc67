"""A trace over a parsed ``iptables-save`` dump equals the trace over the compiled structure; unknown rule shapes on the path are errors."""

from __future__ import annotations

import pytest

from kproxy_tutor.sandbox.iptables.render import render_save, save_line
from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset
from kproxy_tutor.sandbox.netfilter import UnsupportedRuleError
from kproxy_tutor.sandbox.packet import Trace
from kproxy_tutor.sandbox.trace.session import TraceSession

from .conftest import make_lab

CASES = [
    ("clusterip-multi", "client", "web", None),
    ("clusterip-multi", "worker-1", "web", None),
    ("nodeport", "203.0.113.9", "worker-1:30080", None),
    ("etp-local", "203.0.113.9", "control-plane:30081", None),
    ("loadbalancer-source-ranges", "203.0.113.9", "198.51.100.10:443", "worker-1"),
    ("no-endpoints", "client", "ghost", None),
    ("session-affinity", "client", "shop/cart", None),
]


def _shape(trace: Trace) -> list[tuple[object, ...]]:
    return [
        (
            s.kind,
            s.node,
            s.direction,
            s.hook,
            s.table,
            s.chain,
            save_line(s.rule) if s.rule else None,
            s.rule_number,
            s.examined,
            s.packet,
            dict(s.detail),
        )
        for s in trace.steps
    ]


@pytest.mark.parametrize(("scenario", "source", "target", "node"), CASES)
def test_parsed_dump_traces_like_the_compiled_rules(
    scenario: str, source: str, target: str, node: str | None
) -> None:
    compiled = make_lab(scenario, seed=21)
    compiled_rules = {
        name: compiled.session.tracer.network.node(name).rules() for name in compiled.cluster.nodes
    }
    parsed_rules = {name: parse_ruleset(render_save(rules)) for name, rules in compiled_rules.items()}
    for name in compiled_rules:
        assert parsed_rules[name] is not compiled_rules[name]
    parsed = TraceSession.from_cluster(make_lab(scenario).cluster, seed=21, rules=parsed_rules)
    for _ in range(5):
        a = compiled.session.curl(source, target, node=node)
        b = parsed.curl(source, target, node=node)
        assert a.outcome == b.outcome
        assert a.rules_examined == b.rules_examined
        assert _shape(a) == _shape(b)


def test_dump_mode_needs_only_the_node_addresses() -> None:
    lab = make_lab("nodeport", seed=5)
    dump = render_save(lab.session.tracer.network.node("worker-1").rules())
    session = TraceSession.from_dump(parse_ruleset(dump), ("192.168.0.11",), "worker-1", seed=5)
    endpoints = {session.curl("203.0.113.9", "192.168.0.11:30080").outcome.endpoint for _ in range(30)}
    assert endpoints == {"10.244.1.7:8080", "10.244.2.9:8080"}
    # Without its own address the node does not know the NodePort is local: addrtype LOCAL fails.
    blind = TraceSession.from_dump(parse_ruleset(dump), ("192.168.0.99",), "worker-1", seed=5)
    assert blind.curl("203.0.113.9", "192.168.0.11:30080").outcome.kind == "not_service"


DUMP = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CUSTOM - [0:0]
-A PREROUTING -d 10.0.0.1/32 -m set --match-set blocked src -j DROP
-A PREROUTING -d 10.0.0.2/32 -p tcp -m tcp --dport 80 -j CUSTOM
-A CUSTOM -j DNAT --to-destination 10.1.1.1:8080
COMMIT
"""


def test_unknown_match_on_the_path_names_the_rule() -> None:
    session = TraceSession.from_dump(parse_ruleset(DUMP), ("192.168.0.5",), seed=1)
    with pytest.raises(UnsupportedRuleError) as caught:
        session.curl("203.0.113.9", "10.0.0.1:80")
    error = caught.value
    assert "-A PREROUTING -d 10.0.0.1/32 -m set --match-set blocked src -j DROP" in str(error)
    assert error.location == "nat PREROUTING #1"


def test_unknown_match_off_the_path_is_harmless() -> None:
    # -d 10.0.0.1 fails first for this packet, so the kernel never evaluates the set match.
    session = TraceSession.from_dump(parse_ruleset(DUMP), ("192.168.0.5",), seed=1)
    trace = session.curl("203.0.113.9", "10.0.0.2:80")
    assert trace.outcome.kind == "delivered" and trace.outcome.endpoint == "10.1.1.1:8080"


def test_unknown_target_on_the_path_names_the_rule() -> None:
    dump = DUMP.replace("-A CUSTOM -j DNAT --to-destination 10.1.1.1:8080", "-A CUSTOM -j TPROXY --on-port 9")
    session = TraceSession.from_dump(parse_ruleset(dump), ("192.168.0.5",), seed=1)
    with pytest.raises(UnsupportedRuleError, match="TPROXY --on-port 9"):
        session.curl("203.0.113.9", "10.0.0.2:80")


def test_jump_to_a_missing_chain_is_an_error() -> None:
    from kproxy_tutor.sandbox.iptables.rules import Jump, Rule

    ruleset = parse_ruleset(DUMP)
    ruleset.tables["nat"].chains["CUSTOM"].rules.insert(0, Rule("CUSTOM", target=Jump("NOWHERE")))
    session = TraceSession.from_dump(ruleset, ("192.168.0.5",), seed=1)
    with pytest.raises(UnsupportedRuleError, match="NOWHERE"):
        session.curl("203.0.113.9", "10.0.0.2:80")
