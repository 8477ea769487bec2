"""What the JSON Schema says about a key path: the words hover shows and the keys completion offers.

The schema is the one ``marianne-lint schema`` writes (built from the models in memory, once per
kind), so the editor shows exactly the descriptions, types, defaults and allowed values of the
schema files.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Final

JsonDict = dict[str, Any]

#: A path step that stands for "an item of this list".
ITEM: Final = "[]"

_LOCK = threading.Lock()
_SCHEMAS: dict[str, JsonDict] = {}


def schema(kind: str) -> JsonDict:
    """The editor schema of ``kind`` (built on first use)."""
    with _LOCK:
        found = _SCHEMAS.get(kind)
        if found is None:
            from marianne_lint.building.schema_export import build_schema

            found = _SCHEMAS[kind] = build_schema(kind)
        return found


def _resolve(node: Any, root: JsonDict) -> JsonDict:
    """``node`` with ``$ref`` followed (the referring node's own keywords win)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        ref: str = node["$ref"]
        target: Any = root
        if ref.startswith("#/"):
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            break
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        node = merged
        seen += 1
    return node if isinstance(node, dict) else {}


def _branches(node: JsonDict, root: JsonDict) -> Iterator[JsonDict]:
    """``node`` and the schemas its conditions and alternatives add (resolved)."""
    stack = [node]
    seen = 0
    while stack and seen < 64:
        current = _resolve(stack.pop(0), root)
        seen += 1
        yield current
        for key in ("allOf", "anyOf", "oneOf"):
            options = current.get(key)
            if isinstance(options, list):
                stack.extend(option for option in options if isinstance(option, dict))
        for key in ("then", "else"):
            if isinstance(current.get(key), dict):
                stack.append(current[key])


def properties(node: JsonDict, root: JsonDict) -> dict[str, JsonDict]:
    """Every key a mapping described by ``node`` may have, with its schema (first definition wins)."""
    out: dict[str, JsonDict] = {}
    for branch in _branches(node, root):
        props = branch.get("properties")
        if isinstance(props, dict):
            for key, value in props.items():
                if key not in out and isinstance(value, dict):
                    merged = dict(value)
                    out[key] = merged
                elif key in out and isinstance(value, dict) and len(value) > len(out[key]):
                    out[key] = {**value, **out[key]}
    return out


def child(node: JsonDict, step: Any, root: JsonDict) -> JsonDict | None:
    """The schema one step below ``node`` (a key, or :data:`ITEM` for a list item)."""
    for branch in _branches(node, root):
        if step == ITEM:
            items = branch.get("items")
            if isinstance(items, dict):
                return _resolve(items, root)
            continue
        props = branch.get("properties")
        if isinstance(props, dict) and str(step) in props and isinstance(props[str(step)], dict):
            return _resolve(props[str(step)], root)
    for branch in _branches(node, root):
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict) and step != ITEM:
            return _resolve(extra, root)
    return None


def at(kind: str, path: Sequence[Any]) -> JsonDict | None:
    """The schema of the value at ``path`` in a document of ``kind`` (None where the schema is silent)."""
    root = schema(kind)
    node: JsonDict | None = root
    for step in path:
        if node is None:
            return None
        node = child(node, step, root)
    return _resolve(node, root) if node is not None else None


def merged(node: JsonDict, kind: str) -> JsonDict:
    """``node`` with its alternatives' keywords filled in (for describing a field)."""
    root = schema(kind)
    out: JsonDict = {}
    for branch in _branches(node, root):
        for key, value in branch.items():
            out.setdefault(key, value)
    return out


# -- describing a field -------------------------------------------------------------------------------


def types_of(node: JsonDict) -> list[str]:
    found = node.get("type")
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [str(t) for t in found]
    return []


def type_label(node: JsonDict) -> str:
    """The field's type in words: its real type (the lax string spellings aside), 'or null' for an
    optional field, the item type of a list, 'mapping' for a map, the model's title for a section."""
    kinds = types_of(node)
    nullable = "null" in kinds
    real = [t for t in kinds if t != "null"]
    if len(real) > 1 and real[0] in ("integer", "number", "boolean"):
        real = real[:1]  # the other types are the lax spellings Marianne also accepts
    if "enum" in node and not real:
        real = ["string"]
    if real == ["array"] or (not real and "items" in node):
        items = node.get("items")
        inner = type_label(items) if isinstance(items, dict) else "value"
        label = f"list of {inner}"
    elif real == ["object"] or (not real and ("properties" in node or "additionalProperties" in node)):
        if isinstance(node.get("additionalProperties"), dict) and not node.get("properties"):
            names = node.get("propertyNames")
            key = names.get("title") if isinstance(names, dict) else None
            label = f"mapping of {key or 'name'} to {type_label(node['additionalProperties'])}"
        else:
            label = str(node.get("title") or "mapping")
    elif real:
        label = " or ".join(real)
    else:
        label = str(node.get("title") or "any value")
    return f"{label} or null" if nullable and label else label


def default_of(node: JsonDict) -> tuple[bool, Any]:
    if "default" in node:
        return True, node["default"]
    return False, None


def enum_of(node: JsonDict) -> list[tuple[Any, str | None]]:
    """(value, its description) for each allowed value (none for a free value)."""
    values = node.get("enum")
    if not isinstance(values, list):
        items = node.get("items")
        if isinstance(items, dict) and isinstance(items.get("enum"), list):
            node, values = items, items["enum"]
        else:
            return []
    texts = node.get("markdownEnumDescriptions") or node.get("enumDescriptions") or []
    return [(value, texts[i] if i < len(texts) else None) for i, value in enumerate(values) if value is not None]


def is_boolean(node: JsonDict) -> bool:
    kinds = types_of(node)
    return bool(kinds) and kinds[0] == "boolean"


def shown(value: Any) -> str:
    """A value as YAML would show it in the documentation."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value if value and value.strip() == value and not any(c in value for c in ":#{}[],&*!|>'\"%@`") \
            else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def describe(key: str, node: JsonDict, kind: str) -> str:
    """Markdown for hover: the key, its type and default, the schema's description, the allowed values."""
    full = merged(node, kind)
    head = f"**`{key}`**: {type_label(full)}"
    has_default, default = default_of(full)
    if has_default:
        head += f" (default `{shown(default)}`)"
    if full.get("deprecated"):
        head += " (deprecated)"
    parts = [head]
    text = full.get("markdownDescription") or full.get("description")
    if isinstance(text, str) and text:
        parts.append(text)
    allowed = enum_of(full)
    if allowed:
        lines = ["Allowed values:"]
        for value, about in allowed:
            lines.append(f"- `{shown(value)}`" + (f": {about}" if about else ""))
        parts.append("\n".join(lines))
    bounds = [f"{word} {full[name]}" for name, word in (("minimum", "at least"), ("exclusiveMinimum", "more than"),
                                                         ("maximum", "at most"), ("exclusiveMaximum", "less than"))
              if isinstance(full.get(name), int | float) and not is_boolean(full)]
    if bounds:
        parts.append("Range: " + ", ".join(bounds) + ".")
    return "\n\n".join(parts)


__all__ = ["ITEM", "at", "child", "default_of", "describe", "enum_of", "is_boolean", "merged", "properties",
           "schema", "shown", "type_label", "types_of"]
