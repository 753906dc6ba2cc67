"""``explain``: read a real node's kube-proxy rules, explain them Service by Service, and find what is wrong.

Pure analysis (no terminal, no language): ``explain_text`` reads a dump once with the project's
parsers and returns an :class:`Explanation` with findings; ``compare_with`` adds what differs
from the rules kube-proxy v1.35 would write for given manifests; ``to_data`` is the JSON form.
"""

from __future__ import annotations

from kproxy_tutor.explain.checks import check, compare
from kproxy_tutor.explain.model import Explanation, Finding, ForeignChain, ForeignTable
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.work import Progress


def explain_structure(state: object, fmt: str, progress: Progress | None = None) -> Explanation:
    """Explain a Ruleset (iptables) or a list of NftTable (nftables), compiled or parsed."""
    from kproxy_tutor.sandbox.iptables.rules import Ruleset

    if isinstance(state, Ruleset):
        from kproxy_tutor.explain.iptables import explain_ruleset

        return explain_ruleset(state, fmt, progress)
    from kproxy_tutor.explain.nftables import explain_tables

    return explain_tables(list(state), fmt, progress)  # type: ignore[call-overload]


def explain_text(text: str, source: str = "<rules>", progress: Progress | None = None) -> Explanation:
    """Detect the format, parse once, explain, and add the findings the dump alone shows.

    ``progress`` hears ``("read-rules", characters done, characters)`` while it parses, then
    ``("explain", chains done, chains)`` (for a progress display).
    """
    from kproxy_tutor.explain.read import read_dump
    from kproxy_tutor.sandbox.gcpause import paused_gc

    say = progress or _silent
    # A big node's dump becomes a few hundred thousand long-lived objects without cycles.
    with paused_gc():
        say("read-rules", 0, len(text))
        dump = read_dump(text, source, say)
        say("read-rules", len(text), len(text))
        if dump.format.startswith(("ipvsadm", "ipset")):
            explanation = _explain_ipvs(dump)
        else:
            explanation = explain_structure(
                dump.ruleset if dump.ruleset is not None else dump.tables, dump.format, progress
            )
        explanation.unreadable = dump.unreadable
        for block in dump.other_tables:
            owner = "iptables" if block.kube_chains else "other"
            explanation.foreign_tables.append(
                ForeignTable(f"{block.family} {block.name}", block.chains, owner)
            )
            if owner == "iptables" and explanation.mode == "nftables":
                explanation.foreign_chains.append(
                    ForeignChain(f"{block.family} {block.name}", "KUBE-*", block.kube_chains, "iptables")
                )
        explanation.findings = check(explanation) + explanation.findings
    return explanation


def _silent(_phase: str, _done: int, _total: int) -> None:
    pass


def _explain_ipvs(dump: object) -> Explanation:
    """IPVS mode: the iptables part (if given) explained as usual, then one Service port per virtual server."""
    from kproxy_tutor.explain.ipvs import explain_ipvs, ipvs_findings

    ruleset = dump.ruleset  # type: ignore[attr-defined]
    fmt = dump.format  # type: ignore[attr-defined]
    explanation = explain_structure(ruleset, fmt) if ruleset is not None else Explanation(fmt, "ipvs")
    servers = dump.virtual_servers  # type: ignore[attr-defined]
    if explanation.mode == "iptables":
        # kube-proxy runs in iptables mode: the virtual servers are what IPVS mode left behind.
        if servers:
            explanation.findings.append(
                Finding("leftovers", None, (("mode", "ipvs"), ("count", str(len(servers)))), "mode-switch")
            )
        return explanation
    explain_ipvs(servers, dump.ipsets, explanation)  # type: ignore[attr-defined]
    explanation.findings.extend(ipvs_findings(explanation))
    return explanation


def expected_explanation(
    cluster: Cluster,
    node: str | None,
    mode: str,
    sections: tuple[str, ...] = (),
    progress: Progress | None = None,
    same_as: Explanation | None = None,
) -> Explanation:
    """What kube-proxy v1.35 in ``mode`` would write on ``node`` for ``cluster``, explained the same way.

    ``progress`` hears the compiler's ``sync`` phase. With ``same_as`` (the node's explanation,
    iptables mode), when the compiled rules are exactly the ones it explains, it is returned
    as it is instead of explaining them again.
    """
    from kproxy_tutor.sandbox.gcpause import paused_gc
    from kproxy_tutor.sandbox.modes import compile_mode

    with paused_gc():
        compiled = compile_mode(cluster, node, mode, progress=progress)
    if sections:
        # IPVS: the same parts the node's report had, read by the same readers.
        texts = {"ipvsadm -Ln": "ipvsadm -Ln", "ipset list": "ipset list", "iptables-save": "iptables-save"}
        text = "".join(compiled.texts[texts[name]] for name in sections)
        expected = explain_text(text, "<expected>")
        return expected
    if mode == "iptables":
        if same_as is not None and same_as.rules_digest is not None:
            from kproxy_tutor.explain.iptables import ruleset_digest

            if ruleset_digest(compiled.state) == same_as.rules_digest:  # type: ignore[arg-type]
                # The very rules the node holds (a node in sync): their explanation is the node's.
                return same_as
        return explain_structure(compiled.state, "iptables-save")
    if mode == "nftables":
        return explain_structure([compiled.state], "nft list")
    return explain_structure(compiled.state.iptables.ruleset, "iptables-save")  # type: ignore[union-attr]


def compare_with(
    explanation: Explanation, cluster: Cluster, node: str | None, progress: Progress | None = None
) -> list[Finding]:
    """Differences from the manifests (in the dump's own mode; iptables when it holds no kube-proxy rules)."""
    mode = explanation.mode if explanation.mode != "none" else "iptables"
    sections: tuple[str, ...] = ()
    if explanation.format.startswith(("ipvsadm", "ipset")):
        mode, sections = "ipvs", tuple(explanation.format.split(" + "))
    return compare(explanation, expected_explanation(cluster, node, mode, sections, progress, explanation))


def select_service(explanation: Explanation, service: str) -> Explanation:
    """Only the ports of ``NS/NAME`` (and the findings about them)."""
    from dataclasses import replace

    ports = [v for v in explanation.service_ports if v.namespace_name == service]
    names = {v.name for v in ports}
    chains = {chain for v in ports for chain in v.chains}
    findings = [f for f in explanation.findings if f.service in names]
    unknown = [n for n in explanation.unknown if n.chain in chains]
    # The fixed rules serve every Service alike: they are left out of one Service's explanation.
    return replace(explanation, service_ports=ports, findings=findings, fixed=[], unknown=unknown)


__all__ = [
    "Explanation",
    "Finding",
    "compare_with",
    "expected_explanation",
    "explain_structure",
    "explain_text",
    "select_service",
]
