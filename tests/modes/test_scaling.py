"""The scaling lab: rule counts against the reference formula, rules examined by mode, and the command in both languages."""

from __future__ import annotations

import re
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
DURATION = re.compile(r"\d[\s\u00a0](?:ms|мс|s|с)\b")


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
        "--no-kernel",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "iptables" in out and "nftables" in out and "ipvs" in out
    assert "KUBE-SERVICES" in out and "O(n)" in out
    assert not DURATION.search(out)  # nothing timed without --kernel
    if lang == "ru":
        assert "Service'ов" in out
    if plain:
        assert "█" not in out and "#" in out


def test_bad_sizes_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "scale-lab", "--sizes", "ten"]) != 0
    assert "--sizes" in capsys.readouterr().err


# Every figure is computed from the compiled rules ----------------------------------------------
SMALL, SMALL_E = 12, 2


@cache
def small_point() -> ScalePoint:
    return measure((SMALL,), SMALL_E, seed=0)[0]


def test_iptables_sync_figures_are_the_restore_payloads() -> None:
    from kproxy_tutor.sandbox.iptables import render_restore
    from kproxy_tutor.sandbox.scaling import add_one_endpoint

    cluster = build_cluster(SMALL, SMALL_E)
    proxier = Proxier(cluster, NODE)
    full = render_restore(proxier.sync().payload)
    ruleset = proxier.kernel.ruleset
    figures = small_point().modes["iptables"]
    assert figures.rules == sum(len(c.rules) for t in ruleset.tables.values() for c in t.chains.values())
    assert (figures.full.lines, figures.full.bytes) == (full.count("\n"), len(full.encode()))
    add_one_endpoint(cluster, SMALL, SMALL_E)
    partial = render_restore(proxier.sync().payload)
    assert (figures.partial.lines, figures.partial.bytes) == (partial.count("\n"), len(partial.encode()))
    # Replaced: every rule now in a chain the partial payload declares (a declared chain is flushed).
    declared: dict[str, set[str]] = {}
    table = ""
    for line in partial.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            declared.setdefault(table, set()).add(line[1:].split()[0])
    after = proxier.kernel.ruleset
    assert figures.partial.replaced == sum(
        len(after.tables[t].chains[c].rules) for t, chains in declared.items() for c in chains
    )
    # The partial sync still writes one KUBE-SERVICES rule per Service, plus the changed Service's chains.
    assert sum(1 for line in partial.splitlines() if line.startswith("-A KUBE-SERVICES ")) == SMALL + 1
    assert figures.partial.lines < figures.full.lines


def test_nftables_sync_figures_are_its_transactions() -> None:
    from kproxy_tutor.sandbox.nftables import NftProxier
    from kproxy_tutor.sandbox.scaling import add_one_endpoint, changed_service

    cluster = build_cluster(SMALL, SMALL_E)
    proxier = NftProxier(cluster, NODE)
    table = proxier.sync().table
    figures = small_point().modes["nftables"]
    assert (figures.rules, figures.elements) == (table.rule_count, table.element_count)
    # add table; add + flush per chain and per set/map; one line per rule and element
    expected_full = 1 + 2 * len(table.chains) + 2 * len(table.sets) + table.rule_count + table.element_count
    assert figures.full.lines == expected_full
    add_one_endpoint(cluster, SMALL, SMALL_E)
    after = proxier.sync().table
    i = changed_service(SMALL)
    own = [c for name, c in after.chains.items() if f"-ns-{i % 50}/svc-{i}/" in name]
    assert len(own) == 1 + SMALL_E + 1  # the service chain and one chain per endpoint, the new one included
    # Only that Service's chains (add, flush, rules); the maps still point at the same service chain.
    assert figures.partial.lines == sum(2 + len(c.rules) for c in own)
    assert figures.partial.replaced == sum(1 + len(c.rules) for c in own)


def test_ipvs_sync_figures_are_its_operations() -> None:
    from kproxy_tutor.sandbox.ipvs import IpvsProxier
    from kproxy_tutor.sandbox.scaling import add_one_endpoint

    cluster = build_cluster(SMALL, SMALL_E)
    proxier = IpvsProxier(cluster, NODE)
    state = proxier.sync()
    assert state.iptables is not None and state.ipsets is not None
    restore = state.iptables.restore.count("\n")
    servers = state.virtual_servers
    objects = (
        len(state.bound_addresses)
        + len(servers)
        + sum(len(v.real_servers) for v in servers)
        + sum(len(s.members) for s in state.ipsets.values())
    )
    figures = small_point().modes["ipvs"]
    assert figures.full.lines == restore + objects
    add_one_endpoint(cluster, SMALL, SMALL_E)
    after = proxier.sync()
    assert after.ipsets is not None
    new_members = sum(len(s.members) for s in after.ipsets.values()) - sum(
        len(s.members) for s in state.ipsets.values()
    )
    assert figures.partial.lines == restore + 1 + new_members  # one real server, maybe a hairpin entry


def test_no_figure_times_this_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """The computed figures hold counts only: no field is a duration, and no clock is read to get them."""
    import dataclasses
    import time

    from kproxy_tutor.sandbox.scaling import ModeFigures, SyncFigures

    for cls in (ModeFigures, SyncFigures, ScalePoint):
        for f in dataclasses.fields(cls):
            assert not any(word in f.name for word in ("second", "time", "duration", "ms")), f.name

    def no_clock() -> float:
        raise AssertionError("the scaling lab read a clock")

    monkeypatch.setattr(time, "perf_counter", no_clock)
    monkeypatch.setattr(time, "monotonic", no_clock)
    monkeypatch.setattr(time, "time", no_clock)
    assert measure((5,), 1)[0].modes["iptables"].rules > 0


# Measured figures are labelled, and measured only in throwaway namespaces ------------------------
def _fake_report():  # type: ignore[no-untyped-def]
    from kproxy_tutor.lab.loadtime import KernelReport, LoadTime, Skipped

    return KernelReport(
        versions={
            "kernel": "6.1.0",
            "iptables": "iptables-restore v1.8.9 (nf_tables)",
            "nftables": "nftables v1.0.6",
        },
        times=[LoadTime("iptables", 100, 0.05, 0.01), LoadTime("nftables", 100, 0.04, 0.005)],
        skipped=[
            Skipped("nftables", "not measured: {tool} failed: {problem}", {"tool": "nft", "problem": "boom"})
        ],
    )


def _render(points: list[ScalePoint], report: object, width: int, lang: str) -> str:
    import io

    from rich.console import Console

    from kproxy_tutor import i18n
    from kproxy_tutor.ui.scale_view import render

    before = i18n.current_language()
    i18n.set_language(lang)
    try:
        buffer = io.StringIO()
        render(points, report, Console(file=buffer, width=width, color_system=None, force_terminal=False))
        return buffer.getvalue()
    finally:
        i18n.set_language(before)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_only_measured_figures_are_durations_and_they_name_the_machine_and_tool(lang: str) -> None:
    out = _render(list(points()), _fake_report(), 120, lang)
    lines = out.splitlines()
    label = "Измерено на этой машине" if lang == "ru" else "Measured on this machine"
    start = next(i for i, line in enumerate(lines) if label in line)
    assert "iptables-restore v1.8.9 (nf_tables)" in " ".join(lines[start : start + 3])
    timed = [i for i, line in enumerate(lines) if DURATION.search(line)]
    assert timed and all(start <= i <= start + 8 for i in timed)
    assert ("boom" in out) and ("не измерено" in out if lang == "ru" else "not measured" in out)
    unmeasured = _render(list(points()), None, 80, lang)
    assert "--no-kernel" in unmeasured and not DURATION.search(unmeasured)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("width", [40, 80, 120])
def test_fits_the_terminal_without_ellipsis(lang: str, width: int) -> None:
    out = _render(list(points()), _fake_report(), width, lang)
    assert "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= width
    for word in ("KUBE-SERVICES", "iptables-restore", "nftables"):
        assert word in out  # never split across lines
    from kproxy_tutor import i18n
    from kproxy_tutor.ui.scale_view import milliseconds, num

    before = i18n.current_language()
    i18n.set_language(lang)
    try:
        for point in points():
            for f in point.modes.values():
                for value in (f.rules, f.full.lines, f.partial.lines, f.full.replaced, f.examined_worst):
                    assert num(value) in out  # a grouped number is never split
        assert milliseconds(0.04) in out and milliseconds(0.005) in out
    finally:
        i18n.set_language(before)


def _can_measure() -> bool:
    import shutil

    from kproxy_tutor.lab.loadtime import environment_problem

    return environment_problem() is None and all(shutil.which(t) for t in ("iptables-restore", "nft"))


@pytest.mark.skipif(not _can_measure(), reason="needs Linux, root, ip, iptables-restore and nft")
def test_kernel_load_times_are_measured_in_namespaces_that_are_removed() -> None:
    from kproxy_tutor.lab.loadtime import leftover_namespaces, measure_load_times

    report = measure_load_times((100,), endpoints=2, repeats=1)
    assert {t.mode for t in report.times} == {"iptables", "nftables"}, report.skipped
    assert all(t.full_seconds > 0 and t.partial_seconds >= 0 for t in report.times)
    assert report.versions["iptables"].startswith("iptables-restore") and "nftables" in report.versions
    assert leftover_namespaces() == []


@pytest.mark.skipif(not _can_measure(), reason="needs Linux, root, ip, iptables-restore and nft")
def test_a_failing_load_is_skipped_with_its_reason_and_leaves_no_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kproxy_tutor.lab import loadtime

    monkeypatch.setattr(
        loadtime,
        "_inputs",
        lambda services, endpoints: {
            "iptables": ("*nat\n-A NOPE -j X\nCOMMIT\n", ""),
            "nftables": ("nonsense\n", ""),
        },
    )
    report = loadtime.measure_load_times((100,), endpoints=1, repeats=1)
    assert report.times == []
    assert {s.mode for s in report.skipped} == {"iptables", "nftables"}
    assert all(s.params["problem"] for s in report.skipped)
    assert loadtime.leftover_namespaces() == []


def test_without_root_nothing_is_measured_and_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from kproxy_tutor.lab import loadtime

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(loadtime, "run", lambda *a, **k: pytest.fail("no command may run without root"))
    report = loadtime.measure_load_times((100,), endpoints=1)
    assert report.times == [] and [s.mode for s in report.skipped] == ["all"]
    assert "root" in report.skipped[0].reason
