"""``marianne-lint schema``: the JSON Schema files editors use, generated from the models.

One file per config kind (``schema/marianne-<kind>.schema.json``). Each is
pydantic's ``model_json_schema`` of the kind's root model, produced by
:class:`EditorJsonSchema` (lax scalars, integer map keys) and then reshaped by
:func:`build_schema` for editors:

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
  needs ``size: 1``, ...) are added as ``if``/``then``; the others
  (comparisons between two numbers, graph checks, regex syntax) are left to
  the linter.

The output is deterministic: keywords sorted, properties in model order,
``json.dumps(indent=2, ensure_ascii=False)`` plus a newline.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined, core_schema

from marianne_lint.kinds import KINDS
from marianne_lint.models import root_model

#: Where the committed schema files are published; every ``$id`` starts with it.
SCHEMA_BASE_URL = "https://github.com/marianne-lint/marianne-lint/raw/main/schema/"
#: The JSON Schema dialect every file declares.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Folder written (or checked) when ``--output-dir`` is not given, relative to the current folder.
DEFAULT_OUTPUT_DIR = Path("schema")

JsonDict = dict[str, Any]

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
#: The strings among those that mean false.
FALSE_STRING_PATTERN = r"^([nN]([oO])?|[oO][fF][fF]|[fF]([aA][lL][sS][eE])?|0)$"
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


# -- words for editors ---------------------------------------------------------------------------

#: (model, field) -> value -> what the value means. Every enum of every kind is listed here
#: (a test checks it), in our own words.
ENUM_DESCRIPTIONS: dict[tuple[str, str], dict[Any, str]] = {
    ("JobConfig", "state_backend"): {
        "json": "Keep the job state in a JSON file: easy to read, slower for big jobs.",
        "sqlite": "Keep the job state in an SQLite database (the default).",
    },
    ("ValidationRule", "type"): {
        "file_exists": "Passes when the file at `path` exists.",
        "file_modified": "Passes when the file at `path` was changed while the sheet ran.",
        "content_contains": "Passes when the file at `path` contains the text in `pattern`.",
        "content_regex": "Passes when the Python regular expression in `pattern` matches the file at `path`.",
        "command_succeeds": "Passes when the shell `command` exits with status 0.",
    },
    ("NotificationConfig", "type"): {
        "desktop": "A desktop notification on the machine running the conductor.",
        "slack": "A message to a Slack incoming webhook (`config.webhook_url` or `config.webhook_url_env`).",
        "webhook": "An HTTP POST to a URL (`config.url` or `config.url_env`).",
        "email": "An e-mail message.",
    },
    ("NotificationConfig", "on_events"): {
        "job_start": "The job has started.",
        "sheet_start": "A sheet has started.",
        "sheet_complete": "A sheet has finished and passed its validations.",
        "sheet_failed": "A sheet has failed for good (after its retries).",
        "job_complete": "The whole job has finished successfully.",
        "job_failed": "The job has stopped because of a failure.",
        "job_paused": "The job has been paused.",
    },
    ("PostSuccessHookConfig", "type"): {
        "run_job": "Start another score (`job_path`).",
        "run_command": "Run a shell command (`command`).",
        "run_script": "Run a script file (`command`).",
    },
    ("PostSuccessHookConfig", "on_failure"): {
        "continue": "Go on with the next hook (the default).",
        "abort": "Skip the remaining hooks.",
    },
    ("BackendConfig", "output_format"): {
        "json": "One JSON document with the result when the CLI finishes.",
        "text": "Plain text output (the default).",
        "stream-json": "A stream of JSON events while the CLI works.",
    },
    ("OllamaConfig", "compression_level"): {
        "minimal": "Keep tool schemas almost complete.",
        "moderate": "Shorten tool schemas somewhat (the default).",
        "aggressive": "Shorten tool schemas as much as possible to save context.",
    },
    ("LogConfig", "level"): {
        "DEBUG": "Everything, including detailed tracing.",
        "INFO": "Normal progress messages and above (the default).",
        "WARNING": "Only warnings and errors.",
        "ERROR": "Only errors.",
    },
    ("LogConfig", "format"): {
        "json": "One JSON object per log entry.",
        "console": "Human-readable lines on the console (the default).",
        "both": "Console lines plus JSON entries in `file_path` (which is then required).",
    },
    ("DaemonConfig", "log_level"): {
        "debug": "Everything, including detailed tracing.",
        "info": "Normal progress messages and above (the default).",
        "warning": "Only warnings and errors.",
        "error": "Only errors.",
    },
    ("DaemonConfig", "state_backend_type"): {
        "sqlite": "An SQLite database; the only store the conductor supports.",
    },
    ("AIReviewConfig", "on_low_score"): {
        "retry": "Run the sheet again.",
        "warn": "Log a warning and carry on (the default).",
        "fail": "Mark the sheet as failed.",
    },
    ("ConductorConfig", "role"): {
        "human": "A person conducts the job (the default).",
        "ai": "An AI agent conducts the job.",
        "hybrid": "A person and an AI agent conduct it together.",
    },
    ("FeedbackConfig", "format"): {
        "json": "Parse the captured feedback as JSON (the default).",
        "yaml": "Parse the captured feedback as YAML.",
        "text": "Keep the captured feedback as plain text.",
    },
    ("GroundingHookConfig", "type"): {
        "file_checksum": "Compare files with their expected checksums.",
    },
    ("GroundingHookConfig", "checksum_algorithm"): {
        "md5": "MD5 digests.",
        "sha256": "SHA-256 digests (the default).",
    },
    ("InjectionItem", "as"): {
        "context": "Background material placed in the context part of the prompt.",
        "skill": "Instructions on how to work, placed with the skills.",
        "tool": "Descriptions of tools the agent may use, placed with the tools.",
    },
    ("InjectionItem", "as_"): {
        "context": "Background material placed in the context part of the prompt.",
        "skill": "Instructions on how to work, placed with the skills.",
        "tool": "Descriptions of tools the agent may use, placed with the tools.",
    },
    ("IsolationConfig", "mode"): {
        "none": "No isolation: the job works in the current checkout.",
        "worktree": "A separate git worktree on its own branch (the default).",
    },
    ("LearningConfig", "outcome_store_type"): {
        "json": "A JSON file (the default).",
        "sqlite": "An SQLite database.",
    },
    ("SpecFragment", "kind"): {
        "text": "Prose, given to prompts as written (the default).",
        "structured": "YAML data, parsed into `data`.",
    },
    ("TechniqueConfig", "kind"): {
        "skill": "Written instructions the agent can follow.",
        "mcp": "An MCP server giving the agent tools.",
        "protocol": "A coordination protocol between agents.",
    },
    ("WorkspaceLifecycleConfig", "archive_naming"): {
        "iteration": "Number the archives 1, 2, 3, ... (the default).",
        "timestamp": "Name each archive after the time it was made.",
    },
    ("SemanticLearningConfig", "analyze_on"): {
        "success": "Analyse sheets that succeeded.",
        "failure": "Analyse sheets that failed.",
    },
    ("CliOutputConfig", "format"): {
        "text": "Plain text: the whole output is the result (the default).",
        "json": "One JSON document; `result_path` points at the result.",
        "jsonl": "One JSON event per line; `completion_event_type` marks the end.",
    },
    ("CodeModeConfig", "runtime"): {
        "deno": "Run generated code in Deno (the default).",
        "node_vm": "Run generated code in a Node.js VM context.",
        "v8_isolate": "Run generated code in a bare V8 isolate.",
    },
    ("HttpProfile", "schema_family"): {
        "openai": "OpenAI-style chat completions requests and responses.",
        "anthropic": "Anthropic Messages API requests and responses.",
        "gemini": "Google Gemini API requests and responses.",
    },
    ("InstrumentProfile", "kind"): {
        "cli": "A command-line program; needs the `cli` section.",
        "http": "An HTTP API; needs the `http` section.",
    },
    ("FleetConfig", "type"): {
        "fleet": "Marks the file as a fleet.",
    },
}

#: Root titles shown by editors.
ROOT_TITLES: dict[str, str] = {
    "score": "Marianne score",
    "conductor": "Marianne conductor configuration",
    "instrument": "Marianne instrument profile",
    "fleet": "Marianne fleet",
}

#: Fields filled in by Marianne itself: accepted, never offered by completion.
NOT_SUGGESTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("SheetConfig", "fan_out_stage_map"),
        ("SpecCorpusConfig", "fragments"),
        ("DaemonConfig", "config_file"),
    }
)

#: Fields kept for old files only: accepted, marked deprecated, never offered by completion.
DEPRECATED: frozenset[tuple[str, str]] = frozenset(
    {
        ("LearningConfig", "auto_apply_enabled"),
        ("LearningConfig", "auto_apply_trust_threshold"),
    }
)

#: Integer-keyed maps whose keys must be 1 or more (Marianne checks it), and what the key is.
POSITIVE_KEYS: dict[tuple[str, str], str] = {
    ("JobConfig", "movements"): "movement number",
    ("SheetConfig", "dependencies"): "sheet number",
    ("SheetConfig", "fan_out"): "stage number",
    ("SheetConfig", "per_sheet_instruments"): "sheet number",
    ("SheetConfig", "per_sheet_fallbacks"): "sheet number",
}

_VALIDATION_SNIPPETS: list[JsonDict] = [
    {
        "label": "file_exists validation",
        "markdownDescription": "Check that the sheet wrote a file.",
        "body": {
            "type": "file_exists",
            "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
            "description": "${2:Output file exists}",
        },
    },
    {
        "label": "file_modified validation",
        "markdownDescription": "Check that the sheet changed a file.",
        "body": {
            "type": "file_modified",
            "path": '"${1:{workspace\\}/notes.md}"',
            "description": "${2:Notes were updated}",
        },
    },
    {
        "label": "content_contains validation",
        "markdownDescription": "Check that a file contains some text.",
        "body": {
            "type": "content_contains",
            "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
            "pattern": '"${2:DONE}"',
            "description": "${3:Output is marked done}",
        },
    },
    {
        "label": "content_regex validation",
        "markdownDescription": "Check that a regular expression matches a file.",
        "body": {
            "type": "content_regex",
            "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
            "pattern": "'${2:^## Summary}'",
            "description": "${3:Output has a summary section}",
        },
    },
    {
        "label": "command_succeeds validation",
        "markdownDescription": "Check that a shell command exits with status 0.",
        "body": {
            "type": "command_succeeds",
            "command": '"${1:test -s {workspace\\}/report.md}"',
            "description": "${2:Report is not empty}",
        },
    },
]

#: (model) -> snippets offered when a value of that model is completed.
SNIPPETS: dict[str, list[JsonDict]] = {
    "SheetConfig": [
        {
            "label": "sheet section",
            "markdownDescription": "Split the work into sheets of one item each.",
            "body": {"size": "^${1:1}", "total_items": "^${2:3}"},
        }
    ],
    "ValidationRule": _VALIDATION_SNIPPETS,
}

#: The score snippet offered at the top of an empty file.
SCORE_SNIPPET: JsonDict = {
    "label": "new Marianne score",
    "markdownDescription": "A minimal score: a name, three sheets, a prompt template and one validation.",
    "body": {
        "name": "${1:my-score}",
        "description": "${2:What this score does}",
        "workspace": "${3:./workspace}",
        "sheet": {"size": "^1", "total_items": "^${4:3}"},
        "prompt": {
            "template": (
                '"${5:Write part {{ sheet_num \\}\\} of {{ total_sheets \\}\\} '
                'to {{ workspace \\}\\}/part-{{ sheet_num \\}\\}.md.}"'
            ),
        },
        "validations": [
            {
                "type": "file_exists",
                "path": '"${6:{workspace\\}/part-{sheet_num\\}.md}"',
                "description": "${7:The part was written}",
            }
        ],
    },
}


# -- building --------------------------------------------------------------------------------------


def schema_file_name(kind: str) -> str:
    """The file name of ``kind``'s schema, e.g. ``marianne-score.schema.json``."""
    return f"marianne-{kind}.schema.json"


def schema_id(kind: str) -> str:
    """The ``$id`` of ``kind``'s schema: where the committed file is published."""
    return SCHEMA_BASE_URL + schema_file_name(kind)


def _models_by_name(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``root``, by class name (the name pydantic gives its definition)."""
    from marianne_lint.models.introspect import _models_in

    found: dict[str, type[BaseModel]] = {}
    queue: list[type[BaseModel]] = [root]
    while queue:
        model = queue.pop()
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
        raise RuntimeError(f"{where}: ENUM_DESCRIPTIONS names a field without an enum")
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


def _shape_model(name: str, node: JsonDict, model: type[BaseModel]) -> None:
    """Editor-specific changes to one model's schema (its fields are known by name here)."""
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
        if (name, field) in NOT_SUGGESTED:
            prop["doNotSuggest"] = True
        if (name, field) in DEPRECATED:
            # No default either: completing the section would insert every key that has one.
            prop.pop("default", None)
            prop["deprecated"] = True
            prop["doNotSuggest"] = True
        if (name, field) in POSITIVE_KEYS:
            prop["propertyNames"]["pattern"] = POSITIVE_INT_KEY_PATTERN
        if "propertyNames" in prop:
            label = POSITIVE_KEYS.get((name, field), "sheet number")
            lowest = " (1 or more)" if (name, field) in POSITIVE_KEYS else ""
            prop["propertyNames"].update(
                title=label,
                description=f"A {label}{lowest}, written `1:` or `\"1\":`.",
                patternErrorMessage=f"Expected a {label}{lowest or ' (a whole number)'} as the key.",
            )
        if "const" in prop:
            prop["enum"] = [prop.pop("const")]
        table = ENUM_DESCRIPTIONS.get((name, key)) or ENUM_DESCRIPTIONS.get((name, field))
        if table is not None:
            _add_enum_descriptions(prop, table, f"{name}.{key}")


def _hidden(**schema: Any) -> JsonDict:
    """A schema inside a condition: checked, but never offered by completion.

    yaml-language-server offers the properties of every ``then`` and ``oneOf`` branch in
    completion (and would insert ``key: null`` for a ``type: null`` one); ``doNotSuggest``
    keeps them out.
    """
    return {**schema, "doNotSuggest": True}


def _requires_when(key: str, value: str, fields: Mapping[str, str | list[str]]) -> JsonDict:
    """``if key == value then every field is present and has the given type (not null)``."""
    return {
        "if": {"required": [key], "properties": {key: {"const": value}}},
        "then": {
            "required": list(fields),
            "properties": {
                field: _hidden(type=types, errorMessage=f"`{key}: {value}` needs `{field}`.")
                for field, types in fields.items()
            },
        },
    }


def _when_enabled_needs(items: str) -> JsonDict:
    """``enabled: true`` needs at least one entry in ``items``."""
    return {
        "if": {"required": ["enabled"], "properties": {"enabled": {"const": True}}},
        "then": {
            "required": [items],
            "properties": {
                items: _hidden(minItems=1, errorMessage=f"`enabled: true` needs at least one entry in `{items}`.")
            },
        },
    }


def _config_needs(channel: str, keys: Sequence[str]) -> JsonDict:
    """A notification channel whose ``config`` needs one of ``keys``."""
    names = " or ".join(f"`{key}`" for key in keys)
    return {
        "if": {"required": ["type"], "properties": {"type": {"const": channel}}},
        "then": {
            "required": ["config"],
            "properties": {
                "config": _hidden(
                    anyOf=[{"required": [key]} for key in keys],
                    errorMessage=f"A {channel} notification needs {names} in `config`.",
                )
            },
        },
    }


def _shape_specials(defs: JsonDict, root: JsonDict, kind: str) -> None:
    """Alias spellings, legacy keys and the cross-field rules JSON Schema can express."""
    injection = defs.get("InjectionItem")
    if injection is not None:
        props = injection["properties"]
        spelled = copy.deepcopy(props["as"])
        spelled.update(
            title="As (alternative spelling)",
            description="Same as `as`; Marianne accepts this spelling too. Give only one of them.",
            doNotSuggest=True,
        )
        props["as_"] = spelled
        injection.pop("required", None)  # `as` is required, but `as_` may stand in for it (see allOf)
        non_empty = {"type": "string", "minLength": 1}
        injection["allOf"] = [
            {
                "anyOf": [
                    {"required": [key], "errorMessage": "An injection item needs `as`: context, skill or tool."}
                    for key in ("as", "as_")
                ]
            },
            {
                "if": {"required": ["as"]},
                "then": {
                    "properties": {"as_": _hidden(type="null", errorMessage="Give either `as` or `as_`, not both.")}
                },
            },
            {
                "anyOf": [
                    {
                        "required": [key],
                        "properties": {key: _hidden(**non_empty)},
                        "errorMessage": "An injection item needs a `file` or a `directory`.",
                    }
                    for key in ("file", "directory")
                ]
            },
            {
                "if": {"required": ["file"], "properties": {"file": non_empty}},
                "then": {
                    "properties": {
                        "directory": _hidden(
                            type=["null", "string"],
                            pattern="^$",
                            errorMessage="Give either `file` or `directory`, not both.",
                        )
                    }
                },
            },
        ]
    sheet = defs.get("SheetConfig")
    if sheet is not None:
        props = sheet["properties"]
        props["total_sheets"] = {
            "title": "Total Sheets",
            "description": "Legacy key: Marianne ignores it and computes the sheet count itself.",
            "deprecated": True,
            "doNotSuggest": True,
        }
        props["dependencies"]["additionalProperties"]["items"]["minimum"] = 1
        props["fan_out"]["additionalProperties"]["minimum"] = 1
        props["instrument_map"]["propertyNames"] = {
            "minLength": 1,
            "title": "instrument name",
            "description": "Name of an instrument (not empty).",
        }
        props["instrument_map"]["additionalProperties"]["items"]["minimum"] = 1
        props["per_sheet_instruments"]["additionalProperties"]["minLength"] = 1
        one = {"enum": [1, "1"], "errorMessage": "Fan-out needs 1 here."}
        sheet["if"] = {"required": ["fan_out"], "properties": {"fan_out": {"type": "object", "minProperties": 1}}}
        sheet["then"] = {"properties": {"size": one, "start_item": one}}
    rule = defs.get("ValidationRule")
    if rule is not None:
        needs: dict[str, dict[str, str | list[str]]] = {
            "file_exists": {"path": "string"},
            "file_modified": {"path": "string"},
            "content_contains": {"path": "string", "pattern": "string"},
            "content_regex": {"path": "string", "pattern": "string"},
            "command_succeeds": {"command": "string"},
        }
        rule["allOf"] = [_requires_when("type", value, fields) for value, fields in needs.items()]
    hook = defs.get("PostSuccessHookConfig")
    if hook is not None:
        hook["allOf"] = [
            _requires_when("type", "run_job", {"job_path": "string"}),
            _requires_when("type", "run_command", {"command": "string"}),
            _requires_when("type", "run_script", {"command": "string"}),
        ]
    notification = defs.get("NotificationConfig")
    if notification is not None:
        notification["allOf"] = [
            _config_needs("webhook", ["url", "url_env"]),
            _config_needs("slack", ["webhook_url", "webhook_url_env"]),
        ]
    logging = defs.get("LogConfig")
    if logging is not None:
        logging["allOf"] = [_requires_when("format", "both", {"file_path": "string"})]
    for section, items in (("GroundingConfig", "hooks"), ("CheckpointConfig", "triggers")):
        found = defs.get(section)
        if found is not None:
            found["allOf"] = [_when_enabled_needs(items)]
    costs = defs.get("CostLimitConfig")
    if costs is not None:
        message = "`enabled: true` needs `max_cost_per_sheet` or `max_cost_per_job`."
        costs["allOf"] = [
            {
                "if": {"required": ["enabled"], "properties": {"enabled": {"const": True}}},
                "then": {
                    "anyOf": [
                        {
                            "required": [limit],
                            "properties": {limit: _hidden(type=["number", "string"])},
                            "errorMessage": message,
                        }
                        for limit in ("max_cost_per_sheet", "max_cost_per_job")
                    ]
                },
            }
        ]
    parallel = defs.get("ParallelConfig")
    if parallel is not None:
        # Marianne refuses `false` (not implemented); any spelling of true is fine.
        falsy = {"anyOf": [{"const": False}, {"const": 0}, {"type": "string", "pattern": FALSE_STRING_PATTERN}]}
        parallel["allOf"] = [
            {
                "if": {"required": ["budget_partition"], "properties": {"budget_partition": falsy}},
                "then": {
                    "properties": {
                        "budget_partition": _hidden(
                            type="null",
                            errorMessage="`budget_partition: false` is not implemented; remove it or set true.",
                        )
                    }
                },
            }
        ]
    socket = defs.get("SocketConfig")
    if socket is not None:
        # Marianne (YAML 1.1) reads `0660` as octal 432; an editor (YAML 1.2) reads 660. Allow what
        # an editor sees for any octal spelling up to 0777, so the usual `0660` is not flagged.
        permissions = socket["properties"]["permissions"]
        permissions["maximum"] = 777
        permissions["description"] += (
            " An editor reading YAML 1.2 sees `0660` as 660, so values up to 777 pass here; Marianne "
            "rejects a decimal value above 511."
        )
    limits = defs.get("ResourceLimitConfig")
    if limits is not None:
        limits["properties"]["max_api_calls_per_minute"].update(minimum=60, maximum=60)
    learning = defs.get("SemanticLearningConfig")
    if learning is not None:
        learning["properties"]["analyze_on"].update(minItems=1, uniqueItems=True)
    prompt = defs.get("PromptConfig")
    if prompt is not None:
        prompt["if"] = {"required": ["template"], "properties": {"template": {"type": "string"}}}
        prompt["then"] = {
            "properties": {
                "template_file": _hidden(
                    type="null", errorMessage="Give either `template` or `template_file`, not both."
                )
            }
        }
    if kind == "score":
        root["if"] = {
            "required": ["instrument", "backend"],
            "properties": {
                "instrument": {"type": "string"},
                "backend": {"required": ["type"], "properties": {"type": {"not": {"const": "claude_cli"}}}},
            },
        }
        root["then"] = {
            "properties": {
                "backend": _hidden(
                    properties={
                        "type": _hidden(
                            const="claude_cli",
                            errorMessage="With `instrument` set, drop `backend.type` (or leave it `claude_cli`).",
                        )
                    }
                )
            }
        }
        workspace = root["properties"]["workspace"]
        workspace.update(type=["string", "number"], default="./workspace")
        workspace["description"] += (
            " Marianne turns a number into a directory name too (`workspace: 2024` is the folder `2024`)."
        )
    if kind == "instrument":
        root["allOf"] = [
            _requires_when("kind", "cli", {"cli": "object"}),
            _requires_when("kind", "http", {"http": "object"}),
        ]


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
        _shape_model(name, node, models[name])
        node["title"] = _model_title(name)
    _shape_specials(defs, schema, kind)
    for name, snippets in SNIPPETS.items():
        if name in defs:
            defs[name]["defaultSnippets"] = copy.deepcopy(snippets)
    if kind == "score":
        schema["defaultSnippets"] = [copy.deepcopy(SCORE_SNIPPET)]

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


def _parser() -> argparse.ArgumentParser:
    from marianne_lint.cli import _Parser

    parser = _Parser(
        prog="marianne-lint schema",
        description=(
            "Write the JSON Schema files editors use to complete and check Marianne files, generated "
            "from the models: marianne-score.schema.json, marianne-conductor.schema.json, "
            "marianne-instrument.schema.json and marianne-fleet.schema.json."
        ),
    )
    parser.add_argument("--kind", choices=KINDS, help="only this kind's schema (default: all four)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every file that is missing or differs from a fresh export",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help="folder of the schema files (default: schema/ under the current folder)",
    )
    return parser


def _error(line: str) -> None:
    print(line, file=sys.stderr)


def schema_command(argv: Sequence[str]) -> int:
    """``marianne-lint schema [--kind K] [--check] [--output-dir DIR]``."""
    from marianne_lint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL

    args = _parser().parse_args(list(argv))
    kinds: list[str] = [args.kind] if args.kind else list(KINDS)
    output_dir: Path = args.output_dir
    if args.check:
        problems = stale_schemas(output_dir, kinds)
        if not problems:
            print(f"{len(kinds)} schema file(s) in {output_dir} are up to date")
            return EXIT_OK
        for path, what in problems:
            _error(f"{path}: {what}")
        command = "marianne-lint schema" + (f" --kind {args.kind}" if args.kind else "")
        if output_dir != DEFAULT_OUTPUT_DIR:
            command += f" --output-dir {output_dir}"
        _error(f"{len(problems)} schema file(s) out of date; regenerate with: {command}")
        return EXIT_FINDINGS
    try:
        written = write_schemas(output_dir, kinds)
    except OSError as exc:
        _error(f"marianne-lint: cannot write schema files to {output_dir}: {exc.strerror or exc}")
        return EXIT_TOOL
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "JSON_SCHEMA_DIALECT",
    "SCHEMA_BASE_URL",
    "EditorJsonSchema",
    "build_schema",
    "render_schema",
    "schema_command",
    "schema_file_name",
    "schema_id",
    "stale_schemas",
    "write_schemas",
]
