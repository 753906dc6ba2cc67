"""Load real Kubernetes YAML/JSON (multi-document, ``kind: List``, kubectl dumps) into a sandbox Cluster.

Errors name the file and line; unknown kinds become warnings and are skipped. JSON input
(``kubectl get -o json``) goes through the ``json`` module; YAML through ``yaml.CSafeLoader``
where available. Documents are composed first so every object keeps its line number.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kproxy_tutor.errors import N_, Msg, SandboxInputError, file_error
from kproxy_tutor.sandbox import manifest_fast as fastconv
from kproxy_tutor.sandbox import manifest_objects as convert
from kproxy_tutor.sandbox.cluster import CONTROL_PLANE_LABEL, Cluster
from kproxy_tutor.sandbox.gcpause import paused_gc
from kproxy_tutor.sandbox.manifest_objects import Fields
from kproxy_tutor.sandbox.model import LoadWarning, Node, frozen_labels
from kproxy_tutor.sandbox.work import PROGRESS_MASK, Progress

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SANDBOX_API = "kproxy-tutor/v1"
#: Nodes of the default cluster, used when the manifests define none (a kubeadm-like layout).
DEFAULT_NODES = (
    Node("control-plane", ("192.168.0.10",), labels=frozen_labels({CONTROL_PLANE_LABEL: ""})),
    Node("worker-1", ("192.168.0.11",)),
    Node("worker-2", ("192.168.0.12",)),
)
# EndpointSlices before Services: a Service whose slices are given never gets derived ones.
# ServiceCIDRs first: the Services' ClusterIPs are allocated from them.
_ORDER = ("ServiceCIDR", "Node", "EndpointSlice", "Service", "Deployment", "Pod")
#: The API groups a ServiceCIDR comes in (GA in v1.33; beta before).
SERVICE_CIDR_APIS = ("networking.k8s.io/v1", "networking.k8s.io/v1beta1")


@dataclass(slots=True)
class LoadResult:
    """One load of the manifests: the cluster, the loader's warnings and the settings the commands need."""

    cluster: Cluster
    warnings: list[LoadWarning] = field(default_factory=list)
    #: Where the KubeProxyConfiguration came from (a file location), None when there was none.
    config_location: str | None = None

    @property
    def configured_mode(self) -> str | None:
        """The proxy mode the KubeProxyConfiguration sets (None: none was given, or it left ``mode`` empty)."""
        return self.cluster.config.mode or None


_CONVERTED: dict[str, Any] = {}


@dataclass(slots=True)
class _Object:
    kind: str
    data: dict[str, Any]
    location: str


#: Python refuses to read integers longer than this (and no Kubernetes field holds one).
MAX_DIGITS = 4300


class _BadNumber(ValueError):
    """An integer the readers must not build: too many digits, or no digits at all (a bare ``!!int``)."""


def _checked_int_text(text: str) -> str:
    digits = sum(c.isdigit() for c in text)
    if digits == 0:
        raise _BadNumber(N_("a value tagged as a whole number has no digits"))
    if digits > MAX_DIGITS:
        raise _BadNumber(N_("a number has more than 4,300 digits"))
    return text


def _json_int(text: str) -> int:
    # JSON's grammar gives at least one digit, and at most len(text) of them: only a long
    # number needs counting.
    if len(text) <= MAX_DIGITS:
        return int(text)
    return int(_checked_int_text(text))


class Constructor(Loader):  # type: ignore[misc, valid-type]
    """The safe constructor, with integers checked before Python builds them."""


def _construct_int(constructor: Any, node: Any) -> int:
    _checked_int_text(str(node.value))
    return yaml.constructor.SafeConstructor.construct_yaml_int(constructor, node)


Constructor.add_constructor("tag:yaml.org,2002:int", _construct_int)
#: What building a composed YAML document can raise on hostile input.
CONSTRUCT_ERRORS = (
    yaml.YAMLError,
    RecursionError,
    TypeError,
    ValueError,
    IndexError,
    KeyError,
    AttributeError,
    OverflowError,
)


def value_error(language: str, error: BaseException, location: str) -> SandboxInputError:
    """A value the YAML or JSON reader could not build, in our words; the reader's own text only quoted."""
    if isinstance(error, _BadNumber):
        return SandboxInputError(
            N_("This is not valid {language}: {problem}."),
            location=location,
            language=language,
            problem=Msg(error.args[0]),
        )
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return SandboxInputError(
        N_("This is not valid {language}: a value cannot be read (the reader says: “{problem}”)."),
        location=location,
        language=language,
        problem=text,
    )


def _warn_duplicate_keys(node: Any, source: str, warnings: list[LoadWarning]) -> None:
    """kubectl warns about a key given twice in one mapping (the last one wins); so do we."""
    stack = [node]
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    while stack:
        current = stack.pop()
        if isinstance(current, mapping):
            seen: set[str] = set()
            for key, value in current.value:
                name = getattr(key, "value", None)
                if isinstance(name, str):
                    if name in seen:
                        warnings.append(
                            LoadWarning(
                                f"{source}:{key.start_mark.line + 1}",
                                N_("Duplicate key {key!r}: the last value is used."),
                                {"key": name},
                            )
                        )
                    seen.add(name)
                if isinstance(value, mapping | sequence):
                    stack.append(value)
        elif isinstance(current, sequence):
            stack.extend(item for item in current.value if isinstance(item, mapping | sequence))


def yaml_syntax_error(error: yaml.YAMLError, source: str) -> SandboxInputError:
    """Where the YAML is broken, in our words; the YAML reader's own text only quoted."""
    mark = getattr(error, "problem_mark", None)
    location = f"{source}:{mark.line + 1}" if mark is not None else source
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return SandboxInputError(
        N_("This is not valid YAML; the YAML reader says: “{problem}”."), location=location, problem=problem
    )


_END = object()


def _yaml_documents(
    text: str, source: str, warnings: list[LoadWarning] | None, progress: Progress | None
) -> Iterator[tuple[Any, int]]:
    """Yield (python value, line) for every object, expanding ``kind: List`` items.

    Each document is composed (so every object keeps its line), constructed and then dropped,
    one at a time: a long multi-document file never holds all its node trees at once, and it
    reports its progress as it goes.
    """
    documents = yaml.compose_all(text, Loader=Loader)
    constructor = Constructor("")
    while True:
        try:
            node = next(documents, _END)
        except yaml.YAMLError as error:
            raise yaml_syntax_error(error, source) from None
        except RecursionError:
            raise SandboxInputError(
                N_("This is not valid YAML: it is nested too deeply."), location=source
            ) from None
        if node is _END:
            return
        if node is None:
            continue
        if progress is not None:
            progress("parse", node.end_mark.index, len(text))
        if warnings is not None:
            _warn_duplicate_keys(node, source, warnings)
        try:
            value = constructor.construct_document(node)
        except CONSTRUCT_ERRORS as error:
            raise value_error("YAML", error, f"{source}:{node.start_mark.line + 1}") from None
        items = _list_items(node)
        if isinstance(value, dict) and value.get("kind") == "List" and items is not None:
            for item_node, item in zip(items, value.get("items") or [], strict=False):
                yield item, item_node.start_mark.line + 1
        else:
            yield value, node.start_mark.line + 1


def _list_items(node: Any) -> list[Any] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if getattr(key, "value", None) == "items" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return None


def _objects(
    text: str, source: str, warnings: list[LoadWarning] | None = None, progress: Progress | None = None
) -> Iterator[_Object]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text, parse_int=_json_int)
        except json.JSONDecodeError as error:
            raise SandboxInputError(
                N_("This is not valid JSON; the JSON reader says: “{problem}”."),
                location=f"{source}:{error.lineno}",
                problem=error.msg,
            ) from None
        except RecursionError:
            raise SandboxInputError(
                N_("This is not valid JSON: it is nested too deeply."), location=source
            ) from None
        except ValueError as error:
            raise value_error("JSON", error, source) from None
        values = value if isinstance(value, list) else [value]
        expanded: list[tuple[Any, int | None]] = []
        for item in values:
            if isinstance(item, dict) and item.get("kind") == "List":
                items = item.get("items") or []
                if not isinstance(items, list):
                    raise SandboxInputError(N_("The items of a List must be a list."), location=source)
                expanded.extend((sub, None) for sub in items)
            else:
                expanded.append((item, None))
        documents: Iterable[tuple[Any, int | None]] = expanded
    else:
        documents = _yaml_documents(text, source, warnings, progress)
    for index, (value, line) in enumerate(documents):
        location = f"{source}:{line}" if line is not None else f"{source} (object {index + 1})"
        if not isinstance(value, dict):
            raise SandboxInputError(
                N_("Expected a Kubernetes object (a mapping with apiVersion and kind)."), location=location
            )
        kind = value.get("kind")
        if not isinstance(kind, str) or not kind:
            raise SandboxInputError(N_("This object has no kind."), location=location)
        yield _Object(kind, value, location)


def read_source(path: str) -> tuple[str, str]:
    """(text, name) of a file, or of stdin for ``-``."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(SandboxInputError, path, error) from None


def load_paths(paths: Iterable[str], progress: Progress | None = None) -> LoadResult:
    return load_texts((read_source(path) for path in paths), progress)


def load_texts(sources: Iterable[tuple[str, str]], progress: Progress | None = None) -> LoadResult:
    """Build a Cluster from (text, source name) pairs; raises SandboxInputError on anything invalid.

    Each source is parsed once; the result carries every setting found (``configured_mode``).
    """
    # Loading creates a large number of long-lived objects; pausing the cyclic collector
    # avoids rescanning them over and over (nothing here creates reference cycles).
    with paused_gc():
        return _load(sources, progress)


def _load(sources: Iterable[tuple[str, str]], progress: Progress | None) -> LoadResult:
    warnings: list[LoadWarning] = []
    objects: list[_Object] = []
    for text, source in sources:
        objects.extend(_objects(text, source, warnings, progress))
        text = ""  # a big dump's text is tens of megabytes: let it go before the conversion
    settings: dict[str, Any] = {"config": None, "facts": None, "network": None, "config_location": None}
    by_kind: dict[str, list[_Object]] = {kind: [] for kind in _ORDER}
    for obj in objects:
        _classify(obj, settings, by_kind, warnings)
    cluster = Cluster(network=settings["network"], config=settings["config"], facts=settings["facts"])  # type: ignore[arg-type]
    if not by_kind["Node"]:
        for node in DEFAULT_NODES:
            cluster.add_node(node)
    appliers: dict[str, Callable[[_Object], object]] = {
        "ServiceCIDR": lambda o: cluster.apply_service_cidr(_guard(convert.to_service_cidr, o), o.location),
        "Node": lambda o: cluster.add_node(_convert(fastconv.fast_node, convert.to_node, o), o.location),
        "Service": lambda o: cluster.apply_service(
            _convert(fastconv.fast_service, lambda f: convert.to_service(f, o.location), o), o.location
        ),
        "EndpointSlice": lambda o: cluster.apply_endpoint_slice(
            _convert(fastconv.fast_endpoint_slice, lambda f: convert.to_endpoint_slice(f, o.location), o),
            o.location,
        ),
        "Deployment": lambda o: cluster.apply_deployment(_guard(convert.to_deployment, o), o.location),
        "Pod": lambda o: cluster.apply_pod(_convert(fastconv.fast_pod, convert.to_pod, o), o.location),
    }
    total = sum(len(by_kind[kind]) for kind in _ORDER)
    done = 0
    for kind in _ORDER:
        apply = appliers[kind]
        for obj in by_kind[kind]:
            try:
                apply(obj)
            except SandboxInputError as error:
                if error.location is None:
                    error.location = obj.location
                raise
            # The parsed mapping is not needed once converted: freeing it as the model grows
            # keeps the peak memory of a big load near the larger of the two, not their sum.
            obj.data = _CONVERTED
            done += 1
            if progress is not None and not done & PROGRESS_MASK:
                progress("load", done, total)
    if progress is not None:
        progress("load", total, total)
    return LoadResult(cluster, warnings, settings["config_location"])


def _classify(
    obj: _Object, settings: dict[str, Any], by_kind: dict[str, list[_Object]], warnings: list[LoadWarning]
) -> None:
    api = obj.data.get("apiVersion")
    if obj.kind == "ServiceCIDR" and api not in SERVICE_CIDR_APIS:
        warnings.append(
            LoadWarning(
                obj.location,
                N_("Skipped {kind}: the sandbox reads it from apiVersion {api}."),
                {"kind": obj.kind, "api": SERVICE_CIDR_APIS[0]},
            )
        )
    elif obj.kind in by_kind:
        by_kind[obj.kind].append(obj)
    elif obj.kind == "KubeProxyConfiguration":
        settings["config"] = _guard(convert.to_proxy_config, obj)
        settings["config_location"] = obj.location
    elif obj.kind == "ConfigMap" and _is_kube_proxy_configmap(obj.data):
        # The embedded config.conf is a source of its own, parsed here once.
        embedded = obj.data["data"]["config.conf"]
        for inner in _objects(embedded, obj.location):
            if inner.kind == "KubeProxyConfiguration":
                settings["config"] = _guard(convert.to_proxy_config, inner)
                settings["config_location"] = obj.location
    elif obj.kind == "NodeFacts" and api == SANDBOX_API:
        settings["facts"] = _guard(convert.to_node_facts, obj)
    elif obj.kind == "ClusterNetwork" and api == SANDBOX_API:
        settings["network"] = _guard(convert.to_cluster_network, obj)
    else:
        warnings.append(
            LoadWarning(
                obj.location, N_("Skipped {kind}: the sandbox does not use this kind."), {"kind": obj.kind}
            )
        )


def _is_kube_proxy_configmap(data: dict[str, Any]) -> bool:
    meta = data.get("metadata") or {}
    content = data.get("data")
    return (
        isinstance(meta, dict)
        and meta.get("name") == "kube-proxy"
        and meta.get("namespace") == "kube-system"
        and isinstance(content, dict)
        and isinstance(content.get("config.conf"), str)
    )


def _convert(fast: Callable[[dict[str, Any]], Any], converter: Callable[[Fields], Any], obj: _Object) -> Any:
    """The fast converter's value; the checked one (through ``_guard``) for anything out of the ordinary."""
    try:
        return fast(obj.data)
    except (fastconv.Irregular, TypeError, ValueError, AttributeError, KeyError):
        # Same input, checked field by field: the checked converter names what is wrong.
        return _guard(converter, obj)


def _guard(converter: Callable[[Fields], Any], obj: _Object) -> Any:
    """Run a converter; any shape it did not expect becomes a SandboxInputError at the object's line."""
    try:
        return converter(Fields(obj.data, obj.kind, obj.location))
    except SandboxInputError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise shape_error(obj.kind, error, obj.location) from None


def shape_error(kind: str, error: BaseException, location: str) -> SandboxInputError:
    """A field of an unexpected shape; Python's own words only as a quoted detail."""
    return SandboxInputError(
        N_("Invalid {kind}: a field has a shape the sandbox cannot read (“{problem}”)."),
        location=location,
        kind=kind,
        problem=str(error).splitlines()[0] if str(error) else type(error).__name__,
    )


def replace_config(result: LoadResult, **changes: Any) -> None:
    """Change kube-proxy settings of a loaded cluster (used by the shell and tests)."""
    result.cluster.config = dataclasses.replace(result.cluster.config, **changes)
