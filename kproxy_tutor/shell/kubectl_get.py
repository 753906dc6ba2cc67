"""``kubectl get``: resource types (comma lists, ``all``, TYPE/NAME), label selectors, and kubectl's output formats.

Tables follow kubectl's printers (without AGE: the sandbox has no clock); ``-o yaml`` and
``-o json`` print the objects as kubectl does (one object as itself, several as a ``List``), so
the output can be fed back to ``kubectl apply -f`` or ``kproxy-tutor rules -f``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.shell import kubectl_view, manifests_out
from kproxy_tutor.shell.names import close_match, not_found
from kproxy_tutor.shell.output import Note, Output, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.selectors import parse_selector
from kproxy_tutor.shell.session import Session


@dataclass(frozen=True)
class Kind:
    #: The plural resource name (``pods``), kubectl's prefix for ``-o name`` and multi-kind tables.
    resource: str
    kind: str
    api_name: str
    namespaced: bool = True


KINDS: dict[str, Kind] = {
    "pods": Kind("pods", "Pod", "pod"),
    "services": Kind("services", "Service", "service"),
    "deployments": Kind("deployments", "Deployment", "deployment.apps"),
    "endpoints": Kind("endpoints", "Endpoints", "endpoints"),
    "endpointslices": Kind("endpointslices", "EndpointSlice", "endpointslice.discovery.k8s.io"),
    "nodes": Kind("nodes", "Node", "node", namespaced=False),
    "servicecidrs": Kind("servicecidrs", "ServiceCIDR", "servicecidr.networking.k8s.io", namespaced=False),
}
#: Every word kubectl accepts for a resource type → its plural name.
RESOURCE_WORDS: dict[str, str] = {
    **{name: name for name in KINDS},
    "pod": "pods",
    "po": "pods",
    "service": "services",
    "svc": "services",
    "deployment": "deployments",
    "deploy": "deployments",
    "endpoint": "endpoints",
    "ep": "endpoints",
    "endpointslice": "endpointslices",
    "node": "nodes",
    "no": "nodes",
    "servicecidr": "servicecidrs",
}
#: What ``kubectl get all`` lists that the sandbox has (kubectl also lists ReplicaSets, DaemonSets...).
ALL = ("pods", "services", "deployments")
#: kubectl's warning since v1.33 for the v1 Endpoints API.
ENDPOINTS_WARNING = "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n"


def resource_type(word: str) -> str:
    """The plural resource name for ``word`` (``svc`` → ``services``), or a did-you-mean error."""
    found = RESOURCE_WORDS.get(word.lower())
    if found is not None:
        return found
    suggestion = close_match(word, [*RESOURCE_WORDS, "all"])
    if suggestion is not None:
        raise SandboxInputError(
            N_("The sandbox has no resource type {name!r}. Did you mean {suggestion!r}?"),
            name=word,
            suggestion=RESOURCE_WORDS.get(suggestion, suggestion),
        )
    raise SandboxInputError(
        N_("The sandbox has no resource type {name!r}. Resource types: {names}."),
        name=word,
        names=", ".join([*KINDS, "all"]),
    )


def resource_types(text: str) -> list[str]:
    """``svc,pods`` or ``all`` → plural names, in the order typed, without repeats."""
    out: list[str] = []
    for word in text.split(","):
        for resource in ALL if word.lower() == "all" else (resource_type(word),):
            if resource not in out:
                out.append(resource)
    return out


def objects_of(cluster: Cluster, resource: str) -> list[Any]:
    if resource == "pods":
        values: list[Any] = list(cluster.pods.values())
    elif resource == "services":
        values = list(cluster.services.values())
    elif resource == "deployments":
        values = list(cluster.deployments.values())
    elif resource in ("endpoints", "endpointslices"):
        values = (
            list(cluster.endpoint_slices.values())
            if resource == "endpointslices"
            else [s for s in cluster.services.values() if s.selector is not None or cluster.slices_of(*s.key)]
        )
    elif resource == "servicecidrs":
        return sorted(cluster.service_cidr_objects.values(), key=lambda o: o.name)
    else:
        return list(cluster.nodes.values())
    return sorted(values, key=lambda o: (o.namespace, o.name))


def labels_of(resource: str, obj: Any) -> Mapping[str, str]:
    if resource == "deployments":
        return obj.template_labels
    if resource == "endpointslices":
        return manifests_out.endpoint_slice_manifest(obj)["metadata"]["labels"]
    if resource == "servicecidrs":
        return {}  # the sandbox keeps no labels on ServiceCIDRs
    return obj.labels


def manifest_of(session: Session, resource: str, obj: Any) -> dict[str, Any]:
    images = session.images
    if resource == "pods":
        return manifests_out.pod_manifest(obj, images.get((obj.namespace, obj.name), ""))
    if resource == "services":
        return manifests_out.service_manifest(obj)
    if resource == "deployments":
        return manifests_out.deployment_manifest(obj, images.get((obj.namespace, obj.name), ""))
    if resource == "endpoints":
        return manifests_out.endpoints_manifest(obj, session.cluster.slices_of(*obj.key))
    if resource == "endpointslices":
        return manifests_out.endpoint_slice_manifest(obj)
    if resource == "servicecidrs":
        return manifests_out.service_cidr_manifest(obj)
    return manifests_out.node_manifest(obj)


def _rows(session: Session, resource: str, objects: list[Any], wide: bool, all_ns: bool) -> list[list[str]]:
    cluster = session.cluster
    builders: dict[str, Callable[[], list[list[str]]]] = {
        "pods": lambda: kubectl_view.pod_rows(objects, wide, all_ns),
        "services": lambda: kubectl_view.service_rows(objects, wide, all_ns),
        "deployments": lambda: kubectl_view.deployment_rows(cluster, objects, wide, all_ns, session.images),
        "endpoints": lambda: kubectl_view.endpoints_rows(cluster, objects, all_ns),
        "endpointslices": lambda: kubectl_view.slice_rows(objects, all_ns),
        "nodes": lambda: kubectl_view.node_rows(objects, wide),
        "servicecidrs": lambda: kubectl_view.service_cidr_rows(objects),
    }
    return builders[resource]()


def get(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    from kproxy_tutor.shell.kubectl_edit import namespace_of

    words = [invocation.arg("RESOURCE"), *(invocation.args.get("NAME") or [])]  # type: ignore[misc]
    resources, names = _targets(words)
    output = invocation.text("output")
    everywhere = invocation.switch("all_namespaces")
    namespace = None if everywhere else namespace_of(session, invocation)
    selector_text = invocation.text("selector")
    selector = parse_selector(selector_text) if selector_text else None
    found: list[tuple[str, list[Any]]] = []
    for resource in resources:
        objects = [
            o
            for o in objects_of(session.cluster, resource)
            if (namespace is None or not KINDS[resource].namespaced or o.namespace == namespace)
            and (selector is None or selector.matches(labels_of(resource, o)))
        ]
        wanted = names.get(resource)
        if wanted is not None:
            by_name = {o.name: o for o in objects}
            missing = [n for n in wanted if n not in by_name]
            if missing and (len(resources) == 1 or "/" in "".join(words)):
                raise _not_found(resource, missing[0], list(by_name), namespace)
            objects = [by_name[n] for n in wanted if n in by_name]
        found.append((resource, objects))
    if any(names.values()) and not any(objects for _r, objects in found):
        first = resources[0]
        raise _not_found(
            first, names[first][0], [o.name for o in objects_of(session.cluster, first)], namespace
        )
    warning = [Verbatim(ENDPOINTS_WARNING, stderr=True)] if "endpoints" in resources else []
    if output in ("yaml", "json"):
        manifests = [manifest_of(session, r, o) for r, objects in found for o in objects]
        single = len(manifests) == 1 and any(names.values())
        text = (_json_of if output == "json" else _yaml_of)(manifests, single)
        return [*warning, Verbatim(text)]
    if output == "name":
        lines = [f"{KINDS[r].api_name}/{o.name}\n" for r, objects in found for o in objects]
        return [*warning, Verbatim("".join(lines))] if lines else [*warning, *_nothing(namespace)]
    shown = [(r, objects) for r, objects in found if objects]
    if not shown:
        return [*warning, *_nothing(namespace)]
    prefix = len(resources) > 1
    tables = []
    for resource, objects in shown:
        rows = _rows(session, resource, objects, output == "wide", namespace is None)
        name_column = 1 if namespace is None and KINDS[resource].namespaced else 0
        for row, obj in zip(rows[1:], objects, strict=True):
            if prefix:
                row[name_column] = f"{KINDS[resource].api_name}/{row[name_column]}"
            if invocation.switch("show_labels"):
                row.append(kubectl_view.labels_text(labels_of(resource, obj)))
        if invocation.switch("show_labels"):
            rows[0].append("LABELS")
        tables.append(kubectl_view.table(rows))
    return [*warning, Verbatim("\n".join(tables))]


def _targets(words: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Resource types and, per type, the names asked for: ``svc web db``, ``svc/web pod/client``."""
    if any("/" in w for w in words):
        resources: list[str] = []
        names: dict[str, list[str]] = {}
        for word in words:
            kind, slash, name = word.partition("/")
            if not slash or not name:
                raise SandboxInputError(
                    N_("Write every argument as TYPE/NAME (for example svc/web) or none of them.")
                )
            resource = resource_type(kind)
            if resource not in resources:
                resources.append(resource)
            names.setdefault(resource, []).append(name)
        return resources, names
    resources = resource_types(words[0])
    rest = words[1:]
    # With several types, kubectl looks every name up in each of them.
    return resources, ({r: rest for r in resources} if rest else {})


def _not_found(resource: str, name: str, known: list[str], namespace: str | None) -> SandboxInputError:
    kind = KINDS[resource].kind
    suggestion = close_match(name, known)
    if not KINDS[resource].namespaced:
        if suggestion is not None:
            return SandboxInputError(
                N_("There is no {kind} named {name!r}. Did you mean {suggestion!r}?"),
                kind=kind,
                name=name,
                suggestion=suggestion,
            )
        return SandboxInputError(N_("There is no {kind} named {name!r}."), kind=kind, name=name)
    return not_found(kind, namespace or "default", name, known)


def _nothing(namespace: str | None) -> list[Output]:
    if namespace is None:
        return [Note(N_("No resources found."))]
    return [Note(N_("No resources found in {namespace} namespace."), {"namespace": namespace})]


def _list(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": manifests, "kind": "List", "metadata": {"resourceVersion": ""}}


def _yaml_of(manifests: list[dict[str, Any]], single: bool) -> str:
    return manifests_out.dump_yaml([manifests[0] if single else _list(manifests)])


def _json_of(manifests: list[dict[str, Any]], single: bool) -> str:
    """As kubectl prints JSON (Go's MarshalIndent: 4 spaces, <, > and & escaped)."""
    text = json.dumps(manifests[0] if single else _list(manifests), indent=4, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
