"""Render an NftTable as the knftables transaction kube-proxy sends, and as ``nft list table ip kube-proxy`` prints it.

The transaction follows knftables' ``Fake.Dump()`` (what upstream's tests compare): the table,
then every chain, set and map sorted by name, then their rules and elements. The listing is
what nft 1.0.6 prints after loading that transaction into an empty table (checked in a network
namespace by the kernel test): sets and maps first, then chains, in creation order; set
elements sorted as nft sorts them; symbolic priorities; timeouts as ``3h``.
"""

from __future__ import annotations

import ipaddress

from kproxy_tutor.sandbox.nftables.ruleset import Element, NftChain, NftSet, NftTable

#: nft 1.0.6's named priorities for family ip, with the hooks where it prints them by name.
_NAMED_PRIORITIES = (
    ("raw", -300, ("prerouting", "input", "forward", "output", "postrouting")),
    ("mangle", -150, ("prerouting", "input", "forward", "output", "postrouting")),
    ("dstnat", -100, ("prerouting",)),
    ("filter", 0, ("prerouting", "input", "forward", "output", "postrouting")),
    ("security", 50, ("prerouting", "input", "forward", "output", "postrouting")),
    ("srcnat", 100, ("postrouting",)),
)
_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}
_CONTINUATION = ",\n\t\t\t     "


def _sorted_sets(table: NftTable) -> list[NftSet]:
    """knftables creates sets before maps, each group sorted by name."""
    sets = sorted((s for s in table.sets.values() if not s.is_map), key=lambda s: s.name)
    maps = sorted((s for s in table.sets.values() if s.is_map), key=lambda s: s.name)
    return sets + maps


def _element_tx(prefix: str, nft_set: NftSet, element: Element) -> str:
    text = f"{prefix} {nft_set.name} {{ {' . '.join(element.key)}"
    if element.comment is not None:
        text += f' comment "{element.comment}"'
    if element.value is not None:
        text += f" : {element.value}"
    return text + " }"


def _set_tx(head: str, nft_set: NftSet) -> str:
    kind = "map" if nft_set.is_map else "set"
    text = f"{{ type {nft_set.type_text} ;"
    if nft_set.flags:
        text += f" flags {','.join(nft_set.flags)} ;"
    if nft_set.timeout is not None:
        text += f" timeout {nft_set.timeout}s ;"
    if nft_set.comment is not None:
        text += f' comment "{nft_set.comment}" ;'
    return f"add {kind} {head} {nft_set.name} {text} }}"


def _chain_tx(chain: NftChain) -> str:
    if chain.base is None and chain.comment is None:
        return ""
    text = " {"
    if chain.base is not None:
        text += f" type {chain.base.type} hook {chain.base.hook} priority {chain.base.priority} ;"
    if chain.comment is not None:
        text += f' comment "{chain.comment}" ;'
    return text + " }"


def render_transaction(table: NftTable) -> str:
    """The ``add …`` lines, as knftables dumps them (usable with ``nft -f``)."""
    head = f"{table.family} {table.name}"
    out = [f'add table {head} {{ comment "{table.comment}" ; }}' if table.comment else f"add table {head}"]
    chains = sorted(table.chains.values(), key=lambda c: c.name)
    sets = _sorted_sets(table)
    out += [f"add chain {head} {c.name}{_chain_tx(c)}" for c in chains]
    out += [_set_tx(head, s) for s in sets]
    for chain in chains:
        out += [f"add rule {head} {chain.name} {rule.tx()}" for rule in chain.rules]
    for nft_set in sets:
        out += [_element_tx(f"add element {head}", nft_set, e) for e in nft_set.elements]
    return "\n".join(out) + "\n"


# nft list ------------------------------------------------------------------------------------
def priority_text(hook: str, priority: int) -> str:
    """``dstnat``, ``dstnat - 10``, ``filter`` or a number, as nft 1.0.6 prints a base chain's priority."""
    for name, value, hooks in _NAMED_PRIORITIES:
        if hook in hooks and abs(priority - value) <= 10:
            offset = priority - value
            if offset == 0:
                return name
            return f"{name} {'+' if offset > 0 else '-'} {abs(offset)}"
    return str(priority)


def timeout_text(seconds: int) -> str:
    """nft's duration format: ``3h``, ``10m``, ``1d1h1m1s``."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _ipv4_bytes(text: str) -> bytes:
    parts = text.split(".")
    if len(parts) == 4:
        try:
            return bytes(map(int, parts))  # the canonical dotted quad every element key holds
        except ValueError:
            pass
    return ipaddress.IPv4Address(text).packed


def _key_value(part_type: str, text: str) -> bytes:
    if part_type == "ipv4_addr":
        return _ipv4_bytes(text)
    if part_type == "ipv6_addr":
        return ipaddress.IPv6Address(text).packed
    if part_type == "inet_proto":
        return bytes([_PROTOCOL_NUMBERS.get(text, 0) if not text.isdigit() else int(text)])
    return int(text).to_bytes(2, "big")


def element_sort_key(nft_set: NftSet, element: Element) -> int:
    """nft sorts elements by value; a concatenation's bytes are read as one little-endian number (x86)."""
    return _sort_key(tuple(p.strip() for p in nft_set.key_type.split(".")))(element)


def _sort_key(parts: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """``element_sort_key`` for one set's key type, its parts split once."""
    if len(parts) == 1:
        part = parts[0]
        return lambda element: int.from_bytes(_key_value(part, element.key[0]), "big")
    return lambda element: int.from_bytes(
        b"".join(_key_value(t, v) for t, v in zip(parts, element.key, strict=True)), "little"
    )


def _element_listing(element: Element) -> str:
    text = " . ".join(element.key)
    if element.comment is not None:
        text += f' comment "{element.comment}"'
    if element.value is not None:
        text += f" : {element.value}"
    return text


def _elements_listing(nft_set: NftSet) -> str:
    elements = sorted(nft_set.elements, key=_sort_key(tuple(p.strip() for p in nft_set.key_type.split("."))))
    # Plain IPv4 sets get two elements a line, maps and concatenations one (nft's calculate_delim).
    per_line = 2 if nft_set.key_type == "ipv4_addr" and not nft_set.is_map else 1
    text = ""
    for index, element in enumerate(elements):
        if index:
            text += _CONTINUATION if index % per_line == 0 else ", "
        text += _element_listing(element)
    return f"\t\telements = {{ {text} }}"


def render_listing(table: NftTable, updated_sets: frozenset[str] | None = None) -> str:
    """``nft list table ip kube-proxy`` for this table freshly loaded from its transaction."""
    updated = updated_sets if updated_sets is not None else _updated_sets(table)
    out = [f"table {table.family} {table.name} {{"]
    if table.comment is not None:
        out.append(f'\tcomment "{table.comment}"')
    blocks: list[list[str]] = []
    for nft_set in _sorted_sets(table):
        lines = [f"\t{'map' if nft_set.is_map else 'set'} {nft_set.name} {{", f"\t\ttype {nft_set.type_text}"]
        size = nft_set.size if nft_set.size is not None else (65535 if nft_set.name in updated else None)
        if size is not None:
            # nft gives a set that rules update from the packet path a default size.
            lines.append(f"\t\tsize {size}")
        if nft_set.flags:
            lines.append(f"\t\tflags {','.join(nft_set.flags)}")
        if nft_set.timeout is not None:
            lines.append(f"\t\ttimeout {timeout_text(nft_set.timeout)}")
        if nft_set.comment is not None:
            lines.append(f'\t\tcomment "{nft_set.comment}"')
        if nft_set.elements:
            lines.append(_elements_listing(nft_set))
        lines.append("\t}")
        blocks.append(lines)
    for chain in sorted(table.chains.values(), key=lambda c: c.name):
        lines = [f"\tchain {chain.name} {{"]
        if chain.comment is not None:
            lines.append(f'\t\tcomment "{chain.comment}"')
        if chain.base is not None:
            base = chain.base
            lines.append(
                f"\t\ttype {base.type} hook {base.hook} priority {priority_text(base.hook, base.priority)};"
                f" policy {base.policy};"
            )
        lines += [f"\t\t{rule.listing()}" for rule in chain.rules]
        lines.append("\t}")
        blocks.append(lines)
    for index, block in enumerate(blocks):
        if index:
            out.append("")
        out.extend(block)
    out.append("}")
    return "\n".join(out) + "\n"


def _updated_sets(table: NftTable) -> frozenset[str]:
    from kproxy_tutor.sandbox.nftables.statements import SetUpdate

    return frozenset(
        s.set_name
        for c in table.chains.values()
        for r in c.rules
        for s in r.statements
        if isinstance(s, SetUpdate)
    )
