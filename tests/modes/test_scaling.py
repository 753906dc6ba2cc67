"""The scaling lab: rule counts against the reference formula, rules examined by mode, and the command in both languages."""

from __future__ import annotations

from functools import cache

import pytest

from kproxy_tutor.entry import main
from kproxy_tutor.sandbox.iptables import Proxier
from kproxy_tutor.sandbox.scaling import (
    NODE,
    ScalePoint,
    build_cluster,
    fixed_rule_count,
    measure,
    nat_walk,
    sample_services,
    service_ip,
)

ENDPOINTS = 3


@cache
def points() -> tuple[ScalePoint, ...]:
    return tuple(measure((10, 100), ENDPOINTS, seed=1))


def test_iptables_rules_grow_by_2_plus_3e_per_service() -> None:
    small, big = points()
    per_service = 2 + 3 * ENDPOINTS  # reference §4.1: KUBE-SERVICES, masquerade, E statistic jumps, 2 per SEP
    assert big.modes["iptables"].rules - small.modes["iptables"].rules == 90 * per_service
    assert fixed_rule_count(small) == fixed_rule_count(big) > 0


def test_nat_rules_per_service_match_the_formula_exactly() -> None:
    """Count the nat rules that name one Service, so the check does not lean on the totals above."""
    proxier = Proxier(build_cluster(4, ENDPOINTS), NODE)
    proxier.sync()
    nat = proxier.kernel.ruleset.tables["nat"]
    own = [r for c in nat.chains.values() for r in c.rules if (r.comment or "").startswith("ns-2/svc-2:http")]
    assert len(own) == 2 + 3 * ENDPOINTS


def test_ipvs_iptables_rules_stay_constant_while_its_sets_grow() -> None:
    small, big = points()
    assert small.modes["ipvs"].rules == big.modes["ipvs"].rules
    assert big.modes["ipvs"].elements > 9 * small.modes["ipvs"].elements
    assert small.modes["ipvs"].lookups == 1


def test_nftables_worst_case_does_not_grow_but_iptables_does() -> None:
    small, big = points()
    assert big.modes["nftables"].examined_worst == small.modes["nftables"].examined_worst
    assert big.modes["ipvs"].examined_worst == small.modes["ipvs"].examined_worst
    assert big.modes["iptables"].examined_worst > small.modes["iptables"].examined_worst + 50
    assert big.modes["iptables"].examined_avg > big.modes["nftables"].examined_avg


def test_tracer_and_fallback_walk_agree_on_the_nat_table() -> None:
    """The fallback walk (used without the tracer) counts what the tracer counts in nat for the worst endpoint draw."""
    from kproxy_tutor.sandbox.packet import SourceKind
    from kproxy_tutor.sandbox.scaling import CLIENT_POD
    from kproxy_tutor.sandbox.trace.network import Network, NodeNetwork
    from kproxy_tutor.sandbox.trace.tracer import Client, Tracer

    proxier = Proxier(build_cluster(30, 1), NODE)  # one endpoint: no random draw, so both walks are exact
    proxier.sync()
    ruleset = proxier.kernel.ruleset
    import ipaddress

    tracer = Tracer(
        Network([NodeNetwork(NODE, ("192.168.0.10",), lambda: ruleset, ipaddress.IPv4Network("10.0.0.0/24"))])
    )
    client = Client(SourceKind.POD, CLIENT_POD, NODE, "default/client")
    for i in (0, 7, 29):
        trace = tracer.connect(client, service_ip(i), 80, record=False, reply=False)
        assert trace.examined_by_table["nat"] == nat_walk(ruleset, service_ip(i), 80)


def test_sample_always_has_both_ends() -> None:
    picked = sample_services(1000, seed=3, size=5)
    assert 0 in picked and 999 in picked and len(picked) <= 7


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("plain", [False, True])
def test_command_runs(lang: str, plain: bool, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--lang",
        lang,
        *(["--plain"] if plain else []),
        "scale-lab",
        "--sizes",
        "10,30",
        "--endpoints",
        "2",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "iptables" in out and "nftables" in out and "ipvs" in out
    assert "KUBE-SERVICES" in out and "O(n)" in out
    if lang == "ru":
        assert "Service'ов" in out
    if plain:
        assert "█" not in out and "#" in out


def test_bad_sizes_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "scale-lab", "--sizes", "ten"]) != 0
    assert "--sizes" in capsys.readouterr().err
