"""Recognise what a learner pasted (iptables-save, nft list, ipvsadm -Ln, ipset list) and read it with the project's parsers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.work import Progress, share

_NFT_TABLE = re.compile(r"^table (ip|ip6|inet|arp|bridge|netdev) (\S+) \{\s*$")
_IPTABLES_TABLE = re.compile(r"^\*(nat|filter|mangle|raw|security)\s*$", re.M)

_IPSET_HEAD = re.compile(r"Name: \S+\nType: ")


def _at_line_start(text: str, prefix: str, pattern: re.Pattern[str] | None) -> bool:
    """Whether a line starts with ``prefix`` (and ``pattern`` matches there): a plain substring search
    first, since a multi-line regex over a 25 MB dump tries every line of it."""
    position = 0 if text.startswith(prefix) else text.find("\n" + prefix) + 1
    while position >= 0 and (position > 0 or text.startswith(prefix)):
        if pattern is None or pattern.match(text, position):
            return True
        found = text.find("\n" + prefix, position)
        position = found + 1 if found >= 0 else -1
    return False


FORMATS = ("iptables-save", "nft list", "nft list ruleset")


IPVS_SECTIONS = ("ipvsadm -Ln", "ipset list", "iptables-save")


def detect_format(text: str) -> str | None:
    """``iptables-save``, ``nft list`` (one table), ``nft list ruleset`` (several), or the IPVS parts present
    (``ipvsadm -Ln + ipset list + iptables-save``, in any combination with ipvsadm or ipset); None if none."""
    head = text[:200_000]
    has_ipvsadm = _at_line_start(text, "IP Virtual Server version", None)
    has_ipset = _at_line_start(text, "Name: ", _IPSET_HEAD)
    if has_ipvsadm or has_ipset:
        present = [has_ipvsadm, has_ipset, _IPTABLES_TABLE.search(text) is not None]
        return " + ".join(name for name, there in zip(IPVS_SECTIONS, present, strict=True) if there)
    nft_tables = sum(1 for line in head.splitlines() if _NFT_TABLE.match(line))
    if nft_tables:
        return "nft list ruleset" if nft_tables > 1 else "nft list"
    if _IPTABLES_TABLE.search(head):
        return "iptables-save"
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
    #: IPVS mode: the virtual servers of ``ipvsadm -Ln`` and the members of ``ipset list``.
    virtual_servers: list = field(default_factory=list)
    ipsets: dict[str, list[str]] = field(default_factory=dict)
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


def read_dump(text: str, source: str, progress: Progress | None = None) -> ReadDump:
    """Parse ``text`` once, with the parser of the format it is in; rules they cannot read are listed, not fatal.

    ``progress`` hears ``("read-rules", characters read, characters)``.
    """
    fmt = detect_format(text)
    if fmt is None:
        raise SandboxInputError(
            N_(
                "This is not a dump explain can read: give the output of iptables-save, "
                "nft list table ip kube-proxy or nft list ruleset."
            ),
            location=source,
        )
    result = ReadDump(fmt)
    try:
        _parse(text, source, result, progress)
    except (IndexError, KeyError, ValueError, AttributeError):
        # A shape the parsers do not expect must not end in a traceback (seen with hand-edited
        # dumps, e.g. a bare ":" line): refuse the dump as unreadable instead.
        raise SandboxInputError(
            N_("Cannot read this {format} output: it is damaged or edited in a way no tool prints."),
            location=source,
            format=fmt,
        ) from None
    return result


def _parse(text: str, source: str, result: ReadDump, progress: Progress | None) -> None:
    if result.format.startswith(("ipvsadm", "ipset")):
        from kproxy_tutor.explain.ipvs import parse_ipset_list, parse_ipvsadm, split_sections
        from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

        sections = split_sections(text)
        if "ipvsadm" in sections:
            result.virtual_servers = parse_ipvsadm(sections["ipvsadm"], source, result.unreadable)
        if "ipset" in sections:
            result.ipsets = parse_ipset_list(sections["ipset"])
        if "iptables-save" in sections:
            part = sections["iptables-save"]
            result.ruleset = parse_ruleset(
                part, source, result.unreadable, _part(progress, len(text) - len(part), len(part), len(text))
            )
        return
    if result.format == "iptables-save":
        from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

        result.ruleset = parse_ruleset(
            text, source, result.unreadable, _part(progress, 0, len(text), len(text))
        )
        return
    from kproxy_tutor.sandbox.nftables.parse import parse_listing

    done = 0
    for block in split_nft_tables(text):
        if block.name == "kube-proxy" and block.family in ("ip", "ip6"):
            reading = _part(progress, done, len(block.text), len(text))
            result.tables.append(parse_listing(block.text, source, result.unreadable, reading))
        else:
            result.other_tables.append(block)
        done += len(block.text)


def _part(progress: Progress | None, start: int, size: int, whole: int) -> Progress | None:
    """A reader's ``(done, total)`` of one part of the text as characters of the whole text."""
    return None if progress is None else share(progress, start, size, whole)
