"""Did-you-mean for every name a command takes: the closest known name, or None."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_, SandboxInputError, TutorError

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.cluster import Cluster


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


def not_found(kind: str, namespace: str, name: str, known: Iterable[str]) -> SandboxInputError:
    """There is no such object: with the closest name of that kind in the namespace, if any."""
    suggestion = close_match(name, known)
    if suggestion is not None:
        return SandboxInputError(
            N_("There is no {kind} {name!r} in namespace {namespace}. Did you mean {suggestion!r}?"),
            kind=kind,
            name=name,
            namespace=namespace,
            suggestion=suggestion,
        )
    return SandboxInputError(
        N_("There is no {kind} {name!r} in namespace {namespace}."), kind=kind, name=name, namespace=namespace
    )


def _is_address(text: str) -> bool:
    return bool(text) and all(part.isdigit() for part in text.split(".")) and text.count(".") == 3


def check_request(
    cluster: Cluster, source: str, target: str, error: type[TutorError] = SandboxInputError
) -> None:
    """Did-you-mean for a request's client (``--from``) and Service name, before the tracer resolves them.

    Only a name that matches nothing but is close to a known one is refused here; everything else
    is left to the tracer, which says what is wrong with it.
    """
    name = source.rpartition("/")[2]
    if source and not _is_address(source) and not source.startswith(("node/", "nodes/")):
        known = {p.name for p in cluster.pods.values()} | {d.name for d in cluster.deployments.values()}
        known |= set(cluster.nodes)
        if name not in known:
            suggestion = close_match(name, known)
            if suggestion is not None:
                raise error(
                    N_(
                        "--from {value!r}: there is no Pod, Deployment or node with this name. Did you mean {suggestion!r}?"
                    ),
                    value=source,
                    suggestion=suggestion,
                )
    head, sep, tail = target.rpartition(":")
    if not sep:
        head, tail = target, ""
    if _is_address(head) or head in cluster.nodes:
        return
    service = head.rpartition("/")[2].split(".")[0]
    services = {s.name for s in cluster.services.values()}
    if service and service not in services:
        suggestion = close_match(service, services)
        if suggestion is not None:
            raise error(
                N_("{value!r} is not a Service of this cluster. Did you mean {suggestion!r}?"),
                value=target,
                suggestion=suggestion + (f":{tail}" if tail else ""),
            )
