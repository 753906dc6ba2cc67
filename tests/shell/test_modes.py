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
        r"\+ endpoint-[A-Z0-9]{8}-default/db-service/tcp/__10\.244\.2\.3/5432 \(new chain\)", diff
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
    assert "--match-set KUBE-CLUSTER-IP" in nat and "KUBE-SVC-" not in nat


def test_iptables_in_nftables_mode_says_kube_proxy_has_no_rules_there(run_shell: Callable) -> None:
    _code, text, _session = run_shell("mode nftables\niptables-save\niptables -t nat -L -n\n", "db-service")
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
