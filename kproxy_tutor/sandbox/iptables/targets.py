"""Typed targets of a rule (``-j``/``-g``) and how iptables-save prints them."""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.sandbox.iptables.spelling import quote_token as _token


@dataclass(frozen=True, slots=True)
class Jump:
    chain: str

    def save(self) -> str:
        return f"-j {self.chain}"


@dataclass(frozen=True, slots=True)
class Goto:
    chain: str

    def save(self) -> str:
        return f"-g {self.chain}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """ACCEPT, DROP or RETURN."""

    verdict: str

    def save(self) -> str:
        return f"-j {self.verdict}"


@dataclass(frozen=True, slots=True)
class Reject:
    reject_with: str = "icmp-port-unreachable"

    def save(self) -> str:
        return f"-j REJECT --reject-with {self.reject_with}"


@dataclass(frozen=True, slots=True)
class Dnat:
    to_destination: str
    extra: tuple[str, ...] = ()

    def save(self) -> str:
        return " ".join(("-j DNAT --to-destination", self.to_destination, *self.extra))


@dataclass(frozen=True, slots=True)
class Snat:
    to_source: str
    extra: tuple[str, ...] = ()

    def save(self) -> str:
        return " ".join(("-j SNAT --to-source", self.to_source, *self.extra))


@dataclass(frozen=True, slots=True)
class Masquerade:
    random_fully: bool = False
    random: bool = False
    to_ports: str = ""

    def save(self) -> str:
        text = "-j MASQUERADE"
        if self.to_ports:
            text += f" --to-ports {self.to_ports}"
        if self.random:
            text += " --random"
        if self.random_fully:
            text += " --random-fully"
        return text


@dataclass(frozen=True, slots=True)
class MarkTarget:
    """``MARK``: the packet mark becomes ``(mark & ~mask) ^ value``."""

    value: int
    mask: int

    @staticmethod
    def or_mark(bits: int) -> MarkTarget:
        return MarkTarget(bits, bits)

    @staticmethod
    def xor_mark(bits: int) -> MarkTarget:
        return MarkTarget(bits, 0)

    def apply(self, mark: int) -> int:
        return (mark & ~self.mask & 0xFFFFFFFF) ^ self.value

    def save(self) -> str:
        return f"-j MARK --set-xmark 0x{self.value:x}/0x{self.mask:x}"


@dataclass(frozen=True, slots=True)
class OpaqueTarget:
    name: str
    args: tuple[str, ...] = ()

    def save(self) -> str:
        return " ".join(("-j", self.name, *map(_token, self.args)))


Target = Jump | Goto | Verdict | Reject | Dnat | Snat | Masquerade | MarkTarget | OpaqueTarget
