"""Parse iptables-save output or iptables-restore input (ours or a real node's) into structured rules."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.ipaddr import canonical_ipv4, parse_cidr_sloppy, parse_ip_sloppy
from kproxy_tutor.sandbox.iptables.parse_parts import (
    MODULE_OPTIONS,
    PartError,
    build_match,
    build_target,
    int_value,
)
from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    DeleteChain,
    Goto,
    InterfaceMatch,
    Jump,
    Payload,
    PayloadTable,
    ProtocolMatch,
    Rule,
    Target,
    make_rule,
)
from kproxy_tutor.sandbox.work import READ_MASK, Progress

_SOURCE = frozenset(("-s", "--source", "--src"))
_DEST = frozenset(("-d", "--destination", "--dst"))
_PROTO = frozenset(("-p", "--protocol"))
_IN = frozenset(("-i", "--in-interface"))
_OUT = frozenset(("-o", "--out-interface"))


#: One token: unquoted runs and double-quoted strings (a backslash escapes the next character inside quotes).
#: Possessive: the grammar is unambiguous, so nothing is given back and a bad line fails in linear time.
_TOKEN = r'(?:[^ \t"]++|"(?:[^"\\]|\\.)*+")++'
_TOKENS = re.compile(_TOKEN, re.S)
_ALL_TOKENS = re.compile(rf"[ \t]*+(?:{_TOKEN}[ \t]*+)*+", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def _unquote(found: re.Match[str]) -> str:
    inner = found.group(1)
    return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner


def tokenize(text: str) -> list[str]:
    """Split like iptables-restore: whitespace separates, double quotes group, backslash escapes inside quotes."""
    if '"' not in text:
        # Nothing to group: a plain split (most rules of a big node have no quoted comment).
        return [token for token in text.replace("\t", " ").split(" ") if token]
    if _ALL_TOKENS.fullmatch(text) is None:
        raise PartError(N_("unterminated quote"))
    return [_QUOTED.sub(_unquote, token) if '"' in token else token for token in _TOKENS.findall(text)]


@lru_cache(maxsize=65536)
def _address(value: str, negated: bool) -> AddressMatch:
    if value.endswith("/32") and canonical_ipv4(value[:-3]) == value[:-3]:
        # iptables-save's own spelling of a host (every KUBE-SEP's -s): already canonical.
        return AddressMatch.host(value[:-3], negated)
    if "/" not in value:
        ip = parse_ip_sloppy(value)
        if ip is not None:
            return AddressMatch.host(str(ip), negated)
    network = parse_cidr_sloppy(value) if "/" in value else None
    if network is None:
        try:
            network = ipaddress.ip_network(value, strict=False)  # e.g. 10.0.0.0/255.0.0.0
        except ValueError:
            raise PartError(N_("bad address {value!r}"), value=value) from None
    return AddressMatch(str(network), negated)


#: Matches and targets are immutable and a big node repeats most of them (``-m tcp --dport 80``,
#: ``-m statistic --mode random --probability 0.5``, ``-j KUBE-MARK-MASQ``): each is built once.
_MATCHES: dict[tuple[str, tuple[str, ...]], object] = {}
_CACHE_LIMIT = 65536


def _match(module: str, options: list[tuple[bool, str, list[str]]], raw: list[str]) -> object:
    # A module's options are a function of its name and its tokens (each option's arity is fixed).
    key = (module, tuple(raw))
    found = _MATCHES.get(key)
    if found is None:
        found = build_match(module, options, raw)
        if len(_MATCHES) >= _CACHE_LIMIT:
            _MATCHES.clear()
        _MATCHES[key] = found
    return found


@lru_cache(maxsize=_CACHE_LIMIT)
def _target(name: str, args: tuple[str, ...]) -> Target:
    return build_target(name, list(args))


#: The options that take one value and are not a module's: what each one sets.
_OPTIONS = {
    **dict.fromkeys(_SOURCE, "source"),
    **dict.fromkeys(_DEST, "destination"),
    **dict.fromkeys(_PROTO, "protocol"),
    **dict.fromkeys(_IN, "in_interface"),
    **dict.fromkeys(_OUT, "out_interface"),
    **dict.fromkeys(("-g", "--goto"), "goto"),
    **dict.fromkeys(("-m", "--match"), "match"),
}


def parse_rule_args(chain: str, tokens: list[str], spelling: str | None = None) -> Rule:
    """Build a Rule from the tokens after ``-A CHAIN``, in any order iptables accepts."""
    generic: dict[str, object] = {}
    modules: list[tuple[str, list[tuple[bool, str, list[str]]], list[str]]] = []
    target: Target | None = None
    negate = False
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        if tok == "-j" or tok == "--jump":
            if i + 1 >= n:
                raise PartError(N_("-j needs a target"))
            target = _target(tokens[i + 1], tuple(tokens[i + 2 :]))
            break
        kind = _OPTIONS.get(tok)
        if kind is not None:
            if i + 1 >= n:
                raise PartError(N_("option {option} needs a value"), option=tok)
            value = tokens[i + 1]
            i += 2
            if kind == "match":
                modules.append((value, [], []))
                continue
            if kind == "goto":
                target = Goto(value)
                continue
            if kind == "source" or kind == "destination":
                generic[kind] = _address(value, negate)
            elif kind == "protocol":
                generic[kind] = ProtocolMatch(value.lower(), negate)
            else:
                generic[kind] = InterfaceMatch(value, negate)
            negate = False
            continue
        if tok.startswith("-") and modules:
            module = modules[0] if len(modules) == 1 else _owner(modules, tok)
            arity = MODULE_OPTIONS.get(module[0], _NO_OPTIONS).get(tok)
            if arity is None:  # an option of an unmodelled module: take values up to the next option
                end = i + 1
                while (
                    end < n
                    and tokens[end] != "!"
                    and not (
                        tokens[end].startswith("-") and len(tokens[end]) > 1 and not tokens[end][1].isdigit()
                    )
                ):
                    end += 1
                values = tokens[i + 1 : end]
            else:
                end = i + 1 + arity
                values = tokens[i + 1 : end]
                if len(values) < arity:
                    raise PartError(N_("option {option} needs a value"), option=tok)
            module[1].append((negate, tok, values))
            if negate:
                module[2].append("!")
            module[2].append(tok)
            module[2].extend(values)
            negate = False
            i = end
            continue
        raise PartError(N_("unknown option {option!r}"), option=tok)
    get = generic.get
    return make_rule(
        chain,
        get("source"),
        get("destination"),
        get("in_interface"),
        get("out_interface"),
        get("protocol"),
        tuple([_match(name, options, raw) for name, options, raw in modules]) if modules else (),
        target,
        spelling,
    )


_NO_OPTIONS: dict[str, int] = {}


#: The options ``_fast_rule`` reads itself: generic ones, by the slot of ``make_rule`` they fill.
_FAST_GENERIC = {"-s": 0, "-d": 1, "-i": 2, "-o": 3, "-p": 4}
_PROTOCOLS: dict[tuple[str, bool], ProtocolMatch] = {}
#: Targets by name and options: a plain dict (a big node has one jump per endpoint chain, more
#: than the least-recently-used cache of ``_target`` keeps), emptied when it grows too big.
_TARGETS: dict[tuple[str, tuple[str, ...]], Target] = {}
_TARGET_LIMIT = 1 << 18
_INTERFACES: dict[tuple[str, bool], InterfaceMatch] = {}


def _plain_tokens(args: str) -> list[str] | None:
    """``tokenize(args)`` when its quotes wrap whole tokens without escapes; None otherwise."""
    if "\\" in args or "\t" in args:
        return None
    if '"' not in args:
        return [token for token in args.split(" ") if token]
    parts = args.split('"')
    last = len(parts) - 1
    if last % 2:
        return None
    tokens: list[str] = []
    for k, part in enumerate(parts):
        if k % 2:
            tokens.append(part)
            continue
        if (k > 0 and part and part[0] != " ") or (k < last and part and part[-1] != " "):
            return None
        if 0 < k < last and not part:
            return None  # two quoted strings glued together: one token for the tokenizer
        tokens += [token for token in part.split(" ") if token]
    return tokens


def _fast_rule(chain: str, args: str) -> Rule | None:
    """``parse_rule_args(chain, tokenize(args), args)`` for the shapes that fill a node's dump
    (generic options, ``-m comment --comment C``, ``-m tcp [--dport N]``, ``-m statistic --mode
    random --probability P``, then ``-j TARGET …``), built from the same cached parts; None for
    anything else (any other option or module, a repeated option, ``-g``), which the full parser reads."""
    tokens = _plain_tokens(args)
    if tokens is None:
        return None
    generic: list[object] = [None, None, None, None, None]
    keys: list[tuple[str, tuple[str, ...]]] = []
    target: Target | None = None
    negate = False
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok == "!":
            if negate:
                return None
            negate = True
            i += 1
            continue
        if i + 1 >= n:
            return None
        value = tokens[i + 1]
        slot = _FAST_GENERIC.get(tok)
        if slot is not None:
            if generic[slot] is not None:
                return None
            if slot < 2:
                generic[slot] = _address(value, negate)
            elif slot < 4:
                found = _INTERFACES.get((value, negate))
                if found is None:
                    found = _INTERFACES[(value, negate)] = InterfaceMatch(value, negate)
                generic[slot] = found
            else:
                found = _PROTOCOLS.get((value, negate))
                if found is None:
                    found = _PROTOCOLS[(value, negate)] = ProtocolMatch(value.lower(), negate)
                generic[slot] = found
            negate = False
            i += 2
            continue
        if negate:
            return None
        if tok == "-j":
            if i + 2 == n and value.startswith("KUBE-"):
                # A jump to one of kube-proxy's chains (build_target's answer for such a name).
                target = Jump(value)
                break
            key = (value, tuple(tokens[i + 2 :]))
            target = _TARGETS.get(key)  # type: ignore[assignment]
            if target is None:
                target = _target(*key)
                if len(_TARGETS) >= _TARGET_LIMIT:
                    _TARGETS.clear()
                _TARGETS[key] = target
            break
        if tok != "-m":
            return None
        after = tokens[i + 2] if i + 2 < n else ""
        if value == "comment" and after == "--comment" and i + 3 < n:
            keys.append(("comment", ("--comment", tokens[i + 3])))
            i += 4
        elif value == "tcp" or value == "udp" or value == "sctp":
            if after == "--dport" and i + 3 < n:
                keys.append((value, ("--dport", tokens[i + 3])))
                i += 4
            elif after == "-j" or after == "-m":
                keys.append((value, ()))
                i += 2
            else:
                return None
        elif (
            value == "statistic"
            and after == "--mode"
            and i + 5 < n
            and tokens[i + 3] == "random"
            and tokens[i + 4] == "--probability"
        ):
            keys.append(("statistic", ("--mode", "random", "--probability", tokens[i + 5])))
            i += 6
        else:
            return None
    if negate:
        return None
    matches: list[object] = []
    for key in keys:
        found = _MATCHES.get(key)
        if found is None:
            module, raw = key
            options = [(False, raw[k], [raw[k + 1]]) for k in range(0, len(raw), 2)]
            found = _match(module, options, list(raw))
        matches.append(found)
    return make_rule(chain, *generic, tuple(matches), target, args)


def _arity(module: str, option: str) -> int | None:
    return MODULE_OPTIONS.get(module, {}).get(option)


def _owner(
    modules: list[tuple[str, list[tuple[bool, str, list[str]]], list[str]]], option: str
) -> tuple[str, list[tuple[bool, str, list[str]]], list[str]]:
    """The latest loaded module that knows ``option`` (iptables offers options to modules this way)."""
    for module in reversed(modules):
        if option in MODULE_OPTIONS.get(module[0], {}) or module[0] not in MODULE_OPTIONS:
            return module
    return modules[-1]


def parse_payload(
    text: str,
    source: str = "<rules>",
    unreadable: list[tuple[str, str]] | None = None,
    progress: Progress | None = None,
) -> Payload:
    """Read iptables-restore (or iptables-save) text as tables of declared chains and ``-A``/``-X`` lines.

    With ``unreadable``, a rule line that cannot be read is put there (location, text) and skipped.
    ``progress`` hears ``("read-rules", lines read, lines)`` every few thousand lines.
    """
    payload = Payload()
    table: PayloadTable | None = None
    lines = text.splitlines()
    count = len(lines)
    for number, raw in enumerate(lines, start=1):
        if not number & READ_MASK and progress is not None:
            progress("read-rules", number, count)
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if table is not None and line.startswith("-A "):
                # Nearly every line of a dump: a rule without counters.
                chain, _, args = line[3:].partition(" ")
                rule = _fast_rule(chain, args)
                if rule is None:
                    rule = parse_rule_args(chain, tokenize(args), spelling=args)
                table.lines.append(rule)
                continue
            if line.startswith("*"):
                table = PayloadTable(line[1:])
                payload.tables.append(table)
                continue
            if line == "COMMIT":
                if table is None:
                    raise PartError(N_("COMMIT outside a table"))
                table = None
                continue
            if table is None:
                raise PartError(N_("line outside a table (missing *filter or *nat)"))
            if line.startswith(":"):
                name = line[1:].split()
                if not name:
                    raise PartError(N_("a chain line without a chain name"))
                table.declared.append(name[0])
                continue
            counters = None
            if line.startswith("["):
                head, _, line = line.partition("] ")
                packets, _, octets = head[1:].partition(":")
                counters = (int_value(packets), int_value(octets))
            command, _, rest = line.partition(" ")
            if command in ("-A", "--append"):
                chain, _, args = rest.partition(" ")
                rule = parse_rule_args(chain, tokenize(args), spelling=args)
                if counters is not None:
                    rule = Rule(
                        **{f: getattr(rule, f) for f in rule.__dataclass_fields__ if f != "counters"},
                        counters=counters,
                    )
                table.lines.append(rule)
            elif command in ("-X", "--delete-chain"):
                table.lines.append(DeleteChain(rest.strip()))
            else:
                raise PartError(N_("unsupported command {command!r}"), command=command)
        except PartError as error:
            if unreadable is not None and table is not None and line.startswith(("-A", "--append", "[")):
                unreadable.append((f"{source}:{number}", line))
                continue
            raise SandboxInputError(
                N_("Cannot read this iptables rule ({problem}): {line}"),
                location=f"{source}:{number}",
                problem=error,
                line=line,
            ) from None
        except (IndexError, KeyError, ValueError, OverflowError):
            # A module option the parser does not check one by one: missing or of the wrong form.
            raise SandboxInputError(
                N_("Cannot read this iptables rule ({problem}): {line}"),
                location=f"{source}:{number}",
                problem=PartError(N_("an option is missing or malformed")),
                line=line,
            ) from None
    if table is not None:
        raise SandboxInputError(N_("Table {table} has no COMMIT line."), location=source, table=table.name)
    return payload


def declared_policies(text: str) -> dict[tuple[str, str], tuple[str, tuple[int, int]]]:
    """``(table, chain) -> (policy, counters)`` from the ``:CHAIN POLICY [p:b]`` lines of a dump."""
    result: dict[tuple[str, str], tuple[str, tuple[int, int]]] = {}
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            parts = line[1:].split()
            if not parts:
                continue
            policy = parts[1] if len(parts) > 1 else "-"
            counters = (0, 0)
            if len(parts) > 2 and parts[2].startswith("["):
                packets, _, octets = parts[2].strip("[]").partition(":")
                if packets.isascii() and packets.isdigit() and octets.isascii() and octets.isdigit():
                    counters = (int(packets), int(octets))
            result[(table, parts[0])] = (policy, counters)
    return result
