"""Explain an iptables Ruleset (parsed from a node's ``iptables-save``, or compiled): Service by Service, rule by rule.

The structure decides what a rule is (which chain, which target, which matches); kube-proxy's
comments only give the Service port's name, so a dump written without comments (large-cluster
mode) is explained too. A rule in a kube-proxy chain that fits none of kube-proxy's shapes is
kept as ``foreign``: "not written by kube-proxy".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

from kproxy_tutor.explain.model import (
    Endpoint,
    Explanation,
    ForeignChain,
    RuleNote,
    ServicePortView,
    make_note,
)
from kproxy_tutor.sandbox.iptables.render import _spaced_args, ordered_chains, save_args
from kproxy_tutor.sandbox.iptables.rules import (
    BUILTIN_CHAINS,
    PROBABILITY_SCALE,
    TABLE_ORDER,
    AddrTypeMatch,
    Chain,
    Dnat,
    Goto,
    Jump,
    MarkMatch,
    MarkTarget,
    Masquerade,
    OpaqueMatch,
    PortMatch,
    RecentMatch,
    Reject,
    Rule,
    Ruleset,
    StatisticMatch,
    Verdict,
)
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress

#: iptables mode's own chains (pkg/proxy/iptables), per table.
IPTABLES_CHAINS = {
    "nat": {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY"},
    "filter": {
        "KUBE-SERVICES",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FORWARD",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-FIREWALL",
        "KUBE-PROXY-CANARY",
        "KUBE-FIREWALL",
    },
    "mangle": {"KUBE-PROXY-CANARY"},
}
#: IPVS mode's chains in iptables (pkg/proxy/ipvs); KUBE-SERVICES and friends are shared.
IPVS_CHAINS = {
    "nat": {"KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"},
    "filter": {
        "KUBE-FORWARD",
        "KUBE-NODE-PORT",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SOURCE-RANGES-FIREWALL",
        "KUBE-IPVS-FILTER",
        "KUBE-IPVS-OUT-FILTER",
    },
}
IPVS_ONLY = {"KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER"}
IPVS_ONLY |= {"KUBE-IPVS-OUT-FILTER"}
KUBELET_CHAINS = {"KUBE-KUBELET-CANARY", "KUBE-MARK-DROP"}
SERVICE_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-")
_SPN = r"(?P<spn>[^ ]+)"
#: kube-proxy's comments that name a Service port, and what they say about the rule.
_COMMENTS = [
    (re.compile(rf"^{_SPN} cluster IP$"), "cluster-ip"),
    (re.compile(rf"^{_SPN} external IP$"), "external-ip"),
    (re.compile(rf"^{_SPN} loadbalancer IP$"), "lb-ip"),
    (re.compile(rf"^{_SPN} has no endpoints$"), "no-endpoints"),
    (re.compile(rf"^{_SPN} has no local endpoints$"), "no-local-endpoints"),
    (re.compile(rf"^{_SPN} health check node port$"), "health-check"),
    (re.compile(rf"^{_SPN} traffic not accepted by (?P<chain>KUBE-FW-\S+)$"), "fw-drop"),
    (re.compile(rf"^{_SPN} -> (?P<endpoint>\S+)$"), "endpoint"),
    (re.compile(rf"^masquerade traffic for {_SPN} external destinations$"), "ext-masq"),
    (re.compile(rf"^pod traffic for {_SPN} external destinations$"), "ext-pod"),
    (re.compile(rf"^masquerade LOCAL traffic for {_SPN} external destinations$"), "ext-local-masq"),
    (re.compile(rf"^route LOCAL traffic for {_SPN} external destinations$"), "ext-local-route"),
    (re.compile(rf"^other traffic to {_SPN} will be dropped by KUBE-PROXY-FIREWALL$"), "fw-other"),
    (re.compile(r"^(?P<spn>[^ ]+/[^ ]+)$"), "plain"),
]


_SUFFIXES = (
    (" cluster IP", "cluster-ip"),
    (" external IP", "external-ip"),
    (" loadbalancer IP", "lb-ip"),
    (" has no endpoints", "no-endpoints"),
    (" has no local endpoints", "no-local-endpoints"),
    (" health check node port", "health-check"),
)


@lru_cache(maxsize=8192)
def _slow_comment_kind(comment: str) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
    for pattern, kind in _COMMENTS:
        found = pattern.match(comment)
        if found is not None:
            groups = found.groupdict()
            spn = groups.pop("spn")
            return spn, kind, tuple((k, v) for k, v in groups.items() if v is not None)
    return None, None, ()


def comment_kind(comment: str | None) -> tuple[str | None, str | None, dict[str, str]]:
    """(Service port name, kind, extra groups) of a kube-proxy comment; (None, None, {}) for others."""
    if not comment:
        return None, None, {}
    # The common shapes first, without a regular expression (a big node has 100,000 of them).
    if " " not in comment:
        return (comment, "plain", {}) if "/" in comment else (None, None, {})
    spn, _, rest = comment.partition(" ")
    if rest.startswith("-> ") and " " not in rest[3:] and "/" in spn:
        return spn, "endpoint", {"endpoint": rest[3:]}
    for suffix, kind in _SUFFIXES:
        if rest == suffix[1:] and "/" in spn:
            return spn, kind, {}
    spn_, kind_, extra = _slow_comment_kind(comment)
    return spn_, kind_, dict(extra)


def _target_chain(rule: Rule) -> str | None:
    target = rule.target
    return target.chain if isinstance(target, Jump | Goto) else None


def _token(chain: str) -> str:
    return chain.split("-", 2)[2]


def _port(rule: Rule) -> int | None:
    for match in rule.matches:
        if isinstance(match, PortMatch) and match.dport is not None and not match.dport.negated:
            return match.dport.first
    return None


def _ip(rule: Rule) -> str:
    return rule.destination.cidr.split("/")[0] if rule.destination is not None else ""


def _probability(rule: Rule) -> Fraction | None:
    for match in rule.matches:
        if isinstance(match, StatisticMatch) and match.mode == "random":
            return _fraction_of(match.probability)
    return None


@lru_cache(maxsize=4096)
def _fraction_of(stored: int) -> Fraction:
    """The kernel's stored probability (``lround(2^31 * p)``) as the fraction kube-proxy meant (1/3, not 0.3333333335)."""
    return Fraction(stored, PROBABILITY_SCALE).limit_denominator(1000)


@lru_cache(maxsize=4096)
def _shares(probabilities: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
    """Rule i is taken with pᵢ·∏(1−pⱼ) over the rules before it."""
    shares = []
    remaining = Fraction(1)
    for p in probabilities:
        shares.append(remaining * p)
        remaining *= 1 - p
    return tuple(shares)


def _has(rule: Rule, kind: type) -> bool:
    return any(isinstance(m, kind) for m in rule.matches)


class _Reader:
    def __init__(self, ruleset: Ruleset, fmt: str, progress: Progress | None = None) -> None:
        self.ruleset = ruleset
        self.progress = progress
        self.result = Explanation(fmt, "none")
        self.views: dict[tuple[str, str], ServicePortView] = {}
        self.by_token: dict[str, ServicePortView] = {}
        self.sep_owner: dict[str, ServicePortView] = {}
        self.current_ipvs = False
        self.current_iptables = False
        #: Rendered matches and targets by id (the ruleset keeps them alive while the reader runs).
        self.memo: dict[int, str] = {}
        #: Each chain's rule texts once made, by the chain's id.
        self.chain_texts: dict[int, list[str]] = {}
        #: Each Service port's notes by (table, chain), by the port's id.
        self.runs: dict[int, dict[tuple[str, str], list[RuleNote]]] = {}

    # Which chains are whose --------------------------------------------------------------
    def run(self) -> Explanation:
        nat = self.ruleset.tables.get("nat")
        services = nat.chains.get("KUBE-SERVICES") if nat is not None else None
        for rule in services.rules if services is not None else ():
            if any(isinstance(m, OpaqueMatch) and m.module == "set" for m in rule.matches):
                self.current_ipvs = True
            target = _target_chain(rule) or ""
            if target.startswith(SERVICE_PREFIXES) or target == "KUBE-NODEPORTS":
                self.current_iptables = True
        has_service_chains = nat is not None and any(c.startswith(SERVICE_PREFIXES) for c in nat.chains)
        has_ipvs_chains = any(name in IPVS_ONLY for t in self.ruleset.tables.values() for name in t.chains)
        if not (self.current_ipvs or self.current_iptables):
            self.current_iptables = has_service_chains or self._has_iptables_filter()
            self.current_ipvs = not self.current_iptables and has_ipvs_chains
        self.result.mode = "ipvs" if self.current_ipvs else "iptables" if self.current_iptables else "none"
        for name, table in self.ruleset.tables.items():
            self.result.tables[name] = sum(len(c.rules) for c in table.chains.values())
        self._name_service_chains()
        # iptables-save's table order, whichever order the structure was built in.
        names = sorted(
            self.ruleset.tables, key=lambda t: (TABLE_ORDER.index(t) if t in TABLE_ORDER else 99, t)
        )
        total = sum(len(t.chains) for t in self.ruleset.tables.values())
        done = 0
        for table_name in names:
            table = self.ruleset.tables[table_name]
            for chain_name in ordered_chains(table):
                self._chain(table_name, table.chains[chain_name])
                done += 1
                if done & PROGRESS_MASK == 0 and self.progress is not None:
                    self.progress("explain", done, total)
        self._endpoints()
        known = self.chain_texts
        self.result.rules_digest = _digest(
            self.ruleset, lambda chain: known[id(chain)] if id(chain) in known else self._texts(chain)
        )
        for view in self.views.values():
            order = {chain: i for i, chain in enumerate(view.chains)}
            runs = self.runs.get(id(view))
            if runs is None:
                continue
            # Each chain's notes arrived together: sorting the chains (stably, in the order they
            # were read) gives what sorting every note by its chain's key gives.
            keys = sorted(runs, key=lambda run: _run_order(run, order))
            view.rules = [note for key in keys for note in runs[key]]
        self.result.service_ports = sorted(self.views.values(), key=lambda v: (v.name, v.protocol))
        return self.result

    def _has_iptables_filter(self) -> bool:
        filter_table = self.ruleset.tables.get("filter")
        return filter_table is not None and "KUBE-EXTERNAL-SERVICES" in filter_table.chains

    def _owner(self, table: str, chain: str) -> str:
        """``kube-proxy``, ``builtin``, ``kubelet``, ``other`` or the other mode (``iptables``/``ipvs``)."""
        if chain in BUILTIN_CHAINS.get(table, ()):
            return "builtin"
        if chain in KUBELET_CHAINS:
            return "kubelet"
        if table == "nat" and chain.startswith("KUBE-XLB-"):
            return "older"  # an older kube-proxy's name for what KUBE-SVL/KUBE-EXT do now
        in_iptables = chain in IPTABLES_CHAINS.get(table, ()) or (
            table == "nat" and chain.startswith((*SERVICE_PREFIXES, "KUBE-SEP-"))
        )
        in_ipvs = chain in IPVS_CHAINS.get(table, ())
        if self.current_ipvs:
            if in_ipvs:
                return "kube-proxy"
            return "iptables" if in_iptables else "other"
        if in_iptables:
            return "kube-proxy"
        return "ipvs" if in_ipvs else "other"

    def _view(self, spn: str, protocol: str) -> ServicePortView:
        key = (spn, protocol)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = ServicePortView(spn, protocol)
        return view

    def _name_service_chains(self) -> None:
        """Each KUBE-SVC/SVL/EXT/FW token gets the Service port its rules' comments name."""
        nat = self.ruleset.tables.get("nat")
        if nat is None or self.current_ipvs:
            return
        names: dict[str, tuple[str, str]] = {}
        for chain in nat.chains.values():
            own = chain.name.startswith(SERVICE_PREFIXES)
            for rule in chain.rules:
                if not own and not (_target_chain(rule) or "").startswith(SERVICE_PREFIXES):
                    continue  # names nothing (an endpoint chain's rules)
                spn, _kind, _extra = comment_kind(rule.comment)
                if spn is None:
                    continue
                protocol = rule.protocol.protocol if rule.protocol is not None else ""
                for name in (chain.name, _target_chain(rule) or ""):
                    if name.startswith(SERVICE_PREFIXES):
                        token = _token(name)
                        if token not in names or (protocol and not names[token][1]):
                            names[token] = (spn, protocol or names.get(token, ("", ""))[1])
        for token, (spn, protocol) in names.items():
            self.by_token[token] = self._view(spn, protocol or "tcp")
        # Chains no comment names (a dump without comments): named by their token.
        for chain_name in nat.chains:
            if chain_name.startswith(SERVICE_PREFIXES):
                token = _token(chain_name)
                if token not in self.by_token:
                    self.by_token[token] = self._view(token, "")
        for token, view in self.by_token.items():
            for prefix in SERVICE_PREFIXES:
                if prefix + token in nat.chains and prefix + token not in view.chains:
                    view.chains.append(prefix + token)
            for prefix in ("KUBE-SVC-", "KUBE-SVL-"):
                for rule in nat.chains[prefix + token].rules if prefix + token in nat.chains else ():
                    target = _target_chain(rule) or ""
                    if target.startswith("KUBE-SEP-"):
                        self.sep_owner.setdefault(target, view)
                        if target not in view.chains:
                            view.chains.append(target)

    # Rules ---------------------------------------------------------------------------------
    def _chain(self, table: str, chain: Chain) -> None:
        owner = self._owner(table, chain.name)
        if owner == "builtin":
            others = 0
            texts = self._texts(chain)
            for rule, text in zip(chain.rules, texts, strict=True):
                target = _target_chain(rule) or ""
                owner = self._owner(table, target)
                if owner == "kube-proxy":
                    self._note(None, table, rule, text, "hook", {"to": target}, "chains")
                elif owner in ("iptables", "ipvs"):
                    self._note(
                        None, table, rule, text, "hook-leftover", {"to": target, "mode": owner}, "mode-switch"
                    )
                else:
                    others += 1
            if others:
                self.result.foreign_hook_rules[table] = self.result.foreign_hook_rules.get(table, 0) + others
            return
        if owner == "older" and ("KUBE-XLB-*", "older") not in self.result.versions:
            self.result.versions.append(("KUBE-XLB-*", "older"))
        if owner != "kube-proxy":
            self.result.foreign_chains.append(ForeignChain(table, chain.name, len(chain.rules), owner))
            return
        classify = self._classifier(table, chain.name)
        texts = self._texts(chain)
        for rule, text in zip(chain.rules, texts, strict=True):
            view, code, params, lesson = classify(rule)
            self._note(view, table, rule, text, code, params, lesson)

    def _texts(self, chain: Chain) -> list[str]:
        """Each rule as ``iptables-save`` prints it (without ``-A CHAIN``): a compiled chain holds
        those lines already; a parsed one renders each match and target object once."""
        texts = _chain_texts(chain, self.memo)
        self.chain_texts[id(chain)] = texts
        return texts

    def _note(
        self,
        view: ServicePortView | None,
        table: str,
        rule: Rule,
        text: str,
        code: str,
        params: dict[str, str],
        lesson: str | None,
    ) -> None:
        kept = tuple([(k, v) for k, v in params.items() if v])
        note = make_note(table, rule.chain, text, code, kept, lesson)
        if code == "foreign":
            self.result.unknown.append(note)
        elif view is not None:
            # Gathered by chain, in reading order (``run`` puts them in the lesson's order).
            runs = self.runs.get(id(view))
            if runs is None:
                runs = self.runs[id(view)] = {}
            key = (table, rule.chain)
            found = runs.get(key)
            if found is None:
                runs[key] = [note]
            else:
                found.append(note)
        else:
            self.result.fixed.append(note)

    def _classifier(
        self, table: str, chain: str
    ) -> Callable[[Rule], tuple[ServicePortView | None, str, dict[str, str], str | None]]:
        if self.current_ipvs:
            return lambda rule: self._ipvs_rule(table, chain, rule)
        if table == "nat" and chain.startswith(SERVICE_PREFIXES):
            view = self.by_token[_token(chain)]
            return lambda rule: self._service_chain_rule(view, chain, rule)
        if table == "nat" and chain.startswith("KUBE-SEP-"):
            return lambda rule: self._sep_rule(chain, rule)
        return lambda rule: self._fixed_rule(table, chain, rule)

    def _fixed_rule(
        self, table: str, chain: str, rule: Rule
    ) -> tuple[ServicePortView | None, str, dict[str, str], str | None]:
        target = rule.target
        jump = _target_chain(rule) or ""
        spn, kind, _extra = comment_kind(rule.comment)
        protocol = rule.protocol.protocol if rule.protocol is not None else "tcp"
        ip, port = _ip(rule), _port(rule)
        addr = {"ip": ip, "port": str(port or "")}
        if table == "nat" and chain == "KUBE-SERVICES":
            if jump.startswith(SERVICE_PREFIXES) and rule.destination is not None and port is not None:
                view = self.by_token[_token(jump)]
                _set_port(view, port)
                if jump.startswith(("KUBE-SVC-", "KUBE-SVL-")) and kind in ("cluster-ip", None):
                    _add(view.cluster_ips, ip)
                    view.internal_policy = "Local" if jump.startswith("KUBE-SVL-") else "Cluster"
                    return view, "cluster-ip", addr | {"to": jump}, "chains"
                if kind == "external-ip":
                    _add(view.external_ips, ip)
                    return view, "external-ip", addr | {"to": jump}, "chains"
                if kind == "lb-ip" or jump.startswith(("KUBE-EXT-", "KUBE-FW-")):
                    _add(view.load_balancer_ips, ip)
                    return view, "lb-ip", addr | {"to": jump}, "chains"
            if jump == "KUBE-NODEPORTS" and (_dst_local(rule) or rule.destination is not None):
                return None, "to-nodeports", {"ip": ip}, "nodeport"
        if table == "nat" and chain == "KUBE-NODEPORTS" and jump.startswith(SERVICE_PREFIXES) and port:
            view = self.by_token[_token(jump)]
            _add(view.node_ports, port)
            localhost = rule.destination is not None and rule.destination.cidr == "127.0.0.0/8"
            return view, "node-port-localhost" if localhost else "node-port", addr | {"to": jump}, "nodeport"
        if table == "nat" and chain == "KUBE-MARK-MASQ" and isinstance(target, MarkTarget):
            return None, "mark-masq", {}, "masquerade"
        if table == "nat" and chain == "KUBE-POSTROUTING":
            if isinstance(target, Verdict) and target.verdict == "RETURN" and _has(rule, MarkMatch):
                return None, "postrouting-return", {}, "masquerade"
            if isinstance(target, MarkTarget):
                return None, "postrouting-unmark", {}, "masquerade"
            if isinstance(target, Masquerade):
                return None, "postrouting-masquerade", {}, "masquerade"
        if table == "filter" and spn is not None and port is not None:
            view = self._view(spn, protocol)
            refusal = "reject" if isinstance(target, Reject) else "drop"
            if kind == "no-endpoints" and isinstance(target, Reject | Verdict):
                view.no_endpoints = refusal
                where = (
                    "cluster" if chain == "KUBE-SERVICES" else "node-port" if _dst_local(rule) else "external"
                )
                if where == "cluster":
                    _add(view.cluster_ips, ip)
                    _set_port(view, port)
                elif where == "node-port":
                    _add(view.node_ports, port)
                elif ip not in view.load_balancer_ips:
                    _add(view.external_ips, ip)
                    _set_port(view, port)
                return view, f"no-endpoints-{refusal}", addr | {"where": where}, "no-endpoints"
            if kind == "no-local-endpoints" and isinstance(target, Reject | Verdict):
                view.no_local_endpoints = refusal
                view.external_policy = "Local"
                return view, f"no-local-endpoints-{refusal}", addr, "no-endpoints"
            if kind == "health-check" and isinstance(target, Verdict) and target.verdict == "ACCEPT":
                view.health_check_node_port = port
                view.external_policy = "Local"
                return view, "health-check", addr, "nodeport"
            if kind == "fw-drop" and isinstance(target, Verdict) and target.verdict == "DROP":
                return view, "fw-drop", addr, "chains"
        if table == "filter":
            fixed = _FILTER_FIXED.get(chain)
            if fixed is not None:
                code = fixed(rule)
                if code is not None:
                    return None, code, {}, "conntrack" if "conntrack" in code else "chains"
        return None, "foreign", {}, None

    def _service_chain_rule(
        self, view: ServicePortView, chain: str, rule: Rule
    ) -> tuple[ServicePortView | None, str, dict[str, str], str | None]:
        jump = _target_chain(rule) or ""
        _spn, kind, _extra = comment_kind(rule.comment)
        token = _token(chain)
        if rule.protocol is not None and not view.protocol:
            view.protocol = rule.protocol.protocol
        if jump == "KUBE-MARK-MASQ":
            if chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and rule.destination is not None:
                if rule.source is not None and rule.source.negated:
                    return view, "masq-off-cluster", {"cidr": rule.source.cidr}, "masquerade"
                if rule.in_interface is not None and rule.in_interface.negated:
                    return view, "masq-off-cluster-iface", {"iface": rule.in_interface.name}, "masquerade"
                if rule.source is None and rule.in_interface is None:
                    return view, "masq-all", {}, "masquerade"
            if chain.startswith("KUBE-EXT-"):
                if kind == "ext-local-masq" or _src_local(rule):
                    return view, "ext-local-masq", {}, "masquerade"
                if rule.source is None and not rule.matches[1:] and kind in ("ext-masq", None):
                    return view, "ext-masq", {}, "masquerade"
        if chain.startswith("KUBE-EXT-"):
            if jump == "KUBE-SVC-" + token:
                if rule.source is not None and not rule.source.negated:
                    return view, "ext-pod-shortcut", {"cidr": rule.source.cidr}, "masquerade"
                if rule.in_interface is not None:
                    return view, "ext-pod-shortcut-iface", {"iface": rule.in_interface.name}, "masquerade"
                if _src_local(rule):
                    return view, "ext-local-route", {}, "masquerade"
                view.external_policy = "Cluster"
                return view, "ext-to-svc", {"to": jump}, "chains"
            if jump == "KUBE-SVL-" + token:
                view.external_policy = "Local"
                return view, "ext-to-svl", {"to": jump}, "chains"
        if chain.startswith("KUBE-FW-"):
            if jump == "KUBE-EXT-" + token and rule.source is not None:
                _add(view.source_ranges, rule.source.cidr)
                return view, "fw-allow", {"cidr": rule.source.cidr}, "chains"
            if rule.target is None:
                return view, "fw-other", {}, "chains"
        if chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and jump.startswith("KUBE-SEP-"):
            recent = next((m for m in rule.matches if isinstance(m, RecentMatch)), None)
            if recent is not None and recent.command == "rcheck" and recent.name == jump:
                view.affinity_seconds = recent.seconds
                return view, "affinity", {"to": jump, "seconds": str(recent.seconds)}, "nodeport"
            if recent is None:
                probability = _probability(rule)
                text = "1" if probability is None else _fraction(probability)
                return view, "pick", {"to": jump, "probability": text}, "probabilities"
        return view, "foreign", {}, None

    def _sep_rule(
        self, chain: str, rule: Rule
    ) -> tuple[ServicePortView | None, str, dict[str, str], str | None]:
        view = self.sep_owner.get(chain)
        if view is None:
            spn, _kind, _extra = comment_kind(rule.comment)
            protocol = rule.protocol.protocol if rule.protocol is not None else ""
            view = self._stale_sep(chain, spn, protocol)
        target = rule.target
        if _target_chain(rule) == "KUBE-MARK-MASQ" and rule.source is not None and not rule.source.negated:
            return view, "hairpin", {"ip": rule.source.cidr.split("/")[0]}, "masquerade"
        if isinstance(target, Dnat):
            recent = next((m for m in rule.matches if isinstance(m, RecentMatch)), None)
            if recent is not None and recent.command == "set":
                return view, "dnat-affinity", {"endpoint": target.to_destination}, "nodeport"
            return view, "dnat", {"endpoint": target.to_destination}, "chains"
        return view, "foreign", {}, None

    def _stale_sep(self, chain: str, spn: str | None, protocol: str) -> ServicePortView:
        """An endpoint chain no Service chain jumps to: kept under its Service (by comment) or its own name."""
        view = self._view(spn or chain, protocol or "tcp") if spn else self._view(chain, "")
        if chain not in view.chains:
            view.chains.append(chain)
        self.sep_owner[chain] = view
        return view

    def _ipvs_rule(
        self, table: str, chain: str, rule: Rule
    ) -> tuple[ServicePortView | None, str, dict[str, str], str | None]:
        sets = [m for m in rule.matches if isinstance(m, OpaqueMatch) and m.module == "set"]
        set_name = (
            sets[0].args[sets[0].args.index("--match-set") + 1]
            if sets and "--match-set" in sets[0].args
            else ""
        )
        if chain == "KUBE-MARK-MASQ" and isinstance(rule.target, MarkTarget):
            return None, "mark-masq", {}, "masquerade"
        if chain == "KUBE-POSTROUTING":
            if isinstance(rule.target, Verdict) and rule.target.verdict == "RETURN":
                return None, "postrouting-return", {}, "masquerade"
            if isinstance(rule.target, MarkTarget):
                return None, "postrouting-unmark", {}, "masquerade"
            if isinstance(rule.target, Masquerade):
                code = "ipvs-hairpin" if set_name else "postrouting-masquerade"
                return None, code, {"set": set_name}, "masquerade"
        if table == "filter" and chain == "KUBE-FORWARD":
            code = _FILTER_FIXED["KUBE-FORWARD"](rule)
            if code is not None:
                return None, code, {}, "conntrack"
        if set_name or rule.target is not None:
            return None, "ipvs-set" if set_name else "ipvs-rule", {"set": set_name}, "ipvs"
        return None, "foreign", {}, None

    # Endpoints -------------------------------------------------------------------------------
    def _endpoints(self) -> None:
        nat = self.ruleset.tables.get("nat")
        if nat is None:
            return
        for token, view in self.by_token.items():
            for prefix, target_list, local in (
                ("KUBE-SVC-", view.endpoints, False),
                ("KUBE-SVL-", view.local_endpoints, True),
            ):
                chain = nat.chains.get(prefix + token)
                if chain is not None:
                    target_list.extend(_endpoint_list(nat.chains, chain, local))


def _endpoint_list(chains: dict[str, Chain], chain: Chain, local: bool) -> list[Endpoint]:
    """The endpoints in the order the kernel tries them, each with its rule's and its overall share."""
    picked: list[tuple[str, str, Fraction]] = []
    for rule in chain.rules:
        target = _target_chain(rule) or ""
        if not target.startswith("KUBE-SEP-") or _has(rule, RecentMatch):
            continue
        probability = _probability(rule)
        sep = chains.get(target)
        # An endpoint chain without a DNAT rule (or an empty one) is named by the chain itself.
        address = target
        if sep is not None:
            address = next((r.target.to_destination for r in sep.rules if isinstance(r.target, Dnat)), target)
        picked.append((address, target, Fraction(1) if probability is None else probability))
        if probability is None:
            break
    shares = _shares(tuple(p for _a, _c, p in picked))
    return [Endpoint(a, c, p, share, local) for (a, c, p), share in zip(picked, shares, strict=True)]


_GROUPS = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-FW-", "KUBE-EXT-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-")


def _run_order(run: tuple[str, str], chains: dict[str, int]) -> tuple[bool, int, int]:
    """The lesson's order of a (table, chain): KUBE-SERVICES, KUBE-NODEPORTS, FW, EXT, SVC, SVL, SEP (nat), then filter."""
    table, chain = run
    return (table != "nat", _group(chain), chains.get(chain, 0))


def _group(chain: str) -> int:
    for index, prefix in enumerate(_GROUPS):
        if chain.startswith(prefix):
            return index
    return len(_GROUPS)


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)


def _add(values: list, value: object) -> None:
    if value not in values:
        values.append(value)


def _set_port(view: ServicePortView, port: int) -> None:
    if view.port is None:
        view.port = port


def _dst_local(rule: Rule) -> bool:
    return any(isinstance(m, AddrTypeMatch) and m.dst_type == "LOCAL" for m in rule.matches)


def _src_local(rule: Rule) -> bool:
    return any(isinstance(m, AddrTypeMatch) and m.src_type == "LOCAL" for m in rule.matches)


def _forward(rule: Rule) -> str | None:
    target = rule.target
    text = save_args(rule)
    if isinstance(target, Verdict) and target.verdict == "DROP" and "INVALID" in text:
        return "forward-invalid"
    if isinstance(target, Verdict) and target.verdict == "ACCEPT" and _has(rule, MarkMatch):
        return "forward-marked"
    if isinstance(target, Verdict) and target.verdict == "ACCEPT" and "RELATED,ESTABLISHED" in text:
        return "forward-conntrack"
    return None


def _firewall(rule: Rule) -> str | None:
    target = rule.target
    destination = rule.destination
    if isinstance(target, Verdict) and target.verdict == "DROP" and destination is not None:
        return "block-localnet" if destination.cidr == "127.0.0.0/8" else None
    return None


_FILTER_FIXED: dict[str, Callable[[Rule], str | None]] = {
    "KUBE-FORWARD": _forward,
    "KUBE-FIREWALL": _firewall,
}


def _chain_texts(chain: Chain, memo: dict[int, str]) -> list[str]:
    if chain.has_lines:
        cut = len(chain.name) + 4
        return [line[cut:] for line in chain.save_lines()]
    return [_spaced_args(rule, memo)[1:] for rule in chain.rules]


def _digest(ruleset: Ruleset, texts_of: Callable[[Chain], list[str]]) -> str:
    """A fingerprint of everything the explanation of ``ruleset`` depends on: its tables, their
    chains (names, built-in or not) and each chain's rules as iptables-save prints them."""
    import hashlib

    digest = hashlib.sha256()
    for table_name in sorted(
        ruleset.tables, key=lambda t: (TABLE_ORDER.index(t) if t in TABLE_ORDER else 99, t)
    ):
        table = ruleset.tables[table_name]
        for chain_name in ordered_chains(table):
            chain = table.chains[chain_name]
            digest.update(f"\x00{table_name}\x00{chain_name}\x00{chain.builtin}\x00".encode())
            digest.update("\n".join(texts_of(chain)).encode())
    return digest.hexdigest()


def ruleset_digest(ruleset: Ruleset) -> str:
    """``explain_ruleset(ruleset).rules_digest`` without explaining: two rulesets with the same
    digest have the same explanation."""
    memo: dict[int, str] = {}
    return _digest(ruleset, lambda chain: _chain_texts(chain, memo))


def explain_ruleset(
    ruleset: Ruleset, fmt: str = "iptables-save", progress: Progress | None = None
) -> Explanation:
    """What the rules of ``ruleset`` do, Service port by Service port (intrinsic findings come from ``checks``).

    ``progress`` hears ``("explain", chains done, chains)`` now and then.
    """
    return _Reader(ruleset, fmt, progress).run()
