"""Parsing rendered text gives back the same structure; real dumps from a node (foreign chains, counters) parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.iptables import parse_payload, parse_ruleset, render_restore, render_save
from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    CommentMatch,
    Dnat,
    Jump,
    MarkMatch,
    MarkTarget,
    Masquerade,
    NfacctMatch,
    OpaqueMatch,
    OpaqueTarget,
    PortMatch,
    RecentMatch,
    Reject,
    StatisticMatch,
)

from .helpers import SCENARIO_NAMES, load_scenario

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_restore_round_trip(name: str) -> None:
    payload = load_scenario(name).result.payload
    text = render_restore(payload)
    parsed = parse_payload(text)
    assert parsed == payload
    assert render_restore(parsed) == text


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_save_round_trip(name: str) -> None:
    ruleset = load_scenario(name).proxier.kernel.ruleset
    text = render_save(ruleset)
    parsed = parse_ruleset(text)
    assert parsed == ruleset
    assert render_save(parsed) == text


def test_restore_and_save_read_back_to_the_same_rules() -> None:
    """kube-proxy's spelling and iptables-save's canonical form are the same kernel rules."""
    scenario = load_scenario("upstream-overall")
    from_restore = parse_ruleset(render_restore(scenario.result.payload))
    from_save = parse_ruleset(render_save(scenario.proxier.kernel.ruleset))
    for table in ("filter", "nat"):
        user_chains = {n: c for n, c in from_restore.tables[table].chains.items() if not c.builtin}
        assert len(user_chains) > 4
        for name, chain in user_chains.items():
            assert chain.rules == from_save.tables[table].chains[name].rules, name


def test_typed_fields_of_kube_proxy_rules() -> None:
    scenario = load_scenario("upstream-overall")
    nat = scenario.proxier.kernel.ruleset.tables["nat"]
    masq = nat.chains["KUBE-SVC-XPGD46QRK7WJZT7O"].rules[0]
    assert masq.source == AddressMatch.parse("10.0.0.0/8", negated=True)
    assert masq.destination == AddressMatch.parse("172.30.0.41/32")
    assert masq.protocol is not None and masq.protocol.protocol == "tcp"
    assert masq.matches == (CommentMatch("ns1/svc1:p80 cluster IP"), PortMatch("tcp", masq.matches[1].dport))
    assert masq.matches[1].dport is not None and masq.matches[1].dport.contains(80)
    assert masq.target == Jump("KUBE-MARK-MASQ")
    affinity = nat.chains["KUBE-SVC-NUKIZ6OKUXPJNT4C"].rules[1]
    assert affinity.matches[1] == RecentMatch(
        name="KUBE-SEP-I77PXRDZVX7PMWMN", command="rcheck", seconds=10800, reap=True
    )
    dnat = nat.chains["KUBE-SEP-I77PXRDZVX7PMWMN"].rules[1]
    assert dnat.target == Dnat("10.180.0.3:80")
    assert RecentMatch(name="KUBE-SEP-I77PXRDZVX7PMWMN", command="set") in dnat.matches
    assert nat.chains["KUBE-MARK-MASQ"].rules[0].target == MarkTarget(0x4000, 0x4000)
    assert MarkTarget.or_mark(0x4000).apply(0x1) == 0x4001
    assert MarkTarget.xor_mark(0x4000).apply(0x4001) == 0x1
    postrouting = nat.chains["KUBE-POSTROUTING"].rules
    assert postrouting[0].matches == (MarkMatch(0x4000, 0x4000, negated=True),)
    assert postrouting[2].target == Masquerade(random_fully=False)
    nodeport = nat.chains["KUBE-NODEPORTS"].rules[0]
    assert NfacctMatch("localhost_nps_accepted_pkts") in nodeport.matches
    filter_services = scenario.proxier.kernel.ruleset.tables["filter"].chains["KUBE-SERVICES"].rules
    assert filter_services[0].target == Reject("icmp-port-unreachable")


def test_probabilities_as_kube_proxy_writes_and_the_kernel_stores_them() -> None:
    scenario = load_scenario("clusterip-multi")
    restore = render_restore(scenario.result.payload)
    save = render_save(scenario.proxier.kernel.ruleset)
    assert "--probability 0.3333333333 " in restore and "--probability 0.5000000000 " in restore
    assert "--probability 0.33333333349 " in save and "--probability 0.50000000000 " in save
    stats = [
        m
        for r in scenario.proxier.kernel.ruleset.tables["nat"].chains.values()
        for rule in r.rules
        for m in rule.matches
        if isinstance(m, StatisticMatch)
    ]
    assert sorted(m.probability for m in stats) == [715827883, 1073741824]


def test_real_mark_spelling_in_the_restore_payload() -> None:
    restore = render_restore(load_scenario("db-service").result.payload)
    assert "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n" in restore
    assert "-m mark ! --mark 0x00004000/0x00004000 -j RETURN" in restore
    assert "-j MASQUERADE --random-fully\n" in restore


def test_foreign_dump_parses_with_counters_and_opaque_parts() -> None:
    text = (DATA / "foreign-node.save.txt").read_text()
    ruleset = parse_ruleset(text)
    assert set(ruleset.tables) == {"raw", "filter", "nat"}
    filter_table = ruleset.tables["filter"]
    assert filter_table.chains["FORWARD"].policy == "DROP"
    assert filter_table.chains["INPUT"].counters == (96, 12404)
    assert filter_table.chains["INPUT"].rules[0].counters == (4, 240)
    cali = filter_table.chains["cali-FORWARD"].rules
    assert OpaqueMatch("multiport", ("--dports", "22,6443")) in cali[2].matches
    assert cali[3].matches[0] == OpaqueMatch("set", ("--match-set", "cali40masq-ipam-pools", "src"))
    assert cali[3].comment == 'cali:quoted "text" here'
    assert cali[3].target == OpaqueTarget("LOG", ("--log-prefix", "calico-drop: ", "--log-level", "4"))
    tcpmss = filter_table.chains["cali-from-hep-forward"].rules[1]
    assert isinstance(tcpmss.matches[0], PortMatch) and tcpmss.matches[0].extra == (
        "--tcp-flags",
        "SYN,RST",
        "SYN",
    )
    assert render_save(ruleset, counters=True).count("[0:0] -A") > 10
    # Reading our rendering of the foreign dump again gives the same rules.
    assert parse_ruleset(render_save(ruleset, counters=True)) == ruleset


@pytest.mark.parametrize(
    "text",
    [
        "-A KUBE-SERVICES -j ACCEPT\n",
        '*nat\n-A KUBE-SERVICES -m comment --comment "unterminated\nCOMMIT\n',
        "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -s not-an-ip -j ACCEPT\nCOMMIT\n",
        "*nat\n:X - [0:0]\n-A X -j\nCOMMIT\n",
        "*nat\n:X - [0:0]\n-A X --bogus 1 -j ACCEPT\nCOMMIT\n",
        "*nat\n:X - [0:0]\n",
    ],
)
def test_malformed_rules_are_input_errors(text: str) -> None:
    with pytest.raises(SandboxInputError):
        parse_ruleset(text)
