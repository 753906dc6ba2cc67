"""Lesson 3's dual-stack step: its Service and its iptables-save / ip6tables-save lines are what the
sandbox's two proxiers produce for the db-service cluster made dual-stack (both languages)."""

from __future__ import annotations

import re

import pytest
import yaml

from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import Proxier, render_save

from .dual_stack import DUAL_SERVICE, dual_db_service
from .test_lessons_match_sandbox import block, rule_lines


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_dual_stack_step_matches_both_proxiers(lang: str) -> None:
    service = block("03-how-it-works", "dual-stack", "ipFamilyPolicy: PreferDualStack", lang)
    assert yaml.safe_load(service)["spec"]["ipFamilyPolicy"] == "PreferDualStack"
    assert yaml.safe_load(service) == yaml.safe_load(DUAL_SERVICE)
    cluster = dual_db_service(service)
    assert cluster.services[("default", "db-service")].ip_families == (IPV4, IPV6)
    quoted = block("03-how-it-works", "dual-stack", "ip6tables-save", lang)
    four, six = quoted.split("$ sudo ip6tables-save")
    for family, part, endpoint in ((IPV4, four, r"10\.244\.0\.3:"), (IPV6, six, r"\[fd00:10:244::3\]:")):
        proxier = Proxier(cluster, "worker-2", family=family)
        proxier.sync()
        saved = render_save(proxier.kernel.ruleset, ["nat"]).splitlines()
        # What the lesson's grep keeps, in iptables-save's order.
        pattern = re.compile(rf"^-A KUBE-SERVICES.*db-service|to-destination {endpoint}")
        assert rule_lines(part) == [line for line in saved if pattern.search(line)], family
    # The same KUBE-SVC chain name in both tables, as the text says.
    text = block("03-how-it-works", "dual-stack", "ip6tables-save", lang)
    assert text.count("-j KUBE-SVC-PKJNZ2BPYAP7WCVG") == 2
