"""nftables mode: goldens per scenario, transcriptions of upstream expectations, names, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from kproxy_tutor.sandbox.nftables import NftProxier, render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.names import hash_and_truncate
from kproxy_tutor.sandbox.nftables.parse import parse_listing, parse_transaction
from kproxy_tutor.sandbox.nftables.parse_rule import NftParseError, parse_rule
from kproxy_tutor.sandbox.nftables.render import priority_text, timeout_text
from tests.modes.helpers import DATA, GOLDEN, SCENARIOS, load_scenario, transaction_shape

NFT_GOLDEN = GOLDEN / "nftables"


def compile_scenario(path: Path) -> NftProxier:
    cluster, node = load_scenario(path)
    proxier = NftProxier(cluster, node)
    proxier.sync()
    return proxier


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_transaction_golden(path: Path, update_goldens: bool) -> None:
    from tests.modes.helpers import check_golden

    cluster, node = load_scenario(path)
    result = NftProxier(cluster, node).sync()
    table = result.table
    check_golden(NFT_GOLDEN / f"{path.stem}.txt", render_transaction(table), update_goldens)
    check_golden(NFT_GOLDEN / f"{path.stem}.sync.txt", "".join(result.transactions()), update_goldens)
    check_golden(NFT_GOLDEN / f"{path.stem}.list.txt", render_listing(table), update_goldens)


@pytest.mark.parametrize(
    ("expected", "scenario"),
    [
        ("upstream-overall.expected.txt", Path("tests/scenarios/upstream-overall.yaml")),
        ("upstream-startup.expected.txt", DATA / "upstream-startup.yaml"),
    ],
)
def test_matches_upstream_expectation(expected: str, scenario: Path) -> None:
    path = scenario if scenario.is_absolute() else Path(__file__).resolve().parents[2] / scenario
    ours = render_transaction(compile_scenario(path).table)
    want = (NFT_GOLDEN / "upstream-base.expected.txt").read_text() + (NFT_GOLDEN / expected).read_text()
    assert transaction_shape(ours) == transaction_shape(want)


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("testing/service/tcp/http", "P4ZYZVCF"),
        ("ns1/svc1/tcp/p80", "ULMVA6XW"),
        ("ns1/svc1/tcp/p80__10.180.0.1/80", "5OJB2KTY"),
        ("default/db-service/tcp/", "MDRHYNDA"),
    ],
)
def test_chain_name_hash(name: str, hashed: str) -> None:
    assert hash_and_truncate(name) == f"{hashed}-{name}"


def test_long_names_are_truncated_to_240() -> None:
    name = "n" * 63 + "/" + "s" * 63 + "/tcp/" + "p" * 63 + "__" + "2001.db8." * 5 + "/65535"
    out = hash_and_truncate(name)
    assert len(out) == 240 and out.endswith("...")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_round_trip(path: Path) -> None:
    table = compile_scenario(path).table
    tx, listing = render_transaction(table), render_listing(table)
    from_tx, from_list = parse_transaction(tx), parse_listing(listing)
    assert render_transaction(from_tx) == tx
    assert render_listing(from_list) == listing
    assert from_tx.canonical() == from_list.canonical() == table.canonical()
    # The transaction in kube-proxy's order (with its flush and delete commands) builds the same table.
    (ordered,) = NftProxier(*load_scenario(path)).sync().transactions()
    from_ordered = parse_transaction(ordered)
    assert from_ordered.canonical() == table.canonical()
    assert render_listing(from_ordered) == listing


def test_listing_spellings() -> None:
    assert priority_text("prerouting", -110) == "dstnat - 10"
    assert priority_text("output", -110) == "-110"
    assert priority_text("postrouting", 100) == "srcnat"
    assert priority_text("forward", 0) == "filter"
    assert timeout_text(10800) == "3h" and timeout_text(600) == "10m" and timeout_text(90061) == "1d1h1m1s"
    rule = parse_rule("mark and 0x00004000 == 0 return")
    assert rule.listing() == "meta mark & 0x00004000 == 0x00000000 return"
    assert parse_rule(rule.listing()) == rule


def test_unknown_rule_shape_is_an_error_naming_the_rule() -> None:
    with pytest.raises(NftParseError) as error:
        parse_rule("tcp flags syn limit rate 10/second accept", "dump:3")
    assert error.value.params["rule"].startswith("tcp flags syn")
    assert error.value.location == "dump:3"


def test_partial_sync_rebuilds_only_changed_services() -> None:
    proxier = compile_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "clusterip-multi.yaml")
    before = dict(proxier.table.chains)
    proxier.cluster.apply_deployment(
        __import__("dataclasses").replace(proxier.cluster.deployments[("default", "web")], replicas=4)
    )
    result = proxier.sync()
    assert result.updated_services == {("default", "web")}
    assert len(result.table.chains) == len(before) + 1
