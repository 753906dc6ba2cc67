"""IPVS mode against ipvsadm 1.31's sources, the real ipset tool, and kube-proxy v1.35's ipvs.* settings."""

from __future__ import annotations

import re

import pytest

from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.ipvs import IpvsProxier, RealServer, VirtualServer, render_ipvsadm
from kproxy_tutor.sandbox.ipvs.ipsets import BITMAP_PORT, render_ipset_list, set_memory_size
from kproxy_tutor.sandbox.ipvs.proxier import IpvsState
from kproxy_tutor.sandbox.ipvs.render import cmp_services, glibc_sort
from kproxy_tutor.sandbox.ipvs.schedulers import SchedulerState, pick
from kproxy_tutor.sandbox.manifests import load_paths, load_texts
from kproxy_tutor.sandbox.modes import compile_mode
from kproxy_tutor.sandbox.nftables.proxier import NftProxier
from tests.modes.helpers import NODE_N1, TESTS, endpoint_slice, load_scenario
from tests.netns import network_namespace, unavailable_reason

_IPSET = unavailable_reason(("ip", "ipset", "iptables-restore"))


def _vs(protocol: str, address: str, port: int) -> VirtualServer:
    return VirtualServer(protocol, address, port, real_servers=[RealServer("10.244.0.5", 80)])


def _order(state_servers: list[VirtualServer]) -> list[str]:
    text = render_ipvsadm(IpvsState(state_servers, []))
    return [line for line in text.splitlines()[3:] if not line.startswith("  ->")]


def test_ipvsadm_sorts_by_protocol_number_then_address_as_libipvs_compares() -> None:
    servers = [
        _vs("UDP", "10.96.0.10", 53),
        _vs("SCTP", "10.96.0.30", 9999),
        _vs("TCP", "10.96.0.10", 53),
        _vs("TCP", "192.168.0.2", 30080),
        _vs("TCP", "10.96.0.1", 443),
        _vs("TCP", "10.96.0.10", 9153),
        _vs("TCP", "172.18.0.2", 30080),
    ]
    # ipvs_cmp_services: TCP (6) < UDP (17) < SCTP (132); addresses by `ntohl(a) - ntohl(b)` read
    # as a signed int, so 172.18.0.2 and 192.168.0.2 (more than 2^31 above 10.x) sort first.
    assert _order(servers) == [
        "TCP  172.18.0.2:30080 rr",
        "TCP  192.168.0.2:30080 rr",
        "TCP  10.96.0.1:443 rr",
        "TCP  10.96.0.10:53 rr",
        "TCP  10.96.0.10:9153 rr",
        "UDP  10.96.0.10:53 rr",
        "SCTP 10.96.0.30:9999 rr",
    ]


def test_a_circular_address_comparison_ends_as_glibc_qsort_leaves_it() -> None:
    # Expected orders printed by glibc 2.36's qsort with the libipvs comparison (a C program
    # sorting entries as large as ipvsadm's; 300 random inputs agreed with glibc_sort).
    # 1.x < 96.x < 192.x but 192.x < 1.x, so the result depends on the input order.
    servers = [_vs("TCP", a, 80) for a in ("192.0.0.1", "1.0.0.1", "96.0.0.1")]
    assert [v.address for v in glibc_sort(servers, cmp_services)] == ["192.0.0.1", "1.0.0.1", "96.0.0.1"]
    given = [
        ("UDP", "10.96.0.1", 443), ("TCP", "10.96.0.10", 30080), ("TCP", "172.18.0.2", 53),
        ("TCP", "196.6.149.69", 443), ("SCTP", "32.111.92.102", 443), ("TCP", "42.158.186.12", 443),
        ("TCP", "192.0.0.1", 80), ("UDP", "192.168.0.2", 80), ("UDP", "1.0.0.1", 53),
        ("SCTP", "192.168.0.2", 30080), ("TCP", "10.96.0.1", 30080),
    ]  # fmt: skip
    glibc = [
        ("TCP", "172.18.0.2", 53), ("TCP", "192.0.0.1", 80), ("TCP", "196.6.149.69", 443),
        ("TCP", "10.96.0.1", 30080), ("TCP", "10.96.0.10", 30080), ("TCP", "42.158.186.12", 443),
        ("UDP", "192.168.0.2", 80), ("UDP", "1.0.0.1", 53), ("UDP", "10.96.0.1", 443),
        ("SCTP", "192.168.0.2", 30080), ("SCTP", "32.111.92.102", 443),
    ]  # fmt: skip
    ordered = glibc_sort([_vs(*g) for g in given], cmp_services)
    assert [(v.protocol, v.address, v.port) for v in ordered] == glibc


NODE = (
    NODE_N1
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  clusterIP: 10.96.0.20
  externalIPs: [203.0.113.9]
  ports: [{name: http, port: 80, protocol: TCP}]
"""
    + endpoint_slice("web", ["10.244.0.5", "10.244.0.6"], 8080)
)


def _cluster(config: str = ""):  # type: ignore[no-untyped-def]
    head = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n" + config + "---\n"
    return load_texts([((head if config else "") + NODE, "cluster.yaml")]).cluster


def test_ipvs_scheduler_comes_from_the_configuration() -> None:
    state = IpvsProxier(_cluster("ipvs: {scheduler: lc}\n"), "n1").sync()
    assert {vs.scheduler for vs in state.virtual_servers} == {"lc"}
    assert "TCP  10.96.0.20:80 lc" in render_ipvsadm(state)
    assert "TCP  10.96.0.20:80 rr" in render_ipvsadm(IpvsProxier(_cluster(), "n1").sync())
    mh = render_ipvsadm(IpvsProxier(_cluster("ipvs: {scheduler: mh}\n"), "n1").sync())
    assert "TCP  10.96.0.20:80 mh (mh-port)" in mh


def test_unknown_scheduler_is_refused_as_kube_proxy_fails_at_startup() -> None:
    with pytest.raises(SandboxInputError) as raised:
        _cluster("ipvs: {scheduler: fastest}\n")
    assert "fastest" in str(raised.value) and "startup" in str(raised.value)


def test_a_kernel_scheduler_the_tutor_does_not_simulate_is_shown_but_not_traced() -> None:
    cluster = _cluster("ipvs: {scheduler: lblc}\n")
    compiled = compile_mode(cluster, "n1", "ipvs", traffic=True)
    assert "TCP  10.96.0.20:80 lblc" in compiled.texts["ipvsadm -Ln"]
    vs = next(v for v in compiled.state.virtual_servers if v.address == "10.96.0.20")
    with pytest.raises(SandboxInputError) as raised:
        pick(vs, SchedulerState(), "10.244.0.9", 40000)
    assert "lblc" in str(raised.value)


def test_fo_and_ovf_pick_as_the_kernel_does() -> None:
    servers = [RealServer("10.244.0.5", 80), RealServer("10.244.0.6", 80)]
    fo = VirtualServer("TCP", "10.96.0.20", 80, "fo", real_servers=servers)
    assert [pick(fo, SchedulerState(), "c", 1).address for _ in range(3)] == ["10.244.0.5"] * 3
    ovf = VirtualServer("TCP", "10.96.0.20", 80, "ovf", real_servers=servers)
    servers[0].active = 2  # more active connections than its weight (1): overflow to the next
    assert pick(ovf, SchedulerState(), "c", 1).address == "10.244.0.6"


def test_strict_arp_is_two_sysctls_not_a_rule() -> None:
    plain = IpvsProxier(_cluster("ipvs: {strictARP: false}\n"), "n1").sync()
    strict = IpvsProxier(_cluster("ipvs: {strictARP: true}\n"), "n1").sync()
    assert ("net.ipv4.conf.all.arp_ignore", 1) not in plain.sysctls
    assert strict.sysctls[-2:] == (("net.ipv4.conf.all.arp_ignore", 1), ("net.ipv4.conf.all.arp_announce", 2))
    assert strict.iptables.restore == plain.iptables.restore
    texts = compile_mode(_cluster("ipvs: {strictARP: true}\n"), "n1", "ipvs").texts
    assert "net.ipv4.conf.all.arp_announce = 2" in texts["sysctl"]


def test_exclude_cidrs_keep_a_gone_virtual_server_that_cleanup_would_delete() -> None:
    for config, kept in (("", False), ("ipvs: {excludeCIDRs: [203.0.113.0/24]}\n", True)):
        cluster = _cluster(config)
        proxier = IpvsProxier(cluster, "n1")
        proxier.sync()
        service = cluster.services[("ns", "web")]
        cluster.apply_service(type(service)(**{**_fields(service), "external_ips": ()}))
        state = proxier.sync()
        addresses = {vs.address for vs in state.virtual_servers}
        assert ("203.0.113.9" in addresses) is kept
        # The address leaves kube-ipvs0 all the same: no Service uses it any more.
        assert "203.0.113.9" not in state.bound_addresses
        assert "10.96.0.20" in addresses


def _fields(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}  # type: ignore[attr-defined]


def test_each_mode_reads_its_own_sync_periods() -> None:
    config = (
        "iptables: {syncPeriod: 1m, minSyncPeriod: 2s}\n"
        "nftables: {syncPeriod: 45s, minSyncPeriod: 500ms}\n"
        "ipvs: {syncPeriod: 1m30s}\n"
    )
    cluster = _cluster(config)
    nft = NftProxier(cluster, "n1")
    assert (nft.sync_period, nft.min_sync_period) == (45.0, 0.5)
    ipvs = IpvsProxier(cluster, "n1")
    assert (ipvs.sync_period, ipvs.min_sync_period) == (90.0, 0.0)
    from kproxy_tutor.sandbox.iptables import Proxier

    iptables = Proxier(cluster, "n1")
    assert (iptables.sync_period, iptables.min_sync_period) == (60.0, 2.0)
    defaults = _cluster("mode: nftables\n").config
    assert [defaults.sync_periods(m) for m in ("iptables", "nftables", "ipvs")] == [(30, 1), (30, 1), (30, 0)]
    with pytest.raises(SandboxInputError, match=r"nftables\.minSyncPeriod"):
        _cluster("nftables: {minSyncPeriod: soon}\n")


_FIELDS = ("Name", "Type", "Revision", "Header", "References", "Number of entries")


def _blocks(text: str) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for block in text.strip().split("\n\n"):
        head, _, members = block.partition("Members:")
        fields = dict(line.split(": ", 1) for line in head.strip().splitlines())
        fields["Header"] = re.sub(r"initval 0x[0-9a-f]+", "initval X", fields["Header"])
        fields["Members"] = sorted(members.split())
        out[fields["Name"]] = fields
    return out


@pytest.mark.kernel
@pytest.mark.skipif(_IPSET is not None, reason=_IPSET or "")
@pytest.mark.parametrize("family", [IPV4, IPV6])
def test_real_ipset_lists_our_sets_with_the_same_values(family: str) -> None:
    if family == IPV4:
        cluster, node = load_scenario(TESTS / "scenarios" / "loadbalancer-source-ranges.yaml")
    else:
        cluster, node = load_paths([str(TESTS / "sandbox" / "data" / "dual-stack.yaml")]).cluster, "worker-1"
    state = IpvsProxier(cluster, node, family=family).sync()
    assert state.ipsets is not None and state.iptables is not None
    assert any(s.members for s in state.ipsets.values())
    ours = _blocks(render_ipset_list(state.ipsets, state.iptables.references()))
    commands = []
    for s in state.ipsets.values():
        options = (
            "range 0-65535" if s.set_type == BITMAP_PORT else f"family {s.family} hashsize 1024 maxelem 65536"
        )
        commands.append(f"create {s.name} {s.set_type} {options}")
        commands += [f"add {s.name} {member}" for member in s.sorted_members()]
    # -m ipvs needs the kernel's ip_vs module, which a test machine may lack (ip6tables refuses the
    # rule then): such rules are left out, and the sets they reference count them less.
    lines = state.iptables.restore.splitlines(keepends=True)
    left_out = [line for line in lines if " -m ipvs " in line]
    with network_namespace(f"kpt-ipset{family[-1]}") as ns:
        ns.run(["ipset", "restore"], stdin="\n".join(commands) + "\n")
        restore = "".join(line for line in lines if line not in left_out)
        ns.run(["iptables-restore" if family == IPV4 else "ip6tables-restore"], stdin=restore)
        real = _blocks(ns.run(["ipset", "list"]).stdout)
    assert list(real) == list(ours)
    by_name = {s.name: s for s in state.ipsets.values()}
    for name, fields in ours.items():
        missing = sum(f"--match-set {name} " in line for line in left_out)
        fields["References"] = str(int(str(fields["References"])) - missing)
        assert {k: real[name][k] for k in (*_FIELDS, "Members")} == {
            k: fields[k] for k in (*_FIELDS, "Members")
        }
        size, real_size = int(str(fields["Size in memory"])), int(str(real[name]["Size in memory"]))
        # Exact unless the kernel's random initval put two entries in one bucket (then it is less).
        ipset = by_name[name]
        assert real_size == size if ipset.set_type == BITMAP_PORT else real_size <= size
        empty = type(ipset)(name, ipset.set_type, "", family=ipset.family)
        assert real_size >= set_memory_size(empty)


def _ipvs_unavailable() -> str | None:
    reason = unavailable_reason(("ip", "ipvsadm"))
    if reason is not None:
        return reason
    with network_namespace("kpt-ipvs-probe") as ns:
        probe = ns.run(["ipvsadm", "-Ln"], check=False)
    if probe.returncode != 0:
        return f"ipvsadm cannot reach IPVS (the ip_vs module is not loaded): {probe.stderr.strip()}"
    return None


_IPVS = _ipvs_unavailable()
_FLAGS = {"TCP": "-t", "UDP": "-u", "SCTP": "--sctp-service"}


@pytest.mark.kernel
@pytest.mark.skipif(_IPVS is not None, reason=_IPVS or "")
def test_real_ipvsadm_lists_our_virtual_servers_as_we_render_them() -> None:
    cluster, node = load_scenario(TESTS / "scenarios" / "multiport-protocols.yaml")
    state = IpvsProxier(cluster, node).sync()
    with network_namespace("kpt-ipvs") as ns:
        for vs in state.virtual_servers:
            service = [_FLAGS[vs.protocol], f"{vs.address}:{vs.port}"]
            extra = ["-p", str(vs.persistent)] if vs.persistent is not None else []
            ns.run(["ipvsadm", "-A", *service, "-s", vs.scheduler, *extra])
            for rs in vs.real_servers:
                ns.run(
                    ["ipvsadm", "-a", *service, "-r", f"{rs.address}:{rs.port}", "-m", "-w", str(rs.weight)]
                )
        listed = ns.run(["ipvsadm", "-Ln"]).stdout
    assert listed.splitlines()[1:] == render_ipvsadm(state).splitlines()[1:]
