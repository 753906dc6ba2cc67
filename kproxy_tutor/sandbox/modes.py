"""One switch for the proxy mode: compile a cluster for a node in iptables, nftables or IPVS mode.

``compile_mode`` returns rendered text (what the real tools print) and, where one exists, an
evaluator for ``trace``. Commands call this instead of importing a mode's package, so adding
or retiring a mode touches only this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6, check_family
from kproxy_tutor.sandbox.work import Progress

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.trace.mode_kernel import Walker
    from kproxy_tutor.sandbox.trace.network import Network
    from kproxy_tutor.sandbox.trace.tracer import Tracer

MODES = ("iptables", "nftables", "ipvs")
DEFAULT_MODE = "iptables"


@dataclass(frozen=True, slots=True)
class ModeInfo:
    name: str
    #: Kubernetes release that deprecated the mode ("" = not deprecated); the UI words it.
    deprecated_in: str = ""
    replacement: str = ""
    default: bool = False


MODE_INFO = {
    "iptables": ModeInfo("iptables", default=True),
    "nftables": ModeInfo("nftables"),
    "ipvs": ModeInfo("ipvs", deprecated_in="v1.35", replacement="nftables"),
}


class LazyTexts(Mapping[str, str]):
    """Renderings made on first use: ``rules`` shows one view, so the others of a large table cost nothing."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        self._makers = makers
        self._done: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._done:
            self._done[key] = self._makers[key]()
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


@dataclass(slots=True)
class CompiledMode:
    mode: str
    node: str
    #: Named renderings, e.g. ``iptables-save``, ``nft list``, ``nft transaction``, ``ipvsadm -Ln``.
    texts: Mapping[str, str] = field(default_factory=dict)
    #: The mode's packet evaluator: ``IptablesEvaluator``, ``NftEvaluator`` or ``IpvsEvaluator``.
    evaluator: object | None = None
    #: The compiled structure itself (iptables Ruleset, NftTable, IpvsState).
    state: object | None = None
    rule_count: int = 0
    element_count: int = 0
    #: The IP family of the proxier compiled (kube-proxy runs one per family).
    family: str = IPV4

    @property
    def text(self) -> str:
        """The main rendering: what a learner would type on the node to see the rules."""
        return next(iter(self.texts.values()), "")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SandboxInputError(N_("Unknown proxy mode {mode!r}: use iptables, nftables or ipvs."), mode=mode)
    return mode


def compile_mode(
    cluster: Cluster,
    node: str | None,
    mode: str,
    seed: int = 0,
    traffic: bool = False,
    progress: Progress | None = None,
    family: str = IPV4,
) -> CompiledMode:
    """Compile ``cluster`` as kube-proxy in ``mode`` would on ``node`` (None = kube-proxy's own choice).

    A freshly compiled node has carried no traffic, so IPVS's connection counters are 0;
    ``traffic`` sends seeded made-up connections through the virtual servers first (to show
    what the counters and the schedulers do; never for a node the learner has not used).
    """
    check_mode(mode)
    check_family(family)
    if mode == "nftables":
        from kproxy_tutor.sandbox.nftables import NftProxier, render_listing, render_transaction
        from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator, node_view

        proxier = NftProxier(cluster, node, family=family)
        result = proxier.sync(progress)
        table = result.table
        texts = LazyTexts(
            {
                "nft list": lambda: render_listing(table),
                # kube-proxy's first sync after it starts: one transaction, in the order it writes it.
                "nft transaction": lambda: "".join(result.transactions()),
                "nft transaction sorted": lambda: render_transaction(table),
            }
        )
        return CompiledMode(
            mode,
            proxier.node_name,
            texts,
            NftEvaluator(table, node_view(cluster, proxier.node_name, family=family), seed),
            table,
            table.rule_count,
            table.element_count,
            family,
        )
    if mode == "ipvs":
        return _compile_ipvs(cluster, node, seed, traffic, progress, family)
    from kproxy_tutor.sandbox.iptables import Proxier, render_restore, render_save
    from kproxy_tutor.sandbox.trace.possible import IptablesEvaluator

    iptables = Proxier(cluster, node, family=family)
    result = iptables.sync(progress)
    ruleset = iptables.kernel.ruleset
    rules = sum(len(c) for t in ruleset.tables.values() for c in t.chains.values())
    return CompiledMode(
        mode,
        iptables.node_name,
        {"iptables-save": render_save(ruleset), "iptables-restore": render_restore(result.payload)},
        IptablesEvaluator.for_cluster(cluster, iptables.node_name, ruleset, seed, family=family),
        ruleset,
        rules,
        0,
        family,
    )


def _compile_ipvs(
    cluster: Cluster,
    node: str | None,
    seed: int,
    traffic: bool,
    progress: Progress | None,
    family: str = IPV4,
) -> CompiledMode:
    from kproxy_tutor.sandbox.iptables import render_save
    from kproxy_tutor.sandbox.ipvs import IpvsProxier, render_ip_addr, render_ipvsadm
    from kproxy_tutor.sandbox.ipvs.ipsets import render_ipset_list
    from kproxy_tutor.sandbox.ipvs.render import render_sysctls
    from kproxy_tutor.sandbox.ipvs.traffic import simulate_traffic
    from kproxy_tutor.sandbox.nftables.evaluate import node_view
    from kproxy_tutor.sandbox.trace.ipvs_flow import IpvsEvaluator

    ipvs = IpvsProxier(cluster, node, family=family)
    state = ipvs.sync(progress)
    assert state.ipsets is not None and state.iptables is not None
    if traffic:
        # Seeded made-up traffic, so the counters in ipvsadm -Ln show what the scheduler did.
        simulate_traffic(state, seed)
    reals = sum(len(v.real_servers) for v in state.virtual_servers)
    members = sum(len(s.members) for s in state.ipsets.values())
    texts = {
        "ipvsadm -Ln": render_ipvsadm(state),
        "ip addr show kube-ipvs0": render_ip_addr(state),
        "ipset list": render_ipset_list(state.ipsets, state.iptables.references()),
        "iptables-save": render_save(state.iptables.ruleset),
        "iptables-restore": state.iptables.restore,
        "sysctl": render_sysctls(state),
    }
    view = node_view(cluster, ipvs.node.name, family=family)
    evaluator = IpvsEvaluator(state, view, seed=seed)
    return CompiledMode(
        "ipvs",
        ipvs.node.name,
        texts,
        evaluator,
        state,
        state.iptables.rule_count,
        len(state.virtual_servers) + reals + members,
        family,
    )


#: Makes a node's walker: (node name, the trace's network, its clock) → the walker.
WalkerFactory = Callable[[str, "Network", Callable[[], float]], "Walker"]


def mode_tracer(
    cluster: Cluster,
    mode: str,
    seed: int = 0,
    progress: Progress | None = None,
    walkers: WalkerFactory | None = None,
    *,
    family: str = IPV4,
    keep: Callable[[Callable[[], object]], None] | None = None,
) -> Tracer:
    """A tracer that carries packets node to node with every node's kernel in ``mode``, through
    the rules of ``family``'s proxiers (kube-proxy runs one per IP family).

    Each node compiles its rules (its own Proxier in that mode) when a packet first reaches it,
    reporting to ``progress`` as a sync does; ``walkers`` gives the nodes' walkers instead (the
    sandbox shell's, over the rules its kube-proxies keep). ``keep`` is handed a function that
    syncs a node's proxier made here again (and so brings its rules up to date with the cluster).
    """
    from kproxy_tutor.sandbox.trace.network import cluster_network
    from kproxy_tutor.sandbox.trace.tracer import Tracer

    check_mode(mode)
    check_family(family)
    if mode == "iptables":
        return Tracer(cluster_network(cluster, progress=progress, family=family, keep=keep), seed)
    from kproxy_tutor.sandbox.trace.mode_kernel import LiveWalker, ModeTracer

    network = cluster_network(cluster, family=family)
    if walkers is not None:
        given = walkers
        return ModeTracer(network, lambda node, clock: given(node, network, clock), mode, seed)

    def walker(node: str, clock: Callable[[], float]) -> Walker:
        from kproxy_tutor.sandbox.nftables.evaluate import node_view

        view = node_view(cluster, node, network, family=family)
        if mode == "nftables":
            from kproxy_tutor.sandbox.nftables import NftProxier
            from kproxy_tutor.sandbox.nftables.evaluate import NftEvaluator

            nft = NftProxier(cluster, node, family=family)
            if keep is None:
                return NftEvaluator(nft.sync(progress).table, view, seed, clock)
            live = LiveWalker(
                lambda: nft.sync(progress).table,
                lambda table: NftEvaluator(
                    table, node_view(cluster, node, network, family=family), seed, clock
                ),  # type: ignore[arg-type]
            )
            keep(live.refresh)
            return live
        from kproxy_tutor.sandbox.ipvs import IpvsProxier
        from kproxy_tutor.sandbox.trace.ipvs_flow import IpvsEvaluator

        ipvs = IpvsProxier(cluster, node, family=family)
        if keep is None:
            return IpvsEvaluator(ipvs.sync(progress), view, clock, seed)
        live = LiveWalker(
            lambda: ipvs.sync(progress),
            lambda state: IpvsEvaluator(state, node_view(cluster, node, network, family=family), clock, seed),  # type: ignore[arg-type]
        )
        keep(live.refresh)
        return live

    return ModeTracer(network, walker, mode, seed)


#: ``rules --format`` values per mode → the ``CompiledMode.texts`` key they show (first = default).
FORMATS: dict[str, dict[str, str]] = {
    "iptables": {"save": "iptables-save", "restore": "iptables-restore"},
    "nftables": {
        "list": "nft list",
        "transaction": "nft transaction",
        "transaction-sorted": "nft transaction sorted",
    },
    "ipvs": {
        "ipvsadm": "ipvsadm -Ln",
        "ipset": "ipset list",
        "iptables": "iptables-save",
        "kube-ipvs0": "ip addr show kube-ipvs0",
        "sysctl": "sysctl",
    },
}


def check_format(mode: str, fmt: str | None) -> str:
    """The view ``fmt`` names for ``mode`` (None = the mode's default view)."""
    formats = FORMATS[check_mode(mode)]
    if fmt is None:
        return next(iter(formats))
    if fmt not in formats:
        raise SandboxInputError(
            N_("Unknown format {value!r} for {mode} mode: use {choices}."),
            value=fmt,
            mode=mode,
            choices=", ".join(formats),
        )
    return fmt


#: ``rules --family`` values → the proxiers shown (kube-proxy's order: IPv4 first).
FAMILY_CHOICES: dict[str, tuple[str, ...]] = {"ipv4": (IPV4,), "ipv6": (IPV6,), "both": (IPV4, IPV6)}


def check_family_choice(choice: str | None) -> str | None:
    """``--family`` as ``ipv4``, ``ipv6`` or ``both`` (any case: ``IPv6`` is Kubernetes' spelling)."""
    if choice is None:
        return None
    if choice.lower() not in FAMILY_CHOICES:
        raise SandboxInputError(N_("Unknown IP family {value!r}: use ipv4, ipv6 or both."), value=choice)
    return choice.lower()


def shown_families(cluster: Cluster, node: str | None, mode: str, choice: str | None) -> tuple[str, ...]:
    """The proxiers whose rules ``rules`` shows (in any mode): ``choice``, else every family with
    something to show on the node (both on a dual-stack node)."""
    checked = check_family_choice(choice)
    if checked is not None:
        return FAMILY_CHOICES[checked]
    name = node or cluster.config.hostname_override or next(iter(cluster.nodes), "")
    if not name:
        return (IPV4,)
    return cluster.proxier_families(name)


def family_tool(mode: str, view: str, family: str) -> str:
    """The command that prints ``view`` for ``family`` on a node (ip6tables-save for IPv6 iptables)."""
    text = FORMATS[mode][view]
    if family == IPV6 and text.startswith("iptables"):
        return "ip6" + text[len("ip") :]
    return text
