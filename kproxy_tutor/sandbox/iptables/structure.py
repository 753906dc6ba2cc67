"""Structured rules from the two lines a chain keeps per rule, built fast for the tracer.

A chain's ``save`` lines are canonical (the compiler writes them so, and ``render.save_line``
prints parsed rules so): addresses are canonical CIDRs, every module's options follow its
``-m``, the target comes last. So a rule is read from its save line by walking the tokens,
with each module and target built once per distinct text (the parser's cost is paid once for
``-m tcp --dport 80``, not once per rule). The rule's ``spelling`` is the restore line's
arguments, as the parser would give it. Anything unusual goes to the parser, so the result is
always what ``rule_from_line(restore line)`` gives (a test checks this on every scenario).
"""

from __future__ import annotations

from functools import lru_cache

from kproxy_tutor.sandbox.fastinit import fast_constructor
from kproxy_tutor.sandbox.iptables.matches import CommentMatch
from kproxy_tutor.sandbox.iptables.rules import (
    AddressMatch,
    InterfaceMatch,
    Jump,
    ProtocolMatch,
    Rule,
    Target,
    make_rule,
    rule_from_line,
)
from kproxy_tutor.sandbox.iptables.targets import Dnat

# Built once per rule a trace first visits: every endpoint's -s, comment and DNAT differ.
_make_address = fast_constructor(AddressMatch)
_make_comment = fast_constructor(CommentMatch)
_make_dnat = fast_constructor(Dnat)

_GENERIC = {"-s": 0, "-d": 1, "-i": 2, "-o": 3, "-p": 4}


@lru_cache(maxsize=65536)
def _module(tokens: tuple[str, ...]) -> object:
    """One ``-m NAME …`` segment, read by the parser (cached: big chains repeat them)."""
    from kproxy_tutor.sandbox.iptables.parse import parse_rule_args

    (match,) = parse_rule_args("-", list(tokens)).matches
    return match


@lru_cache(maxsize=65536)
def _target(tokens: tuple[str, ...]) -> Target | None:
    from kproxy_tutor.sandbox.iptables.parse import parse_rule_args

    return parse_rule_args("-", list(tokens)).target


@lru_cache(maxsize=65536)
def _jump(chain: str) -> Jump:
    return Jump(chain)


@lru_cache(maxsize=256)
def _protocol(name: str, negated: bool) -> ProtocolMatch:
    return ProtocolMatch(name, negated)


def rule_from_lines(line: str, save: str) -> Rule:
    """The rule of a chain entry: ``line`` as written (its spelling), ``save`` as iptables-save prints it."""
    if "\\" in save or "\t" in save:
        return rule_from_line(line)
    chain, _, args = save[3:].partition(" ")
    if '"' in args:
        parts = args.split('"')
        if len(parts) % 2 == 0:
            return rule_from_line(line)
        tokens: list[str] = []
        for k, part in enumerate(parts):
            if k % 2:
                tokens.append(part)
            else:
                tokens += part.split()
    else:
        tokens = args.split()
    generic: list[object] = [None, None, None, None, None]
    n = len(tokens)
    i = 0
    negated = False
    # Generic matches, in iptables-save's order.
    while i < n:
        tok = tokens[i]
        if tok == "!":
            negated = True
            i += 1
            continue
        slot = _GENERIC.get(tok)
        if slot is None or i + 1 >= n:
            break
        value = tokens[i + 1]
        if slot < 2:
            generic[slot] = _make_address(value, negated)
        elif slot < 4:
            generic[slot] = InterfaceMatch(value, negated)
        else:
            generic[slot] = _protocol(value, negated)
        negated = False
        i += 2
    if negated:
        return rule_from_line(line)
    matches: list[object] = []
    target: Target | None = None
    while i < n:
        tok = tokens[i]
        if tok == "-m" and i + 1 < n:
            end = i + 2
            while end < n and tokens[end] != "-m" and tokens[end] != "-j" and tokens[end] != "-g":
                end += 1
            if tokens[i + 1] == "comment" and end == i + 4 and tokens[i + 2] == "--comment":
                matches.append(_make_comment(tokens[i + 3]))
            else:
                matches.append(_module(tuple(tokens[i:end])))
            i = end
            continue
        if tok == "-j" or tok == "-g":
            if tok == "-j" and i + 2 == n and tokens[i + 1].startswith("KUBE-"):
                # A jump to one of kube-proxy's chains (most rules): no parser needed.
                target = _jump(tokens[i + 1])
            elif (
                tok == "-j"
                and i + 4 == n
                and tokens[i + 1] == "DNAT"
                and tokens[i + 2] == "--to-destination"
                and not tokens[i + 3].startswith("--")
            ):
                # Every endpoint chain's DNAT (a different address each): as the parser reads it.
                target = _make_dnat(tokens[i + 3], ())
            else:
                target = _target(tuple(tokens[i:]))
            break
        return rule_from_line(line)
    spelling = line[4 + len(chain) :] if line.startswith(f"-A {chain} ") else rule_from_line(line).spelling
    return make_rule(chain, *generic, tuple(matches), target, spelling)
