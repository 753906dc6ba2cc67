"""Shell completion of ``--family`` on ``rules`` (ipv4, ipv6, both) and ``trace`` (ipv4, ipv6), like ``--mode``."""

from __future__ import annotations

from kproxy_tutor.completion_values import rules_families, trace_families
from tests.shell.test_cli_names import complete


def test_family_values_follow_what_each_command_accepts() -> None:
    assert rules_families() == ["ipv4", "ipv6", "both"]
    assert rules_families("ipv") == ["ipv4", "ipv6"]
    assert trace_families() == ["ipv4", "ipv6"]
    assert trace_families("b") == []


def test_installed_completion_offers_the_families() -> None:
    # One subprocess per command (each starts the program).
    assert complete("kproxy-tutor rules --family ") == ["ipv4", "ipv6", "both"]
    assert complete("kproxy-tutor trace --family ipv") == ["ipv4", "ipv6"]
