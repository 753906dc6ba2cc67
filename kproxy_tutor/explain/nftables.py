"""Explain kube-proxy's nftables table (parsed from ``nft list`` output, or compiled): maps, Service chains, endpoint chains.

The lesson's order: the verdict maps (``service-ips``, ``service-nodeports``, ``no-endpoint-…``,
``firewall-ips``) → the Service port's chain (``service-…``, ``external-…``, ``local-…``,
``firewall-…``) → its endpoint chains (``endpoint-…``). A rule of another shape inside the
table is kept as ``foreign``.
"""

from __future__ import annotations

import ipaddress
from fractions import Fraction
from functools import lru_cache

from kproxy_tutor.explain.model import Endpoint, Explanation, RuleNote, ServicePortView, make_note
from kproxy_tutor.sandbox.nftables.ruleset import NftChain, NftRule, NftTable
from kproxy_tutor.sandbox.nftables.statements import (
    Address,
    AnonSet,
    Dnat,
    FibLocal,
    Masquerade,
    Match,
    NumgenVmap,
    SetRef,
    SetUpdate,
    Verdict,
    VmapLookup,
    network_text,
)
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress

PER_SERVICE = ("service-", "local-", "external-", "firewall-", "endpoint-")
#: kube-proxy's fixed chains in nftables mode and what each one's rules do.
FIXED_CHAINS = {
    "filter-prerouting-pre-dnat": "hook",
    "filter-output-pre-dnat": "hook",
    "filter-forward": "hook",
    "filter-input": "hook",
    "filter-output": "hook",
    "filter-output-post-dnat": "hook",
    "nat-prerouting": "hook",
    "nat-output": "hook",
    "nat-postrouting": "hook",
    "services": "nft-services",
    "masquerading": "nft-masquerading",
    "mark-for-masquerade": "mark-masq",
    "reject-chain": "nft-reject-chain",
    "cluster-ips-check": "nft-cluster-ips-check",
    "firewall-check": "nft-firewall-check",
    "nodeport-endpoints-check": "nft-no-endpoints-check",
    "service-endpoints-check": "nft-no-endpoints-check",
}
#: Fixed chains and sets of other kube-proxy versions: name -> (code of its rules, era).
OTHER_VERSIONS = {
    "filter-prerouting": "older",  # v1.29-v1.33 base chains, renamed in v1.34
    "filter-output-post-dnat": "older",
    "hairpin-connections": "newer",  # v1.36 set replacing the per-endpoint hairpin rules
}
FIXED_SETS = {
    "cluster-ips",
    "nodeport-ips",
    "service-ips",
    "service-nodeports",
    "no-endpoint-services",
    "no-endpoint-nodeports",
    "firewall-ips",
}


@lru_cache(maxsize=1 << 17)
def split_name(chain: str) -> tuple[str, str, str, str] | None:
    """``service-HASH-ns/name/tcp/port`` → (prefix, Service port name, protocol, endpoint or "")."""
    prefix = next((p for p in PER_SERVICE if chain.startswith(p)), None)
    if prefix is None or "/" not in chain:
        return None
    base = chain[len(prefix) :].split("-", 1)[-1]
    base, _, endpoint = base.partition("__")
    parts = base.split("/")
    if len(parts) != 4:
        return None
    namespace, name, protocol, port = parts
    spn = f"{namespace}/{name}:{port}" if port else f"{namespace}/{name}"
    if endpoint:
        ip, _, ep_port = endpoint.rpartition("/")
        ip = ip.replace(".", ":") if ip.count(".") != 3 else ip
        endpoint = f"[{ip}]:{ep_port}" if ":" in ip else f"{ip}:{ep_port}"
    return prefix, spn, protocol, endpoint


def _goto(value: str | None) -> str:
    text = value or ""
    return text.split(" ", 1)[1] if text.startswith(("goto ", "jump ")) else ""


# The elements kube-proxy writes in its verdict maps: [address .] protocol . port.
_KEY_WIDTH = {"service-ips": 3, "no-endpoint-services": 3, "service-nodeports": 2, "no-endpoint-nodeports": 2}


class _Reader:
    def __init__(self, tables: list[NftTable], fmt: str, progress: Progress | None = None) -> None:
        self.tables = tables
        self.progress = progress
        self.result = Explanation(fmt, "nftables" if tables else "none")
        self.views: dict[tuple[str, str], ServicePortView] = {}
        self.label = ""

    def _view(self, chain: str) -> ServicePortView | None:
        parts = split_name(chain)
        if parts is None:
            return None
        _prefix, spn, protocol, _endpoint = parts
        key = (spn, protocol)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = ServicePortView(spn, protocol)
        if chain not in view.chains:
            view.chains.append(chain)
        return view

    def run(self) -> Explanation:
        total = sum(len(t.chains) for t in self.tables)
        done = 0
        for table in self.tables:
            self.label = f"{table.family} {table.name}"
            self.result.tables[self.label] = table.rule_count
            self._maps(table)
            # By name: nft list and the compiler hold chains and elements in different orders.
            for name in sorted(table.chains):
                self._chain(table, table.chains[name])
                done += 1
                if done & PROGRESS_MASK == 0 and self.progress is not None:
                    self.progress("explain", done, total)
            if "masquerading" in table.chains and "mark-for-masquerade" not in table.chains:
                self._version_seen("mark-for-masquerade", "newer")  # inlined since v1.36
        for view in self.views.values():
            order = {chain: i for i, chain in enumerate(view.chains)}
            view.rules = _sorted_by_chain(view.rules, order)
        self.result.service_ports = sorted(self.views.values(), key=lambda v: (v.name, v.protocol))
        return self.result

    # Maps --------------------------------------------------------------------------------------
    def _maps(self, table: NftTable) -> None:
        cluster_ips = (
            {e.key[0] for e in table.sets["cluster-ips"].elements} if "cluster-ips" in table.sets else set()
        )
        for nft_set in sorted(table.sets.values(), key=lambda s: s.name):
            if nft_set.name.startswith("affinity-"):
                continue
            if nft_set.name in OTHER_VERSIONS:
                self._version(nft_set.name)
                continue
            if nft_set.name not in FIXED_SETS:
                self.result.unknown.append(
                    RuleNote(self.label, "set " + nft_set.name, nft_set.type_text, "foreign-set")
                )
                continue
            for element in sorted(nft_set.elements, key=_element_key):
                self._element(nft_set.name, element.key, element.value, element.comment, cluster_ips)
        firewalled = (
            {e.key[0] for e in table.sets["firewall-ips"].elements} if "firewall-ips" in table.sets else set()
        )
        for view in self.views.values():
            for ip in [ip for ip in view.external_ips if ip in firewalled]:
                view.external_ips.remove(ip)
                view.load_balancer_ips.append(ip)

    def _element(
        self,
        map_name: str,
        key: tuple[str, ...],
        value: str | None,
        comment: str | None,
        cluster_ips: set[str],
    ) -> None:
        target = _goto(value)
        text = (
            " . ".join(key) + (f' comment "{comment}"' if comment else "") + (f" : {value}" if value else "")
        )
        chain = "map " + map_name
        if map_name in ("cluster-ips", "nodeport-ips"):
            return  # sets the maps' rules test membership of; shown with the summary
        width = _KEY_WIDTH.get(map_name)
        if width is not None and (len(key) != width or not key[-1].isdigit()):
            self._unknown(chain, text)  # not a key kube-proxy writes: (address,) protocol, port number
            return
        if map_name == "service-ips" and len(key) == 3 and target:
            view = self._view(target)
            if view is None:
                self._unknown(chain, text)
                return
            ip, port = key[0], int(key[2])
            if view.port is None:
                view.port = port
            if ip in cluster_ips:
                view.cluster_ips.append(ip)
                view.internal_policy = "Local" if target.startswith("local-") else "Cluster"
                code = "cluster-ip"
            else:
                view.external_ips.append(ip)
                code = "external-ip"
            self._add(view, chain, text, code, {"ip": ip, "port": key[2], "to": target}, "nftables")
            return
        if map_name == "service-nodeports" and len(key) == 2 and target:
            view = self._view(target)
            if view is None:
                self._unknown(chain, text)
                return
            view.node_ports.append(int(key[1]))
            self._add(view, chain, text, "node-port", {"port": key[1], "to": target}, "nodeport")
            return
        if map_name in ("no-endpoint-services", "no-endpoint-nodeports") and value:
            view = self._by_comment(comment, key[-2] if len(key) >= 2 else "")
            refusal = "reject" if "reject" in value else "drop"
            if view is None:
                self._unknown(chain, text)
                return
            node_port = map_name == "no-endpoint-nodeports"
            where = "node-port" if node_port else "cluster" if key[0] in cluster_ips else "external"
            if refusal == "reject":
                view.no_endpoints = "reject"
            else:
                view.no_local_endpoints = "drop"
                view.external_policy = "Local"
            if node_port:
                if int(key[1]) not in view.node_ports:
                    view.node_ports.append(int(key[1]))
            elif where == "cluster" and key[0] not in view.cluster_ips:
                view.cluster_ips.append(key[0])
                view.port = view.port or int(key[2])
            elif where == "external" and key[0] not in view.external_ips + view.load_balancer_ips:
                view.external_ips.append(key[0])
            code = "no-endpoints-reject" if refusal == "reject" else "no-local-endpoints-drop"
            params = {"ip": "" if node_port else key[0], "port": key[-1], "where": where}
            self._add(view, chain, text, code, params, "no-endpoints")
            return
        if map_name == "firewall-ips" and target:
            view = self._view(target)
            if view is not None:
                self._add(view, chain, text, "fw-map", {"ip": key[0], "to": target}, "nftables")
                return
        self._unknown(chain, text)

    def _by_comment(self, comment: str | None, protocol: str) -> ServicePortView | None:
        """no-endpoint elements lead to no Service chain: the element's comment names the Service port."""
        if not comment or "/" not in comment or " " in comment:
            return None
        key = (comment, protocol)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = ServicePortView(comment, protocol)
        return view

    # Chains ------------------------------------------------------------------------------------
    def _chain(self, table: NftTable, chain: NftChain) -> None:
        fixed = FIXED_CHAINS.get(chain.name)
        if chain.name in OTHER_VERSIONS:
            self._version(chain.name)
            fixed = "hook"
        if fixed is not None:
            for rule in chain.rules:
                code, params = self._fixed_rule(chain, rule, fixed)
                note = RuleNote(
                    self.label, chain.name, rule.listing(), code, tuple(params.items()), "nftables"
                )
                (self.result.unknown if code == "foreign" else self.result.fixed).append(note)
            return
        view = self._view(chain.name)
        if view is None:
            self.result.unknown.append(
                RuleNote(self.label, chain.name, f"{len(chain.rules)}", "foreign-chain")
            )
            return
        prefix = split_name(chain.name)[0]  # type: ignore[index]
        for rule in chain.rules:
            code, params, lesson = _service_rule(view, prefix, chain.name, rule, table)
            note = make_note(self.label, chain.name, rule, code, tuple(params.items()), lesson)
            if code == "foreign":
                self.result.unknown.append(note)
            else:
                view.rules.append(note)
        if prefix in ("service-", "local-"):
            endpoints = _numgen_endpoints(chain, prefix == "local-")
            (view.local_endpoints if prefix == "local-" else view.endpoints).extend(endpoints)

    def _fixed_rule(self, chain: NftChain, rule: NftRule, code: str) -> tuple[str, dict[str, str]]:
        verdicts = [s for s in rule.statements if isinstance(s, Verdict)]
        lookups = [s for s in rule.statements if isinstance(s, VmapLookup)]
        if code == "hook" and verdicts and verdicts[-1].chain in FIXED_CHAINS:
            return "hook", {"to": verdicts[-1].chain}
        if lookups and code in ("nft-services", "nft-firewall-check", "nft-no-endpoints-check"):
            return code, {"map": lookups[0].map_name}
        if code == "nft-masquerading":
            if any(isinstance(s, Masquerade) for s in rule.statements):
                return "postrouting-masquerade", {}
            if verdicts and verdicts[-1].kind == "return":
                return "postrouting-return", {}
            return "postrouting-unmark", {}
        if code == "mark-masq" or code == "nft-reject-chain":
            return code, {}
        if code == "nft-cluster-ips-check" and verdicts:
            return ("nft-cluster-ips-reject" if verdicts[-1].kind == "reject" else "nft-cluster-ips-drop"), {}
        return "foreign", {}

    def _version(self, name: str) -> None:
        self._version_seen(name, OTHER_VERSIONS[name])

    def _version_seen(self, name: str, era: str) -> None:
        if (name, era) not in self.result.versions:
            self.result.versions.append((name, era))

    def _add(
        self, view: ServicePortView, chain: str, text: str, code: str, params: dict[str, str], lesson: str
    ) -> None:
        kept = tuple([(k, v) for k, v in params.items() if v])
        view.rules.append(make_note(self.label, chain, text, code, kept, lesson))

    def _unknown(self, chain: str, text: str) -> None:
        self.result.unknown.append(RuleNote(self.label, chain, text, "foreign"))


def _element_key(element: object) -> tuple[object, ...]:
    key = element.key  # type: ignore[attr-defined]
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in key)


def _service_rule(
    view: ServicePortView, prefix: str, chain: str, rule: NftRule, table: NftTable
) -> tuple[str, dict[str, str], str | None]:
    statements = rule.statements
    verdict = statements[-1] if statements and isinstance(statements[-1], Verdict) else None
    matches = [s for s in statements if isinstance(s, Match)]
    masq = verdict is not None and verdict.chain == "mark-for-masquerade"
    saddr = next((m for m in matches if m.field == "ip saddr" or m.field == "ip6 saddr"), None)
    if prefix in ("service-", "local-") and masq:
        if saddr is not None and saddr.negated:
            return "masq-off-cluster", {"cidr": _value(saddr)}, "masquerade"
        if any(m.field == "iifname" and m.negated for m in matches):
            return "masq-off-cluster-iface", {}, "masquerade"
        if saddr is None:
            return "masq-all", {}, "masquerade"
    if prefix in ("service-", "local-") and isinstance(statements[-1], NumgenVmap):
        numgen = statements[-1]
        share = f"1/{numgen.mod}" if numgen.mod > 1 else "1"
        return "numgen", {"count": str(numgen.mod), "probability": share}, "nftables-numgen"
    if prefix in ("service-", "local-") and verdict is not None and verdict.chain.startswith("endpoint-"):
        if saddr is not None and isinstance(saddr.value, SetRef) and saddr.value.name.startswith("affinity-"):
            seconds = table.sets[saddr.value.name].timeout if saddr.value.name in table.sets else None
            if seconds is not None:
                view.affinity_seconds = seconds
            return "affinity", {"to": verdict.chain, "seconds": str(seconds or "")}, "nodeport"
        return "pick", {"to": verdict.chain, "probability": "1"}, "nftables-numgen"
    if prefix == "external-":
        if masq and len(statements) == 1:
            view.external_policy = view.external_policy or "Cluster"
            return "ext-masq", {}, "masquerade"
        if masq and any(isinstance(s, FibLocal) for s in statements):
            return "ext-local-masq", {}, "masquerade"
        if verdict is not None and verdict.chain.startswith("service-"):
            if saddr is not None and not saddr.negated:
                return "ext-pod-shortcut", {"cidr": _value(saddr)}, "masquerade"
            if any(m.field == "iifname" for m in matches):
                return "ext-pod-shortcut-iface", {}, "masquerade"
            if any(isinstance(s, FibLocal) for s in statements):
                return "ext-local-route", {}, "masquerade"
            view.external_policy = "Cluster"
            return "ext-to-svc", {"to": verdict.chain}, "chains"
        if verdict is not None and verdict.chain.startswith("local-"):
            view.external_policy = "Local"
            return "ext-to-svl", {"to": verdict.chain}, "chains"
    if prefix == "firewall-" and verdict is not None and verdict.kind == "drop" and saddr is not None:
        for network in _networks(saddr):
            if network not in view.source_ranges:
                view.source_ranges.append(network)
        view.source_ranges.sort(key=network_sort_key)  # nft list prints the set sorted
        return "fw-nft-drop", {"cidr": _value(saddr)}, "chains"
    if prefix == "endpoint-":
        if masq and saddr is not None and not saddr.negated:
            return "hairpin", {"ip": _value(saddr)}, "masquerade"
        dnat = next((s for s in statements if isinstance(s, Dnat)), None)
        if dnat is not None:
            endpoint = f"[{dnat.ip}]:{dnat.port}" if ":" in dnat.ip else f"{dnat.ip}:{dnat.port}"
            return "dnat", {"endpoint": endpoint}, "chains"
        if any(isinstance(s, SetUpdate) for s in statements):
            return "affinity-record", {}, "nodeport"
    return "foreign", {}, None


def _value(match: Match) -> str:
    value = match.value
    if isinstance(value, AnonSet):
        return ", ".join(
            network_text(n) for n in sorted(value.items, key=lambda n: (int(n.network_address), n.prefixlen))
        )
    return value.tx()


def _networks(match: Match) -> list[str]:
    value = match.value
    if isinstance(value, Address):
        return [network_text(value.network)]
    if isinstance(value, AnonSet):
        return [network_text(n) for n in value.items]
    return []


def _numgen_endpoints(chain: NftChain, local: bool) -> list[Endpoint]:
    """``numgen random mod N``: each of the N endpoint chains gets 1/N of new connections (one draw)."""
    for rule in chain.rules:
        last = rule.statements[-1] if rule.statements else None
        if isinstance(last, NumgenVmap):
            share = Fraction(1, max(last.mod, 1))
            out = []
            for target in last.chains:
                parts = split_name(target)
                address = parts[3] if parts is not None and parts[3] else target
                out.append(Endpoint(address, target, share, share, local))
            return out
        single = isinstance(last, Verdict) and last.kind == "goto" and last.chain.startswith("endpoint-")
        if single and not any(isinstance(s, Match) and isinstance(s.value, SetRef) for s in rule.statements):
            chain_name = last.chain  # type: ignore[union-attr]
            parts = split_name(chain_name)
            address = parts[3] if parts is not None and parts[3] else chain_name
            return [Endpoint(address, chain_name, Fraction(1), Fraction(1), local)]
    return []


_GROUPS = ("map ", "firewall-", "external-", "service-", "local-", "endpoint-")


def _order(chain: str, chains: dict[str, int]) -> tuple[int, int]:
    group = next((i for i, g in enumerate(_GROUPS) if chain.startswith(g)), len(_GROUPS))
    return (group, chains.get(chain, -1))


def _sorted_by_chain(notes: list[RuleNote], chains: dict[str, int]) -> list[RuleNote]:
    """``sorted(notes, key=lambda n: _order(n.chain, chains))``, one key per run of notes of one chain.

    A stable sort of the runs gives the same list: notes of equal keys keep their order either way.
    """
    runs: list[list[RuleNote]] = []
    last = None
    for note in notes:
        chain = note.chain
        if chain == last:
            runs[-1].append(note)
        else:
            runs.append([note])
            last = chain
    runs.sort(key=lambda run: _order(run[0].chain, chains))
    return [note for run in runs for note in run]


def explain_tables(
    tables: list[NftTable], fmt: str = "nft list", progress: Progress | None = None
) -> Explanation:
    """What kube-proxy's nftables tables (``ip kube-proxy``, ``ip6 kube-proxy``) do, Service port by Service port.

    ``progress`` hears ``("explain", chains done, chains)`` now and then.
    """
    return _Reader(tables, fmt, progress).run()


def network_sort_key(text: str) -> tuple[int, int]:
    network = ipaddress.ip_network(text, strict=False)
    return (int(network.network_address), network.prefixlen)
