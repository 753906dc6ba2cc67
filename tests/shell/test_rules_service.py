"""``kproxy-tutor rules --service`` in every mode: the Service's part, or a clear refusal for views shared by all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kproxy_tutor.entry import main

SCENARIO = str(
    Path(__file__).resolve().parents[2] / "kproxy_tutor" / "shell" / "scenarios" / "nodeport-web.yaml"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", "rules", "-f", SCENARIO, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_nftables_shows_only_the_services_chains_and_elements(capsys: pytest.CaptureFixture[str]) -> None:
    code, whole, _ = run(capsys, "--mode", "nftables")
    code, part, _ = run(capsys, "--mode", "nftables", "--service", "default/web")
    assert code == 0
    assert "chain service-" in part and "default/web/" in part
    assert "cluster-ips-check" in whole and "cluster-ips-check" not in part
    for line in part.splitlines():
        if line.strip().startswith("chain "):
            assert "default/web/" in line


def test_ipvs_shows_only_the_services_virtual_servers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--mode", "ipvs", "--service", "web")
    assert code == 0 and "TCP  " in out
    code, out, _ = run(capsys, "--mode", "ipvs", "--service", "web", "--format", "kube-ipvs0")
    assert code == 0 and "inet " in out


def test_views_shared_by_all_services_refuse_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--mode", "ipvs", "--service", "web", "--format", "ipset")
    assert code == 2 and "--format ipvsadm" in err


def test_a_misspelt_service_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--mode", "nftables", "--service", "wbe")
    assert code == 2 and "Did you mean 'default/web'?" in err
