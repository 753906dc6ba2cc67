"""Drift: real node dumps edited the way nodes go wrong, each reported with the right cause; a clean dump reports none."""

from __future__ import annotations

import re

import pytest

from kproxy_tutor.explain import compare_with, explain_text
from tests.explain.helpers import (
    kernel_mode_switch_dump,
    real_or_rendered_iptables,
    real_or_rendered_nft,
    scenario,
)

DB = "db-service"
LAST_SEP = "KUBE-SEP-JXRAYYUVZTS5CCUL"  # 10.244.0.5:5432, the third endpoint of db-service
PREFIX = r"(?:\[\d+:\d+\] )?"


def codes(findings) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    return [(f.code, f.service) for f in findings]


def drop_lines(text: str, needle: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if needle not in line)


def add_to_table(text: str, table: str, declarations: list[str], rules: list[str]) -> str:
    """Insert chain declarations and rules into ``*table`` just before its COMMIT."""
    head, star, rest = text.partition(f"*{table}\n")
    assert star, f"no *{table} in the dump"
    body, commit, tail = rest.partition("COMMIT\n")
    lines = body.splitlines(keepends=True)
    first_rule = next((i for i, line in enumerate(lines) if not line.startswith(":")), len(lines))
    lines[first_rule:first_rule] = [d + "\n" for d in declarations]
    return head + star + "".join(lines) + "".join(r + "\n" for r in rules) + commit + tail


def test_clean_dump_reports_nothing() -> None:
    cluster, node = scenario(DB)
    explanation = explain_text(real_or_rendered_iptables(DB), "node")
    assert explanation.findings == []
    assert compare_with(explanation, cluster, node) == []


def test_deleted_endpoint_chain_is_a_missing_endpoint_and_wrong_probabilities() -> None:
    cluster, node = scenario(DB)
    dump = drop_lines(real_or_rendered_iptables(DB), LAST_SEP)
    explanation = explain_text(dump, "node")
    probability = [f for f in explanation.findings if f.code == "probabilities"]
    assert (
        probability and probability[0].param("expected") == "1/2" and probability[0].param("written") == "1/3"
    )
    differences = compare_with(explanation, cluster, node)
    assert ("missing-endpoint", "default/db-service") in codes(differences)
    assert [f.param("endpoint") for f in differences if f.code == "missing-endpoint"] == ["10.244.0.5:5432"]


def test_stale_chains_of_a_deleted_service() -> None:
    cluster, node = scenario(DB)
    svc, sep = "KUBE-SVC-AAAAAAAAAAAAAAAA", "KUBE-SEP-BBBBBBBBBBBBBBBB"
    dump = add_to_table(
        real_or_rendered_iptables(DB),
        "nat",
        [f":{svc} - [0:0]", f":{sep} - [0:0]"],
        [
            f'-A {svc} -m comment --comment "default/old-api:http -> 10.244.9.9:8080" -j {sep}',
            f'-A {sep} -s 10.244.9.9/32 -m comment --comment "default/old-api:http" -j KUBE-MARK-MASQ',
            f'-A {sep} -p tcp -m comment --comment "default/old-api:http" -m tcp -j DNAT --to-destination 10.244.9.9:8080',
        ],
    )
    explanation = explain_text(dump, "node")
    assert codes(explanation.findings) == [("stale-chains", "default/old-api:http")]
    assert svc in explanation.findings[0].param("chains")
    # Compared with the manifests it is not reported a second time.
    assert compare_with(explanation, cluster, node) == []


def test_stale_endpoint_chain_left_behind() -> None:
    sep = "KUBE-SEP-CCCCCCCCCCCCCCCC"
    dump = add_to_table(
        real_or_rendered_iptables(DB),
        "nat",
        [f":{sep} - [0:0]"],
        [
            f'-A {sep} -p tcp -m comment --comment "default/db-service" -m tcp -j DNAT --to-destination 10.244.3.3:5432'
        ],
    )
    explanation = explain_text(dump, "node")
    assert codes(explanation.findings) == [("stale-endpoint-chain", "default/db-service")]
    assert explanation.findings[0].param("chain") == sep


def test_changed_probability() -> None:
    cluster, node = scenario(DB)
    dump = real_or_rendered_iptables(DB).replace("--probability 0.33333333349", "--probability 0.25000000000")
    explanation = explain_text(dump, "node")
    (finding,) = explanation.findings
    assert finding.code == "probabilities"
    assert (finding.param("written"), finding.param("expected"), finding.param("count")) == (
        "1/4",
        "1/3",
        "3",
    )
    shares = [e.share for e in explanation.service_ports[0].endpoints]
    assert [str(s) for s in shares] == ["1/4", "3/8", "3/8"]
    # The endpoints themselves agree with the manifests: only the probability is wrong.
    differences = compare_with(explanation, cluster, node)
    assert codes(differences) == [("rules-differ", "default/db-service")]
    assert (differences[0].param("extra"), differences[0].param("missing")) == ("1", "1")


def test_missing_service() -> None:
    cluster, node = scenario(DB)
    dump = drop_lines(drop_lines(real_or_rendered_iptables(DB), "KUBE-SVC-PKJNZ2BPYAP7WCVG"), "KUBE-SEP-")
    explanation = explain_text(dump, "node")
    assert explanation.service_ports == []
    assert codes(compare_with(explanation, cluster, node)) == [("missing-service", "default/db-service")]


def test_cni_chain_is_left_alone_and_not_a_problem() -> None:
    dump = add_to_table(
        real_or_rendered_iptables(DB),
        "nat",
        [":CNI-HOSTPORT-DNAT - [0:0]"],
        [
            "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
            "-A CNI-HOSTPORT-DNAT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.5:80",
        ],
    )
    explanation = explain_text(dump, "node")
    assert explanation.findings == []
    assert [(c.table, c.chain, c.rules, c.owner) for c in explanation.foreign_chains] == [
        ("nat", "CNI-HOSTPORT-DNAT", 1, "other")
    ]
    assert explanation.foreign_hook_rules == {"nat": 1}


def test_foreign_rule_inside_a_kube_proxy_chain() -> None:
    dump = add_to_table(
        real_or_rendered_iptables(DB), "nat", [], ["-A KUBE-SERVICES -p tcp -m tcp --dport 9999 -j ACCEPT"]
    )
    explanation = explain_text(dump, "node")
    assert codes(explanation.findings) == [("foreign-rules", None)]
    assert explanation.findings[0].param("chain") == "KUBE-SERVICES"
    assert [n.text for n in explanation.unknown] == ["-p tcp -m tcp --dport 9999 -j ACCEPT"]


@pytest.mark.kernel
def test_ipvs_leftovers_after_switching_to_iptables() -> None:
    explanation = explain_text(kernel_mode_switch_dump(DB, "ipvs"), "node")
    assert explanation.mode == "iptables"
    assert [f.code for f in explanation.findings] == ["leftovers"]
    assert explanation.findings[0].param("mode") == "ipvs"
    leftover = {c.chain for c in explanation.foreign_chains if c.owner == "ipvs"}
    assert {"KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-IPVS-FILTER"} <= leftover
    assert explanation.service_ports[0].name == "default/db-service"


@pytest.mark.kernel
def test_iptables_leftovers_after_switching_to_ipvs() -> None:
    explanation = explain_text(kernel_mode_switch_dump(DB, "iptables"), "node")
    assert explanation.mode == "ipvs"
    assert [f.code for f in explanation.findings] == ["leftovers"]
    assert explanation.findings[0].param("mode") == "iptables"
    leftover = {c.chain for c in explanation.foreign_chains if c.owner == "iptables"}
    assert "KUBE-SVC-PKJNZ2BPYAP7WCVG" in leftover and "KUBE-EXTERNAL-SERVICES" in leftover


def test_nft_clean_and_edited() -> None:
    cluster, node = scenario(DB)
    listing = real_or_rendered_nft(DB)
    clean = explain_text(listing, "node")
    assert clean.findings == [] and compare_with(clean, cluster, node) == []
    # One endpoint chain dropped from the numgen map, the map still says mod 3.
    edited = re.sub(r", 2 : goto endpoint-[^ ,}]+", "", listing, count=1)
    assert edited != listing
    explanation = explain_text(edited, "node")
    # The dropped chain is still there, but nothing leads to it any more.
    assert sorted(f.code for f in explanation.findings) == ["probabilities", "stale-endpoint-chain"]
    assert ("missing-endpoint", "default/db-service") in codes(compare_with(explanation, cluster, node))


def test_nft_stale_service_chain() -> None:
    listing = real_or_rendered_nft(DB)
    stale = "\tchain service-ZZZZZZZZ-default/old-api/tcp/http {\n\t\tnumgen random mod 1 vmap { 0 : goto endpoint-YYYYYYYY-default/old-api/tcp/http__10.244.9.9/8080 }\n\t}\n"
    stale += "\tchain endpoint-YYYYYYYY-default/old-api/tcp/http__10.244.9.9/8080 {\n\t\tmeta l4proto tcp dnat to 10.244.9.9:8080\n\t}\n"
    edited = listing.replace("\tchain services {", stale + "\tchain services {")
    explanation = explain_text(edited, "node")
    assert codes(explanation.findings) == [("stale-chains", "default/old-api:http")]


def test_older_nftables_layout_is_read_and_named() -> None:
    listing = real_or_rendered_nft(DB)
    older = listing.replace("chain filter-prerouting-pre-dnat {", "chain filter-prerouting {")
    assert older != listing
    explanation = explain_text(older, "node")
    assert explanation.versions == [("filter-prerouting", "older")]
    assert explanation.service_ports[0].name == "default/db-service"
    assert explanation.unknown == []


def test_newer_nftables_layout_without_mark_chain_is_named() -> None:
    listing = real_or_rendered_nft(DB)
    start = listing.index("\tchain mark-for-masquerade {")
    end = listing.index("\t}\n", start) + 3
    explanation = explain_text(listing[:start] + listing[end:], "node")
    assert ("mark-for-masquerade", "newer") in explanation.versions


def test_older_iptables_chain_is_named() -> None:
    dump = add_to_table(
        real_or_rendered_iptables(DB),
        "nat",
        [":KUBE-XLB-AAAAAAAAAAAAAAAA - [0:0]"],
        ['-A KUBE-XLB-AAAAAAAAAAAAAAAA -m comment --comment "default/old:http" -j KUBE-MARK-MASQ'],
    )
    explanation = explain_text(dump, "node")
    assert explanation.versions == [("KUBE-XLB-*", "older")]
    assert [(c.chain, c.owner) for c in explanation.foreign_chains] == [
        ("KUBE-XLB-AAAAAAAAAAAAAAAA", "older")
    ]
