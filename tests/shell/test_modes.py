"""The shell's proxy-mode switch: ``mode``, the nftables and IPVS views, watch diffs and curl in each mode."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from kproxy_tutor.entry import main
from kproxy_tutor.shell.completion import complete
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session

DEPRECATION = "IPVS mode is deprecated since Kubernetes v1.35: use nftables mode instead"
DB_PODS = re.compile(r"delivered to 10\.244\.\d+\.\d+:5432 \(default/database-")


def section(text: str, command: str) -> str:
    """The output of ``command`` in a script transcript (up to the next echoed command)."""
    start = text.index(f"$ {command}\n") + len(command) + 3
    end = text.find("\n$ ", start)
    return text[start : end if end != -1 else len(text)]


def test_nftables_table_has_the_service_chains_and_curl_reaches_a_database_pod(run_shell: Callable) -> None:
    code, text, session = run_shell(
        "mode nftables\nnft list table ip kube-proxy\ncurl db-service:5432 --from web\n", "db-service"
    )
    assert code == 0 and session.mode == "nftables"
    listing = section(text, "nft list table ip kube-proxy")
    assert listing.startswith("table ip kube-proxy {")
    assert re.search(r"chain service-[A-Z0-9]{8}-default/db-service/tcp/ \{", listing)
    assert len(re.findall(r"chain endpoint-[A-Z0-9]{8}-default/db-service/tcp/__10\.244", listing)) == 3
    trace = section(text, "curl db-service:5432 --from web")
    assert DB_PODS.search(trace)
    # The path names the nftables chains, not iptables ones.
    assert "services → service-" in trace and "KUBE-" not in trace


def test_watch_shows_the_switch_removed_kube_chains_and_created_the_table(run_shell: Callable) -> None:
    _code, text, _session = run_shell("watch on\nmode nftables\n", "db-service")
    switch = section(text, "mode nftables")
    assert "  - nat KUBE-SVC-PKJNZ2BPYAP7WCVG (chain deleted)" in switch
    assert len(re.findall(r"  - nat KUBE-SEP-[A-Z0-9]{16} \(chain deleted\)", switch)) == 3
    assert "  - nat KUBE-SERVICES (chain deleted)" in switch
    assert "  + table ip kube-proxy (new table)" in switch
    assert re.search(r"It creates table ip kube-proxy: chains: \d+, sets: 2, maps: 5", switch)
    # And back: the nftables table goes, the KUBE-* chains return.
    _code, text, _session = run_shell("mode nftables\nwatch on\nmode iptables\n", "db-service")
    back = section(text, "mode iptables")
    assert "  - table ip kube-proxy (table deleted)" in back
    assert "  + nat KUBE-SVC-PKJNZ2BPYAP7WCVG (new chain)" in back


def test_without_watch_the_switch_only_says_what_happened(run_shell: Callable) -> None:
    _code, text, _session = run_shell("mode nftables\n", "db-service")
    assert "chain deleted" not in text and "kube-proxy restarted in nftables mode" in text


def test_edits_in_nftables_mode_show_the_nft_diff(run_shell: Callable) -> None:
    _code, text, _session = run_shell(
        "mode nftables\nwatch on\nkubectl scale deployment database --replicas 4\n", "db-service"
    )
    diff = section(text, "kubectl scale deployment database --replicas 4")
    assert "partial sync in nftables mode changed 2 objects" in diff
    assert re.search(
        r"\+ endpoint-[A-Z0-9]{8}-default/db-service/tcp/__10\.244\.0\.6/5432 \(new chain\)", diff
    )
    assert re.search(r"~ service-[A-Z0-9]{8}-default/db-service/tcp/ \(chain rewritten\)", diff)
    assert "+ numgen random mod 4 vmap" in diff and "- numgen random mod 3 vmap" in diff


def test_ipvs_prints_the_deprecation_and_ipvsadm_shows_three_real_servers(run_shell: Callable) -> None:
    _code, text, session = run_shell(
        "mode ipvs\nipvsadm -Ln\ncurl db-service:5432 --from web -n 3 --brief\nipvsadm -Ln\n", "db-service"
    )
    assert DEPRECATION in section(text, "mode ipvs")
    first = section(text, "ipvsadm -Ln")
    lines = first.splitlines()
    head = lines.index("TCP  10.96.0.12:5432 rr")
    reals = [line for line in lines[head + 1 :] if line.startswith("  -> ")]
    assert len(reals) == 3 and all(" Masq    1      0 " in line for line in reals)
    # rr sent one connection to each real server: ActiveConn is 1 everywhere afterwards.
    after = text[text.rindex("$ ipvsadm -Ln\n") :]
    assert after.count(" Masq    1      1 ") == 3
    assert session.mode == "ipvs"


def test_ipvs_mode_views_and_its_iptables_rules(run_shell: Callable) -> None:
    script = "mode ipvs\nip addr show kube-ipvs0\nipset list KUBE-CLUSTER-IP\niptables-save -t nat\n"
    _code, text, _session = run_shell(script, "db-service")
    assert "inet 10.96.0.12/32 scope global kube-ipvs0" in section(text, "ip addr show kube-ipvs0")
    assert "10.96.0.12,tcp:5432" in section(text, "ipset list KUBE-CLUSTER-IP")
    nat = section(text, "iptables-save -t nat")
    # ipvs mode rewrote nat KUBE-SERVICES; iptables mode's service chains stay, nothing jumps to them.
    assert "--match-set KUBE-CLUSTER-IP" in nat and ":KUBE-SVC-PKJNZ2BPYAP7WCVG - [0:0]" in nat
    assert "-j KUBE-SVC-" not in "".join(line for line in nat.splitlines() if not line.startswith("-A KUBE-"))
    # A node that starts in ipvs mode has no iptables-mode chains at all.
    fresh = Session(find_scenario("db-service"), mode="ipvs")
    _code, text, _session = run_shell("iptables-save -t nat\n", session=fresh)
    assert "KUBE-SVC-" not in text


def test_iptables_in_nftables_mode_says_kube_proxy_has_no_rules_there(run_shell: Callable) -> None:
    fresh = Session(find_scenario("db-service"), mode="nftables")
    _code, text, _session = run_shell("iptables-save\niptables -t nat -L -n\n", session=fresh)
    for command in ("iptables-save", "iptables -t nat -L -n"):
        out = section(text, command)
        assert "no KUBE-* rules in iptables" in out and "-A KUBE" not in out


@pytest.mark.parametrize(
    ("command", "needed"),
    [("nft list table ip kube-proxy", "nftables"), ("ipvsadm -Ln", "ipvs"), ("ipset list", "ipvs")],
)
def test_a_command_of_another_mode_says_which_mode_it_belongs_to(
    run_shell: Callable, command: str, needed: str
) -> None:
    code, text, _session = run_shell(command + "\n", "db-service")
    assert code == 4
    assert f"belongs to {needed} mode, but kube-proxy runs in iptables mode here" in text
    assert f"'mode {needed}'" in text


def test_bad_mode_is_an_error_with_the_valid_modes_and_changes_nothing(run_shell: Callable) -> None:
    session = Session(find_scenario("db-service"))
    before = session.snapshot()
    code, text, session = run_shell("mode foo\n", session=session)
    assert code == 4
    assert "choose one of iptables, nftables, ipvs" in text
    assert session.snapshot() == before and session.mode == "iptables"


def test_mode_without_argument_lists_the_three_modes(run_shell: Callable) -> None:
    _code, text, _session = run_shell("mode nftables\nmode\n", "db-service")
    listing = section(text, "mode")
    assert "kube-proxy runs in nftables mode on every node." in listing
    assert re.search(r"^\* nftables ", listing, re.M) and re.search(r"^  iptables ", listing, re.M)
    assert re.search(r"^  ipvs .*deprecated in v1\.35, use nftables", listing, re.M)


def test_the_mode_survives_reset(run_shell: Callable) -> None:
    _code, text, session = run_shell("mode ipvs\nreset\nmode\n", "db-service")
    assert session.mode == "ipvs" and re.search(r"^\* ipvs ", section(text, "mode"), re.M)


def test_back_in_iptables_mode_the_kube_chains_count_from_zero(run_shell: Callable) -> None:
    counted = "curl db-service --from web\niptables-save -c -t nat\n"
    _code, text, _session = run_shell(counted, "db-service")
    assert "[1:60] -A KUBE-SVC-" in section(text, "iptables-save -c -t nat")
    _code, text, session = run_shell(
        counted.replace("\ni", "\nmode nftables\nmode iptables\ni"), "db-service"
    )
    assert session.mode == "iptables"
    assert "[1:60] -A KUBE-" not in section(text, "iptables-save -c -t nat")


def test_completion_knows_the_mode_commands() -> None:
    session = Session(find_scenario("db-service"), mode="ipvs")
    assert complete(session, "mode ")[1] == ["iptables", "ipvs", "nftables"]
    assert complete(session, "nft list ")[1] == ["ruleset", "table"]
    assert complete(session, "nft list table ip ")[1] == ["kube-proxy"]
    assert "KUBE-CLUSTER-IP" in complete(session, "ipset list KUBE-C")[1]
    assert complete(session, "ip addr show ")[1] == ["kube-ipvs0"]


def test_cli_mode_ipvs_warns_and_starts_in_ipvs(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "s.txt"
    script.write_text("ipvsadm -Ln\n", encoding="utf-8")
    code = main(
        ["--lang", "en", "sandbox", "--scenario", "db-service", "--mode", "ipvs", "--script", str(script)]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert DEPRECATION in captured.err
    assert "TCP  10.96.0.12:5432 rr" in captured.out


def test_iptables_to_nftables_leaves_kube_firewall(run_shell: Callable) -> None:
    _code, text, _session = run_shell("watch on\nmode nftables\niptables-save\n", "db-service")
    switch = section(text, "mode nftables")
    # pkg/proxy/iptables/cleanup.go deletes neither KUBE-FIREWALL nor the jumps to it.
    assert "filter KUBE-FIREWALL (chain deleted)" not in switch
    assert "  = filter KUBE-FIREWALL (left behind, nothing updates it)" in switch
    assert "  - filter KUBE-SERVICES (chain deleted)" in switch
    assert "  - filter KUBE-PROXY-CANARY (chain deleted)" in switch
    assert "except filter KUBE-FIREWALL" in switch
    save = section(text, "iptables-save")
    assert "-A INPUT -j KUBE-FIREWALL" in save and "-A OUTPUT -j KUBE-FIREWALL" in save
    assert ":KUBE-SERVICES" not in save and "KUBE-SVC-" not in save
    assert "the iptables cleanup does not delete KUBE-FIREWALL" in save


def test_iptables_to_ipvs_deletes_nothing_and_the_iptables_chains_stay(run_shell: Callable) -> None:
    _code, text, session = run_shell("watch on\nmode ipvs\niptables-save\n", "no-endpoints")
    switch = section(text, "mode ipvs")
    assert "(chain deleted)" not in switch and "It deletes nothing of iptables mode" in switch
    assert "It did not clean up after iptables mode" in switch
    # What ipvs mode declares it rewrites; the rest stays.
    assert "  ~ nat KUBE-SERVICES (chain rewritten)" in switch
    assert "  ~ filter KUBE-PROXY-FIREWALL (chain rewritten, same rules)" in switch
    kept = ("filter KUBE-SERVICES", "filter KUBE-EXTERNAL-SERVICES", "filter KUBE-NODEPORTS")
    kept += ("filter KUBE-FIREWALL", "nat KUBE-NODEPORTS", "mangle KUBE-PROXY-CANARY")
    for chain in kept:
        assert f"  = {chain} (left behind, nothing updates it)" in switch
    assert "Their REJECT rules (1) for Services that had no endpoints keep rejecting" in switch
    save = section(text, "iptables-save")
    assert (
        '-A KUBE-SERVICES -d 10.109.169.61/32 -p tcp -m comment --comment "default/orders has no endpoints"'
        in save
    )
    assert '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals"' in save
    assert "--match-set KUBE-CLUSTER-IP" in save
    # ipvs mode's jumps go in front of the ones iptables mode left.
    inputs = [line for line in save.splitlines() if line.startswith("-A INPUT ")]
    assert "KUBE-IPVS-FILTER" in inputs[0] and "KUBE-EXTERNAL-SERVICES" in inputs[-1]
    assert session.mode == "ipvs"


def test_curl_in_ipvs_mode_warns_about_a_leftover_reject(run_shell: Callable) -> None:
    _code, text, _session = run_shell("mode ipvs\ncurl orders:8080 --from node/worker-1\n", "no-endpoints")
    out = section(text, "curl orders:8080 --from node/worker-1")
    assert "Simplified: this trace follows only the rules ipvs mode maintains" in out
    assert "which OUTPUT still jumps to" in out


def test_ipvs_to_iptables_keeps_the_ipvs_objects(run_shell: Callable) -> None:
    views = "ipvsadm -Ln\nip addr show kube-ipvs0\nipset list KUBE-CLUSTER-IP\niptables-save\n"
    _code, text, session = run_shell("mode ipvs\nwatch on\nmode iptables\n" + views, "db-service")
    switch = section(text, "mode iptables")
    assert "(virtual server deleted)" not in switch and "It deletes nothing of ipvs mode" in switch
    assert "  = TCP  10.96.0.12:5432 rr (left behind)" in switch
    assert "  = kube-ipvs0 (left behind, still holds the Service IPs)" in switch
    for chain in (
        "filter KUBE-IPVS-FILTER",
        "filter KUBE-NODE-PORT",
        "nat KUBE-LOAD-BALANCER",
        "nat KUBE-NODE-PORT",
    ):
        assert f"  = {chain} (left behind, nothing updates it)" in switch
    assert "IPVS's objects stay too" in switch
    ipvsadm = section(text, "ipvsadm -Ln")
    assert "TCP  10.96.0.12:5432 rr" in ipvsadm and "what IPVS mode left on the node" in ipvsadm
    assert "inet 10.96.0.12/32 scope global kube-ipvs0" in section(text, "ip addr show kube-ipvs0")
    assert "10.96.0.12,tcp:5432" in section(text, "ipset list KUBE-CLUSTER-IP")
    save = section(text, "iptables-save")
    assert '-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER' in save
    assert "-A KUBE-SVC-PKJNZ2BPYAP7WCVG" in save
    assert session.mode == "iptables"


def test_nftables_cleans_up_after_ipvs_and_iptables(run_shell: Callable) -> None:
    script = "mode ipvs\nmode iptables\nwatch on\nmode nftables\nmode iptables\nipvsadm -Ln\n"
    code, text, _session = run_shell(script, "db-service", keep_going=True)
    switch = section(text, "mode nftables")
    assert "flushes IPVS" in switch and "  - TCP  10.96.0.12:5432 rr (virtual server deleted)" in switch
    assert "  - kube-ipvs0 (interface deleted)" in switch
    assert "  - filter KUBE-IPVS-FILTER (chain deleted)" in switch
    assert "  - nat KUBE-SVC-PKJNZ2BPYAP7WCVG (chain deleted)" in switch
    back = text[text.rindex("$ mode iptables\n") :]
    assert "  - table ip kube-proxy (table deleted)" in back
    assert "belongs to ipvs mode" in section(text, "ipvsadm -Ln") and code == 4


def test_reset_gives_fresh_nodes_without_leftovers(run_shell: Callable) -> None:
    _code, text, _session = run_shell("mode ipvs\nreset\niptables-save -t nat\n", "db-service")
    assert "KUBE-SVC-" not in section(text, "iptables-save -t nat")
