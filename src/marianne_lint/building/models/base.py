"""Shared base for every Marianne config model.

Every model forbids unknown keys, as Marianne's do. Cross-field rules raise
:func:`cross_field_error`, which records the keys involved (paths relative to
the location pydantic reports for the error) so the structure step can point
at the first key and list the others as related locations.

What a model means for the exported JSON Schema (``marianne-lint schema``)
lives on the model too, as plain class attributes read by the generic walker
in ``building/schema_export.py`` and one hook it calls:

* ``schema_enum_descriptions``: field name -> enum value -> what the value
  means, for every Literal field (a test checks that every value is described);
* ``schema_counterparts``: cross-field validator name -> what it becomes in
  the schema, starting with ``schema:`` (added by ``schema_extras``),
  ``linter:`` (left to the linter, and why) or ``normalises:`` (the validator
  only rewrites the input); a test checks every validator is listed;
* ``schema_not_suggested``, ``schema_deprecated``: fields accepted but never
  offered by completion (the latter also marked deprecated);
* ``schema_positive_keys``: integer-keyed map field -> what its key is, for
  maps whose keys must be 1 or more;
* ``schema_snippets``: completion snippets for a value of the model;
* :meth:`MarianneModel.schema_extras`: a classmethod that reshapes the
  model's own schema object in place (alias spellings, legacy keys,
  ``if``/``then`` rules), called after the generic per-field shaping. It
  builds its pieces with :mod:`.schema_hints` and never imports
  ``schema_export``.

The attributes are plain data so importing a model stays cheap on lint runs.
"""


from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

#: The pydantic error type used for every cross-field rule of our models.
CROSS_FIELD = "cross_field"

KeyPath = tuple[str | int, ...]

#: Field name -> enum value -> what the value means.
EnumDescriptions = Mapping[str, Mapping[Any, str]]
#: Cross-field validator name -> its counterpart in the exported schema.
Counterparts = Mapping[str, str]
#: Field name -> a short label (what the keys of an integer-keyed map are).
FieldLabels = Mapping[str, str]
#: Completion snippets (yaml-language-server ``defaultSnippets`` entries).
Snippets = Sequence[Mapping[str, Any]]


class MarianneModel(BaseModel):
    """Base of all models: unknown keys are errors, as in Marianne."""

    model_config = ConfigDict(extra="forbid")

    #: Field name -> enum value -> its meaning, shown on hover and in completion.
    schema_enum_descriptions: ClassVar[EnumDescriptions] = {}
    #: Cross-field validator name -> its counterpart in the exported schema (see the module docstring).
    schema_counterparts: ClassVar[Counterparts] = {}
    #: Fields filled in by Marianne itself: accepted, never offered by completion.
    schema_not_suggested: ClassVar[frozenset[str]] = frozenset()
    #: Fields kept for old files only: accepted, marked deprecated, never offered by completion.
    schema_deprecated: ClassVar[frozenset[str]] = frozenset()
    #: Integer-keyed map field whose keys must be 1 or more -> what a key is ("sheet number").
    schema_positive_keys: ClassVar[FieldLabels] = {}
    #: Snippets offered when a value of this model is completed.
    schema_snippets: ClassVar[Snippets] = ()

    @classmethod
    def schema_extras(cls, node: dict[str, Any]) -> None:
        """Reshape this model's exported schema ``node`` in place; the base changes nothing."""


def _as_path(key: str | int | KeyPath) -> KeyPath:
    return key if isinstance(key, tuple) else (key,)


def cross_field_error(
    message: str,
    *keys: str | int | KeyPath,
    rule: str = "schema-constraint",
) -> PydanticCustomError:
    """Build the error a cross-field validator raises.

    ``keys`` are the keys involved, each a name or a path relative to the
    location of the error (a model validator's error sits at the model, a
    field validator's at the field). The first key that exists in the file is
    where the finding is reported; the others become related locations. When
    none of them is written in the file, the finding points at the section.
    ``rule`` names the lint rule the finding belongs to.
    """
    context: dict[str, Any] = {
        "_keys": tuple(_as_path(k) for k in keys),
        "_rule": rule,
    }
    # Only ``{_keys}``/``{_rule}`` would be substituted; other braces stay as written.
    return PydanticCustomError(CROSS_FIELD, message, context)
