"""``marianne-lint schema``: the JSON Schema files editors use, generated from the models.

One file per config kind (``schema/marianne-<kind>.schema.json``). Each is
pydantic's ``model_json_schema`` of the kind's root model, produced by
:class:`EditorJsonSchema` (lax scalars, integer map keys) and then reshaped by
:func:`build_schema` for editors. This module knows no model by name: it walks
the root and every definition and applies what each model declares about
itself (enum texts, snippets, fields not to suggest, its ``schema_extras``
hook; see :mod:`marianne_lint.building.models.base`).

* **What Marianne accepts is never flagged.** Marianne reads YAML 1.1 and
  validates in pydantic's lax mode, while an editor reads the same text as
  YAML 1.2 (``yes``/``on`` are strings there, ``5:00`` is a string, ``0660``
  is 660). So integer, number and boolean fields also accept the strings
  pydantic converts (``"3"``, ``"2.5"``, ``"yes"``, ``"off"``, ``"1"``) and
  the YAML 1.1 spellings an editor sees as strings (``5:00``, ``1:30``,
  ``0b101``); booleans also accept 0 and 1; the socket ``permissions`` allow
  up to 777 because an editor reads ``0660`` as 660. Integer-keyed maps
  (sheet numbers) accept keys such as ``1`` or ``"1"`` through
  ``propertyNames``. ``as`` and ``as_`` are both accepted in injection items;
  the legacy ``sheet.total_sheets`` is accepted (and ignored, as Marianne
  does). Not followed, on purpose: ``true`` for an integer (pydantic reads 1),
  and the bounds of a number written as a string (``size: "0"`` passes here).
* **Completion inserts useful values.** Optional fields are ``type: [X,
  "null"]`` without ``default: null`` (yaml-language-server would insert
  ``key: null``), an optional section is a nullable object so its skeleton is
  inserted, and the first type of every lax scalar is the real one, so a
  number completes as a number.
* **Hover and completion explain.** ``markdownDescription`` beside every
  ``description``, ``markdownEnumDescriptions`` for every enum,
  ``defaultSnippets`` for a new score, sheet section and validation item.
* **Cross-field rules that JSON Schema can express** (an instrument profile's
  ``kind`` needs its section, a validation type needs its fields, fan-out
  needs ``size: 1``, ...) are added as ``if``/``then`` by the models' hooks;
  the others (comparisons between two numbers, graph checks, regex syntax)
  are left to the linter, and each model says which is which in
  ``schema_counterparts``.

The output is deterministic: keywords sorted, properties in model order,
``json.dumps(indent=2, ensure_ascii=False)`` plus a newline.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined, core_schema

from marianne_lint.building.models import root_model
from marianne_lint.building.models.base import MarianneModel
from marianne_lint.building.models.schema_hints import JsonDict

#: Where the committed schema files are published; every ``$id`` starts with it.
SCHEMA_BASE_URL = "https://github.com/marianne-lint/marianne-lint/raw/main/schema/"
#: The JSON Schema dialect every file declares.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Folder written (or checked) when ``--output-dir`` is not given, relative to the current folder.
DEFAULT_OUTPUT_DIR = Path("schema")

# -- lax scalars -------------------------------------------------------------------------------

#: Strings pydantic turns into an integer (``" 3 "``, ``"+3"``, ``"3.0"``, ``"1_000"``) and YAML 1.1
#: integers an editor reads as strings (base 60 ``1:30``, binary ``0b101``).
INT_STRING_PATTERN = (
    r"^(\s*[-+]?[0-9](_?[0-9])*(\.0+)?\s*"
    r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+"
    r"|[-+]?0b[01_]+)$"
)
#: Strings pydantic turns into a number (``"2.5"``, ``"1e3"``, ``".5"``, ``"inf"``) and YAML 1.1
#: numbers an editor reads as strings (base 60 ``5:00``, ``1:30.5``).
NUMBER_STRING_PATTERN = (
    r"^(\s*[-+]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][-+]?[0-9]+)?\s*"
    r"|\s*[-+]?([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])\s*"
    r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
    r"|[-+]?0b[01_]+)$"
)
#: Strings pydantic turns into a boolean, in any letter case: yes/no, on/off, true/false, y/n, t/f, 1/0.
BOOL_STRING_PATTERN = (
    r"^([yY]([eE][sS])?|[nN]([oO])?|[oO]([nN]|[fF][fF])|[tT]([rR][uU][eE])?|[fF]([aA][lL][sS][eE])?|[01])$"
)
#: Map keys pydantic turns into an integer: ``1``, ``"1"``, ``" 1 "``, ``"+1"``, ``"1.0"``.
INT_KEY_PATTERN = r"^\s*[-+]?[0-9](_?[0-9])*(\.0+)?\s*$"
#: The same, limited to numbers of at least 1 (sheet, stage and movement numbers).
POSITIVE_INT_KEY_PATTERN = r"^\s*\+?0*[1-9](_?[0-9])*(\.0+)?\s*$"

_INT_MESSAGE = "Expected a whole number (Marianne also reads a quoted number such as \"3\")."
_NUMBER_MESSAGE = "Expected a number (Marianne also reads a quoted number such as \"2.5\")."
_BOOL_MESSAGE = "Expected true or false (Marianne also reads yes/no, on/off and 1/0)."


class EditorJsonSchema(GenerateJsonSchema):
    """pydantic's JSON Schema generator, following pydantic's lax mode for scalars and map keys."""

    def int_schema(self, schema: core_schema.IntSchema) -> JsonSchemaValue:
        out = super().int_schema(schema)
        out.update(type=["integer", "string"], pattern=INT_STRING_PATTERN, errorMessage=_INT_MESSAGE)
        return out

    def float_schema(self, schema: core_schema.FloatSchema) -> JsonSchemaValue:
        out = super().float_schema(schema)
        out.update(type=["number", "string"], pattern=NUMBER_STRING_PATTERN, errorMessage=_NUMBER_MESSAGE)
        return out

    def bool_schema(self, schema: core_schema.BoolSchema) -> JsonSchemaValue:
        return {
            "type": ["boolean", "string", "integer"],
            "pattern": BOOL_STRING_PATTERN,
            "minimum": 0,
            "maximum": 1,
            "errorMessage": _BOOL_MESSAGE,
        }

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        keys = schema.get("keys_schema")
        if keys is None or keys.get("type") != "int":
            return super().dict_schema(schema)
        # An editor sees a YAML key `1:` as the property name "1": check the name's spelling.
        values = dict(self.generate_inner(schema["values_schema"])) if "values_schema" in schema else {}
        values.pop("title", None)
        out: JsonSchemaValue = {
            "type": "object",
            "additionalProperties": values or True,
            "propertyNames": {"pattern": INT_KEY_PATTERN},
        }
        return out

    def set_schema(self, schema: core_schema.SetSchema) -> JsonSchemaValue:
        # Marianne turns a list with repeated entries into a set without complaint.
        out = super().set_schema(schema)
        out.pop("uniqueItems", None)
        return out


# -- building --------------------------------------------------------------------------------------

#: Root titles shown by editors.
ROOT_TITLES: dict[str, str] = {
    "score": "Marianne score",
    "conductor": "Marianne conductor configuration",
    "instrument": "Marianne instrument profile",
    "fleet": "Marianne fleet",
}


def schema_file_name(kind: str) -> str:
    """The file name of ``kind``'s schema, e.g. ``marianne-score.schema.json``."""
    return f"marianne-{kind}.schema.json"


def schema_id(kind: str) -> str:
    """The ``$id`` of ``kind``'s schema: where the committed file is published."""
    return SCHEMA_BASE_URL + schema_file_name(kind)


def _models_by_name(root: type[BaseModel]) -> dict[str, type[MarianneModel]]:
    """Every model reachable from ``root``, by class name (the name pydantic gives its definition)."""
    from marianne_lint.building.models.introspect import _models_in

    found: dict[str, type[MarianneModel]] = {}
    queue: list[type[BaseModel]] = [root]
    while queue:
        model = queue.pop()
        if not issubclass(model, MarianneModel):
            raise TypeError(f"{model.__name__} is not a MarianneModel, so it carries no schema knowledge")
        if model.__name__ in found:
            if found[model.__name__] is not model:
                raise RuntimeError(f"two models are called {model.__name__}; their schema definitions would clash")
            continue
        found[model.__name__] = model
        for info in model.model_fields.values():
            queue.extend(_models_in(info.annotation))
    return found


def _clean_text(text: str) -> str:
    """A docstring or description as one line per paragraph, with Markdown code spans."""
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p for p in paragraphs if p).replace("``", "`")


def _title(name: str) -> str:
    return name.replace("_", " ").strip().title()


def _model_title(name: str) -> str:
    """A model's class name in words: ``AIReviewConfig`` -> ``AI review config``."""
    words = re.findall(r"[A-Z0-9]+(?=[A-Z][a-z]|$)|[A-Z]?[a-z0-9]+|[A-Z0-9]+", name)
    text = " ".join(word if word.isupper() or word[:1].isdigit() else word.lower() for word in words)
    return text[:1].upper() + text[1:]


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return ref[len("#/$defs/") :]
    return None


#: Keywords holding a map of names to schemas, one schema, or a list of schemas.
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties", "dependentSchemas")
_SCHEMA_ONE = ("items", "additionalProperties", "propertyNames", "not", "if", "then", "else", "contains")
_SCHEMA_LIST = ("anyOf", "oneOf", "allOf", "prefixItems")


def _walk(schema: JsonDict) -> Iterator[JsonDict]:
    """Every schema object in ``schema`` (including itself)."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                stack.extend(value.values())
            elif key in _SCHEMA_ONE:
                stack.append(value)
            elif key in _SCHEMA_LIST and isinstance(value, list):
                stack.extend(value)


#: Keywords whose value is data, not schemas: never walked, never reordered.
_DATA_KEYWORDS = frozenset(
    {"default", "examples", "enum", "const", "defaultSnippets", "enumDescriptions", "markdownEnumDescriptions",
     "required"}
)


def _null_option(node: Mapping[str, Any]) -> JsonDict | None:
    """The X of pydantic's ``anyOf: [X, {type: null}]`` (an ``X | None`` field), else None."""
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        inner: JsonDict = options[0] if options[1] == {"type": "null"} else options[1]
        return inner
    return None


def _only_nullable_refs(schema: JsonDict) -> set[str]:
    """Definitions that are only ever referenced as ``X | None``."""
    nullable: set[str] = set()
    optional_uses: set[int] = set()
    for node in _walk(schema):
        inner = _null_option(node)
        name = _ref_name(inner) if inner is not None else None
        if inner is not None and name is not None and len(inner) == 1:
            nullable.add(name)
            optional_uses.add(id(inner))
    plain = {name for node in _walk(schema) if (name := _ref_name(node)) and id(node) not in optional_uses}
    return nullable - plain


def _merge_nullable(node: JsonDict, nullable_defs: set[str]) -> None:
    """Turn pydantic's ``anyOf: [X, {type: null}]`` into one schema accepting X or null."""
    found = _null_option(node)
    if found is None:
        return
    inner = dict(found)
    name = _ref_name(inner)
    if name is not None:
        if name in nullable_defs and len(inner) == 1:
            del node["anyOf"]
            node["$ref"] = inner["$ref"]
        return
    inner_type = inner.get("type")
    if inner_type is None:
        return
    del node["anyOf"]
    types = list(inner_type) if isinstance(inner_type, list) else [inner_type]
    inner["type"] = [*types, "null"]
    if "enum" in inner:
        inner["enum"] = [*inner["enum"], None]
    for key, value in inner.items():
        node.setdefault(key, value)
    if "errorMessage" in node:
        node["errorMessage"] = node["errorMessage"].rstrip(".") + ", or null."


def _describe(node: JsonDict) -> None:
    if "description" in node:
        node["description"] = _clean_text(node["description"])
        node["markdownDescription"] = node["description"]


def _add_enum_descriptions(node: JsonDict, table: Mapping[Any, str], where: str) -> None:
    target = node.get("items", node) if "enum" not in node else node
    values = target.get("enum")
    if values is None:
        raise RuntimeError(f"{where}: schema_enum_descriptions names a field without an enum")
    texts = []
    for value in values:
        if value is None:
            texts.append("No value: the setting is left unset.")
            continue
        if value not in table:
            raise RuntimeError(f"{where}: no description for enum value {value!r}")
        texts.append(table[value])
    target["enumDescriptions"] = texts
    target["markdownEnumDescriptions"] = list(texts)


def _field_schemas(schema: JsonDict, root_name: str) -> Iterator[tuple[str, JsonDict]]:
    """(model name, model schema) for the root and every definition."""
    yield root_name, schema
    yield from schema.get("$defs", {}).items()


def _factory_default(model: type[BaseModel], field: str) -> Any:
    """The value of a field's ``default_factory`` when it is worth showing (a non-empty list)."""
    info = model.model_fields[field]
    if info.default_factory is None or info.default is not PydanticUndefined:
        return None
    value = info.default_factory()  # type: ignore[call-arg]
    if isinstance(value, list) and value and all(isinstance(item, str | int | float | bool) for item in value):
        return value
    return None


def _smallest_valid(node: JsonDict) -> int | float | None:
    """An example for a number whose lower bound excludes 0 and that has no default.

    yaml-language-server completes a number without default or example to `0`, which such a
    field refuses; the example (its smallest valid value, or 1) is inserted instead.
    """
    types = node.get("type")
    if not isinstance(types, list) or types[0] not in ("integer", "number") or "default" in node:
        return None
    low = node.get("minimum")
    if isinstance(low, int | float) and low > 0:
        return math.ceil(low) if types[0] == "integer" else low
    above = node.get("exclusiveMinimum")
    if isinstance(above, int | float) and 0 <= above < 1:
        return 1
    return None


def _shape_model(node: JsonDict, model: type[MarianneModel]) -> None:
    """Editor-specific changes to one model's schema, from its fields and its ``schema_*`` attributes."""
    properties: JsonDict = node.get("properties", {})
    aliases = {info.alias or field: field for field, info in model.model_fields.items()}
    for key, prop in properties.items():
        field = aliases.get(key, key)
        prop.setdefault("title", _title(field))
        if prop.get("default", 0) is None:
            del prop["default"]
        if field in model.model_fields:
            default = _factory_default(model, field)
            if default is not None:
                prop["default"] = default
        example = _smallest_valid(prop)
        if example is not None:
            prop["examples"] = [example]
        if field in model.schema_not_suggested:
            prop["doNotSuggest"] = True
        if field in model.schema_deprecated:
            # No default either: completing the section would insert every key that has one.
            prop.pop("default", None)
            prop["deprecated"] = True
            prop["doNotSuggest"] = True
        positive = model.schema_positive_keys.get(field)
        if positive is not None:
            prop["propertyNames"]["pattern"] = POSITIVE_INT_KEY_PATTERN
        if "propertyNames" in prop:
            label = positive or "sheet number"
            lowest = " (1 or more)" if positive else ""
            prop["propertyNames"].update(
                title=label,
                description=f"A {label}{lowest}, written `1:` or `\"1\":`.",
                patternErrorMessage=f"Expected a {label}{lowest or ' (a whole number)'} as the key.",
            )
        if "const" in prop:
            prop["enum"] = [prop.pop("const")]
        table = model.schema_enum_descriptions.get(field)
        if table is not None:
            _add_enum_descriptions(prop, table, f"{model.__name__}.{key}")


#: What each lax scalar accepts beyond its own type, added to the field's description.
_LAX_NOTES = {
    "boolean": "Like Marianne, also accepts yes/no, on/off (YAML 1.1 booleans, strings to a YAML 1.2 editor) and 1/0.",
    "integer": "Like Marianne, also accepts a quoted number (`\"3\"`) and YAML 1.1 forms such as `1:30` (90).",
    "number": "Like Marianne, also accepts a quoted number (`\"2.5\"`) and YAML 1.1 forms such as `5:00` (300).",
}


def _note_lax_spellings(node: JsonDict) -> None:
    """Say in a lax field's description which spellings it accepts beyond its own type."""
    types = node.get("type")
    if isinstance(types, list) and types[0] in _LAX_NOTES and "description" in node:
        node["description"] = f"{node['description']}\n\n{_LAX_NOTES[types[0]]}"


def build_schema(kind: str) -> JsonDict:
    """The editor schema of ``kind``, as a JSON-compatible dict."""
    root_cls = root_model(kind)
    models = _models_by_name(root_cls)
    schema: JsonDict = root_cls.model_json_schema(by_alias=True, schema_generator=EditorJsonSchema)
    defs: JsonDict = schema.get("$defs", {})

    nullable_defs = _only_nullable_refs(schema)
    for name in sorted(nullable_defs):
        defs[name]["type"] = ["object", "null"]
    for node in list(_walk(schema)):
        _merge_nullable(node, nullable_defs)

    for name, node in _field_schemas(schema, root_cls.__name__):
        model = models[name]
        _shape_model(node, model)
        node["title"] = _model_title(name)
        model.schema_extras(node)
        if model.schema_snippets:
            node["defaultSnippets"] = [copy.deepcopy(dict(snippet)) for snippet in model.schema_snippets]

    for _name, node in _field_schemas(schema, root_cls.__name__):
        for prop in node.get("properties", {}).values():
            _note_lax_spellings(prop)
    for node in _walk(schema):
        _describe(node)
        if node.get("format") == "path":  # not a JSON Schema format; editors may warn about it
            del node["format"]

    schema["title"] = ROOT_TITLES[kind]
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_id(kind)
    shaped: JsonDict = _canonical(schema)
    return shaped


#: Keys written first in every schema object, in this order; the others follow sorted, then the
#: conditions (in this order), then `$defs`.
_LEADING = ("$schema", "$id", "title", "description", "markdownDescription", "type")
_TRAILING = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$defs")


def _canonical(node: Any, parent_key: str | None = None) -> Any:
    """Sort keywords (not property names, which keep the models' order, nor data values)."""
    if isinstance(node, list):
        return [_canonical(item) for item in node]
    if not isinstance(node, dict):
        return node
    if parent_key in ("properties", "$defs", "patternProperties"):
        keys = sorted(node) if parent_key == "$defs" else list(node)
        return {key: _canonical(node[key]) for key in keys}

    def order(key: str) -> tuple[int, int, str]:
        if key in _LEADING:
            return (0, _LEADING.index(key), key)
        if key in _TRAILING:
            return (2, _TRAILING.index(key), key)
        return (1, 0, key)

    out: JsonDict = {}
    for key in sorted(node, key=order):
        value = node[key]
        out[key] = value if key in _DATA_KEYWORDS else _canonical(value, key)
    return out


def render_schema(kind: str) -> str:
    """The exact text of ``kind``'s schema file."""
    return json.dumps(build_schema(kind), indent=2, ensure_ascii=False) + "\n"


# -- the command ---------------------------------------------------------------------------------------


def write_schemas(output_dir: Path, kinds: Sequence[str]) -> list[Path]:
    """Write the schema of each kind into ``output_dir``; returns the files written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        path = output_dir / schema_file_name(kind)
        path.write_text(render_schema(kind), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale_schemas(output_dir: Path, kinds: Sequence[str]) -> list[tuple[Path, str]]:
    """(file, what is wrong) for every schema file that is missing or differs from a fresh export."""
    problems = []
    for kind in kinds:
        path = output_dir / schema_file_name(kind)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            problems.append((path, "missing"))
            continue
        if current != render_schema(kind).encode("utf-8"):
            problems.append((path, "differs from the models"))
    return problems


__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "JSON_SCHEMA_DIALECT",
    "SCHEMA_BASE_URL",
    "EditorJsonSchema",
    "build_schema",
    "render_schema",
    "schema_file_name",
    "schema_id",
    "stale_schemas",
    "write_schemas",
]
