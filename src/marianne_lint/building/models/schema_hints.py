"""Small schema builders for the models' ``schema_extras`` hooks (see :mod:`.base`).

A leaf module (standard library only) so that the models and ``schema_export``
can both import it without a cycle. Every function returns a fresh
JSON-compatible dict; nothing here runs unless a schema is being exported.
"""

from collections.abc import Mapping, Sequence
from typing import Any

JsonDict = dict[str, Any]

#: Strings pydantic reads as false (any letter case): no, n, off, false, f, 0. A subset of the
#: lax boolean spellings the exported schema accepts (``schema_export.BOOL_STRING_PATTERN``).
FALSE_STRING_PATTERN = r"^([nN]([oO])?|[oO][fF][fF]|[fF]([aA][lL][sS][eE])?|0)$"

#: How a ``schema_counterparts`` entry starts: the validator's rule is in the schema (added by
#: ``schema_extras``), left to the linter (and why), or the validator only rewrites input.
IN_SCHEMA = "schema:"
LEFT_TO_LINTER = "linter:"
NORMALISES = "normalises:"
COUNTERPART_PREFIXES = (IN_SCHEMA, LEFT_TO_LINTER, NORMALISES)


def hidden(**schema: Any) -> JsonDict:
    """A schema inside a condition: checked, but never offered by completion.

    yaml-language-server offers the properties of every ``then`` and ``oneOf`` branch in
    completion (and would insert ``key: null`` for a ``type: null`` one); ``doNotSuggest``
    keeps them out.
    """
    return {**schema, "doNotSuggest": True}


def requires_when(key: str, value: str, fields: Mapping[str, str | list[str]]) -> JsonDict:
    """``if key == value then every field is present and has the given type (not null)``."""
    return {
        "if": {"required": [key], "properties": {key: {"const": value}}},
        "then": {
            "required": list(fields),
            "properties": {
                field: hidden(type=types, errorMessage=f"`{key}: {value}` needs `{field}`.")
                for field, types in fields.items()
            },
        },
    }


def when_enabled_needs(items: str) -> JsonDict:
    """``enabled: true`` needs at least one entry in ``items``."""
    return {
        "if": {"required": ["enabled"], "properties": {"enabled": {"const": True}}},
        "then": {
            "required": [items],
            "properties": {
                items: hidden(minItems=1, errorMessage=f"`enabled: true` needs at least one entry in `{items}`.")
            },
        },
    }


def config_needs(channel: str, keys: Sequence[str]) -> JsonDict:
    """A notification channel whose ``config`` needs one of ``keys``."""
    names = " or ".join(f"`{key}`" for key in keys)
    return {
        "if": {"required": ["type"], "properties": {"type": {"const": channel}}},
        "then": {
            "required": ["config"],
            "properties": {
                "config": hidden(
                    anyOf=[{"required": [key]} for key in keys],
                    errorMessage=f"A {channel} notification needs {names} in `config`.",
                )
            },
        },
    }
