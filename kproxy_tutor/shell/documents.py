"""YAML documents for the shell: the sandbox header of saved files and scenarios, and ``kubectl apply`` into a live cluster.

A saved file or a scenario is real Kubernetes manifests plus one ``kproxy-tutor/v1`` document
(``kind: Scenario`` or ``kind: SandboxState``) the shell reads itself; that document is blanked
out (line numbers kept) before the rest goes to the sandbox's manifest loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox import manifest_objects as convert
from kproxy_tutor.sandbox import manifests
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.manifest_objects import Fields
from kproxy_tutor.sandbox.manifests import SANDBOX_API

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The order ``apply`` creates kinds in: ServiceCIDRs before the Services allocated from them,
#: Services before the Pods they select, as the loader does.
APPLY_ORDER = ("ServiceCIDR", "Node", "Service", "EndpointSlice", "Deployment", "Pod")
HEADER_KINDS = ("Scenario", "SandboxState")
CLUSTER_SCOPED = ("Node", "ServiceCIDR")


@dataclass
class Document:
    data: dict[str, Any]
    kind: str
    location: str
    first_line: int
    last_line: int


def _yaml_error(error: yaml.YAMLError, source: str) -> SandboxInputError:
    return manifests.yaml_syntax_error(error, source)


def documents(text: str, source: str) -> list[Document]:
    """Every non-empty YAML document of ``text`` with its kind and line span."""
    try:
        nodes = list(yaml.compose_all(text, Loader=Loader))
    except yaml.YAMLError as error:
        raise _yaml_error(error, source) from None
    except RecursionError:
        raise SandboxInputError(
            N_("This is not valid YAML: it is nested too deeply."), location=source
        ) from None
    constructor = manifests.Constructor("")
    out = []
    for node in nodes:
        if node is None:
            continue
        location = f"{source}:{node.start_mark.line + 1}"
        try:
            value = constructor.construct_document(node)
        except manifests.CONSTRUCT_ERRORS as error:
            raise manifests.value_error("YAML", error, location) from None
        if value is None:
            continue
        if not isinstance(value, dict):
            raise SandboxInputError(
                N_("Expected a Kubernetes object (a mapping with apiVersion and kind)."), location=location
            )
        kind = value.get("kind")
        if not isinstance(kind, str) or not kind:
            raise SandboxInputError(N_("This object has no kind."), location=location)
        if kind == "List":
            # kubectl get -o yaml|json prints several objects as one List: apply takes its items.
            out += _list_items(value, node, source)
            continue
        out.append(Document(value, kind, location, node.start_mark.line, node.end_mark.line))
    return out


def _list_items(value: dict[str, Any], node: Any, source: str) -> list[Document]:
    items = value.get("items") or []
    nodes = next(
        (
            v.value
            for k, v in node.value
            if getattr(k, "value", None) == "items" and isinstance(v, yaml.SequenceNode)
        ),
        [],
    )
    if not isinstance(items, list):
        raise SandboxInputError(
            N_("The items of a List must be a list."), location=f"{source}:{node.start_mark.line + 1}"
        )
    out = []
    for item, item_node in zip(items, nodes, strict=False):
        location = f"{source}:{item_node.start_mark.line + 1}"
        if not isinstance(item, dict):
            raise SandboxInputError(
                N_("Expected a Kubernetes object (a mapping with apiVersion and kind)."), location=location
            )
        kind = item.get("kind")
        if not isinstance(kind, str) or not kind:
            raise SandboxInputError(N_("This object has no kind."), location=location)
        out.append(Document(item, kind, location, item_node.start_mark.line, item_node.end_mark.line))
    return out


def split_header(text: str, source: str) -> tuple[dict[str, Any] | None, str]:
    """The sandbox header document (or None) and ``text`` with that document blanked out."""
    for document in documents(text, source):
        if document.data.get("apiVersion") == SANDBOX_API and document.kind in HEADER_KINDS:
            lines = text.splitlines(keepends=True)
            for i in range(document.first_line, min(document.last_line + 1, len(lines))):
                lines[i] = "\n" if not lines[i].startswith("---") else lines[i]
            return document.data, "".join(lines)
    return None, text


def apply_documents(cluster: Cluster, text: str, source: str) -> list[tuple[str, str, str]]:
    """Create or update every object of ``text`` in ``cluster``; returns (kind, namespace, name) applied."""
    return apply_objects(cluster, documents(text, source), source)


def apply_objects(cluster: Cluster, docs: list[Document], source: str) -> list[tuple[str, str, str]]:
    """Create or update every object of ``docs`` (read once by :func:`documents`) in ``cluster``.

    Unknown kinds are refused, as the API server refuses them: the sandbox only has the kinds
    kube-proxy cares about. Callers run this on a detached copy first, so it is all or nothing.
    """
    if not docs:
        raise SandboxInputError(N_("No objects found: the YAML is empty."), location=source)
    for document in docs:
        if document.kind not in APPLY_ORDER:
            raise SandboxInputError(
                N_("The sandbox has no kind {kind!r}; it knows {kinds}."),
                location=document.location,
                kind=document.kind,
                kinds=", ".join(APPLY_ORDER),
            )
    appliers: dict[str, Callable[[Fields, str], Any]] = {
        "ServiceCIDR": lambda f, loc: _apply_service_cidr(cluster, f, loc),
        "Node": lambda f, loc: cluster.add_node(convert.to_node(f), loc),
        "Service": lambda f, loc: cluster.apply_service(convert.to_service(f, loc), loc),
        "EndpointSlice": lambda f, loc: cluster.apply_endpoint_slice(convert.to_endpoint_slice(f, loc), loc),
        "Deployment": lambda f, loc: cluster.apply_deployment(convert.to_deployment(f), loc),
        "Pod": lambda f, loc: cluster.apply_pod(convert.to_pod(f), loc),
    }
    applied = []
    for kind in APPLY_ORDER:
        for document in (d for d in docs if d.kind == kind):
            fields = Fields(document.data, kind, document.location)
            if kind == "EndpointSlice" and _derived(cluster, document.data):
                # The EndpointSlice controller owns this slice (its Service has a selector): it would
                # rewrite what apply wrote at once, so the slice stays the controller's.
                meta = document.data.get("metadata") or {}
                applied.append((kind, str(meta.get("namespace", "default")), str(meta.get("name", ""))))
                continue
            try:
                if kind == "Pod":
                    _apply_pod(cluster, fields, document)
                    meta = document.data.get("metadata") or {}
                    applied.append((kind, str(meta.get("namespace", "default")), str(meta.get("name", ""))))
                    continue
                appliers[kind](fields, document.location)
            except SandboxInputError as error:
                if error.location is None:
                    error.location = document.location
                raise
            except (TypeError, ValueError, AttributeError, KeyError) as error:
                raise manifests.shape_error(kind, error, document.location) from None
            meta = document.data.get("metadata") or {}
            namespace = meta.get("namespace", "default") if kind not in CLUSTER_SCOPED else ""
            applied.append((kind, str(namespace), str(meta.get("name", ""))))
    return applied


def _apply_service_cidr(cluster: Cluster, fields: Fields, location: str) -> None:
    """A ServiceCIDR, refused as the API server refuses it: another API group, or changed ranges.

    ``spec.cidrs`` is immutable, except that a single-stack ServiceCIDR may gain a range of the
    other family (the single- to dual-stack upgrade of the default ServiceCIDR since v1.33).
    """
    from kproxy_tutor.sandbox.families import family_of_address
    from kproxy_tutor.sandbox.validation import check_service_cidr

    api = fields.data.get("apiVersion")
    if api not in manifests.SERVICE_CIDR_APIS:
        raise SandboxInputError(
            N_("The sandbox has no ServiceCIDR in apiVersion {api}: write apiVersion: {wanted}."),
            location=location,
            api=str(api),
            wanted=manifests.SERVICE_CIDR_APIS[0],
        )
    new = convert.to_service_cidr(fields)
    cidrs = check_service_cidr(new.cidrs, location)
    old = cluster.service_cidr_objects.get(new.name)
    if old is not None and cidrs != old.cidrs:
        upgrade = (
            len(old.cidrs) == 1
            and len(cidrs) == 2
            and cidrs[0] == old.cidrs[0]
            and family_of_address(cidrs[1]) != family_of_address(cidrs[0])
        )
        if not upgrade:
            raise SandboxInputError(
                N_(
                    "ServiceCIDR {name}: spec.cidrs cannot be changed (it is immutable; a single-stack "
                    "ServiceCIDR may only gain a second range of the other IP family). It holds {cidrs}."
                ),
                location=location,
                name=new.name,
                cidrs=", ".join(old.cidrs),
            )
    cluster.apply_service_cidr(new, location)


def _derived(cluster: Cluster, data: dict[str, Any]) -> bool:
    from kproxy_tutor.sandbox.endpointslices import CONTROLLER_NAME
    from kproxy_tutor.sandbox.model import SERVICE_NAME_LABEL

    meta = data.get("metadata") or {}
    labels = meta.get("labels") or {}
    if (
        not isinstance(labels, dict)
        or labels.get("endpointslice.kubernetes.io/managed-by") != CONTROLLER_NAME
    ):
        return False
    service = cluster.services.get(
        (str(meta.get("namespace", "default")), str(labels.get(SERVICE_NAME_LABEL, "")))
    )
    return service is not None and service.selector is not None


def _apply_pod(cluster: Cluster, fields: Fields, document: Document) -> None:
    """A Pod; one a ReplicaSet controls (``ownerReferences``) stays its Deployment's if it already is."""
    import dataclasses

    pod = convert.to_pod(fields)
    old = cluster.pods.get((pod.namespace, pod.name))
    meta = document.data.get("metadata") or {}
    owners = meta.get("ownerReferences") or []
    controlled = isinstance(owners, list) and any(
        isinstance(o, dict) and o.get("kind") == "ReplicaSet" and o.get("controller") for o in owners
    )
    if old is not None and old.owner and controlled:
        pod = dataclasses.replace(pod, owner=old.owner)
    cluster.apply_pod(pod, document.location)
