"""What each model declares about its JSON Schema: complete, and kept on the model.

Every cross-field validator says what it becomes in the exported schema (or why it is left to
the linter), every enum value is described, and ``schema_export`` stays a generic walker that
names no model. The checkers are run against throwaway models too, so they can fail.
"""

from __future__ import annotations

import ast
import enum
import inspect
import subprocess
import sys
import textwrap
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import pytest
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from marianne_lint.building import schema_export
from marianne_lint.building.models import root_model
from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel
from marianne_lint.building.models.schema_hints import COUNTERPART_PREFIXES, IN_SCHEMA, JsonDict
from marianne_lint.building.schema_export import _models_by_name
from marianne_lint.reading.kinds import KINDS


def exported_models() -> dict[str, type[MarianneModel]]:
    """Every model that appears in one of the exported schemas, by class name."""
    found: dict[str, type[MarianneModel]] = {}
    for kind in KINDS:
        found.update(_models_by_name(root_model(kind)))
    return found


# -- the checkers -----------------------------------------------------------------------------------


def _info_parameter(func: Callable[..., Any]) -> str | None:
    """The name of a field validator's ``ValidationInfo`` parameter, if it takes one."""
    names = list(inspect.signature(func).parameters)
    if names and names[0] in ("cls", "self"):  # an unbound function
        names = names[1:]
    return names[1] if len(names) >= 2 else None


def _reads_info_data(func: Callable[..., Any]) -> bool:
    """Whether a field validator reads other fields through ``info.data``."""
    info = _info_parameter(func)
    if info is None:
        return False
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return any(
        isinstance(node, ast.Attribute) and node.attr == "data"
        and isinstance(node.value, ast.Name) and node.value.id == info
        for node in ast.walk(tree)
    )


def cross_field_validators(model: type[BaseModel]) -> list[str]:
    """Names of the model's cross-field validators: every model validator, and every field
    validator that reads other fields through ``info.data``."""
    decorators = model.__pydantic_decorators__
    names = list(decorators.model_validators)
    names += [name for name, found in decorators.field_validators.items() if _reads_info_data(found.func)]
    return names


def _has_own_hook(model: type[MarianneModel]) -> bool:
    own = getattr(model.schema_extras, "__func__", None)
    return own is not getattr(MarianneModel.schema_extras, "__func__", None)


def undeclared_cross_field(model: type[MarianneModel]) -> list[str]:
    """Problems with ``schema_counterparts``, each naming the model and the validator."""
    problems = []
    validators = cross_field_validators(model)
    declared = model.schema_counterparts
    for name in validators:
        text = declared.get(name)
        if text is None:
            problems.append(
                f"{model.__name__}.{name}: cross-field validator with no entry in {model.__name__}.schema_counterparts "
                '(say "schema: <what it becomes>", "linter: <why JSON Schema cannot say it>" or "normalises: <what>")'
            )
        elif not text.startswith(COUNTERPART_PREFIXES) or not text.partition(":")[2].strip():
            problems.append(f"{model.__name__}.{name}: counterpart {text!r} does not start with one of "
                            f"{', '.join(COUNTERPART_PREFIXES)} followed by an explanation")
        elif text.startswith(IN_SCHEMA) and not _has_own_hook(model):
            problems.append(f"{model.__name__}.{name}: declared as in the schema, but {model.__name__} "
                            "defines no schema_extras to put it there")
    for name in declared:
        if name not in validators:
            problems.append(f"{model.__name__}.schema_counterparts names {name}, which is not a cross-field validator")
    return problems


def enum_values(annotation: Any) -> list[Any]:
    """The values of every Literal or Enum in ``annotation`` (through Optional, lists, maps, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return []  # checked as a model of its own
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return [value for value in args if value is not None]
    if origin is typing.Annotated:
        return enum_values(args[0])
    values: list[Any] = []
    for arg in args:
        if arg is not type(None) and not isinstance(arg, str | int | types.EllipsisType):
            values += [value for value in enum_values(arg) if value not in values]
    return values


def undescribed_enums(model: type[MarianneModel]) -> list[str]:
    """Problems with ``schema_enum_descriptions``, each naming the model and the field."""
    problems = []
    tables = model.schema_enum_descriptions
    for field, info in model.model_fields.items():
        values = enum_values(info.annotation)
        if not values:
            continue
        table = tables.get(field, {})
        missing = [value for value in values if not table.get(value)]
        if missing:
            problems.append(f"{model.__name__}.{field}: no description for {', '.join(map(repr, missing))} "
                            f"in {model.__name__}.schema_enum_descriptions")
        extra = [value for value in table if value not in values]
        if extra:
            problems.append(f"{model.__name__}.{field}: describes {', '.join(map(repr, extra))}, not allowed values")
    for field in tables:
        if field not in model.model_fields or not enum_values(model.model_fields[field].annotation):
            problems.append(f"{model.__name__}.schema_enum_descriptions names {field}, which is not an enum field")
    return problems


# -- the models -----------------------------------------------------------------------------------------------


def test_the_exported_models_are_found() -> None:
    models = exported_models()
    assert {"JobConfig", "DaemonConfig", "InstrumentProfile", "FleetConfig", "InjectionItem"} <= set(models)
    assert len(models) > 40


def test_every_cross_field_validator_has_a_schema_counterpart() -> None:
    problems = [problem for model in exported_models().values() for problem in undeclared_cross_field(model)]
    assert not problems, "\n".join(problems)


def test_every_enum_value_is_described() -> None:
    problems = [problem for model in exported_models().values() for problem in undescribed_enums(model)]
    assert not problems, "\n".join(problems)


def test_the_other_schema_attributes_name_real_fields() -> None:
    problems = []
    for name, model in exported_models().items():
        for attribute in ("schema_not_suggested", "schema_deprecated", "schema_positive_keys"):
            for field in getattr(model, attribute):
                if field not in model.model_fields:
                    problems.append(f"{name}.{attribute} names {field}, which is not a field")
        for field in model.schema_positive_keys:
            if typing.get_origin(model.model_fields[field].annotation) is not dict:
                problems.append(f"{name}.schema_positive_keys names {field}, which is not a map")
    assert not problems, "\n".join(problems)


# -- the checkers can fail ------------------------------------------------------------------------------------


class _Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def test_an_undeclared_model_validator_is_reported_by_name() -> None:
    class ThrowawayBounds(MarianneModel):
        low: int = 0
        high: int = 1

        @model_validator(mode="after")
        def _low_below_high(self) -> Self:
            return self

    (problem,) = undeclared_cross_field(ThrowawayBounds)
    assert problem.startswith("ThrowawayBounds._low_below_high: cross-field validator with no entry")

    class DeclaredBounds(ThrowawayBounds):
        schema_counterparts: ClassVar[Counterparts] = {"_low_below_high": "linter: compares two numbers."}

    assert undeclared_cross_field(DeclaredBounds) == []


def test_a_field_validator_reading_info_data_is_reported_by_name() -> None:
    class ThrowawayPair(MarianneModel):
        first: str = ""
        second: str = ""

        @field_validator("second")
        @classmethod
        def _differs_from_first(cls, value: str, info: ValidationInfo) -> str:
            if value and value == info.data.get("first"):
                raise ValueError("same")
            return value

        @field_validator("first")
        @classmethod
        def _not_blank(cls, value: str, info: ValidationInfo) -> str:
            return value  # takes info, but reads no other field

    assert cross_field_validators(ThrowawayPair) == ["_differs_from_first"]
    (problem,) = undeclared_cross_field(ThrowawayPair)
    assert problem.startswith("ThrowawayPair._differs_from_first:")


def test_a_wrong_declaration_is_reported_by_name() -> None:
    class ThrowawayClaims(MarianneModel):
        kind: str = ""
        path: str | None = None
        schema_counterparts: ClassVar[Counterparts] = {
            "_kind_needs_path": "schema: `kind` needs `path`.",
            "_gone": "linter: was removed.",
        }

        @model_validator(mode="after")
        def _kind_needs_path(self) -> Self:
            return self

    problems = undeclared_cross_field(ThrowawayClaims)
    assert len(problems) == 2
    assert "ThrowawayClaims._kind_needs_path: declared as in the schema, but ThrowawayClaims defines no" in problems[0]
    assert problems[1] == "ThrowawayClaims.schema_counterparts names _gone, which is not a cross-field validator"

    class ThrowawayVague(ThrowawayClaims):
        schema_counterparts: ClassVar[Counterparts] = {"_kind_needs_path": "left alone"}

    (problem,) = undeclared_cross_field(ThrowawayVague)
    assert problem.startswith("ThrowawayVague._kind_needs_path: counterpart 'left alone' does not start")

    class ThrowawayHooked(ThrowawayClaims):
        schema_counterparts: ClassVar[Counterparts] = {"_kind_needs_path": "schema: `kind` needs `path`."}

        @classmethod
        def schema_extras(cls, node: JsonDict) -> None:
            node["required"] = ["path"]

    assert undeclared_cross_field(ThrowawayHooked) == []


def test_an_undescribed_enum_is_reported_by_name() -> None:
    class ThrowawayEnums(MarianneModel):
        mode: Literal["fast", "slow"] = "fast"
        shade: Literal["light", "dark"] | None = None
        sizes: list[Literal["s", "m"]] = Field(default_factory=list)
        colour: _Colour = _Colour.RED
        name: str = ""
        schema_enum_descriptions: ClassVar[EnumDescriptions] = {
            "mode": {"fast": "Quickly.", "slow": "Slowly.", "medium": "Not a value."},
            "sizes": {"s": "Small."},
            "name": {"x": "Not an enum."},
        }

    problems = undescribed_enums(ThrowawayEnums)
    assert problems == [
        "ThrowawayEnums.mode: describes 'medium', not allowed values",
        "ThrowawayEnums.shade: no description for 'light', 'dark' in ThrowawayEnums.schema_enum_descriptions",
        "ThrowawayEnums.sizes: no description for 'm' in ThrowawayEnums.schema_enum_descriptions",
        "ThrowawayEnums.colour: no description for 'red', 'blue' in ThrowawayEnums.schema_enum_descriptions",
        "ThrowawayEnums.schema_enum_descriptions names name, which is not an enum field",
    ]

    class DescribedEnums(MarianneModel):
        shade: Literal["light", "dark"] | None = None
        colour: _Colour = _Colour.RED
        schema_enum_descriptions: ClassVar[EnumDescriptions] = {
            "shade": {"light": "Pale.", "dark": "Deep."},
            "colour": {"red": "Red.", "blue": "Blue."},
        }

    assert undescribed_enums(DescribedEnums) == []


# -- the exporter is generic -------------------------------------------------------------------------------


def _code_strings(tree: ast.Module) -> set[str]:
    """String constants of a module, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_the_exporter_names_no_model() -> None:
    tree = ast.parse(Path(schema_export.__file__).read_text(encoding="utf-8"))
    named = sorted(_code_strings(tree) & set(exported_models()))
    assert not named, f"schema_export.py names models {named}; declare that on the models instead"


@pytest.mark.parametrize("kind", KINDS)
def test_each_hook_reaches_its_model(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walker calls every model's hook with that model's own schema object."""
    seen: list[tuple[str, str]] = []

    def record(cls: type[MarianneModel], node: JsonDict) -> None:
        seen.append((cls.__name__, node["title"]))

    models = _models_by_name(root_model(kind))
    for model in models.values():
        monkeypatch.setattr(model, "schema_extras", classmethod(record))
    schema_export.build_schema(kind)
    assert sorted(seen) == sorted((name, schema_export._model_title(name)) for name in models)


def test_importing_the_models_does_not_import_the_exporter() -> None:
    code = (
        "import sys\n"
        "from marianne_lint.building.models import root_model\n"
        "for kind in ('score', 'conductor', 'instrument', 'fleet'):\n"
        "    root_model(kind)\n"
        "print('marianne_lint.building.schema_export' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
