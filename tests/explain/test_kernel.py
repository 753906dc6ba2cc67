"""Dumps the real kernel prints (rules loaded into a throwaway namespace) are explained exactly as the compiled structure."""

from __future__ import annotations

import pytest

from kproxy_tutor.explain import compare_with, explain_structure, explain_text
from kproxy_tutor.explain.checks import check
from kproxy_tutor.explain.export import to_data
from tests.explain.helpers import (
    SCENARIO_PATHS,
    compiled_iptables,
    compiled_nft,
    kernel_iptables_dump,
    kernel_nft_dump,
    scenario,
)

pytestmark = pytest.mark.kernel
NAMES = sorted(SCENARIO_PATHS)


@pytest.mark.parametrize("name", NAMES)
def test_iptables_kernel_dump_explained_as_compiled(name: str) -> None:
    dump = kernel_iptables_dump(name)
    proxier, _result = compiled_iptables(name)
    compiled = explain_structure(proxier.kernel.ruleset, "iptables-save")
    compiled.findings = check(compiled)
    from_kernel = explain_text(dump, "kernel")
    assert to_data(from_kernel) == to_data(compiled)
    assert from_kernel.mode == "iptables"
    assert from_kernel.unknown == [] and from_kernel.unreadable == []
    cluster, node = scenario(name)
    assert compare_with(from_kernel, cluster, node) == []


@pytest.mark.parametrize("name", NAMES)
def test_nft_kernel_dump_explained_as_compiled(name: str) -> None:
    dump = kernel_nft_dump(name)
    compiled = explain_structure([compiled_nft(name)], "nft list")
    compiled.findings = check(compiled)
    from_kernel = explain_text(dump, "kernel")
    assert to_data(from_kernel) == to_data(compiled)
    assert from_kernel.mode == "nftables"
    assert from_kernel.unknown == [] and from_kernel.unreadable == []
    cluster, node = scenario(name)
    assert compare_with(from_kernel, cluster, node) == []


def test_nft_list_ruleset_is_read_too() -> None:
    name = "etp-local"
    from_ruleset = explain_text(kernel_nft_dump(name, ruleset=True), "kernel")
    from_table = explain_text(kernel_nft_dump(name), "kernel")
    assert from_ruleset.service_ports == from_table.service_ports
