"""What ``explain`` finds in a node's rules: Service ports, their endpoints, each rule with a reason, and findings.

Plain data with codes, never words: the UI (``ui/explain_view.py``) turns codes into sentences
in the learner's language, and ``to_data`` gives the JSON documented in docs/explain-json.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from kproxy_tutor.sandbox.fastinit import fast_constructor

#: Where each kind of rule is taught: rule code -> (lesson id, step id).
LESSON_STEPS: dict[str, tuple[str, str]] = {
    "chains": ("how-it-works", "chains"),
    "probabilities": ("how-it-works", "probabilities"),
    "masquerade": ("how-it-works", "masquerade"),
    "nodeport": ("how-it-works", "nodeport-affinity"),
    "conntrack": ("how-it-works", "conntrack"),
    "no-endpoints": ("how-it-works", "rules"),
    "nftables": ("modes", "nftables"),
    "nftables-numgen": ("modes", "try-nftables-numgen"),
    "ipvs": ("modes", "ipvs"),
    "mode-switch": ("modes", "compare"),
}


@dataclass(frozen=True, slots=True)
class RuleNote:
    """One rule as the node holds it, with the code of what it does (``foreign``: not kube-proxy's shape)."""

    table: str
    chain: str
    #: The rule as ``iptables-save`` prints it (without ``-A CHAIN``), or as ``nft list`` prints it;
    #: or an object whose ``explain_text()`` gives that text (rendered only when shown).
    source: object
    code: str
    #: Values the explanation names (an address, a port, a probability as ``1/3``).
    params: tuple[tuple[str, str], ...] = ()
    #: Key of ``LESSON_STEPS``.
    lesson: str | None = None

    @property
    def text(self) -> str:
        source = self.source
        return source if isinstance(source, str) else _render(source)

    def param(self, name: str) -> str:
        for key, value in self.params:
            if key == name:
                return value
        return ""


#: ``RuleNote(...)`` for the readers' hot loops (a big node has a note per rule).
make_note = fast_constructor(RuleNote)


def _render(rule: object) -> str:
    listing = getattr(rule, "listing", None)
    if listing is not None:  # an nftables rule
        return listing()  # type: ignore[no-any-return]
    from kproxy_tutor.sandbox.iptables.render import save_args

    return save_args(rule)  # type: ignore[arg-type]


@dataclass(slots=True)
class Endpoint:
    address: str
    chain: str
    #: The probability written on its rule (the kernel's choice among those still left); 1 for the last.
    probability: Fraction
    #: The share of new connections it gets overall.
    share: Fraction
    local: bool = False


@dataclass(slots=True)
class ServicePortView:
    name: str
    protocol: str
    cluster_ips: list[str] = field(default_factory=list)
    port: int | None = None
    node_ports: list[int] = field(default_factory=list)
    external_ips: list[str] = field(default_factory=list)
    load_balancer_ips: list[str] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)
    health_check_node_port: int | None = None
    #: ``Cluster``/``Local`` as the rules show them; None when the rules do not tell.
    internal_policy: str | None = None
    external_policy: str | None = None
    affinity_seconds: int | None = None
    endpoints: list[Endpoint] = field(default_factory=list)
    local_endpoints: list[Endpoint] = field(default_factory=list)
    #: ``reject``/``drop`` when clients are refused because there are no (local) endpoints.
    no_endpoints: str | None = None
    no_local_endpoints: str | None = None
    #: The per-Service chains (iptables KUBE-SVC-…, nftables service-…) and endpoint chains.
    chains: list[str] = field(default_factory=list)
    rules: list[RuleNote] = field(default_factory=list)

    @property
    def is_virtual_server(self) -> bool:
        """An IPVS virtual server (from ``ipvsadm -Ln``), not iptables or nftables rules."""
        return bool(self.rules) and self.rules[0].table == "ipvs"

    @property
    def namespace_name(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a person can act on: ``code`` names it, ``service`` the Service port (if any)."""

    code: str
    service: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    lesson: str | None = None

    def param(self, name: str) -> str:
        return dict(self.params).get(name, "")


@dataclass(frozen=True, slots=True)
class ForeignChain:
    table: str
    chain: str
    rules: int
    #: ``other`` (CNI, firewall, Docker…), ``kubelet``, or the proxy mode whose leftover it is.
    owner: str = "other"


@dataclass(frozen=True, slots=True)
class ForeignTable:
    """An nftables table that is not kube-proxy's (in ``nft list ruleset``)."""

    table: str
    chains: int
    #: ``other``, or ``iptables`` for iptables-nft's tables holding kube-proxy's ``KUBE-`` chains.
    owner: str = "other"


@dataclass(slots=True)
class Explanation:
    #: ``iptables-save``, ``nft list`` (or ``nft list ruleset``).
    format: str
    #: ``iptables``, ``nftables``, ``ipvs`` or ``none`` (no kube-proxy rules found).
    mode: str
    #: Rules per table (``nat``, ``filter``, ``ip kube-proxy``…).
    tables: dict[str, int] = field(default_factory=dict)
    service_ports: list[ServicePortView] = field(default_factory=list)
    #: kube-proxy's rules that belong to no Service (hooks, masquerading, firewall).
    fixed: list[RuleNote] = field(default_factory=list)
    foreign_chains: list[ForeignChain] = field(default_factory=list)
    foreign_tables: list[ForeignTable] = field(default_factory=list)
    #: Rules other programs put into built-in chains (left alone), by table.
    foreign_hook_rules: dict[str, int] = field(default_factory=dict)
    #: Rules inside kube-proxy's chains in a shape kube-proxy never writes.
    unknown: list[RuleNote] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: Lines the readers could not read at all (location, text).
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    #: Signs of another kube-proxy version: (what was seen, ``older``/``newer``).
    versions: list[tuple[str, str]] = field(default_factory=list)
    #: iptables: a fingerprint of the rules explained (``iptables.ruleset_digest``); not shown.
    rules_digest: str | None = field(default=None, compare=False, repr=False)

    @property
    def endpoint_count(self) -> int:
        return len({e.address for s in self.service_ports for e in (*s.endpoints, *s.local_endpoints)})

    @property
    def services(self) -> list[str]:
        return sorted({s.namespace_name for s in self.service_ports})

    def service_port(self, name: str, protocol: str) -> ServicePortView | None:
        for view in self.service_ports:
            if view.name == name and view.protocol == protocol:
                return view
        return None


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
