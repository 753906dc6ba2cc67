"""The transactions kube-proxy sends to ``nft -f`` on a sync, in the order its ``syncProxyRules`` writes them.

Upstream (v1.35 ``pkg/proxy/nftables/proxier.go``) builds one knftables transaction per sync
(a knftables transaction writes its operations in the order they were added):

* a **full sync** (here: kube-proxy's first sync after it starts, on a node without its table)
  runs ``setupNFTables``: ``add table``; once per process an ``add`` + ``delete`` of every base
  chain (so chains left by an older kube-proxy with other priorities are recreated); every base
  chain added and flushed; each jump chain added and flushed before the rule that jumps to it,
  in ``nftablesJumpChains``' order (``base.JUMP_CHAINS``); the masquerade chains and their rules; the ``cluster-ips`` set with the ClusterIP checks; the
  ``nodeport-ips`` set (flushed and filled, or added and deleted when every local address
  accepts NodePorts); the no-endpoint maps, ``reject-chain`` and their check rules; the firewall
  map and rule; the dispatch maps and the ``services`` rules; then the six element containers
  are flushed (kube-proxy reads what the kernel holds, and starts over when it cannot).
* then, for every service port: its endpoint chains and its ``service-``/``local-``/``external-``
  chains (``add chain`` + ``flush chain``); its elements (``cluster-ips`` first, then the
  ClusterIP's and the externalIPs'), the ``firewall-`` chain (added, flushed), the LoadBalancer
  IPs' and the NodePort's elements, each written only where the kernel does not hold it already
  (a changed value is deleted and added again); then, unless the port is unchanged in a partial
  sync, its rules: internal masquerading, the external chain, the firewall chain's source-range
  rule, its affinity sets, the endpoint dispatch, the endpoint chains. An unchanged port in a
  partial sync gets no chain or rule.
* last, the service chains no Service uses any more are flushed (deleted by a separate
  transaction at the start of a later sync, at least 1 s after, because kernels before 6.2 still
  see a just-deleted map element pointing at them), stale affinity sets deleted, and elements
  no Service wrote this time deleted.

kube-proxy walks its Service map in Go's random order, so the order of service ports varies
from one sync to the next on a real node; here they come in name order. The objects' creation
order is also the order ``nft list`` prints them (see ``render.render_listing``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kproxy_tutor.sandbox.nftables.base import BASE_CHAINS, JUMP_CHAINS, SETS
from kproxy_tutor.sandbox.nftables.names import (
    ENDPOINT_PREFIX,
    EXTERNAL_PREFIX,
    FIREWALL_PREFIX,
    LOCAL_PREFIX,
    SERVICE_PREFIX,
    is_affinity_set,
    is_service_chain,
)
from kproxy_tutor.sandbox.nftables.render import _chain_tx, _element_tx, _set_tx
from kproxy_tutor.sandbox.nftables.ruleset import Element, NftChain, NftRule, NftSet, NftTable
from kproxy_tutor.sandbox.nftables.servicerules import ServicePortObjects
from kproxy_tutor.sandbox.nftables.statements import NumgenVmap, SetRef

#: The element containers (upstream's nftElementStorage instances), in the proxier's order.
ELEMENT_CONTAINERS = (
    "cluster-ips",
    "service-ips",
    "firewall-ips",
    "no-endpoint-services",
    "no-endpoint-nodeports",
    "service-nodeports",
)
_SET_SPECS = {name: NftSet(name, key, value, comment=comment) for name, key, value, comment in SETS}


class _Writer:
    def __init__(self, table: NftTable) -> None:
        self.head = f"{table.family} {table.name}"
        self.lines: list[str] = []

    def chain(self, chain: NftChain, spec: bool = True) -> None:
        self.lines.append(f"add chain {self.head} {chain.name}{_chain_tx(chain) if spec else ''}")
        self.lines.append(f"flush chain {self.head} {chain.name}")

    def rules(self, chain: str, rules: Iterable[NftRule]) -> None:
        self.lines += [f"add rule {self.head} {chain} {rule.tx()}" for rule in rules]

    def set(self, nft_set: NftSet) -> None:
        self.lines.append(_set_tx(self.head, nft_set))


def _setup(w: _Writer, table: NftTable, first: bool) -> None:
    chains = table.chains
    w.lines.append(
        f'add table {w.head} {{ comment "{table.comment}" ; }}' if table.comment else f"add table {w.head}"
    )
    if first:
        for name, _, _, _ in BASE_CHAINS:
            w.lines += [f"add chain {w.head} {name}", f"delete chain {w.head} {name}"]
    for name, _, _, _ in BASE_CHAINS:
        w.chain(chains[name])
    created: set[str] = set()
    jumps = {name: iter(chains[name].rules) for name, _, _, _ in BASE_CHAINS}
    for target, source, _ in JUMP_CHAINS:
        if target not in created:
            created.add(target)
            w.chain(chains[target])
        w.rules(source, [next(jumps[source])])
    w.chain(chains["mark-for-masquerade"])
    w.rules("mark-for-masquerade", chains["mark-for-masquerade"].rules)
    w.rules("masquerading", chains["masquerading"].rules)
    w.set(table.sets["cluster-ips"])
    w.rules("cluster-ips-check", chains["cluster-ips-check"].rules)
    node_port_ips = table.sets.get("nodeport-ips")
    if node_port_ips is None:
        # Every local address accepts NodePorts: "add" then "delete", so the delete cannot fail.
        spec = _SET_SPECS["nodeport-ips"]
        if table.family == "ip6":
            spec = NftSet(spec.name, "ipv6_addr", comment=spec.comment)
        w.set(spec)
        w.lines.append(f"delete set {w.head} nodeport-ips")
    else:
        w.set(node_port_ips)
        w.lines.append(f"flush set {w.head} nodeport-ips")
        w.lines += [_element_tx(f"add element {w.head}", node_port_ips, e) for e in node_port_ips.elements]
    w.set(table.sets["no-endpoint-services"])
    w.set(table.sets["no-endpoint-nodeports"])
    w.chain(chains["reject-chain"])
    w.rules("reject-chain", chains["reject-chain"].rules)
    w.rules("service-endpoints-check", chains["service-endpoints-check"].rules)
    w.rules("nodeport-endpoints-check", chains["nodeport-endpoints-check"].rules)
    w.set(table.sets["firewall-ips"])
    w.rules("firewall-check", chains["firewall-check"].rules)
    w.set(table.sets["service-ips"])
    w.set(table.sets["service-nodeports"])
    w.rules("services", chains["services"].rules)
    # The element storages start over: kube-proxy cannot read a table that does not exist
    # yet, so it flushes each container (upstream readOrReset, nftElementStorage's order).
    for name in ELEMENT_CONTAINERS:
        kind = "map" if table.sets[name].is_map else "set"
        w.lines.append(f"flush {kind} {w.head} {name}")


def _is_dispatch(rule: NftRule) -> bool:
    """writeServiceToEndpointRules' rules: the affinity lookups (``ip saddr @affinity-…``) and the numgen choice."""
    return any(
        isinstance(s, NumgenVmap) or isinstance(getattr(s, "value", None), SetRef) for s in rule.statements
    )


class _Elements:
    """One sync's view of upstream's nftElementStorage: what the kernel holds, what this sync ensured."""

    def __init__(self, previous: NftTable | None) -> None:
        self.held: dict[str, dict[tuple[str, ...], Element]] = {name: {} for name in ELEMENT_CONTAINERS}
        if previous is not None:
            for name in ELEMENT_CONTAINERS:
                if name in previous.sets:
                    self.held[name] = {e.key: e for e in previous.sets[name].elements}
        self.ensured: dict[str, set[tuple[str, ...]]] = {name: set() for name in ELEMENT_CONTAINERS}

    def ensure(self, w: _Writer, table: NftTable, set_name: str, element: Element) -> None:
        if element.key in self.ensured[set_name]:
            return
        self.ensured[set_name].add(element.key)
        held = self.held[set_name].get(element.key)
        nft_set = table.sets[set_name]
        if held is not None and held.value == element.value:
            return
        if held is not None:
            w.lines.append(_element_tx(f"delete element {w.head}", nft_set, Element(held.key)))
        w.lines.append(_element_tx(f"add element {w.head}", nft_set, element))
        self.held[set_name][element.key] = element

    def leftovers(self, w: _Writer, table: NftTable) -> None:
        for name in ELEMENT_CONTAINERS:
            stale = sorted(k for k in self.held[name] if k not in self.ensured[name])
            for key in stale:
                w.lines.append(_element_tx(f"delete element {w.head}", table.sets[name], Element(key)))


def _service_port(
    w: _Writer, table: NftTable, objects: ServicePortObjects, elements: _Elements, write: bool
) -> None:
    """One service port, in syncProxyRules' order; ``write`` False = unchanged, so only its elements are ensured."""
    chains = objects.chains
    by_prefix = {prefix: [c for c in chains if c.name.startswith(prefix)] for prefix in _PREFIXES}
    endpoints, firewall = by_prefix[ENDPOINT_PREFIX], by_prefix[FIREWALL_PREFIX]
    if write:
        for prefix in (ENDPOINT_PREFIX, SERVICE_PREFIX, LOCAL_PREFIX, EXTERNAL_PREFIX):
            for chain in by_prefix[prefix]:
                w.chain(chain, spec=False)
    ordered = sorted(objects.elements, key=lambda item: item[0] != "cluster-ips")
    # The firewall chain is added and flushed after the ClusterIP's and externalIPs' elements,
    # before the LoadBalancer IPs' (whose addresses are the firewall-ips keys); its rule comes
    # later, after the external chain's (upstream syncProxyRules: ensureChain(fwChain) before
    # "Capture load-balancer ingress", the source-range drop rule under "if usesFWChain"
    # after "Set up external traffic handling").
    vips = {e.key[0] for n, e in ordered if n == "firewall-ips"}
    split = next(
        (i for i, (n, e) in enumerate(ordered) if n != "cluster-ips" and e.key[0] in vips), len(ordered)
    )
    for set_name, element in ordered[:split]:
        elements.ensure(w, table, set_name, element)
    if write:
        for chain in firewall:
            w.chain(chain, spec=False)
    for set_name, element in ordered[split:]:
        elements.ensure(w, table, set_name, element)
    if not write:
        return
    policy = by_prefix[SERVICE_PREFIX] + by_prefix[LOCAL_PREFIX]
    for chain in policy:
        w.rules(chain.name, [r for r in chain.rules if not _is_dispatch(r)])
    for chain in by_prefix[EXTERNAL_PREFIX]:
        w.rules(chain.name, chain.rules)
    for chain in firewall:
        w.rules(chain.name, chain.rules)
    # The affinity sets, before the dispatch rules that look them up.
    for nft_set in objects.sets:
        w.set(nft_set)
    for chain in policy:
        w.rules(chain.name, [r for r in chain.rules if _is_dispatch(r)])
    for chain in endpoints:
        w.rules(chain.name, chain.rules)


_PREFIXES = (ENDPOINT_PREFIX, SERVICE_PREFIX, LOCAL_PREFIX, EXTERNAL_PREFIX, FIREWALL_PREFIX)


def sync_transactions(
    table: NftTable,
    services: Sequence[tuple[ServicePortObjects, bool]],
    previous: NftTable | None,
    first: bool,
    deleted_chains: Sequence[str] = (),
) -> list[str]:
    """The transactions of one sync, each as ``nft -f`` text: ``deleted_chains`` first (a transaction of its own), then the sync.

    ``services`` pairs each service port's objects with whether this sync writes its chains
    (False: unchanged in a partial sync, so only its elements are checked). ``previous`` is the
    table the kernel holds (None: none, as at kube-proxy's first start); a full sync is one
    with ``previous`` None.
    """
    out = []
    if deleted_chains:
        head = f"{table.family} {table.name}"
        out.append("".join(f"delete chain {head} {name}\n" for name in deleted_chains))
    w = _Writer(table)
    if previous is None:
        _setup(w, table, first)
    elements = _Elements(previous)
    for objects, write in services:
        _service_port(w, table, objects, elements, write or previous is None)
    if previous is not None:
        for name in previous.chains:
            if is_service_chain(name) and name not in table.chains:
                w.lines.append(f"flush chain {w.head} {name}")
        for name in previous.sets:
            if is_affinity_set(name) and name not in table.sets:
                w.lines.append(f"delete set {w.head} {name}")
        elements.leftovers(w, table)
    if w.lines:
        out.append("\n".join(w.lines) + "\n")
    return out


def stale_chains(previous: NftTable | None, table: NftTable) -> tuple[str, ...]:
    """The service chains this sync flushes and a later one deletes."""
    if previous is None:
        return ()
    return tuple(n for n in previous.chains if is_service_chain(n) and n not in table.chains)


def service_objects(table: NftTable) -> ServicePortObjects:
    """A one-Service table (``service_view``) as the objects of a sync, to render its share of a transaction."""
    return ServicePortObjects(
        elements=[(n, e) for n in ELEMENT_CONTAINERS if n in table.sets for e in table.sets[n].elements],
        chains=list(table.chains.values()),
        sets=[s for s in table.sets.values() if is_affinity_set(s.name)],
    )


def service_transaction(table: NftTable) -> str:
    """A one-Service table's commands in the order a full sync writes them (no fixed part)."""
    w = _Writer(table)
    _service_port(w, table, service_objects(table), _Elements(None), True)
    return "\n".join(w.lines) + "\n" if w.lines else ""
