"""How iptables-save quotes and spells values (shared by the match and target types)."""

from __future__ import annotations

import re

PROBABILITY_SCALE = 0x80000000


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def save_string(value: str) -> str:
    """Quote like iptables' ``xtables_save_string``: bare only if made of ``[A-Za-z0-9_-]``."""
    if _BARE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
    return f'"{escaped}"'


def quote_token(arg: str) -> str:
    """An opaque option value, quoted only when the tokenizer would otherwise split or lose it."""
    return save_string(arg) if (not arg or any(c in arg for c in " \t\"'\\")) else arg


def neg(negated: bool) -> str:
    return "! " if negated else ""
