"""IPVS-mode kube-proxy on one sandbox node: virtual servers, kube-ipvs0, ipsets, and the connections curl opened.

IPVS mode is deprecated since Kubernetes v1.35 (nftables mode replaces it); the shell still
shows it because many clusters run it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4
from kproxy_tutor.sandbox.ipvs import IpvsProxier, IpvsState, VirtualServer, render_ip_addr, render_ipvsadm
from kproxy_tutor.sandbox.ipvs.ipsets import render_ipset_list
from kproxy_tutor.sandbox.packet import StepKind, Trace
from kproxy_tutor.sandbox.trace.network import Network
from kproxy_tutor.shell.backends import kube_chains
from kproxy_tutor.shell.output import ModeChange, Note

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.trace.ipvs_flow import IpvsEvaluator

#: (protocol, virtual address, virtual port, real address, real port)
ConnectionKey = tuple[str, str, int, str, int]


def server_name(vs: VirtualServer) -> str:
    """How ``ipvsadm -Ln`` heads a virtual server."""
    address = f"[{vs.address}]" if ":" in vs.address else vs.address
    return f"{vs.protocol:<4} {address}:{vs.port} {vs.scheduler}"  # ipvsadm prints the protocol %-4s


def _reals(vs: VirtualServer) -> list[str]:
    return [
        f"-> [{rs.address}]:{rs.port}" if ":" in rs.address else f"-> {rs.address}:{rs.port}"
        for rs in vs.real_servers
    ]


def _bound(ip: str) -> str:
    return f"kube-ipvs0 {ip}/128" if ":" in ip else f"kube-ipvs0 {ip}/32"


def ipvs_changes(old: IpvsState | None, new: IpvsState) -> list[ModeChange]:
    """Virtual servers (with their real servers) and kube-ipvs0 addresses added or removed."""
    changes: list[ModeChange] = []
    before = {vs.key: vs for vs in old.virtual_servers} if old is not None else {}
    after = {vs.key: vs for vs in new.virtual_servers}
    for key, vs in after.items():
        previous = before.get(key)
        if previous is None:
            changes.append(ModeChange("added", "virtual server", server_name(vs), tuple(_reals(vs))))
            continue
        old_reals, new_reals = _reals(previous), _reals(vs)
        added = tuple(r for r in new_reals if r not in old_reals)
        removed = tuple(r for r in old_reals if r not in new_reals)
        if added or removed or previous.scheduler != vs.scheduler or previous.persistent != vs.persistent:
            changes.append(ModeChange("rewritten", "virtual server", server_name(vs), added, removed))
    changes += [
        ModeChange("removed", "virtual server", server_name(vs)) for k, vs in before.items() if k not in after
    ]
    old_ips = old.bound_addresses if old is not None else []
    changes += [ModeChange("added", "address", _bound(ip)) for ip in new.bound_addresses if ip not in old_ips]
    changes += [
        ModeChange("removed", "address", _bound(ip)) for ip in old_ips if ip not in new.bound_addresses
    ]
    return changes


class IpvsBackend:
    """IPVS-mode kube-proxy on one node."""

    mode = "ipvs"

    def __init__(self, cluster: Cluster, node: str, family: str = IPV4) -> None:
        self.cluster = cluster
        self.node = node
        self.family = family
        self.proxier = IpvsProxier(cluster, node, family=family)
        self.state: IpvsState | None = None
        #: Connections curl opened through this node's virtual servers (what ActiveConn counts).
        self.connections: dict[ConnectionKey, int] = {}
        #: Grows whenever the virtual servers or the Pods' places change: a walker made before is out of date.
        self.generation = 0

    def restart(self) -> None:
        """kube-proxy starts again: virtual servers, addresses and their counters are gone."""
        self.state = None
        self.connections.clear()
        self.generation += 1

    def sync(self) -> tuple[list[ModeChange], bool]:
        state = self.proxier.sync()
        changes = ipvs_changes(self.state, state)
        self.state = state
        self._apply_connections()
        self.generation += 1
        return changes, True  # the IPVS proxier rebuilds everything each sync

    def stale(self) -> None:
        self.generation += 1

    def _apply_connections(self) -> None:
        # A real server that stays keeps its connections; one that went took them with it.
        live: dict[ConnectionKey, int] = {}
        for vs in self.current.virtual_servers:
            for rs in vs.real_servers:
                key = (vs.protocol, vs.address, vs.port, rs.address, rs.port)
                rs.active = self.connections.get(key, 0)
                if rs.active:
                    live[key] = rs.active
        self.connections = live

    @property
    def current(self) -> IpvsState:
        if self.state is None:
            self.state = self.proxier.sync()
        return self.state

    def ipvsadm(self) -> str:
        return render_ipvsadm(self.current)

    def ip_addr(self) -> str:
        return render_ip_addr(self.current)

    def ipset_names(self) -> list[str]:
        """The sets by the kernel's name (the IPv6 proxier's are KUBE-6-…)."""
        return [s.name for s in (self.current.ipsets or {}).values()]

    def ipset_list(self, name: str | None = None) -> str:
        return _ipset_list([self.current], name)

    @property
    def ruleset(self) -> Any:
        assert self.current.iptables is not None
        return self.current.iptables.ruleset

    def walker(self, network: Network, clock: Callable[[], float], seed: int = 0) -> IpvsEvaluator:
        """A first-packet walker over the virtual servers and rules as they are now, routing in ``network``."""
        from kproxy_tutor.sandbox.nftables.evaluate import node_view
        from kproxy_tutor.sandbox.trace.ipvs_flow import IpvsEvaluator

        return IpvsEvaluator(self.current, node_view(self.cluster, self.node, network), clock, seed)

    def count(self, trace: Trace) -> None:
        """A connection IPVS on this node scheduled to a real server: one more ActiveConn on it."""
        for step in trace.steps:
            if step.kind != StepKind.DNAT or step.detail.get("by") != "ipvs" or step.node != self.node:
                continue
            if step.packet is None:
                continue
            # "address:port", an IPv6 address in brackets: the last colon ends the address in either family.
            vip, _, vport = str(step.detail.get("virtual_server", "")).rpartition(":")
            vip = vip.removeprefix("[").removesuffix("]")
            real = step.packet
            key = (real.protocol.upper(), vip, int(vport), real.dst_ip, real.dst_port)
            self.connections[key] = self.connections.get(key, 0) + 1
        self._apply_connections()

    def _summary(self) -> dict[str, int]:
        state = self.current
        return {
            "servers": len(state.virtual_servers),
            "reals": sum(len(vs.real_servers) for vs in state.virtual_servers),
            "addresses": len(state.bound_addresses),
            "ipsets": len(state.ipsets or {}),
            "chains": len(kube_chains(self.ruleset)),
        }

    def _servers(self, kind: str) -> list[ModeChange]:
        return [
            ModeChange(kind, "virtual server", server_name(vs), tuple(_reals(vs)) if kind == "added" else ())
            for vs in self.current.virtual_servers
        ]

    def written(self) -> tuple[list[ModeChange], Note]:
        return self._servers("added"), Note(
            N_(
                "It binds the Service IPs to the dummy interface kube-ipvs0 ({addresses}) and creates virtual "
                "servers: {servers} (real servers: {reals}), ipsets: {ipsets}, and KUBE-* iptables chains that "
                "match those sets: {chains}."
            ),
            self._summary(),
        )


class LeftoverIpvs:
    """What ipvs mode left on a node after kube-proxy restarted in iptables mode: frozen, nobody syncs it."""

    def __init__(self, state: IpvsState) -> None:
        self.state = state

    def ipvsadm(self) -> str:
        return render_ipvsadm(self.state)

    def ip_addr(self) -> str:
        return render_ip_addr(self.state)

    def ipset_names(self) -> list[str]:
        return list(self.state.ipsets or {})

    def ipset_list(self, name: str | None = None) -> str:
        return _ipset_list([self.state], name)


def _ipset_list(states: list[IpvsState], name: str | None) -> str:
    sets: dict[str, Any] = {}
    references: dict[str, int] = {}
    for state in states:
        assert state.ipsets is not None and state.iptables is not None
        sets.update({s.name: s for s in state.ipsets.values()})  # keyed by the kernel's name (KUBE-6-…)
        references.update(state.iptables.references())
    if name is not None:
        sets = {name: sets[name]}
    return render_ipset_list(sets, references)


class NodeIpvs:
    """One node's IPVS as its tools show it: one kernel table for the virtual servers of both IP families,
    one kube-ipvs0 for their addresses, the ipsets of both (the IPv6 proxier's are KUBE-6-…).

    ``backends`` holds the node's proxiers, IPv4's first (the order kube-proxy starts them in).
    """

    def __init__(self, backends: list[IpvsBackend]) -> None:
        self.backends = backends

    @property
    def _states(self) -> list[IpvsState]:
        return [backend.current for backend in self.backends]

    def _merged(self) -> IpvsState:
        states = self._states
        return IpvsState(
            [vs for state in states for vs in state.virtual_servers],
            [ip for state in states for ip in state.bound_addresses],
        )

    def ipvsadm(self) -> str:
        return render_ipvsadm(self._merged())

    def ip_addr(self) -> str:
        return render_ip_addr(self._merged())

    def ipset_names(self) -> list[str]:
        return [s.name for state in self._states for s in (state.ipsets or {}).values()]

    def ipset_list(self, name: str | None = None) -> str:
        return _ipset_list(self._states, name)
