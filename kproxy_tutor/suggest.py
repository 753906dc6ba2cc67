"""Did-you-mean for every name a learner types (commands, objects, lessons, exercises): the closest known name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_match(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` was most likely meant to be (a typo, a prefix, another case), or None."""
    candidates = sorted(set(known))
    if not name or not candidates:
        return None
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    # A prefix of exactly one name (``how-scale`` for ``how-scale-probability``).
    starting = [c for c in candidates if c.startswith(name) or name.startswith(c)]
    if len(starting) == 1 and len(name) >= 3:
        return starting[0]
    pieces = [c for c in candidates if name in c and len(name) >= 4]
    return pieces[0] if len(pieces) == 1 else None
