"""Read kube-proxy's nftables state back: from a knftables transaction (``add …`` lines) or from ``nft list table`` output.

A transaction may also ``flush``/``delete`` objects, as kube-proxy's real syncs do; they are
applied in order. Errors name the line.
"""

from __future__ import annotations

import re

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.nftables.parse_rule import NftParseError, _fail, fast_rule, parse_rule
from kproxy_tutor.sandbox.nftables.ruleset import BaseChain, Element, NftChain, NftSet, NftTable
from kproxy_tutor.sandbox.work import READ_MASK, Progress

_HEAD = re.compile(r"^(add|flush|delete) (table|chain|rule|set|map|element) (ip6?|inet) (\S+)\s*(.*)$")
_CHAIN_SPEC = re.compile(
    r'^(\S+)(?: \{(?: type (\S+) hook (\S+) priority (\S+) ;(?: policy (\S+) ;)?)?(?: comment "(.*)" ;)? \})?$'
)
_SET_SPEC = re.compile(
    r'^(\S+) \{ type ([^;]*?) ;(?: flags ([^;]*) ;)?(?: timeout (\d+)s ;)?(?: size (\d+) ;)?(?: comment "(.*)" ;)? \}$'
)
_ELEMENT = re.compile(r'^(\S+) \{ ([^":]*?)(?: comment "([^"]*)")?(?: : (.*?))? \}$')
_NAMED = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
_DURATION = re.compile(r"(\d+)(d|h|ms|m|s)")


def parse_priority(text: str) -> int:
    """``-110``, ``dstnat``, ``dstnat - 10``."""
    parts = text.split()
    value = int(parts[0]) if parts[0].lstrip("-").isdigit() else _NAMED[parts[0]]
    if len(parts) == 3:
        value += int(parts[2]) if parts[1] == "+" else -int(parts[2])
    return value


def parse_duration(text: str) -> int:
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0}
    return sum(int(n) * units[u] for n, u in _DURATION.findall(text))


def _split_type(text: str) -> tuple[str, str]:
    key, _, value = text.partition(" : ")
    return key.strip(), value.strip()


def parse_transaction(text: str, source: str = "<nft>") -> NftTable:
    table = NftTable(comment=None)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        location = f"{source}:{number}"
        head = _HEAD.match(line)
        if head is None:
            raise NftParseError(N_("Cannot read this nftables line: {line}"), location=location, line=line)
        verb, kind, family, name, rest = head.groups()
        table.family, table.name = family, name
        try:
            _apply(table, verb, kind, rest, location)
        except (KeyError, ValueError, AttributeError):
            raise NftParseError(
                N_("Cannot read this nftables line: {line}"), location=location, line=line
            ) from None
    return table


def _apply(table: NftTable, verb: str, kind: str, rest: str, location: str) -> None:
    if kind == "table":
        if verb == "add":
            found = re.match(r'^\{ comment "(.*)" ; \}$', rest)
            table.comment = found.group(1) if found else table.comment
        elif verb == "delete":
            table.sets.clear()
            table.chains.clear()
        return
    if kind == "chain":
        spec = _CHAIN_SPEC.match(rest)
        if spec is None:
            raise ValueError(rest)
        name, type_, hook, priority, policy, comment = spec.groups()
        if verb == "add":
            chain = table.chains.setdefault(name, NftChain(name))
            if type_:
                chain.base = BaseChain(type_, hook, parse_priority(priority), policy or "accept")
            if comment is not None:
                chain.comment = comment
        elif verb == "flush":
            table.chains[name].rules.clear()
        else:
            del table.chains[name]
        return
    if kind in ("set", "map"):
        if verb != "add":
            name = rest.split()[0]
            if verb == "flush":
                table.sets[name].elements.clear()
            else:
                table.sets.pop(name)
            return
        spec = _SET_SPEC.match(rest)
        if spec is None:
            raise ValueError(rest)
        name, type_text, flags, timeout, size, comment = spec.groups()
        key, value = _split_type(type_text)
        if name not in table.sets:
            table.sets[name] = NftSet(
                name,
                key,
                value,
                tuple(flags.split(",")) if flags else (),
                int(timeout) if timeout else None,
                int(size) if size else None,
                comment,
            )
        return
    if kind == "rule":
        chain_name, _, body = rest.partition(" ")
        table.chains[chain_name].rules.append(parse_rule(body, location))
        return
    found = _ELEMENT.match(rest)
    if found is None:
        raise ValueError(rest)
    set_name, key, comment, value = found.groups()
    element = Element(tuple(part.strip() for part in key.split(" . ")), value, comment)
    elements = table.sets[set_name].elements
    elements[:] = [e for e in elements if e.key != element.key]
    if verb == "add":
        elements.append(element)


# nft list ------------------------------------------------------------------------------------
_OPEN = re.compile(r"^(set|map|chain) (\S+) \{$")
_BASE = re.compile(r"^type (\S+) hook (\S+) priority ([^;]+); policy (\S+);$")


def parse_listing(
    text: str,
    source: str = "<nft list>",
    unreadable: list[tuple[str, str]] | None = None,
    progress: Progress | None = None,
) -> NftTable:
    """``nft list table`` output as a table; with ``unreadable``, rules it cannot read go there (location, text).

    ``progress`` hears ``("read-rules", lines read, lines)`` every few thousand lines.
    """
    lines = text.splitlines()
    table = NftTable(comment=None)
    index = 0
    current: NftSet | NftChain | None = None
    count = len(lines)
    while index < count:
        line = lines[index].strip()
        index += 1
        if not index & READ_MASK and progress is not None:
            progress("read-rules", index, count)
        if not line:
            continue
        if (
            current.__class__ is NftChain
            and line != "}"
            and line[-1] != "{"
            and not line.startswith(("type ", "comment ", "table "))
        ):
            # A rule: nearly every line of a big node's table (its location is made only if needed).
            fast = fast_rule(line) if '"' not in line else None
            if fast is not None:
                current.rules.append(fast)  # type: ignore[union-attr]
                continue
            location = f"{source}:{index}"
            if unreadable is None:
                current.rules.append(parse_rule(line, location))  # type: ignore[union-attr]
            else:
                try:
                    current.rules.append(parse_rule(line, location))  # type: ignore[union-attr]
                except NftParseError:
                    unreadable.append((location, line))
            continue
        location = f"{source}:{index}"
        if line.startswith("table "):
            _, table.family, table.name, _ = line.split()
            continue
        if line == "}":
            current = None
            continue
        opened = _OPEN.match(line)
        if opened is not None:
            kind, name = opened.groups()
            current = (
                NftChain(name) if kind == "chain" else NftSet(name, "", "verdict" if kind == "map" else "")
            )
            if isinstance(current, NftChain):
                table.chains[name] = current
            else:
                table.sets[name] = current
            continue
        comment = re.match(r'^comment "(.*)"$', line)
        if comment is not None:
            if current is None:
                table.comment = comment.group(1)
            else:
                current.comment = comment.group(1)
            continue
        if isinstance(current, NftSet):
            if line.startswith("elements = {"):
                # One element per line for a big map: gather the lines, then join once
                # (growing one string and re-stripping it per line is quadratic).
                parts = [line[len("elements = {") :].rstrip()]
                while not parts[-1].endswith("}") and index < len(lines):
                    parts.append(lines[index].strip())
                    index += 1
                if not parts[-1].endswith("}"):
                    raise _fail(line, location)
                _list_elements(current, " ".join(parts)[:-1], location)
            elif line.startswith("type "):
                current.key_type, current.value_type = _split_type(line[5:])
            elif line.startswith("flags "):
                current.flags = tuple(line[6:].split(","))
            elif line.startswith("timeout "):
                current.timeout = parse_duration(line[8:])
            elif line.startswith("size "):
                current.size = int(line[5:])
            else:
                raise _fail(line, location)
            continue
        if isinstance(current, NftChain):
            base = _BASE.match(line)
            if base is not None:
                type_, hook, priority, policy = base.groups()
                current.base = BaseChain(type_, hook, parse_priority(priority.strip()), policy)
            elif unreadable is None:
                current.rules.append(parse_rule(line, location))
            else:
                try:
                    current.rules.append(parse_rule(line, location))
                except NftParseError:
                    unreadable.append((location, line))
            continue
        if unreadable is not None:
            unreadable.append((location, line))
            continue
        raise NftParseError(N_("Cannot read this nftables line: {line}"), location=location, line=line)
    return table


_LISTED_ELEMENT = re.compile(r'^([^":]*?)(?: comment "([^"]*)")?(?: : (.*))?$')


def _split_elements(body: str) -> list[str]:
    """Split at every comma with an even number of double quotes after it (one outside a comment).

    One pass, counting quotes from the left: a lookahead that re-counts them to the end of the
    text for every comma is quadratic in a 10,000-element map.
    """
    if '"' not in body:
        first, *rest = body.split(",")
        return [first, *(item.lstrip() for item in rest)]
    total = body.count('"')
    items: list[str] = []
    start = seen = 0
    position = 0
    while True:
        comma = body.find(",", position)
        if comma < 0:
            break
        seen += body.count('"', position, comma)
        if (total - seen) % 2 == 0:
            items.append(body[start:comma])
            start = comma + 1
        position = comma + 1
    items.append(body[start:])
    # The comma takes the white space after it with it.
    return items[:1] + [item.lstrip() for item in items[1:]]


def _list_elements(nft_set: NftSet, body: str, location: str) -> None:
    match = _LISTED_ELEMENT.match
    append = nft_set.elements.append
    for item in _split_elements(body.strip()):
        found = match(item.strip())
        if found is None:
            raise _fail(item, location)
        key, comment, value = found.groups()
        append(Element(tuple(p.strip() for p in key.split(" . ")), value, comment))
