"""A small JSON Schema checker for the subset docs/trace-json.schema.json uses (no dependency): type, enum, const,
properties, required, additionalProperties, items, anyOf, $ref to #/$defs, minimum, maximum."""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_KNOWN = {
    "$schema", "$id", "title", "$defs", "type", "enum", "const", "properties", "required",
    "additionalProperties", "items", "anyOf", "$ref", "minimum", "maximum",
}  # fmt: skip


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def errors(
    schema: dict[str, Any], value: Any, root: dict[str, Any] | None = None, path: str = "$"
) -> list[str]:
    """Every place ``value`` breaks ``schema`` (empty: it conforms)."""
    root = root or schema
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"{path}: the checker does not know {sorted(unknown)}")
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return errors(target, value, root, path)
    if "anyOf" in schema:
        if all(errors(option, value, root, path) for option in schema["anyOf"]):
            return [f"{path}: {value!r} matches none of the choices"]
        return []
    found: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, n) for n in names):
            return [f"{path}: {value!r} is not {' or '.join(names)}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                found.append(f"{path}: {key!r} is missing")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                found.extend(errors(properties[key], item, root, f"{path}.{key}"))
            elif extra is False:
                found.append(f"{path}: {key!r} is not in the schema")
            elif isinstance(extra, dict):
                found.extend(errors(extra, item, root, f"{path}.{key}"))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found.extend(errors(schema["items"], item, root, f"{path}[{index}]"))
    return found
