"""Build typed matches and targets from the option tokens the rule parser collected."""

from __future__ import annotations

import math

from kproxy_tutor.errors import N_, TutorError
from kproxy_tutor.sandbox.iptables.matches import (
    AddrTypeMatch,
    CommentMatch,
    ConntrackMatch,
    MarkMatch,
    ModuleMatch,
    NfacctMatch,
    OpaqueMatch,
    PortMatch,
    PortRange,
    RecentMatch,
    StatisticMatch,
)
from kproxy_tutor.sandbox.iptables.rules import CONNTRACK_STATE_ORDER, PROBABILITY_SCALE
from kproxy_tutor.sandbox.iptables.targets import (
    Dnat,
    Jump,
    MarkTarget,
    Masquerade,
    OpaqueTarget,
    Reject,
    Snat,
    Target,
    Verdict,
)

#: Options (and how many values follow) of the modules the sandbox models.
MODULE_OPTIONS: dict[str, dict[str, int]] = {
    "comment": {"--comment": 1},
    "tcp": {"--dport": 1, "--destination-port": 1, "--sport": 1, "--source-port": 1},
    "udp": {"--dport": 1, "--destination-port": 1, "--sport": 1, "--source-port": 1},
    "sctp": {"--dport": 1, "--destination-port": 1, "--sport": 1, "--source-port": 1},
    "statistic": {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1},
    "recent": {
        "--name": 1,
        "--set": 0,
        "--rcheck": 0,
        "--update": 0,
        "--remove": 0,
        "--seconds": 1,
        "--reap": 0,
        "--hitcount": 1,
        "--rttl": 0,
        "--mask": 1,
        "--rsource": 0,
        "--rdest": 0,
    },
    "mark": {"--mark": 1},
    "addrtype": {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0},
    "conntrack": {"--ctstate": 1},
    "nfacct": {"--nfacct-name": 1},
}
_VERDICTS = frozenset(("ACCEPT", "DROP", "RETURN"))
#: Targets that are extensions, not chains (any target with options is one, too).
_EXTENSION_TARGETS = frozenset(
    [
        "LOG",
        "NFLOG",
        "NFQUEUE",
        "CT",
        "NOTRACK",
        "TPROXY",
        "REDIRECT",
        "TCPMSS",
        "CHECKSUM",
        "CONNMARK",
        "CLASSIFY",
        "DSCP",
        "TOS",
        "TTL",
        "HL",
        "SET",
        "AUDIT",
        "TRACE",
        "ULOG",
        "QUEUE",
        "NETMAP",
        "CONNSECMARK",
        "SECMARK",
        "IDLETIMER",
        "LED",
        "TEE",
        "SYNPROXY",
        "TCPOPTSTRIP",
        "HMARK",
    ]
)


class PartError(TutorError):
    """A value the parser cannot read (a msgid with parameters); the caller adds the line and file."""


def int_value(value: str) -> int:
    if not value.isascii() or len(value) > 40:
        raise PartError(N_("bad number {value!r}"), value=value[:40])
    try:
        return int(value, 0)
    except ValueError:
        raise PartError(N_("bad number {value!r}"), value=value) from None


def port_range(value: str, negated: bool) -> PortRange:
    first, _, last = value.partition(":")
    try:
        low = int(first) if first else 0
        if not (first + last).isascii():
            raise ValueError(value)
        high = int(last) if last else (low if not _ else 65535)
    except ValueError:
        raise PartError(N_("bad port {value!r}"), value=value) from None
    return PortRange(low, high, negated)


def _mark_pair(value: str) -> tuple[int, int | None]:
    head, sep, tail = value.partition("/")
    return int_value(head), (int_value(tail) if sep else None)


def build_match(module: str, options: list[tuple[bool, str, list[str]]], raw: list[str]) -> ModuleMatch:
    known = MODULE_OPTIONS.get(module)
    if known is None or any(opt not in known for _, opt, _ in options):
        if module in ("tcp", "udp", "sctp"):
            return _port_match(module, options)
        if module == "conntrack":
            return _conntrack_match(options)
        return OpaqueMatch(module, tuple(raw))
    values = {opt: (neg, vals) for neg, opt, vals in options}
    if module == "comment":
        return CommentMatch(values["--comment"][1][0] if "--comment" in values else "")
    if module in ("tcp", "udp", "sctp"):
        return _port_match(module, options)
    if module == "statistic":
        mode = values.get("--mode", (False, ["random"]))[1][0]
        if mode == "nth":
            neg, every = values.get("--every", (False, ["0"]))
            return StatisticMatch(
                "nth", 0, int_value(every[0]), int_value(values.get("--packet", (False, ["0"]))[1][0]), neg
            )
        neg, prob = values.get("--probability", (False, ["0"]))
        try:
            fraction = float(prob[0])
        except ValueError:
            raise PartError(N_("bad probability {value!r}"), value=prob[0]) from None
        # iptables stores lround(2^31 * p); Python's round() would round half to even.
        return StatisticMatch("random", math.floor(PROBABILITY_SCALE * fraction + 0.5), 0, 0, neg)
    if module == "recent":
        command = next(
            (o[2:] for _, o, _ in options if o in ("--set", "--rcheck", "--update", "--remove")), "set"
        )
        negated = any(n for n, o, _ in options if o in ("--set", "--rcheck", "--update", "--remove"))
        return RecentMatch(
            name=values.get("--name", (False, ["DEFAULT"]))[1][0],
            command=command,
            seconds=int_value(values["--seconds"][1][0]) if "--seconds" in values else 0,
            reap="--reap" in values,
            hitcount=int_value(values["--hitcount"][1][0]) if "--hitcount" in values else 0,
            rttl="--rttl" in values,
            mask=values.get("--mask", (False, ["255.255.255.255"]))[1][0],
            side="rdest" if "--rdest" in values else "rsource",
            negated=negated,
        )
    if module == "mark":
        neg, vals = values["--mark"]
        value, mask = _mark_pair(vals[0])
        return MarkMatch(value, 0xFFFFFFFF if mask is None else mask, neg)
    if module == "addrtype":
        src = values.get("--src-type")
        dst = values.get("--dst-type")
        return AddrTypeMatch(
            src_type=src[1][0] if src else None,
            dst_type=dst[1][0] if dst else None,
            src_negated=bool(src and src[0]),
            dst_negated=bool(dst and dst[0]),
            limit_iface_in="--limit-iface-in" in values,
            limit_iface_out="--limit-iface-out" in values,
        )
    if module == "conntrack":
        return _conntrack_match(options)
    if "--nfacct-name" not in values:
        raise PartError(N_("-m nfacct needs --nfacct-name NAME"))
    return NfacctMatch(values["--nfacct-name"][1][0])


def _port_match(module: str, options: list[tuple[bool, str, list[str]]]) -> PortMatch:
    dport = sport = None
    extra: list[str] = []
    for neg, opt, vals in options:
        if opt in ("--dport", "--destination-port"):
            dport = port_range(vals[0], neg)
        elif opt in ("--sport", "--source-port"):
            sport = port_range(vals[0], neg)
        else:
            extra.extend((*(["!"] if neg else []), opt, *vals))
    return PortMatch(module, dport, sport, tuple(extra))


def _conntrack_match(options: list[tuple[bool, str, list[str]]]) -> ConntrackMatch:
    states: tuple[str, ...] = ()
    negated = False
    extra: list[str] = []
    for neg, opt, vals in options:
        if opt == "--ctstate":
            given = set(vals[0].split(","))
            states = tuple(s for s in CONNTRACK_STATE_ORDER if s in given) + tuple(
                sorted(given - set(CONNTRACK_STATE_ORDER))
            )
            negated = neg
        else:
            extra.extend((*(["!"] if neg else []), opt, *vals))
    return ConntrackMatch(states, negated, tuple(extra))


def build_target(name: str, args: list[str]) -> Target:
    if name in _VERDICTS and not args:
        return Verdict(name)
    opts: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(args):
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            flags.append(args[i])
            i += 1
    if name == "REJECT" and set(opts) <= {"--reject-with"} and not flags:
        return Reject(opts.get("--reject-with", "icmp-port-unreachable"))
    if name == "DNAT" and "--to-destination" in opts:
        rest = [a for a in args if a not in ("--to-destination", opts["--to-destination"])]
        return Dnat(opts["--to-destination"], tuple(rest))
    if name == "SNAT" and "--to-source" in opts:
        rest = [a for a in args if a not in ("--to-source", opts["--to-source"])]
        return Snat(opts["--to-source"], tuple(rest))
    if name == "MASQUERADE" and set(opts) <= {"--to-ports"} and set(flags) <= {"--random", "--random-fully"}:
        return Masquerade("--random-fully" in flags, "--random" in flags, opts.get("--to-ports", ""))
    if name == "MARK" and len(opts) == 1 and not flags:
        ((option, value),) = opts.items()
        bits, mask = _mark_pair(value)
        if option == "--set-xmark":
            return MarkTarget(bits, 0xFFFFFFFF if mask is None else mask)
        if option == "--set-mark":
            return MarkTarget(bits, bits | (0xFFFFFFFF if mask is None else mask))
        if option == "--or-mark":
            return MarkTarget(bits, bits)
        if option == "--xor-mark":
            return MarkTarget(bits, 0)
        if option == "--and-mark":
            return MarkTarget(0, ~bits & 0xFFFFFFFF)
    if args or name in _EXTENSION_TARGETS or name in ("REJECT", "DNAT", "SNAT", "MASQUERADE", "MARK"):
        return OpaqueTarget(name, tuple(args))
    return Jump(name)
