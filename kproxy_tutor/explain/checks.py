"""Findings about a node's rules: what the rules alone show (``check``), and how they differ from the manifests (``compare``)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from kproxy_tutor.explain.model import Explanation, Finding, RuleNote, ServicePortView, fraction_text

#: Rule codes that bring traffic into a Service port's chains (a port without any is stale).
ENTRY_CODES = frozenset(
    ("cluster-ip", "external-ip", "lb-ip", "node-port", "node-port-localhost", "no-endpoints-reject")
)
ENTRY_CODES |= {"no-endpoints-drop", "no-local-endpoints-drop", "no-local-endpoints-reject"}
ENTRY_CODES |= {"ipvs-cluster-ip", "ipvs-node-port", "ipvs-lb-ip", "ipvs-external-ip", "ipvs-virtual-server"}


def _p(**params: object) -> tuple[tuple[str, str], ...]:
    return tuple((k, str(v)) for k, v in params.items())


def check(explanation: Explanation) -> list[Finding]:
    """Problems the dump shows without manifests: stale chains, odd probabilities, leftovers, foreign rules."""
    findings: list[Finding] = []
    for view in explanation.service_ports:
        codes = {note.code for note in view.rules}
        if not codes & ENTRY_CODES:
            findings.append(Finding("stale-chains", view.name, _p(chains=", ".join(view.chains)), "chains"))
            continue
        if view.is_virtual_server:
            continue  # ipvs_findings: real servers and weights are another story
        if view.no_endpoints:
            findings.append(Finding("no-endpoints", view.name, _p(refusal=view.no_endpoints), "no-endpoints"))
        if view.external_policy == "Local" and not view.local_endpoints and not view.no_endpoints:
            findings.append(Finding("no-local-endpoints", view.name, (), "no-endpoints"))
        findings.extend(_probabilities(explanation.mode, view))
        listed = {e.chain for e in (*view.endpoints, *view.local_endpoints)}
        for chain in view.chains:
            if chain.startswith(("KUBE-SEP-", "endpoint-")) and chain not in listed:
                findings.append(Finding("stale-endpoint-chain", view.name, _p(chain=chain), "chains"))
    by_chain = Counter(note.chain for note in explanation.unknown)
    for note in explanation.unknown:
        if by_chain.pop(note.chain, 0):
            findings.append(
                Finding(
                    "foreign-rules",
                    None,
                    _p(
                        chain=note.chain,
                        table=note.table,
                        count=sum(1 for n in explanation.unknown if n.chain == note.chain),
                    ),
                    None,
                )
            )
    leftovers = Counter(c.owner for c in explanation.foreign_chains if c.owner in ("iptables", "ipvs"))
    for owner, count in sorted(leftovers.items()):
        findings.append(Finding("leftovers", None, _p(mode=owner, count=count), "mode-switch"))
    for location, _text in explanation.unreadable:
        findings.append(Finding("unreadable", None, _p(location=location), None))
    return findings


def _probabilities(mode: str, view: ServicePortView) -> list[Finding]:
    """iptables: rule i of n must say 1/(n-i) so every endpoint gets 1/n; nftables: numgen mod n over n chains."""
    out: list[Finding] = []
    for endpoints in (view.endpoints, view.local_endpoints):
        n = len(endpoints)
        if not n:
            continue
        if mode == "nftables":
            if any(e.share != Fraction(1, n) for e in endpoints):
                written = fraction_text(endpoints[0].share)
                out.append(
                    Finding("probabilities", view.name, _p(count=n, written=written), "nftables-numgen")
                )
            continue
        wrong = [(i, e) for i, e in enumerate(endpoints) if e.probability != Fraction(1, n - i)]
        if wrong:
            i, endpoint = wrong[0]
            out.append(
                Finding(
                    "probabilities",
                    view.name,
                    _p(
                        count=n,
                        endpoint=endpoint.address,
                        written=fraction_text(endpoint.probability),
                        expected=fraction_text(Fraction(1, n - i)),
                    ),
                    "probabilities",
                )
            )
    return out


def compare(actual: Explanation, expected: Explanation) -> list[Finding]:
    """What differs from what kube-proxy v1.35 would write for the manifests, with the likely cause."""
    findings: list[Finding] = []
    want = {(v.name, v.protocol): v for v in expected.service_ports}
    have = {(v.name, v.protocol): v for v in actual.service_ports}
    for key, view in want.items():
        if key not in have:
            findings.append(Finding("missing-service", view.name, _p(protocol=view.protocol), "chains"))
    stale_reported = {f.service for f in check(actual) if f.code == "stale-chains"}
    for key, view in have.items():
        if key not in want and view.name not in stale_reported:
            findings.append(Finding("stale-service", view.name, _p(protocol=view.protocol), "chains"))
    for key in want.keys() & have.keys():
        findings.extend(_compare_port(have[key], want[key]))
    extra, missing = _rule_differences(actual.fixed, expected.fixed)
    if missing:
        findings.append(Finding("fixed-rules-missing", None, _p(count=sum(missing.values())), "chains"))
    if extra:
        findings.append(Finding("fixed-rules-extra", None, _p(count=sum(extra.values())), "chains"))
    return findings


def _compare_port(have: ServicePortView, want: ServicePortView) -> list[Finding]:
    out: list[Finding] = []
    name = want.name
    for attribute in ("cluster_ips", "node_ports", "external_ips", "load_balancer_ips"):
        got, wanted = sorted(map(str, getattr(have, attribute))), sorted(map(str, getattr(want, attribute)))
        if got != wanted:
            out.append(
                Finding(
                    "addresses-differ",
                    name,
                    _p(field=attribute, written=", ".join(got) or "-", expected=", ".join(wanted) or "-"),
                    "chains",
                )
            )
    for attribute, field in (
        ("internal_policy", "internal_traffic_policy"),
        ("external_policy", "external_traffic_policy"),
        ("affinity_seconds", "session_affinity_seconds"),
    ):
        if getattr(have, attribute) != getattr(want, attribute):
            out.append(
                Finding(
                    "settings-differ",
                    name,
                    _p(
                        field=field,
                        written=getattr(have, attribute) or "-",
                        expected=getattr(want, attribute) or "-",
                    ),
                    "chains",
                )
            )
    got = {e.address for e in (*have.endpoints, *have.local_endpoints)}
    wanted = {e.address for e in (*want.endpoints, *want.local_endpoints)}
    for address in sorted(wanted - got):
        out.append(Finding("missing-endpoint", name, _p(endpoint=address), "chains"))
    for address in sorted(got - wanted):
        out.append(Finding("stale-endpoint", name, _p(endpoint=address), "chains"))
    if not out:
        extra, missing = _rule_differences(have.rules, want.rules)
        if extra or missing:
            out.append(
                Finding(
                    "rules-differ",
                    name,
                    _p(extra=sum(extra.values()), missing=sum(missing.values())),
                    "chains",
                )
            )
    return out


def _rule_differences(have: list[RuleNote], want: list[RuleNote]) -> tuple[Counter[str], Counter[str]]:
    """The rules (by text, with repeats) only ``have`` holds, and those only ``want`` holds."""
    have_texts = [n.text for n in have]
    want_texts = [n.text for n in want]
    if have_texts == want_texts:  # nearly every Service port of a node in sync
        return Counter(), Counter()
    got, wanted = Counter(have_texts), Counter(want_texts)
    return got - wanted, wanted - got
