"""``iptables -L`` and ``iptables -S`` output for one node, column for column as iptables 1.8 prints it.

The layout follows iptables' ``print_header``/``print_firewall`` and each extension's ``print``
function: fixed-width counters (with K/M/G suffixes unless ``-x``), target, protocol, options,
interfaces (``-v``), addresses, then the matches and the target's options.
"""

from __future__ import annotations

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.iptables.render import ordered_chains, save_line
from kproxy_tutor.sandbox.iptables.rules import (
    PROBABILITY_SCALE,
    AddressMatch,
    AddrTypeMatch,
    CommentMatch,
    ConntrackMatch,
    Dnat,
    Goto,
    InterfaceMatch,
    Jump,
    MarkMatch,
    MarkTarget,
    Masquerade,
    NfacctMatch,
    OpaqueMatch,
    OpaqueTarget,
    PortMatch,
    RecentMatch,
    Reject,
    Rule,
    Ruleset,
    Snat,
    StatisticMatch,
    Table,
    Verdict,
)
from kproxy_tutor.shell.counters import Counters


def _number(value: int, exact: bool, table: bool = True) -> str:
    """``xtables_print_num``: 5 columns, then K/M/G/T with rounding (unless ``-x``)."""
    if exact:
        return f"{value:8d} " if table else f"{value} "
    if value <= 99999:
        return f"{value:5d} " if table else f"{value} "
    for suffix in "KMGT":
        value = (value + 500) // 1000
        if value <= 9999 or suffix == "T":
            return f"{value:4d}{suffix} " if table else f"{value}{suffix} "
    raise AssertionError("unreachable")


def _address(match: AddressMatch | None, numeric: bool) -> str:
    if match is None:
        return " " + ("0.0.0.0/0" if numeric else "anywhere")
    network = match.network
    text = str(network.network_address) if network.prefixlen == 32 else str(network)
    if not numeric and network.prefixlen == 0:
        text = "anywhere"
    return ("!" if match.negated else " ") + text


def _interface(match: InterfaceMatch | None, numeric: bool) -> str:
    if match is None:
        return "*" if numeric else "any"
    return ("!" if match.negated else "") + match.name


def _ports(name: str, port: object) -> str:
    if port is None:
        return ""
    first, last, negated = port.first, port.last, port.negated  # type: ignore[attr-defined]
    inv = "!" if negated else ""
    return f" {name}:{inv}{first}" if first == last else f" {name}s:{inv}{first}:{last}"


def match_text(match: object) -> str:
    """What the match's extension prints in ``-L`` (each starts with a space)."""
    if isinstance(match, CommentMatch):
        return f" /* {match.comment} */"
    if isinstance(match, PortMatch):
        return f" {match.module}" + _ports("spt", match.sport) + _ports("dpt", match.dport)
    if isinstance(match, StatisticMatch):
        inv = " !" if match.negated else ""
        if match.mode == "nth":
            text = f" statistic mode nth{inv} every {match.every}"
            return text + (f" packet {match.packet}" if match.packet else "")
        return f" statistic mode random{inv} probability {match.probability / PROBABILITY_SCALE:.11f}"
    if isinstance(match, RecentMatch):
        parts = [
            " !" if match.negated else "",
            " recent:",
            f" {match.command.upper().replace('RCHECK', 'CHECK')}",
        ]
        if match.seconds:
            parts.append(f" seconds: {match.seconds}")
        if match.reap:
            parts.append(" reap")
        if match.hitcount:
            parts.append(f" hit_count: {match.hitcount}")
        if match.rttl:
            parts.append(" TTL-Match")
        parts.append(f" name: {match.name}")
        parts.append(" side: source" if match.side == "rsource" else " side: dest")
        parts.append(f" mask: {match.mask}")
        return "".join(parts)
    if isinstance(match, MarkMatch):
        mark = f"0x{match.value:x}" if match.mask == 0xFFFFFFFF else f"0x{match.value:x}/0x{match.mask:x}"
        return f" mark match{' !' if match.negated else ''} {mark}"
    if isinstance(match, AddrTypeMatch):
        text = " ADDRTYPE match"
        if match.src_type:
            text += f" src-type {'!' if match.src_negated else ''}{match.src_type}"
        if match.dst_type:
            text += f" dst-type {'!' if match.dst_negated else ''}{match.dst_type}"
        if match.limit_iface_in:
            text += " limit-in"
        if match.limit_iface_out:
            text += " limit-out"
        return text
    if isinstance(match, ConntrackMatch):
        text = f"{' !' if match.negated else ''} ctstate {','.join(match.states)}" if match.states else ""
        return text + "".join(f" {part}" for part in match.extra)
    if isinstance(match, NfacctMatch):
        return f" nfacct-name  {match.name}"
    if isinstance(match, OpaqueMatch):
        return f" {match.module} " + " ".join(match.args)
    return ""


def target_name(rule: Rule) -> str:
    target = rule.target
    if isinstance(target, Jump | Goto):
        return target.chain
    if isinstance(target, Verdict):
        return target.verdict
    if isinstance(target, Reject):
        return "REJECT"
    if isinstance(target, Dnat):
        return "DNAT"
    if isinstance(target, Snat):
        return "SNAT"
    if isinstance(target, Masquerade):
        return "MASQUERADE"
    if isinstance(target, MarkTarget):
        return "MARK"
    if isinstance(target, OpaqueTarget):
        return target.name
    return ""


def target_text(rule: Rule) -> str:
    target = rule.target
    if isinstance(target, Reject):
        return f" reject-with {target.reject_with}"
    if isinstance(target, Dnat):
        return f" to:{target.to_destination}" + "".join(f" {a.lstrip('-')}" for a in target.extra)
    if isinstance(target, Snat):
        return f" to:{target.to_source}" + "".join(f" {a.lstrip('-')}" for a in target.extra)
    if isinstance(target, Masquerade):
        text = f" masq ports: {target.to_ports}" if target.to_ports else ""
        return text + (" random" if target.random else "") + (" random-fully" if target.random_fully else "")
    if isinstance(target, MarkTarget):
        value, mask = target.value, target.mask
        if value == 0:
            return f" MARK and 0x{~mask & 0xFFFFFFFF:x}"
        if value == mask:
            return f" MARK or 0x{value:x}"
        if mask == 0:
            return f" MARK xor 0x{value:x}"
        if mask == 0xFFFFFFFF:
            return f" MARK set 0x{value:x}"
        return f" MARK xset 0x{value:x}/0x{mask:x}"
    if isinstance(target, OpaqueTarget):
        return "".join(f" {a}" for a in target.args)
    return ""


def _references(table: Table, chain: str) -> int:
    return sum(
        1
        for c in table.chains.values()
        for r in c.rules
        if isinstance(r.target, Jump | Goto) and r.target.chain == chain
    )


def _header(
    table: Table, chain: str, counters: Counters, verbose: bool, exact: bool, numbers: bool
) -> list[str]:
    policy = table.chains[chain].policy
    if policy is not None:
        line = f"Chain {chain} (policy {policy}"
        if verbose:
            packets, octets = counters.policy(table.name, chain)
            line += f" {_number(packets, exact, False)}packets, {_number(octets, exact, False)}bytes"
        line += ")"
    else:
        line = f"Chain {chain} ({_references(table, chain)} references)"
    columns = "num  " if numbers else ""
    if verbose:
        columns += f"{'pkts':>8} {'bytes':>10} " if exact else " pkts bytes "
    columns += f"{'target':<9}  prot opt"
    if verbose:
        columns += f" {'in':<6} {'out':<6} "
    columns += f" {'source':<19}  {'destination':<19} "
    return [line, columns]


def rule_line(
    rule: Rule,
    number: int,
    packets: int,
    octets: int,
    *,
    verbose: bool,
    numeric: bool,
    exact: bool,
    numbers: bool,
) -> str:
    text = f"{number:<4d} " if numbers else ""
    if verbose:
        text += _number(packets, exact) + _number(octets, exact)
    text += f"{target_name(rule):<9} "
    protocol = rule.protocol
    text += "!" if protocol is not None and protocol.negated else " "
    text += f"{protocol.protocol if protocol is not None else 'all':<5}"
    text += "-- "
    if verbose:
        text += f" {_interface(rule.in_interface, numeric):<6} {_interface(rule.out_interface, numeric):<6} "
    source = _address(rule.source, numeric)
    destination = _address(rule.destination, numeric)
    text += f"{source[0]}{source[1:]:<19} {destination[0]}{destination[1:]:<19} "
    if isinstance(rule.target, Goto):
        text += "[goto] "
    text += "".join(match_text(m) for m in rule.matches) + target_text(rule)
    return text


def list_rules(
    ruleset: Ruleset,
    table_name: str,
    chain: str | None,
    counters: Counters,
    *,
    verbose: bool,
    numeric: bool,
    exact: bool,
    line_numbers: bool,
) -> str:
    table = _table(ruleset, table_name)
    chains = [_chain(table, chain)] if chain else ordered_chains(table)
    blocks = []
    for name in chains:
        lines = _header(table, name, counters, verbose, exact, line_numbers)
        for number, rule in enumerate(table.chains[name].rules, 1):
            packets, octets = counters.rule(table.name, name, number, rule)
            lines.append(
                rule_line(
                    rule,
                    number,
                    packets,
                    octets,
                    verbose=verbose,
                    numeric=numeric,
                    exact=exact,
                    numbers=line_numbers,
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def list_specs(
    ruleset: Ruleset, table_name: str, chain: str | None, counters: Counters, verbose: bool
) -> str:
    """``iptables -S``: chain declarations then rules, as iptables-save spells them."""
    table = _table(ruleset, table_name)
    chains = [_chain(table, chain)] if chain else ordered_chains(table)
    lines = []
    for name in chains:
        policy = table.chains[name].policy
        if policy is not None:
            extra = ""
            if verbose:
                packets, octets = counters.policy(table.name, name)
                extra = f" -c {packets} {octets}"
            lines.append(f"-P {name} {policy}{extra}")
        else:
            lines.append(f"-N {name}")
    for name in chains:
        for number, rule in enumerate(table.chains[name].rules, 1):
            extra = ""
            if verbose:
                packets, octets = counters.rule(table.name, name, number, rule)
                extra = f" -c {packets} {octets}"
            lines.append(save_line(rule) + extra)
    return "\n".join(lines) + "\n"


def _table(ruleset: Ruleset, name: str) -> Table:
    table = ruleset.tables.get(name)
    if table is None:
        raise SandboxInputError(N_("The node has no {table!r} table."), table=name)
    return table


def _chain(table: Table, chain: str) -> str:
    if chain not in table.chains:
        import difflib

        close = difflib.get_close_matches(chain, list(table.chains), n=1, cutoff=0.7)
        if close:
            raise SandboxInputError(
                N_("Chain {chain} does not exist in table {table}. Did you mean {suggestion}?"),
                chain=chain,
                table=table.name,
                suggestion=close[0],
            )
        raise SandboxInputError(
            N_("Chain {chain} does not exist in table {table}."), chain=chain, table=table.name
        )
    return chain
