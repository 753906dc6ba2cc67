"""The shell's state: the cluster, one kube-proxy (Proxier) per node, counters, the tracer, and ``execute``.

Every cluster edit is all or nothing: it runs first on a detached copy of the cluster, and only
when the whole edit succeeded is it made on the real one; then every node's kube-proxy syncs
with the events the API server sent it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, render_save
from kproxy_tutor.sandbox.iptables.diff import RuleDiff
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.shell.counters import Counters
from kproxy_tutor.shell.documents import split_header
from kproxy_tutor.shell.events import EventRecorder, detached_copy
from kproxy_tutor.shell.output import Output, WatchReport
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.scenarios import Scenario

T = TypeVar("T")
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
    def __init__(self, scenario: Scenario | None = None, node: str | None = None) -> None:
        if scenario is not None:
            self.origin = Start(scenario.manifests, scenario.source, node or scenario.node, scenario.name)
        else:
            self.origin = Start(node=node)
        self.watch = False
        #: Container images by (namespace, Deployment or Pod name): only shown and saved.
        self.images: dict[tuple[str, str], str] = {}
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
            raise SandboxInputError(N_("There is no node named {name!r}."), name=node)
        self.cluster = cluster
        self.recorder = EventRecorder()
        self.recorder.attach(cluster)
        self.proxiers: dict[str, Proxier] = {}
        self.counters: dict[str, Counters] = {}
        self._start_proxiers()
        self.node = node
        self.scenario = start.scenario
        self._tracer: Any = None

    def _start_proxiers(self) -> None:
        for name in self.cluster.nodes:
            if name not in self.proxiers:
                proxier = Proxier(self.cluster, name)
                self.proxiers[name] = proxier
                self.counters[name] = Counters()
                proxier.sync()
                self._tracer = None  # the tracer's network must learn the new node

    # Cluster edits -----------------------------------------------------------------------
    def edit(self, change: Callable[[Cluster], T]) -> tuple[T, WatchReport]:
        """Try ``change`` on a copy; if it succeeds, make it for real and let every kube-proxy sync."""
        change(detached_copy(self.cluster))
        value = change(self.cluster)
        return value, self.sync()

    def sync(self) -> WatchReport:
        """What kube-proxy does after watch events: a (partial) sync on every node."""
        events = tuple(self.recorder.take())
        self._start_proxiers()
        if self._tracer is not None:
            self._refresh_tracer_pods()
        if not events:
            return WatchReport(self.node, (), RuleDiff(), synced=False)
        report = WatchReport(self.node, events, RuleDiff(), synced=False)
        for name, proxier in self.proxiers.items():
            result = proxier.sync()
            self.counters[name].after_sync(result.payload)
            if name == self.node:
                report = WatchReport(name, events, result.diff, synced=True, full=result.full)
        return report

    # Views -------------------------------------------------------------------------------
    @property
    def proxier(self) -> Proxier:
        return self.proxiers[self.node]

    @property
    def has_traffic(self) -> bool:
        """True once curl has sent something (before that no node has connections)."""
        return self._tracer is not None

    def tracer(self) -> Any:
        """The request tracer over every node's live rules (conntrack and affinity kept between curls)."""
        if self._tracer is None:
            from kproxy_tutor.sandbox.trace.session import TraceSession

            rules = {name: proxier.kernel.ruleset for name, proxier in self.proxiers.items()}
            self._tracer = TraceSession.from_cluster(self.cluster, seed=0, rules=rules)
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
