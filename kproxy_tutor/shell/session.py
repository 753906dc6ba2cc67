"""The shell's state: the cluster, one kube-proxy (Proxier) per node, counters, the tracer, and ``execute``.

Every cluster edit is all or nothing: it runs first on a detached copy of the cluster, and only
when the whole edit succeeded is it made on the real one; then every node's kube-proxy syncs
with the events the API server sent it. kube-proxy runs in one proxy mode on every node
(``mode``); outside iptables mode the nodes' nftables or IPVS backends sync instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import Proxier, render_save
from kproxy_tutor.sandbox.iptables.diff import RuleDiff
from kproxy_tutor.sandbox.iptables.rules import Ruleset
from kproxy_tutor.sandbox.ipvs import IpvsState
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import DEFAULT_MODE, check_mode
from kproxy_tutor.shell.backends import NftBackend
from kproxy_tutor.shell.counters import Counters
from kproxy_tutor.shell.documents import split_header
from kproxy_tutor.shell.events import EventRecorder, detached_copy
from kproxy_tutor.shell.ipvs_backend import IpvsBackend
from kproxy_tutor.shell.leftovers import Residue, cleaned_up, kernel_view
from kproxy_tutor.shell.mode_switch import SwitchState, switch_report
from kproxy_tutor.shell.output import Output, SwitchReport, WatchReport
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.scenarios import Scenario

T = TypeVar("T")
Backend = NftBackend | IpvsBackend
#: The header kind of files written by ``save``.
STATE_KIND = "SandboxState"


@dataclass
class Start:
    """Where a session (re)starts from: manifests text, its name for messages, and the node to show."""

    text: str = ""
    source: str = "<empty>"
    node: str | None = None
    scenario: str | None = None
    pod_states: list[dict[str, Any]] = field(default_factory=list)


class Session:
    def __init__(
        self, scenario: Scenario | None = None, node: str | None = None, mode: str = DEFAULT_MODE
    ) -> None:
        #: kube-proxy's proxy mode on every node; it survives reset, load and scenario (it is a flag, not state).
        self.mode = check_mode(mode)
        if scenario is not None:
            self.origin = Start(scenario.manifests, scenario.source, node or scenario.node, scenario.name)
        else:
            self.origin = Start(node=node)
        self.watch = False
        #: Container images by (namespace, Deployment or Pod name): only shown and saved.
        self.images: dict[tuple[str, str], str] = {}
        #: Opens an editor on a file (``kubectl edit``); None when there is no terminal to run one in.
        self.editor: Callable[[Path], None] | None = None
        #: The command lines run in this session, for ``history``.
        self.history: list[str] = []
        self.restart(self.origin)

    # Start-up ----------------------------------------------------------------------------
    def restart(self, start: Start) -> None:
        """Build a fresh cluster from ``start`` and start kube-proxy on every node; raises before changing anything."""
        cluster = load_texts([(start.text, start.source)]).cluster
        for state in start.pod_states:
            key = (str(state.get("namespace", "default")), str(state.get("name", "")))
            if key in cluster.pods:
                cluster.set_pod_state(
                    *key,
                    ready=bool(state.get("ready", True)),
                    terminating=bool(state.get("terminating", False)),
                )
        node = start.node or _default_node(cluster)
        if node not in cluster.nodes:
            from kproxy_tutor.suggest import close_match

            suggestion = close_match(node, cluster.nodes)
            if suggestion is not None:
                raise SandboxInputError(
                    N_("There is no node named {name!r}. Did you mean {suggestion!r}?"),
                    name=node,
                    suggestion=suggestion,
                )
            raise SandboxInputError(
                N_("There is no node named {name!r}. Nodes: {names}."),
                name=node,
                names=", ".join(cluster.nodes),
            )
        self.cluster = cluster
        self.recorder = EventRecorder()
        self.recorder.attach(cluster)
        self.proxiers: dict[str, Proxier] = {}
        #: The IPv6 proxiers (iptables mode) of the nodes with an IPv6 InternalIP: what ip6tables-save shows.
        self.proxiers6: dict[str, Proxier] = {}
        self.counters: dict[str, Counters] = {}
        #: The other modes' kube-proxies by mode and node, made when first needed: a proxier
        #: watches the cluster for good, so one per node and mode is kept, never a new one per switch.
        self.mode_backends: dict[str, dict[str, Backend]] = {}
        #: The same for the IPv6 proxiers of the nodes with an IPv6 InternalIP.
        self.mode_backends6: dict[str, dict[str, Backend]] = {}
        #: Per node, what earlier proxy modes left in the kernel (fresh nodes: nothing).
        self.residue: dict[str, Residue] = {}
        self._start_proxiers()
        self._start_backends()
        self.node = node
        self.scenario = start.scenario
        self._tracer: Any = None
        #: The cluster changed since it was started, loaded or saved (Ctrl-D then keeps it).
        self.unsaved = False

    def _start_proxiers(self) -> None:
        for name in self.cluster.nodes:
            if name not in self.proxiers:
                proxier = Proxier(self.cluster, name)
                self.proxiers[name] = proxier
                self.counters[name] = Counters()
                proxier.sync()
                self._tracer = None  # the tracer's network must learn the new node
            if name not in self.proxiers6 and self.dual_stack(name):
                self.proxiers6[name] = Proxier(self.cluster, name, family=IPV6)
                self.proxiers6[name].sync()

    def dual_stack(self, node: str | None = None) -> bool:
        """Whether kube-proxy on ``node`` runs an IPv6 proxier beside the IPv4 one (the node has an IPv6 InternalIP)."""
        return bool(self.cluster.nodes[node or self.node].ips(IPV6))

    def _start_backends(self) -> None:
        if self.mode == "iptables":
            return
        backends = self.mode_backends.setdefault(self.mode, {})
        backends6 = self.mode_backends6.setdefault(self.mode, {})
        for name in self.cluster.nodes:
            if name not in backends:
                backends[name] = self._new_backend(name)
                backends[name].sync()
            if name not in backends6 and self.dual_stack(name):
                backends6[name] = self._new_backend(name, IPV6)
                backends6[name].sync()

    def _new_backend(self, name: str, family: str = IPV4) -> Backend:
        if self.mode == "nftables":
            return NftBackend(self.cluster, name, family)
        return IpvsBackend(self.cluster, name, family)

    @property
    def backends(self) -> dict[str, Backend]:
        """The current mode's kube-proxy per node (empty in iptables mode)."""
        return self.mode_backends.get(self.mode, {})

    @property
    def backends6(self) -> dict[str, Backend]:
        """The current mode's IPv6 kube-proxy per dual-stack node (empty in iptables mode)."""
        return self.mode_backends6.get(self.mode, {})

    @property
    def backend(self) -> Backend | None:
        return self.backends.get(self.node)

    @property
    def backend6(self) -> Backend | None:
        return self.backends6.get(self.node)

    # Cluster edits -----------------------------------------------------------------------
    def edit(self, change: Callable[[Cluster], T]) -> tuple[T, WatchReport]:
        """Try ``change`` on a copy; if it succeeds, make it for real and let every kube-proxy sync."""
        change(detached_copy(self.cluster))
        value = change(self.cluster)
        self.unsaved = True
        return value, self.sync()

    def sync(self) -> WatchReport:
        """What kube-proxy does after watch events: a (partial) sync on every node."""
        events = tuple(self.recorder.take())
        self._start_proxiers()
        self._start_backends()
        if self._tracer is not None:
            self._refresh_tracer_pods()
        for backend in (*self.backends.values(), *self.backends6.values()):
            backend.stale()
        if not events:
            return WatchReport(self.node, (), RuleDiff(), synced=False, mode=self.mode)
        if self.mode != "iptables":
            return self._sync_backends(events)
        report = WatchReport(self.node, events, RuleDiff(), synced=False)
        for name, proxier in self.proxiers.items():
            result = proxier.sync()
            self.counters[name].after_sync(result.payload)
            if name == self.node:
                report = WatchReport(name, events, result.diff, synced=True, full=result.full)
        for name, proxier in self.proxiers6.items():
            result = proxier.sync()
            if name == self.node:
                ipv6 = WatchReport(name, (), result.diff, synced=True, full=result.full)
                report = replace(report, ipv6=ipv6)
        return report

    def _sync_backends(self, events: tuple[Any, ...]) -> WatchReport:
        report = WatchReport(self.node, events, RuleDiff(), synced=False, mode=self.mode)
        for name, backend in self.backends.items():
            changes, full = backend.sync()
            if name == self.node:
                report = WatchReport(name, events, RuleDiff(), True, full, self.mode, tuple(changes))
        for name, backend in self.backends6.items():
            changes, full = backend.sync()
            if name == self.node:
                ipv6 = WatchReport(name, (), RuleDiff(), True, full, self.mode, tuple(changes))
                report = replace(report, ipv6=ipv6)
        return report

    # Proxy mode --------------------------------------------------------------------------
    def switch_mode(self, mode: str) -> SwitchReport:
        """Restart kube-proxy on every node in ``mode``; what it cleans up and what stays follow v1.35 (``leftovers``)."""
        check_mode(mode)
        old = self.mode
        self.sync()  # edits not yet synced belong to the old mode
        nodes = list(self.cluster.nodes)
        before = {n: self._snapshot_rules(n) for n in nodes}
        ipvs_before = {n: self._ipvs_objects(n) for n in nodes}
        nft_cleaned = self.backend.cleaned() if isinstance(self.backend, NftBackend) else None
        for name in nodes:
            if mode == "nftables":
                rules = before[name]
                self.residue[name] = Residue(cleaned_up(rules) if rules is not None else None, None)
            else:  # iptables and ipvs mode clean up only the nftables table
                self.residue[name] = Residue(before[name], None if mode == "ipvs" else ipvs_before[name])
        self.mode = mode
        if mode == "iptables":
            for name, proxier in self.proxiers.items():
                proxier.sync()  # catch up with what happened while another mode ran
                self.counters[name] = Counters()  # the chains are new: their counters start at zero
            for proxier in self.proxiers6.values():
                proxier.sync()
        else:
            self._start_backends()
            for backend in (*self.backends.values(), *self.backends6.values()):
                backend.restart()
                backend.sync()
        self._tracer = None  # conntrack and affinity of the old rules are gone with them
        backend = self.backend
        state = SwitchState(
            self.node,
            old,
            mode,
            before[self.node],
            self.iptables_rules(),
            self.live_rules(),
            ipvs_before[self.node],
            backend.current if isinstance(backend, IpvsBackend) else None,
            nft_cleaned,
            backend.written() if isinstance(backend, NftBackend) else None,
            backend.written()[1] if isinstance(backend, IpvsBackend) else None,
        )
        return switch_report(state)

    def live_rules(self, node: str | None = None) -> Ruleset | None:
        """The iptables rules the current mode maintains on ``node`` (None in nftables mode)."""
        name = node or self.node
        if self.mode == "iptables":
            return self.proxiers[name].kernel.ruleset
        backend = self.backends.get(name)
        return backend.ruleset if isinstance(backend, IpvsBackend) else None

    def iptables_rules(self, node: str | None = None) -> Ruleset | None:
        """What ``iptables-save`` shows on ``node``: the current mode's rules over what earlier modes left."""
        name = node or self.node
        residue = self.residue.get(name)
        live = self.live_rules(name)
        if residue is None or residue.iptables is None:
            return live
        return kernel_view(residue.iptables, live, self.mode)

    def ip6tables_rules(self, node: str | None = None) -> Ruleset | None:
        """What ``ip6tables-save`` shows on ``node``: the IPv6 proxier's rules (None: the node has none)."""
        name = node or self.node
        if self.mode == "iptables":
            proxier = self.proxiers6.get(name)
            return proxier.kernel.ruleset if proxier is not None else None
        backend = self.backends6.get(name)
        return backend.ruleset if isinstance(backend, IpvsBackend) else None

    def _snapshot_rules(self, node: str) -> Ruleset | None:
        residue = self.residue.get(node)
        base = residue.iptables if residue is not None else None
        live = self.live_rules(node)
        return None if base is None and live is None else kernel_view(base, live, self.mode)

    def _ipvs_objects(self, node: str) -> IpvsState | None:
        """IPVS's virtual servers, kube-ipvs0 and ipsets on ``node``: live in ipvs mode, else what ipvs mode left."""
        backend = self.backends.get(node)
        if isinstance(backend, IpvsBackend):
            return copy.deepcopy(backend.current)
        residue = self.residue.get(node)
        return residue.ipvs if residue is not None else None

    def leftover_ipvs(self, node: str | None = None) -> IpvsState | None:
        """IPVS objects ipvs mode left on ``node`` while another mode runs (None if there are none)."""
        residue = self.residue.get(node or self.node)
        return residue.ipvs if residue is not None and self.mode != "ipvs" else None

    # Views -------------------------------------------------------------------------------
    @property
    def proxier(self) -> Proxier:
        return self.proxiers[self.node]

    @property
    def has_traffic(self) -> bool:
        """True once curl has sent something (before that no node has connections)."""
        return self._tracer is not None

    def tracer(self) -> Any:
        """The request tracer over every node's live rules in the current mode (conntrack and affinity kept between curls)."""
        if self._tracer is None and self.mode != "iptables":
            from kproxy_tutor.shell.mode_trace import trace_session

            self._tracer = trace_session(self)
        if self._tracer is None:
            from kproxy_tutor.sandbox.trace.session import TraceSession

            rules = {name: proxier.kernel.ruleset for name, proxier in self.proxiers.items()}
            # curl -6 walks the same IPv6 rules ip6tables-save shows (the session syncs them).
            rules6 = {name: proxier.kernel.ruleset for name, proxier in self.proxiers6.items()}
            self._tracer = TraceSession.from_cluster(
                self.cluster, seed=0, rules=rules, family_rules={IPV6: rules6} if rules6 else None
            )
        return self._tracer

    def _refresh_tracer_pods(self) -> None:
        # Pods come and go with edits; the tracer's network must know where each Pod IP lives.
        from kproxy_tutor.sandbox.trace.network import PodAddress

        network = self._tracer.tracer.network
        network.pods = {
            pod.pod_ip: PodAddress(pod.pod_ip, f"{pod.namespace}/{pod.name}", pod.node_name)
            for pod in self.cluster.pods.values()
            if pod.pod_ip
        }

    def snapshot(self) -> tuple[object, ...]:
        """Everything a command could change, as comparable values (for tests of "nothing changed")."""
        cluster = self.cluster
        rules = tuple(render_save(p.kernel.ruleset) for p in self.proxiers.values())
        counted = tuple(
            render_save(self.counters[n].counted(p.kernel.ruleset), counters=True)
            for n, p in self.proxiers.items()
        )
        return (
            dict(cluster.nodes),
            dict(cluster.pods),
            dict(cluster.deployments),
            dict(cluster.services),
            dict(cluster.endpoint_slices),
            rules,
            counted,
            self.node,
            self.watch,
            self.scenario,
            self.mode,
            tuple(_backend_text(b) for b in self.backends.values()),
            tuple(render_save(p.kernel.ruleset) for p in self.proxiers6.values()),
            tuple(_backend_text(b) for b in self.backends6.values()),
        )

    # Commands ----------------------------------------------------------------------------
    def execute(self, invocation: Invocation, document: str | None = None) -> list[Output]:
        from kproxy_tutor.shell.commands import HANDLERS

        handler = HANDLERS[invocation.command.name]
        return handler(self, invocation, document)

    def load_start(self, text: str, source: str) -> Start:
        """A Start from a saved file or hand-written manifests (the sandbox header is optional)."""
        header, manifests = split_header(text, source)
        start = Start(manifests, source)
        if header is not None:
            node = header.get("node")
            start.node = node if isinstance(node, str) and node else None
            states = header.get("podStates") or []
            start.pod_states = [s for s in states if isinstance(s, dict)] if isinstance(states, list) else []
            scenario = header.get("scenario")
            start.scenario = scenario if isinstance(scenario, str) else None
        return start


def _default_node(cluster: Cluster) -> str:
    nodes = cluster.schedulable_nodes()
    if not nodes:
        raise SandboxInputError(N_("The cluster has no nodes, so there is no node to compile rules for."))
    return nodes[0].name


def _backend_text(backend: Backend) -> str:
    if isinstance(backend, NftBackend):
        return backend.listing()
    return backend.ipvsadm() + backend.ip_addr() + backend.ipset_list()
