"""The three patch types of ``kubectl patch``: strategic merge, JSON merge (RFC 7386) and JSON patch (RFC 6902).

Pure functions over plain JSON values; they never change their input.
"""

from __future__ import annotations

import copy
from typing import Any

from kproxy_tutor.errors import N_, SandboxInputError

#: Strategic merge: the key that identifies an item, for the lists Kubernetes merges by key.
MERGE_KEYS = {
    "ports": ("port", "containerPort"),
    "containers": ("name",),
    "conditions": ("type",),
    "env": ("name",),
    "addresses": ("type",),
    "ownerReferences": ("name",),
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes a field, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
    """Kubernetes' strategic merge: like a merge patch, but lists of objects with a merge key merge item by item.

    An item ``{"$patch": "delete", KEY: …}`` removes the item with that key.
    """
    if isinstance(patch, list) and isinstance(target, list) and field in MERGE_KEYS:
        return _merge_list(target, patch, MERGE_KEYS[field])
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge(result.get(key), value, key)
    return result


def _merge_list(target: list[Any], patch: list[Any], keys: tuple[str, ...]) -> list[Any]:
    def key_of(item: Any) -> tuple[str, Any] | None:
        if isinstance(item, dict):
            for name in keys:
                if name in item:
                    return (name, item[name])
        return None

    result = [copy.deepcopy(item) for item in target]
    for item in patch:
        key = key_of(item)
        index = next((i for i, old in enumerate(result) if key is not None and key_of(old) == key), None)
        if isinstance(item, dict) and item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(strategic_merge(None, item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _bad_op(N_("Invalid JSON patch: the path {path!r} must start with /."), path=path)
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _bad_op(message: str, **params: object) -> SandboxInputError:
    return SandboxInputError(message, **params)


def _parent(document: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _bad_op(N_("Invalid JSON patch: the path {path!r} does not exist."), path=path)
    return node, parts[-1]


def _get(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return document
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _bad_op(N_("Invalid JSON patch: the path {path!r} does not exist."), path=path)


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _bad_op(N_("Invalid JSON patch: the path {path!r} does not exist."), path=path)


def _add(document: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (last == "-" or (last.isdigit() and int(last) <= len(parent))):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise _bad_op(N_("Invalid JSON patch: the path {path!r} does not exist."), path=path)
    return document


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: a list of ``{"op": …, "path": …}`` operations, applied in order (all or nothing)."""
    if not isinstance(operations, list):
        raise _bad_op(N_("Invalid JSON patch: a JSON patch is a list of operations."))
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise _bad_op(N_("Invalid JSON patch: every operation needs op and path."))
        op, path = operation.get("op"), operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise _bad_op(N_("Invalid JSON patch: operation {op} needs a value."), op=op)
        if op == "add":
            document = _add(document, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(document, path)
        elif op == "replace":
            _get(document, path)
            _remove(document, path)
            document = _add(document, path, copy.deepcopy(operation["value"]))
        elif op == "test":
            if _get(document, path) != operation["value"]:
                raise _bad_op(N_("Invalid JSON patch: test failed at {path!r}."), path=path)
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise _bad_op(N_("Invalid JSON patch: operation {op} needs from."), op=op)
            value = _remove(document, source) if op == "move" else copy.deepcopy(_get(document, source))
            document = _add(document, path, value)
        else:
            raise _bad_op(N_("Invalid JSON patch: unknown operation {op!r}."), op=op)
    return document


def apply_patch(target: dict[str, Any], patch: Any, kind: str) -> Any:
    if kind == "json":
        return json_patch(target, patch)
    if not isinstance(patch, dict):
        raise SandboxInputError(N_("A {kind} patch is a JSON object, like '{{\"spec\": {{…}}}}'."), kind=kind)
    return merge_patch(target, patch) if kind == "merge" else strategic_merge(target, patch)
