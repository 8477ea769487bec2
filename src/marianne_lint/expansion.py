"""Fan-out expansion: stages with several parallel instances become sheets.

A pure function shared by the sheet model (which expands at parse time, as
Marianne does) and by the rules (which reason about the expanded graph). The
caller has already checked that every stage number is in range.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SheetMeta:
    """Where one concrete sheet comes from."""

    stage: int
    instance: int
    fan_count: int


@dataclass(frozen=True, slots=True)
class Expansion:
    """The result of expanding stages into sheets."""

    sheets: dict[int, SheetMeta]
    """Sheet number -> its stage, instance and the stage's instance count."""
    dependencies: dict[int, list[int]]
    """Sheet-level dependencies, in declaration order, without repeats."""
    stage_sheets: dict[int, list[int]]
    """Stage number -> the sheets it became, in order."""

    def remap_stage_keyed(self, values: dict[int, object]) -> dict[int, object]:
        """Copy a stage-keyed map onto every sheet of each stage.

        A key naming no known stage is kept as written, as Marianne does.
        """
        out: dict[int, object] = {}
        for stage, value in values.items():
            for sheet in self.stage_sheets.get(stage, [stage]):
                out[sheet] = value
        return out


def expand(total_stages: int, fan_out: dict[int, int], dependencies: dict[int, list[int]]) -> Expansion:
    """Expand ``total_stages`` stages; ``fan_out`` gives instance counts (default 1)."""
    sheets: dict[int, SheetMeta] = {}
    stage_sheets: dict[int, list[int]] = {}
    number = 0
    for stage in range(1, total_stages + 1):
        count = fan_out.get(stage, 1)
        members = []
        for instance in range(1, count + 1):
            number += 1
            sheets[number] = SheetMeta(stage, instance, count)
            members.append(number)
        stage_sheets[stage] = members

    expanded: dict[int, list[int]] = {}
    for stage, upstream in dependencies.items():
        targets = stage_sheets.get(stage, [])
        for dep_stage in upstream:
            sources = stage_sheets.get(dep_stage, [])
            for index, target in enumerate(targets):
                # instance-matched when both sides have the same count > 1;
                # otherwise 1->1, fan-out, fan-in and all-to-all take every source
                wanted = [sources[index]] if len(sources) == len(targets) > 1 else sources
                edges = expanded.setdefault(target, [])
                for source in wanted:
                    if source not in edges:
                        edges.append(source)
    return Expansion(sheets, expanded, stage_sheets)
