"""What a learner prints on a dual-stack node: both proxiers' tables (nft, ipvsadm, ipset, ip6tables) and watch diffs.

kube-proxy runs an IPv4 and an IPv6 proxier on a node with addresses of both families; the
tools list what both wrote (one nftables table per family, one IPVS table for both), and an
IPv4-only node shows what it did before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.families import IPV6
from kproxy_tutor.sandbox.iptables import Proxier, render_save
from kproxy_tutor.shell.completion import complete
from kproxy_tutor.shell.session import Session

from .test_modes import section

DUAL = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "dual-stack.yaml"


def _dual() -> Session:
    session = Session()
    session.restart(session.load_start(DUAL.read_text(encoding="utf-8"), "dual-stack.yaml"))
    return session


def test_nft_list_ruleset_lists_the_ip_table_then_the_ip6_table(run_shell: Callable) -> None:
    script = "mode nftables\nnft list ruleset\nnft list table ip kube-proxy\nnft list table ip6 kube-proxy\n"
    code, text, _session = run_shell(script, session=_dual())
    assert code == 0, text
    ruleset = section(text, "nft list ruleset")
    ip, ip6 = section(text, "nft list table ip kube-proxy"), section(text, "nft list table ip6 kube-proxy")
    assert re.findall(r"^table .*\{$", ruleset, re.M) == ["table ip kube-proxy {", "table ip6 kube-proxy {"]
    assert ruleset == f"{ip}\n{ip6}".rstrip("\n")
    assert "fd00:10:96::ecf2 . tcp . 80 : goto service-" in ip6 and "fd00:" not in ip


def test_an_ipv4_only_node_lists_one_table_and_refuses_ip6(run_shell: Callable) -> None:
    _code, text, _session = run_shell(
        "mode nftables\nnft list ruleset\nnft list table ip kube-proxy\nnft list table ip6 kube-proxy\n",
        "db-service",
        keep_going=True,
    )
    assert section(text, "nft list ruleset") == section(text, "nft list table ip kube-proxy")
    assert "There is no table ip6 kube-proxy on" in section(text, "nft list table ip6 kube-proxy")


def test_ipvsadm_ipset_and_ip_addr_show_both_families(run_shell: Callable) -> None:
    session = _dual()
    script = "mode ipvs\nipvsadm -Ln\nipset list\nipset list KUBE-6-CLUSTER-IP\nip addr show kube-ipvs0\n"
    code, text, _session = run_shell(script, session=session)
    assert code == 0, text
    servers = re.findall(r"^(?:TCP|UDP|SCTP) +(\S+)", section(text, "ipvsadm -Ln"), re.M)
    assert "[fd00:10:96::ecf2]:80" in servers and "10.111.253.166:80" in servers
    # ipvsadm's order: address family first (AF_INET before AF_INET6), so every IPv4 server comes first.
    families = [s.startswith("[") for s in servers]
    assert families == sorted(families) and 0 < families.count(True) < len(families)
    assert "TCP  [fd00:10:96::ecf2]:80 rr persistent 10800" in text
    names = re.findall(r"^Name: (\S+)", section(text, "ipset list"), re.M)
    assert names.index("KUBE-CLUSTER-IP") < names.index("KUBE-6-CLUSTER-IP")
    one = section(text, "ipset list KUBE-6-CLUSTER-IP")
    assert "family inet6" in one and "fd00:10:96::ecf2,tcp:80" in one
    assert "inet6 fd00:10:96::ecf2/128" in section(text, "ip addr show kube-ipvs0")
    assert "KUBE-6-CLUSTER-IP" in complete(session, "ipset list KUBE-6-C")[1]
    # ActiveConn counts IPv6 connections too (web has ClientIP affinity: all three go to one Pod).
    _code, text, _session = run_shell("curl -6 web:80 -n 3 --brief\nipvsadm -Ln\n", session=session)
    listing = section(text, "ipvsadm -Ln")
    server = listing[listing.index("TCP  [fd00:10:96::ecf2]:80") :].split("\nTCP")[0]
    assert sorted(int(n) for n in re.findall(r"Masq +1 +(\d+)", server)) == [0, 3]


@pytest.mark.parametrize("mode", ["iptables", "ipvs"])
def test_ip6tables_save_prints_the_ipv6_proxiers_rules(run_shell: Callable, mode: str) -> None:
    session = _dual()
    script = f"mode {mode}\nip6tables-save\nip6tables-save -t nat\nip6tables -t nat -L KUBE-SERVICES -n\n"
    code, text, _session = run_shell(script, session=session)
    assert code == 0, text
    full = section(text, "ip6tables-save")
    if mode == "iptables":
        proxier = Proxier(session.cluster, "worker-1", family=IPV6)
        proxier.sync()
        assert f"{full}\n" == render_save(proxier.kernel.ruleset)
        assert "fd00:10:96::ecf2/128" in full
    else:
        assert "-m set --match-set KUBE-6-CLUSTER-IP dst,dst" in full
    assert not re.search(r"(?<![\w:.])10\.(96|244)\.", full)
    assert section(text, "ip6tables-save -t nat").startswith("*nat\n")
    assert "*filter" not in section(text, "ip6tables-save -t nat")
    assert re.search(
        r"fd00:10:96::ecf2|KUBE-6-CLUSTER-IP", section(text, "ip6tables -t nat -L KUBE-SERVICES -n")
    )


def test_ip6tables_follows_edits_and_completes_ipv6_chains(run_shell: Callable) -> None:
    session = _dual()
    before = set(re.findall(r"KUBE-SEP-\w+", render_save(session.ip6tables_rules())))
    code, text, _session = run_shell(
        "kubectl scale deployment web --replicas 3\nip6tables-save -t nat\n", session=session
    )
    assert code == 0, text
    after = set(re.findall(r"KUBE-SEP-\w+", section(text, "ip6tables-save -t nat")))
    assert len(after - before) == 3  # web, lb and only6 each got the new Pod's IPv6 endpoint
    chains = complete(session, "ip6tables -t nat -L KUBE-SEP-")[1]
    assert set(chains) == after and not set(chains) & set(
        complete(session, "iptables -t nat -L KUBE-SEP-")[1]
    )


def test_ip6tables_on_an_ipv4_only_node_and_in_nftables_mode(run_shell: Callable) -> None:
    script = "ip6tables-save\nip6tables -t nat -L -n\nip6tables -t nat\nmode nftables\nip6tables-save\n"
    _code, text, _session = run_shell(script, "db-service", keep_going=True)
    assert "$ ip6tables-save\n$ ip6tables -t nat -L -n\n" in text  # no IPv6 proxier, so no IPv6 rules
    assert re.findall(r"^Chain (\S+)", section(text, "ip6tables -t nat -L -n"), re.M) == [
        "PREROUTING",
        "INPUT",
        "OUTPUT",
        "POSTROUTING",
    ]
    assert "Say what ip6tables should do" in section(text, "ip6tables -t nat")
    _code, text, _session = run_shell("mode nftables\nip6tables-save\n", session=_dual())
    assert "no KUBE-* rules in ip6tables" in section(text, "ip6tables-save")


@pytest.mark.parametrize(
    ("mode", "ipv6_change"),
    [
        ("iptables", r"\+ nat KUBE-SEP-\w+ \(new chain\)"),
        ("nftables", r"\+ endpoint-\w+-default/only6/udp/__fd00\.10\.244\.\.3/8080 \(new chain\)"),
        ("ipvs", r"~ UDP  \[fd00:10:96::7549\]:8080 rr \(real servers changed\)"),
    ],
)
def test_watch_shows_each_proxiers_changes_under_its_family(
    run_shell: Callable, mode: str, ipv6_change: str
) -> None:
    script = f"mode {mode}\nwatch on\nkubectl scale deployment web --replicas 3\n"
    code, text, _session = run_shell(script, session=_dual())
    assert code == 0, text
    report = section(text, "kubectl scale deployment web --replicas 3")
    ipv4, _, ipv6 = report.partition("IPv6 proxier:\n")
    assert "IPv4 proxier:\n" in ipv4 and ipv6
    assert "10.244.0.3" in ipv4 and "fd00:" not in ipv4.split("IPv4 proxier:")[1]
    assert re.search(ipv6_change, ipv6) and not re.search(r"(?<![\w:.])10\.244\.", ipv6)
    # An IPv4-only node has one proxier: no family headings.
    _code, single, _session = run_shell(
        f"mode {mode}\nwatch on\nkubectl scale deployment database --replicas 4\n", "db-service"
    )
    assert "proxier:" not in single


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_dual_stack_screens_fit_40_columns_without_splitting_words(
    lang: str, language: Callable[[str], None]
) -> None:
    import io

    from rich.cells import cell_len
    from rich.console import Console

    from kproxy_tutor.ui.shell_repl import run_script
    from kproxy_tutor.ui.shell_view import ShellView
    from tests.shell.test_width import terminal, words

    language(lang)
    script = (
        "mode ipvs\nwatch on\nkubectl scale deployment web --replicas 3\nipvsadm -Ln\nhelp ip6tables-save\n"
    )
    runs = []
    for make in (lambda b: terminal(b, 40), lambda b: Console(file=b, width=1000, color_system=None)):
        buffer = io.StringIO()
        console = make(buffer)
        run_script(_dual(), script.splitlines(), ShellView(console, console), keep_going=True)
        runs.append(buffer.getvalue())
    wrapped, plain = runs
    assert "IPv6" in wrapped and not [line for line in wrapped.splitlines() if cell_len(line) > 40]
    assert words(wrapped) == words(plain)
