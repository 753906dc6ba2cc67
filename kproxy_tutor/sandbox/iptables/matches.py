"""Typed module matches of a rule (``-m comment``, ``-m tcp``, ``-m statistic``, …) and how iptables-save prints them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kproxy_tutor.sandbox.iptables.spelling import PROBABILITY_SCALE, save_string
from kproxy_tutor.sandbox.iptables.spelling import neg as _neg
from kproxy_tutor.sandbox.iptables.spelling import quote_token as _token


@dataclass(frozen=True, slots=True)
class CommentMatch:
    module: ClassVar[str] = "comment"
    comment: str

    def save_options(self) -> str:
        return f"--comment {save_string(self.comment)}"


@dataclass(frozen=True, slots=True)
class PortRange:
    first: int
    last: int
    negated: bool = False

    def text(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}:{self.last}"

    def contains(self, port: int) -> bool:
        return (self.first <= port <= self.last) != self.negated


@dataclass(frozen=True, slots=True)
class PortMatch:
    """``-m tcp|udp|sctp``; ``extra`` keeps options the sandbox does not model (e.g. ``--tcp-flags``)."""

    module: str
    dport: PortRange | None = None
    sport: PortRange | None = None
    extra: tuple[str, ...] = ()

    def save_options(self) -> str:
        parts = []
        if self.sport is not None:
            parts.append(f"{_neg(self.sport.negated)}--sport {self.sport.text()}")
        if self.dport is not None:
            parts.append(f"{_neg(self.dport.negated)}--dport {self.dport.text()}")
        parts.extend(self.extra)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class StatisticMatch:
    """``probability`` is the kernel's value: the rule matches when ``random31 < probability``."""

    module: ClassVar[str] = "statistic"
    mode: str = "random"
    probability: int = 0
    every: int = 0
    packet: int = 0
    negated: bool = False

    @property
    def probability_fraction(self) -> float:
        return self.probability / PROBABILITY_SCALE

    def save_options(self) -> str:
        if self.mode == "nth":
            return f"--mode nth {_neg(self.negated)}--every {self.every} --packet {self.packet}"
        return f"--mode random {_neg(self.negated)}--probability {self.probability / PROBABILITY_SCALE:.11f}"


@dataclass(frozen=True, slots=True)
class RecentMatch:
    module: ClassVar[str] = "recent"
    name: str = "DEFAULT"
    #: ``set``, ``rcheck``, ``update`` or ``remove``.
    command: str = "rcheck"
    seconds: int = 0
    reap: bool = False
    hitcount: int = 0
    rttl: bool = False
    mask: str = "255.255.255.255"
    #: ``rsource`` (remember the source address) or ``rdest``.
    side: str = "rsource"
    negated: bool = False

    def save_options(self) -> str:
        parts = [f"{_neg(self.negated)}--{self.command}"]
        if self.seconds:
            parts.append(f"--seconds {self.seconds}")
        if self.reap:
            parts.append("--reap")
        if self.hitcount:
            parts.append(f"--hitcount {self.hitcount}")
        if self.rttl:
            parts.append("--rttl")
        parts.append(f"--name {self.name} --mask {self.mask} --{self.side}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class MarkMatch:
    module: ClassVar[str] = "mark"
    value: int
    mask: int = 0xFFFFFFFF
    negated: bool = False

    def matches(self, mark: int) -> bool:
        return ((mark & self.mask) == self.value) != self.negated

    def save_options(self) -> str:
        text = f"0x{self.value:x}" if self.mask == 0xFFFFFFFF else f"0x{self.value:x}/0x{self.mask:x}"
        return f"{_neg(self.negated)}--mark {text}"


@dataclass(frozen=True, slots=True)
class AddrTypeMatch:
    module: ClassVar[str] = "addrtype"
    src_type: str | None = None
    dst_type: str | None = None
    src_negated: bool = False
    dst_negated: bool = False
    limit_iface_in: bool = False
    limit_iface_out: bool = False

    def save_options(self) -> str:
        parts = []
        if self.src_type:
            parts.append(f"{_neg(self.src_negated)}--src-type {self.src_type}")
        if self.dst_type:
            parts.append(f"{_neg(self.dst_negated)}--dst-type {self.dst_type}")
        if self.limit_iface_in:
            parts.append("--limit-iface-in")
        if self.limit_iface_out:
            parts.append("--limit-iface-out")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class ConntrackMatch:
    module: ClassVar[str] = "conntrack"
    states: tuple[str, ...] = ()
    negated: bool = False
    extra: tuple[str, ...] = ()

    def save_options(self) -> str:
        parts = []
        if self.states:
            parts.append(f"{_neg(self.negated)}--ctstate {','.join(self.states)}")
        parts.extend(self.extra)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class NfacctMatch:
    module: ClassVar[str] = "nfacct"
    name: str

    def save_options(self) -> str:
        # libxt_nfacct prints "--nfacct-name " and then a quoted-or-bare string with its own
        # leading space, hence two spaces in real dumps.
        return f"--nfacct-name  {save_string(self.name)}"


@dataclass(frozen=True, slots=True)
class OpaqueMatch:
    """A module the sandbox does not model; its options are kept verbatim as tokens."""

    module: str
    args: tuple[str, ...] = ()

    def save_options(self) -> str:
        return " ".join(_token(a) for a in self.args)


ModuleMatch = (
    CommentMatch
    | PortMatch
    | StatisticMatch
    | RecentMatch
    | MarkMatch
    | AddrTypeMatch
    | ConntrackMatch
    | NfacctMatch
    | OpaqueMatch
)
