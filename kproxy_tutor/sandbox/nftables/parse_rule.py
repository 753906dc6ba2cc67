"""Parse one nftables rule (kube-proxy's spelling or ``nft list``'s) into typed statements.

Only the shapes kube-proxy writes are understood; anything else raises ``NftParseError`` naming
the rule, so a tracer never silently skips a rule it does not understand.
"""

from __future__ import annotations

import re

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.ipaddr import canonical_ipv4
from kproxy_tutor.sandbox.nftables.intervals import parse_interval
from kproxy_tutor.sandbox.nftables.ruleset import NftRule
from kproxy_tutor.sandbox.nftables.statements import (
    Address,
    AnonSet,
    CtState,
    Dnat,
    FibLocal,
    MarkSet,
    MarkTest,
    Masquerade,
    Match,
    NumgenVmap,
    SetRef,
    SetUpdate,
    Statement,
    Value,
    Verdict,
    VmapLookup,
    Word,
    to_network,
)

_COMMENT = re.compile(r'\s+comment\s+"((?:[^"\\]|\\.)*)"\s*$')
_TOKEN = re.compile(r'"[^"]*"|[{},]|[^\s{},]+')
_KEY_WORDS = {("ip", "saddr"), ("ip", "daddr"), ("meta", "l4proto"), ("th", "dport")}
_VERDICTS = ("accept", "drop", "return", "reject")


class NftParseError(SandboxInputError):
    """A line or rule the sandbox cannot read as kube-proxy's nftables output."""


def _fail(text: str, location: str | None = None) -> NftParseError:
    return NftParseError(N_("Cannot read this nftables rule: {rule}"), location=location, rule=text)


#: The rules that fill a big node's table (each endpoint chain's two, each service chain's
#: masquerade rule), read without the tokenizer: the same statements as ``_Parser`` builds.
_FAST_SHAPES = re.compile(
    r"(?:meta l4proto ([^\s{},\"]+) dnat to ([^\s{},\"]+))"
    r"|(?:ip saddr ([^\s{},\"]+) jump ([^\s{},\"]+))"
    r"|(?:ip daddr ([^\s{},\"]+) ip saddr != ([^\s{},\"]+) jump ([^\s{},\"]+))"
)


def fast_rule(text: str) -> NftRule | None:
    """``parse_rule(text)`` for the shapes of ``_FAST_SHAPES`` written with single spaces; None for others."""
    found = _FAST_SHAPES.fullmatch(text)
    if found is None:
        return None
    groups = found.groups()
    if "!=" in groups:
        return None  # a negation where the shape has a value: the parser reads it
    protocol, destination, source, chain, daddr, saddr, masquerade = groups
    try:
        if protocol is not None:
            ip, _, port = destination.rpartition(":")
            if not (port.isascii() and port.isdigit()):
                return None
            return NftRule(
                (Match("meta l4proto", _value("meta l4proto", protocol), False), Dnat(ip, int(port))), None
            )
        if source is not None:
            return NftRule(
                (Match("ip saddr", _value("ip saddr", source), False), Verdict("jump", chain)), None
            )
        return NftRule(
            (
                Match("ip daddr", _value("ip daddr", daddr), False),
                Match("ip saddr", _value("ip saddr", saddr), True),
                Verdict("jump", masquerade),
            ),
            None,
        )
    except ValueError:
        return None  # the full parser names the rule


def _value(field: str, token: str) -> Value:
    """What ``_Parser.value`` gives for one plain token."""
    if token.startswith("@"):
        return SetRef(token[1:])
    if field in ("ip saddr", "ip daddr"):
        if canonical_ipv4(token) == token:
            return Address(token)  # a canonical host: its own text, no ipaddress object needed
        return Address.of(to_network(token))
    return Word(token)


def parse_rule(text: str, location: str | None = None) -> NftRule:
    if '"' not in text:
        fast = fast_rule(text)
        if fast is not None:
            return fast
    comment = None
    found = _COMMENT.search(text)
    body = text
    if found is not None:
        comment = found.group(1)
        body = text[: found.start()]
    tokens = _TOKEN.findall(body)
    try:
        statements = _Parser(tokens).statements()
    except (IndexError, ValueError):
        raise _fail(text, location) from None
    if statements is None:
        raise _fail(text, location)
    return NftRule(tuple(statements), comment)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> str | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        if expected is not None and token != expected:
            raise ValueError(token)
        self.pos += 1
        return token

    def statements(self) -> list[Statement] | None:
        out: list[Statement] = []
        while self.peek() is not None:
            statement = self.statement()
            if statement is None:
                return None
            out.append(statement)
        return out

    def _key(self) -> str:
        return f"{self.take()} {self.take()}"

    def statement(self) -> Statement | None:
        token = self.take()
        if token in ("ip", "meta", "th") and (token, self.peek()) in _KEY_WORDS and self.peek(1) == ".":
            self.pos -= 1
            keys = [self._key()]
            while self.peek() == ".":
                self.take(".")
                keys.append(self._key())
            self.take("vmap")
            return VmapLookup(tuple(keys), self.take()[1:])
        if token == "meta" and self.peek() == "mark":
            self.take("mark")
            if self.peek() == "set":
                self.take("set"), self.take("meta"), self.take("mark")
                op = {"|": "or", "^": "xor"}[self.take()]
                return MarkSet(op, int(self.take(), 16))
            self.take("&")
            mask = int(self.take(), 16)
            negated = self.take() == "!="
            return MarkTest(mask, int(self.take(), 16), negated)
        if token == "mark":
            if self.peek() == "set":
                self.take("set"), self.take("mark")
                op = self.take()
                if op not in ("or", "xor"):
                    return None
                return MarkSet(op, int(self.take(), 0))
            self.take("and")
            mask = int(self.take(), 0)
            negated = self.take() == "!="
            return MarkTest(mask, int(self.take(), 0), negated)
        if token in ("ip", "meta", "tcp", "udp", "sctp", "iifname", "oifname"):
            field = token if token in ("iifname", "oifname") else f"{token} {self.take()}"
            negated = self.peek() == "!="
            if negated:
                self.take()
            return Match(field, self.value(field), negated)
        if token == "fib":
            field = self.take()
            self.take("type"), self.take("local")
            return FibLocal(field)
        if token == "ct":
            self.take("state")
            return CtState(tuple(self.take().split(",")))
        if token == "numgen":
            self.take("random"), self.take("mod")
            mod = int(self.take())
            self.take("vmap"), self.take("{")
            chains: list[str] = []
            while self.peek() != "}":
                if self.peek() == ",":
                    self.take()
                    continue
                index = int(self.take())
                self.take(":"), self.take("goto")
                if index != len(chains):
                    return None
                chains.append(self.take())
            self.take("}")
            return NumgenVmap(mod, tuple(chains))
        if token in ("jump", "goto"):
            return Verdict(token, self.take())
        if token in _VERDICTS:
            return Verdict(token)
        if token == "masquerade":
            fully = self.peek() == "fully-random"
            if fully:
                self.take()
            return Masquerade(fully)
        if token == "dnat":
            self.take("to")
            ip, _, port = self.take().rpartition(":")
            return Dnat(ip, int(port))
        if token == "update":
            name = self.take()[1:]
            self.take("{")
            key = self._key()
            self.take("}")
            return SetUpdate(name, key)
        return None

    def value(self, field: str) -> Value:
        token = self.take()
        if token.startswith("@"):
            return SetRef(token[1:])
        if token == "{":
            items = []
            while self.peek() != "}":
                item = self.take()
                if item != ",":
                    # nft lists merged intervals, some as first-last ranges.
                    items.extend(parse_interval(item) if "-" in item else (to_network(item),))
            self.take("}")
            return AnonSet(tuple(items))
        if token.startswith('"'):
            return Word(token.strip('"'))
        if field in ("ip saddr", "ip daddr"):
            # nft lists a one-element anonymous set without braces; kube-proxy only uses
            # bare CIDRs in the "unallocated ClusterIP" rule as such a set, a bare host otherwise.
            return _value(field, token)
        return Word(token)
