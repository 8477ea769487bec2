"""Shared base for every Marianne config model.

Every model forbids unknown keys, as Marianne's do. Cross-field rules raise
:func:`cross_field_error`, which records the keys involved (paths relative to
the location pydantic reports for the error) so the structure step can point
at the first key and list the others as related locations.
"""


from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

#: The pydantic error type used for every cross-field rule of our models.
CROSS_FIELD = "cross_field"

KeyPath = tuple[str | int, ...]


class MarianneModel(BaseModel):
    """Base of all models: unknown keys are errors, as in Marianne."""

    model_config = ConfigDict(extra="forbid")


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
