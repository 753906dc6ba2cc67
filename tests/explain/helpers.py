"""Dumps for the explain tests: compiled per scenario and mode, and the same rules read back from a real kernel."""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.iptables import render_restore, render_save
from kproxy_tutor.sandbox.iptables.fixed import jump_rules
from kproxy_tutor.sandbox.iptables.parse import tokenize
from kproxy_tutor.sandbox.iptables.proxier import Proxier
from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, LOCALHOST_NODEPORT_COUNTER
from kproxy_tutor.sandbox.nftables import NftProxier, render_listing, render_transaction
from tests.modes.helpers import SCENARIOS, load_scenario
from tests.netns import Namespace, network_namespace, unavailable_reason

SCENARIO_PATHS = {p.stem: p for p in SCENARIOS}
IPTABLES_REASON = unavailable_reason()
NFT_REASON = unavailable_reason(("ip", "nft"))
_COUNTERS = re.compile(r"\[\d+:\d+\]")


def scenario(name: str):  # type: ignore[no-untyped-def]
    return load_scenario(SCENARIO_PATHS[name])


def compiled_iptables(name: str):  # type: ignore[no-untyped-def]
    cluster, node = scenario(name)
    proxier = Proxier(cluster, node)
    result = proxier.sync()
    return proxier, result


def compiled_nft(name: str):  # type: ignore[no-untyped-def]
    cluster, node = scenario(name)
    return NftProxier(cluster, node).sync().table


def _prepare(ns: Namespace, name: str) -> None:
    """What kube-proxy does before its first restore: nfacct counters, jump rules, canary chains."""
    cluster, _node = scenario(name)
    if cluster.facts.nfacct:
        if shutil.which("nfacct") is None:
            pytest.skip("nfacct tool missing")
        for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
            ns.run(["nfacct", "add", counter])
    for table, rule in jump_rules():
        ns.run(["iptables", "-w", "-t", table, "-N", rule.target.chain], check=False)  # type: ignore[union-attr]
        ns.run(["iptables", "-w", "-t", table, "-I", rule.chain, "1", *tokenize(rule.spelling or "")])
    if cluster.facts.canary_chains:
        for table in ("mangle", "nat", "filter"):
            ns.run(["iptables", "-w", "-t", table, "-N", "KUBE-PROXY-CANARY"])


@cache
def kernel_iptables_dump(name: str) -> str:
    """iptables-save of a throwaway namespace holding the scenario's compiled rules (counters and dates as the kernel prints)."""
    if IPTABLES_REASON is not None:
        pytest.skip(IPTABLES_REASON)
    _proxier, result = compiled_iptables(name)
    with network_namespace("kpt-explain") as ns:
        _prepare(ns, name)
        ns.run(["iptables-restore", "--noflush"], stdin=render_restore(result.payload))
        return ns.run(["iptables-save", "-c"]).stdout


@cache
def kernel_nft_dump(name: str, ruleset: bool = False) -> str:
    """``nft list table ip kube-proxy`` (or ``nft list ruleset``) of a namespace holding the scenario's table."""
    if NFT_REASON is not None:
        pytest.skip(NFT_REASON)
    table = compiled_nft(name)
    with network_namespace("kpt-explain-nft") as ns:
        ns.run(["nft", "-f", "-"], stdin=render_transaction(table))
        if ruleset:
            return ns.run(["nft", "list", "ruleset"]).stdout
        return ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout


def real_or_rendered_iptables(name: str) -> str:
    """The kernel's dump when this machine can make one, else our rendering (checked equal to it by tests/sandbox)."""
    if IPTABLES_REASON is None:
        return kernel_iptables_dump(name)
    proxier, _result = compiled_iptables(name)
    return render_save(proxier.kernel.ruleset)


def real_or_rendered_nft(name: str) -> str:
    if NFT_REASON is None:
        return kernel_nft_dump(name)
    return render_listing(compiled_nft(name))


GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "explain"


IPVS_REASON = IPTABLES_REASON or (None if shutil.which("ipset") else "the ipset tool is not installed")


def _load_ipvs(ns: Namespace, name: str) -> None:
    from kproxy_tutor.sandbox.ipvs import IpvsProxier
    from kproxy_tutor.sandbox.ipvs.ipsets import IPSET_INFO
    from kproxy_tutor.sandbox.ipvs.iptables import JUMP_CHAINS

    cluster, node = scenario(name)
    state = IpvsProxier(cluster, node).sync()
    assert state.ipsets is not None and state.iptables is not None
    for set_name, kind, _ in IPSET_INFO:
        options = ["range", "0-65535"] if kind == "bitmap:port" else []
        ns.run(["ipset", "create", set_name, kind, *options])
        for member in state.ipsets[set_name].members:
            ns.run(["ipset", "add", set_name, member])
    for table, chain, target, comment in JUMP_CHAINS:
        ns.run(["iptables", "-t", table, "-N", target], check=False)
        ns.run(["iptables", "-t", table, "-I", chain, "-m", "comment", "--comment", comment, "-j", target])
    ns.run(["iptables-restore", "--noflush"], stdin=state.iptables.restore)


@cache
def kernel_mode_switch_dump(name: str, first: str) -> str:
    """iptables-save after kube-proxy ran in ``first`` mode (ipvs or iptables) and then started in the other.

    Between the two iptables-based modes nothing is cleaned up: the second mode's restore only
    flushes the chains it declares, so the first mode's other chains stay (as on a real node).
    """
    if IPVS_REASON is not None:
        pytest.skip(IPVS_REASON)
    _proxier, result = compiled_iptables(name)
    with network_namespace("kpt-explain-switch") as ns:
        if first == "ipvs":
            _load_ipvs(ns, name)
            _prepare(ns, name)
            ns.run(["iptables-restore", "--noflush"], stdin=render_restore(result.payload))
        else:
            _prepare(ns, name)
            ns.run(["iptables-restore", "--noflush"], stdin=render_restore(result.payload))
            _load_ipvs(ns, name)
        return ns.run(["iptables-save"]).stdout


@cache
def kernel_ipvs_report(name: str) -> str:
    """What a learner pastes from an IPVS-mode node: ``ipvsadm -Ln``, then ``ipset list`` and ``iptables-save``
    read back from a namespace holding the scenario's sets and rules. ``ipvsadm -Ln`` is our rendering
    (the virtual servers need the ip_vs module, which a test namespace cannot count on)."""
    if IPVS_REASON is not None:
        pytest.skip(IPVS_REASON)
    from kproxy_tutor.sandbox.modes import compile_mode

    cluster, node = scenario(name)
    ipvsadm = compile_mode(cluster, node, "ipvs").texts["ipvsadm -Ln"]
    with network_namespace("kpt-explain-ipvs") as ns:
        _load_ipvs(ns, name)
        return ipvsadm + ns.run(["ipset", "list"]).stdout + ns.run(["iptables-save"]).stdout
