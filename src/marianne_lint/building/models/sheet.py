"""The ``sheet:`` section of a score: how work is split into sheets.

Besides the plain fields, this module reproduces what Marianne does while
parsing the section: the legacy ``total_sheets`` key is dropped, the per-sheet
maps are checked, and a ``fan_out`` declaration is expanded into concrete
sheets (stage-level dependencies and skip rules become sheet-level ones).
The values the user actually wrote are kept in private attributes so later
lint rules can reason about the input rather than the expansion.
"""


import copy
from typing import Any, ClassVar, Literal, Self, cast

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from marianne_lint.building.expansion import expand
from marianne_lint.building.models.base import (
    Counterparts,
    EnumDescriptions,
    FieldLabels,
    MarianneModel,
    Snippets,
    cross_field_error,
)
from marianne_lint.building.models.schema_hints import JsonDict, hidden

InjectionCategory = Literal["context", "skill", "tool"]


class InjectionItem(MarianneModel):
    """One file or directory whose content is injected into a sheet's prompt.

    Exactly one of ``file`` and ``directory`` must be given; ``as`` says where
    in the assembled prompt the content goes.
    """

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)

    file: str | None = Field(
        default=None,
        description=(
            "Path of a single file to inject (Jinja placeholders allowed); a relative path "
            "is looked up in the workspace. Give either this or `directory`."
        ),
    )
    directory: str | None = Field(
        default=None,
        description=(
            "Directory whose files are all injected (text inline, binary files as reading "
            "instructions); a relative path is looked up in the workspace. Give either this or `file`."
        ),
    )
    as_: InjectionCategory = Field(
        alias="as",
        description=(
            "Where the injected content is placed in the prompt: `context`, `skill` or `tool`. "
            "Required; `as_` is accepted as a spelling too."
        ),
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "as_": {
            "context": "Background material placed in the context part of the prompt.",
            "skill": "Instructions on how to work, placed with the skills.",
            "tool": "Descriptions of tools the agent may use, placed with the tools.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_exactly_one_source": "schema: a non-empty `file` or `directory`, not both (allOf).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``as_`` as a second spelling of ``as``, and exactly one source."""
        props = node["properties"]
        spelled = copy.deepcopy(props["as"])
        spelled.update(
            title="As (alternative spelling)",
            description="Same as `as`; Marianne accepts this spelling too. Give only one of them.",
            doNotSuggest=True,
        )
        props["as_"] = spelled
        node.pop("required", None)  # `as` is required, but `as_` may stand in for it (see allOf)
        non_empty = {"type": "string", "minLength": 1}
        node["allOf"] = [
            {
                "anyOf": [
                    {"required": [key], "errorMessage": "An injection item needs `as`: context, skill or tool."}
                    for key in ("as", "as_")
                ]
            },
            {
                "if": {"required": ["as"]},
                "then": {
                    "properties": {"as_": hidden(type="null", errorMessage="Give either `as` or `as_`, not both.")}
                },
            },
            {
                "anyOf": [
                    {
                        "required": [key],
                        "properties": {key: hidden(**non_empty)},
                        "errorMessage": "An injection item needs a `file` or a `directory`.",
                    }
                    for key in ("file", "directory")
                ]
            },
            {
                "if": {"required": ["file"], "properties": {"file": non_empty}},
                "then": {
                    "properties": {
                        "directory": hidden(
                            type=["null", "string"],
                            pattern="^$",
                            errorMessage="Give either `file` or `directory`, not both.",
                        )
                    }
                },
            },
        ]

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if self.file and self.directory:
            raise cross_field_error(
                f"injection item sets both file ({self.file!r}) and directory ({self.directory!r}); "
                "give exactly one of them",
                "file",
                "directory",
            )
        if not self.file and not self.directory:
            raise cross_field_error(
                "injection item needs a source: set a non-empty `file` or `directory` (exactly one)",
                "file",
                "directory",
            )
        return self


class SkipWhenCommand(MarianneModel):
    """A shell probe run before a sheet; when it exits with status 0 the sheet is skipped."""

    command: str = Field(
        description=(
            "Shell command to run; exit status 0 skips the sheet. `{workspace}` is documented as "
            "substituted. Errors and timeouts let the sheet run."
        ),
    )
    description: str | None = Field(
        default=None,
        description="Optional note explaining why the sheet may be skipped.",
    )
    timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Seconds the probe may run before it is abandoned (more than 0, at most 60; default 10).",
    )


class SheetConfig(MarianneModel):
    """How the work is partitioned into sheets, their dependency graph and per-sheet settings.

    With ``fan_out`` the numbers in ``dependencies``, ``skip_when`` and
    ``skip_when_command`` are stages, expanded into concrete sheets at parse time.
    """

    size: int = Field(
        ge=1,
        description="Number of items each sheet processes (at least 1; must be 1 when `fan_out` is used).",
    )
    total_items: int = Field(
        ge=1,
        description=(
            "Total number of items to process; with `fan_out` it is the number of stages instead. "
            "Together with `size` and `start_item` it determines the sheet count."
        ),
    )
    start_item: int = Field(
        default=1,
        ge=1,
        description="Number of the first item (1-based, default 1; must be 1 when `fan_out` is used).",
    )
    descriptions: dict[int, str] = Field(
        default_factory=dict,
        description="Human-readable label per sheet number, shown in status output.",
    )
    dependencies: dict[int, list[int]] = Field(
        default_factory=dict,
        description=(
            "Dependency graph: sheet number to the list of sheets that must finish first "
            "(stage numbers when `fan_out` is used). When empty, sheets run in order."
        ),
    )
    spec_tags: dict[int, list[str]] = Field(
        default_factory=dict,
        description="Per-sheet list of tags selecting which spec fragments the sheet receives.",
    )
    skip_when: dict[int, str] = Field(
        default_factory=dict,
        description=(
            "Per-sheet expression that, when true, skips the sheet (keyed by stage under `fan_out`). "
            "No evaluator uses it at present."
        ),
    )
    prompt_extensions: dict[int, list[str]] = Field(
        default_factory=dict,
        description="Per-sheet extra directives for the prompt: inline text or a path to a .md/.txt file.",
    )
    prelude: list[InjectionItem] = Field(
        default_factory=list,
        description="Files or directories injected into the prompt of every sheet.",
    )
    cadenzas: dict[int, list[InjectionItem]] = Field(
        default_factory=dict,
        description="Additional files or directories injected only into the listed sheets' prompts.",
    )
    skip_when_command: dict[int, SkipWhenCommand] = Field(
        default_factory=dict,
        description=(
            "Per-sheet shell probe; the sheet is skipped when the command exits with 0 "
            "(keyed by stage under `fan_out`)."
        ),
    )
    fan_out: dict[int, int] = Field(
        default_factory=dict,
        description=(
            "Stage number to the number of parallel instances it runs as. Expanded into concrete "
            "sheets when the score is read; requires `size: 1` and `start_item: 1`."
        ),
    )
    fan_out_stage_map: dict[int, dict[str, int]] | None = Field(
        default=None,
        description=(
            "Result of the fan-out expansion (sheet to its stage, instance and fan count). "
            "Filled in automatically; normally not written by hand."
        ),
    )
    per_sheet_instruments: dict[int, str] = Field(
        default_factory=dict,
        description="Instrument to use for a given sheet number; overrides every other instrument choice.",
    )
    per_sheet_instrument_config: dict[int, dict[str, Any]] = Field(
        default_factory=dict,
        description="Instrument settings for a given sheet, merged on top of all other instrument config.",
    )
    per_sheet_fallbacks: dict[int, list[str]] = Field(
        default_factory=dict,
        description=(
            "Fallback instruments for a given sheet; replaces the inherited chain, and an empty "
            "list turns fallbacks off for that sheet."
        ),
    )
    instrument_map: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Instrument name to the sheet numbers it runs; a sheet may be listed under one instrument only.",
    )

    _input_total_items: int = PrivateAttr(default=0)
    _input_fan_out: dict[int, int] = PrivateAttr(default_factory=dict)
    _input_dependencies: dict[int, list[int]] = PrivateAttr(default_factory=dict)

    schema_counterparts: ClassVar[Counterparts] = {
        "_strip_computed_fields": "schema: the legacy `total_sheets` key is accepted, deprecated and never suggested.",
        "_expand_fan_out": (
            "schema: fan-out needs `size: 1` and `start_item: 1` (if/then); the stage numbers' range "
            "(within `total_items`) is left to the linter, JSON Schema cannot compare keys with a value."
        ),
        "_check_dependency_range": (
            "linter: needs the sheet count, computed from size, total_items, start_item and fan-out."
        ),
    }
    schema_not_suggested: ClassVar[frozenset[str]] = frozenset({"fan_out_stage_map"})
    schema_positive_keys: ClassVar[FieldLabels] = {
        "dependencies": "sheet number",
        "fan_out": "stage number",
        "per_sheet_instruments": "sheet number",
        "per_sheet_fallbacks": "sheet number",
    }
    schema_snippets: ClassVar[Snippets] = (
        {
            "label": "sheet section",
            "markdownDescription": "Split the work into sheets of one item each.",
            "body": {"size": "^${1:1}", "total_items": "^${2:3}"},
        },
    )

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """The legacy ``total_sheets``, bounds on sheet numbers and names, fan-out's ``size: 1``."""
        props = node["properties"]
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
        node["if"] = {"required": ["fan_out"], "properties": {"fan_out": {"type": "object", "minProperties": 1}}}
        node["then"] = {"properties": {"size": one, "start_item": one}}

    # -- before ---------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _strip_computed_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and "total_sheets" in data:
            data = {k: v for k, v in data.items() if k != "total_sheets"}
        return data

    # -- field validators -----------------------------------------------------

    @field_validator("per_sheet_instruments")
    @classmethod
    def _check_per_sheet_instruments(cls, value: dict[int, str]) -> dict[int, str]:
        for sheet, name in value.items():
            if sheet < 1:
                raise cross_field_error(
                    f"sheet.per_sheet_instruments key {sheet} is not a valid sheet number; use 1 or higher",
                    (sheet,),
                )
            if not name:
                raise cross_field_error(
                    f"sheet.per_sheet_instruments[{sheet}] is an empty instrument name; give an instrument name",
                    (sheet,),
                )
        return value

    @field_validator("per_sheet_fallbacks")
    @classmethod
    def _check_per_sheet_fallbacks(cls, value: dict[int, list[str]]) -> dict[int, list[str]]:
        for sheet in value:
            if sheet < 1:
                raise cross_field_error(
                    f"sheet.per_sheet_fallbacks key {sheet} is not a valid sheet number; use 1 or higher",
                    (sheet,),
                )
        return value

    @field_validator("instrument_map")
    @classmethod
    def _check_instrument_map(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        owner: dict[int, tuple[str, int]] = {}
        for name, sheets in value.items():
            if not name:
                raise cross_field_error(
                    "sheet.instrument_map has an empty instrument name as a key; name the instrument",
                    (name,),
                )
            for index, sheet in enumerate(sheets):
                if sheet < 1:
                    raise cross_field_error(
                        f"sheet.instrument_map[{name!r}] lists sheet {sheet}; sheet numbers start at 1",
                        (name, index),
                    )
                if sheet in owner:
                    first_name, first_index = owner[sheet]
                    raise cross_field_error(
                        f"sheet {sheet} is assigned to both {first_name!r} and {name!r} in "
                        "sheet.instrument_map; a sheet can belong to only one instrument",
                        (first_name, first_index),
                        (name, index),
                    )
                owner[sheet] = (name, index)
        return value

    @field_validator("fan_out")
    @classmethod
    def _check_fan_out(cls, value: dict[int, int]) -> dict[int, int]:
        for stage, count in value.items():
            if stage < 1:
                raise cross_field_error(
                    f"sheet.fan_out stage {stage} is not valid; stage numbers start at 1",
                    (stage,),
                )
            if count < 1:
                raise cross_field_error(
                    f"sheet.fan_out[{stage}] is {count}; a stage needs at least 1 instance",
                    (stage,),
                )
        return value

    @field_validator("dependencies")
    @classmethod
    def _check_dependencies(cls, value: dict[int, list[int]]) -> dict[int, list[int]]:
        for sheet, upstream in value.items():
            if sheet < 1:
                raise cross_field_error(
                    f"sheet.dependencies key {sheet} is not a valid sheet number; use 1 or higher",
                    (sheet,),
                )
            for index, dep in enumerate(upstream):
                if dep < 1:
                    raise cross_field_error(
                        f"sheet.dependencies[{sheet}] lists {dep}; sheet numbers start at 1",
                        (sheet, index),
                        (sheet,),
                    )
                if dep == sheet:
                    raise cross_field_error(
                        f"sheet {sheet} lists itself in sheet.dependencies; a sheet cannot depend on itself",
                        (sheet, index),
                        (sheet,),
                    )
        return value

    # -- after ----------------------------------------------------------------

    @model_validator(mode="after")
    def _expand_fan_out(self) -> Self:
        self._input_total_items = self.total_items
        self._input_fan_out = dict(self.fan_out)
        self._input_dependencies = {stage: list(upstream) for stage, upstream in self.dependencies.items()}
        if not self.fan_out:
            return self

        if self.size != 1:
            raise cross_field_error(
                f"sheet.size is {self.size} but fan_out is used; fan-out requires size 1",
                "size",
                "fan_out",
            )
        if self.start_item != 1:
            raise cross_field_error(
                f"sheet.start_item is {self.start_item} but fan_out is used; fan-out requires start_item 1",
                "start_item",
                "fan_out",
            )
        stages = self.total_items
        for stage in self.fan_out:
            if not 1 <= stage <= stages:
                raise cross_field_error(
                    f"sheet.fan_out names stage {stage}, but total_items declares {stages} stage(s); "
                    f"stages must be within 1..{stages}",
                    ("fan_out", stage),
                    "total_items",
                )
        for stage, upstream in self.dependencies.items():
            if not 1 <= stage <= stages:
                raise cross_field_error(
                    f"sheet.dependencies names stage {stage}, but total_items declares {stages} stage(s); "
                    f"stages must be within 1..{stages}",
                    ("dependencies", stage),
                    "total_items",
                )
            for index, dep in enumerate(upstream):
                if not 1 <= dep <= stages:
                    raise cross_field_error(
                        f"sheet.dependencies[{stage}] names stage {dep}, but total_items declares "
                        f"{stages} stage(s); stages must be within 1..{stages}",
                        ("dependencies", stage, index),
                        ("dependencies", stage),
                        "total_items",
                    )

        result = expand(stages, self.fan_out, self.dependencies)
        self.total_items = len(result.sheets)
        self.dependencies = result.dependencies
        self.skip_when = cast(dict[int, str], result.remap_stage_keyed(dict(self.skip_when)))
        self.skip_when_command = cast(
            dict[int, SkipWhenCommand], result.remap_stage_keyed(dict(self.skip_when_command))
        )
        self.fan_out_stage_map = {
            sheet: {"stage": meta.stage, "instance": meta.instance, "fan_count": meta.fan_count}
            for sheet, meta in result.sheets.items()
        }
        self.fan_out = {}
        return self

    @model_validator(mode="after")
    def _check_dependency_range(self) -> Self:
        total = self.total_sheets
        for sheet, upstream in self.dependencies.items():
            if not 1 <= sheet <= total:
                raise cross_field_error(
                    f"sheet.dependencies key {sheet} is outside the sheets of this score; "
                    f"valid sheet numbers are 1..{total}",
                    ("dependencies", sheet),
                    "total_items",
                )
            for index, dep in enumerate(upstream):
                if not 1 <= dep <= total:
                    raise cross_field_error(
                        f"sheet {sheet} depends on sheet {dep}, which does not exist; "
                        f"valid sheet numbers are 1..{total}",
                        ("dependencies", sheet, index),
                        ("dependencies", sheet),
                        "total_items",
                    )
        return self

    # -- derived values ---------------------------------------------------------

    @property
    def total_sheets(self) -> int:
        """Number of sheets: ceil((total_items - start_item + 1) / size); may be 0 or negative."""
        return (self.total_items - self.start_item + 1 + self.size - 1) // self.size

    @property
    def total_stages(self) -> int:
        """Highest stage of the fan-out map when there is one, else the sheet count."""
        stages = [entry["stage"] for entry in (self.fan_out_stage_map or {}).values() if "stage" in entry]
        return max(stages) if stages else self.total_sheets
