"""Recognise what a learner pasted (iptables-save, nft list, ipvsadm -Ln, ipset list) and read it with the project's parsers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError

_NFT_TABLE = re.compile(r"^table (ip|ip6|inet|arp|bridge|netdev) (\S+) \{\s*$")
_IPTABLES_TABLE = re.compile(r"^\*(nat|filter|mangle|raw|security)\s*$", re.M)

FORMATS = ("iptables-save", "nft list", "nft list ruleset")


def detect_format(text: str) -> str | None:
    """``iptables-save``, ``nft list`` (one table), ``nft list ruleset`` (several), ``ipvsadm``, ``ipset``; None if none."""
    head = text[:200_000]
    nft_tables = sum(1 for line in head.splitlines() if _NFT_TABLE.match(line))
    if nft_tables:
        return "nft list ruleset" if nft_tables > 1 else "nft list"
    if _IPTABLES_TABLE.search(head):
        return "iptables-save"
    if head.lstrip().startswith("IP Virtual Server version"):
        return "ipvsadm"
    if re.search(r"^Name: \S+\nType: ", head, re.M):
        return "ipset"
    return None


@dataclass(slots=True)
class NftBlock:
    family: str
    name: str
    #: The text of the table, preceded by empty lines so that line numbers stay the file's.
    text: str
    chains: int
    #: Chains named like iptables' ``KUBE-…`` (iptables-nft's tables: leftovers of iptables mode).
    kube_chains: int


@dataclass(slots=True)
class ReadDump:
    format: str
    #: iptables Ruleset (iptables-save) or list of NftTable (kube-proxy's tables).
    ruleset: object | None = None
    tables: list = field(default_factory=list)
    other_tables: list[NftBlock] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def split_nft_tables(text: str) -> list[NftBlock]:
    """``nft list ruleset`` output cut into its tables (a table ends at the first ``}`` in column 0)."""
    blocks: list[NftBlock] = []
    lines = text.splitlines()
    start: int | None = None
    family = name = ""
    for number, line in enumerate(lines):
        opened = _NFT_TABLE.match(line)
        if start is None and opened is not None:
            start, family, name = number, opened.group(1), opened.group(2)
        elif start is not None and line.rstrip() == "}":
            body = lines[start : number + 1]
            chains = sum(1 for b in body if b.strip().startswith("chain ") and b.rstrip().endswith("{"))
            kube = sum(1 for b in body if b.strip().startswith("chain KUBE-"))
            blocks.append(NftBlock(family, name, "\n" * start + "\n".join(body) + "\n", chains, kube))
            start = None
    if start is not None:
        raise SandboxInputError(
            N_("The nftables table {table} has no closing brace."), table=f"{family} {name}"
        )
    return blocks


def read_dump(text: str, source: str) -> ReadDump:
    """Parse ``text`` once, with the parser of the format it is in; rules they cannot read are listed, not fatal."""
    fmt = detect_format(text)
    if fmt is None:
        raise SandboxInputError(
            N_(
                "This is not a dump explain can read: give the output of iptables-save, "
                "nft list table ip kube-proxy or nft list ruleset."
            ),
            location=source,
        )
    if fmt in ("ipvsadm", "ipset"):
        raise SandboxInputError(
            N_(
                "This is {format} output. For IPVS mode, explain reads the iptables part "
                "(iptables-save); ipvsadm and ipset output are not read yet."
            ),
            location=source,
            format=fmt,
        )
    result = ReadDump(fmt)
    try:
        _parse(text, source, result)
    except (IndexError, KeyError, ValueError, AttributeError):
        # A shape the parsers do not expect must not end in a traceback (seen with hand-edited
        # dumps, e.g. a bare ":" line): refuse the dump as unreadable instead.
        raise SandboxInputError(
            N_("Cannot read this {format} output: it is damaged or edited in a way no tool prints."),
            location=source,
            format=fmt,
        ) from None
    return result


def _parse(text: str, source: str, result: ReadDump) -> None:
    if result.format == "iptables-save":
        from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

        result.ruleset = parse_ruleset(text, source, result.unreadable)
        return
    from kproxy_tutor.sandbox.nftables.parse import parse_listing

    for block in split_nft_tables(text):
        if block.name == "kube-proxy" and block.family in ("ip", "ip6"):
            result.tables.append(parse_listing(block.text, source, result.unreadable))
        else:
            result.other_tables.append(block)
