"""Did-you-mean for the shell's names: objects that do not exist, and a request's client and Service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kproxy_tutor.errors import N_, SandboxInputError, TutorError
from kproxy_tutor.suggest import close_match

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.cluster import Cluster


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
