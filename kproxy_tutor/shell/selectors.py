"""kubectl's label selectors (``-l app=web,tier!=db,env in (a,b),!canary``), parsed once and matched against labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kproxy_tutor.errors import N_, SandboxInputError

_SET = re.compile(
    r"\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|=|!=)\s*([-A-Za-z0-9_.]*))?\s*\Z"
)


@dataclass(frozen=True)
class Requirement:
    key: str
    #: "exists", "!exists", "=", "!=", "in" or "notin".
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!exists":
            return value is None
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values  # != and notin match a missing label


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def _split(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse_selector(text: str) -> Selector:
    requirements = []
    for part in _split(text):
        match = _SET.match(part)
        if match is None or not part.strip():
            raise SandboxInputError(
                N_(
                    "Invalid label selector {selector!r}: write key=value, key!=value, key, !key or key in (a,b)."
                ),
                selector=text,
            )
        negated, key, set_op, set_values, op, value = match.groups()
        if negated and (set_op or op):
            raise SandboxInputError(
                N_(
                    "Invalid label selector {selector!r}: write key=value, key!=value, key, !key or key in (a,b)."
                ),
                selector=text,
            )
        if set_op:
            values = tuple(v.strip() for v in set_values.split(",") if v.strip())
            requirements.append(Requirement(key, set_op, values))
        elif op:
            requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
        else:
            requirements.append(Requirement(key, "!exists" if negated else "exists"))
    return Selector(tuple(requirements))
