"""Facts about a validated score's sheets that several rules need.

The concrete sheets after fan-out expansion with their stage, instance and
fan count; the dependencies as written (stage level) and as run (sheet
level); and the variables Marianne puts in a validation's context for each
sheet. Computed once per document and shared (see :func:`marianne_lint.rules.base.per_document`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marianne_lint.building.expansion import SheetMeta
from marianne_lint.rules.base import per_document

if TYPE_CHECKING:
    from marianne_lint.rules.base import Context


#: The built-ins Marianne puts in a validation's context (they win over the score's variables).
VALIDATION_BUILTINS: tuple[str, ...] = (
    "sheet_num",
    "total_sheets",
    "workspace",
    "instrument_name",
    "movement",
    "voice",
    "voice_count",
    "total_movements",
    "stage",
    "instance",
    "fan_count",
    "total_stages",
)


@dataclass(frozen=True, slots=True)
class SheetFacts:
    total_sheets: int
    total_stages: int
    metas: dict[int, SheetMeta]
    """Sheet number -> stage, instance, fan count, for sheets 1..total_sheets."""
    stage_dependencies: dict[int, list[int]]
    """``sheet.dependencies`` as written (stage numbers under fan-out)."""
    sheet_dependencies: dict[int, list[int]]
    """The dependencies Marianne runs with (sheet numbers, after expansion)."""
    fan_out: dict[int, int]
    """``sheet.fan_out`` as written."""
    variables: dict[str, Any]

    @property
    def has_fan_out(self) -> bool:
        return bool(self.fan_out)

    def sheets_of_stage(self, stage: int) -> list[int]:
        return [n for n, meta in self.metas.items() if meta.stage == stage]

    def validation_context(self, sheet: int) -> dict[str, Any]:
        """What a validation's ``condition`` and ``path`` see for ``sheet`` at run time.

        The score's variables first, then the built-ins on top (built-ins win
        in validation contexts). ``instance``/``voice`` are None on solo sheets.
        """
        meta = self.metas[sheet]
        solo = meta.fan_count <= 1
        context = dict(self.variables)
        context.update(
            {
                "sheet_num": sheet,
                "total_sheets": self.total_sheets,
                "workspace": "",
                "instrument_name": "",
                "movement": meta.stage,
                "voice": None if solo else meta.instance,
                "voice_count": meta.fan_count,
                "total_movements": self.total_stages,
                "stage": meta.stage,
                "instance": None if solo else meta.instance,
                "fan_count": meta.fan_count,
                "total_stages": self.total_stages,
            }
        )
        return context

    def contexts(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for sheet in self.metas:
            yield sheet, self.validation_context(sheet)


@per_document
def validation_names(ctx: Context) -> frozenset[str]:
    """The names validation paths and commands are filled with: the built-ins and ``prompt.variables``."""
    variables = getattr(getattr(ctx.model, "prompt", None), "variables", None)
    return frozenset(VALIDATION_BUILTINS) | {str(name) for name in (variables if isinstance(variables, dict) else {})}


@per_document
def sheet_facts(ctx: Context) -> SheetFacts:
    model: Any = ctx.model
    sheet = model.sheet
    total = sheet.total_sheets
    stage_map = sheet.fan_out_stage_map or {}
    metas: dict[int, SheetMeta] = {}
    for number in range(1, max(total, 0) + 1):
        entry = stage_map.get(number)
        if isinstance(entry, dict) and "stage" in entry:
            metas[number] = SheetMeta(
                int(entry["stage"]), int(entry.get("instance", 1)), int(entry.get("fan_count", 1))
            )
        else:
            metas[number] = SheetMeta(number, 1, 1)
    variables = model.prompt.variables if isinstance(model.prompt.variables, dict) else {}
    facts = SheetFacts(
        total_sheets=total,
        total_stages=sheet.total_stages,
        metas=metas,
        stage_dependencies=dict(sheet._input_dependencies),
        sheet_dependencies=dict(sheet.dependencies),
        fan_out=dict(sheet._input_fan_out),
        variables=dict(variables),
    )
    return facts


@dataclass(frozen=True, slots=True)
class Injection:
    """One ``file`` or ``directory`` of a prelude or cadenza item, as written."""

    path: tuple[Any, ...]
    """Data path of the value, e.g. ("sheet", "cadenzas", 3, 0, "file")."""
    label: str
    """``sheet.prelude[0].file`` style name for messages."""
    source: str
    """'prelude' or 'cadenza of sheet N'."""
    key: str
    """'file' or 'directory'."""
    written: str
    category: str
    """The item's ``as`` (context, skill or tool)."""
    first_sheet: bool
    """Whether the first sheet uses it (so no earlier sheet can have created it)."""


def injections(ctx: Context) -> Iterator[Injection]:
    """Every non-empty prelude and cadenza path of a score, in file order."""
    sheet = ctx.raw("sheet")
    if not isinstance(sheet, dict):
        return
    groups: list[tuple[tuple[Any, ...], str, str, Any, bool]] = [
        (("sheet", "prelude"), "sheet.prelude", "prelude", sheet.get("prelude"), True)
    ]
    cadenzas = sheet.get("cadenzas")
    if isinstance(cadenzas, dict):
        for number, items in cadenzas.items():
            groups.append(
                (("sheet", "cadenzas", number), f"sheet.cadenzas.{number}", f"cadenza of sheet {number}", items,
                 str(number) == "1")
            )
    for prefix, label, source, items, first in groups:
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            category = str(item.get("as", item.get("as_")))
            for key in ("file", "directory"):
                value = item.get(key)
                if isinstance(value, str) and value:
                    yield Injection(
                        (*prefix, index, key), f"{label}[{index}].{key}", source, key, value, category, first
                    )


def sheets_phrase(numbers: list[int]) -> str:
    """``sheet 3`` or ``sheets 2-4, 7``: sheet numbers as a message names them."""
    return f"sheet {numbers[0]}" if len(numbers) == 1 else f"sheets {sheet_list(numbers)}"


def sheet_list(numbers: list[int], limit: int = 12) -> str:
    """``1-3, 5, 7`` style rendering of sheet numbers."""
    numbers = sorted(set(numbers))
    runs: list[str] = []
    index = 0
    while index < len(numbers):
        start = numbers[index]
        end = start
        while index + 1 < len(numbers) and numbers[index + 1] == end + 1:
            index += 1
            end = numbers[index]
        runs.append(str(start) if start == end else f"{start}-{end}")
        index += 1
    if len(runs) > limit:
        return ", ".join(runs[:limit]) + f", ... ({len(numbers)} in all)"
    return ", ".join(runs)
