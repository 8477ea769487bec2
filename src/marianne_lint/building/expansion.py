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
    seen: dict[int, set[int]] = {}  # the edges of each target, for a linear check of repeats
    for stage, upstream in dependencies.items():
        targets = stage_sheets.get(stage, [])
        for dep_stage in upstream:
            sources = stage_sheets.get(dep_stage, [])
            for index, target in enumerate(targets):
                # instance-matched when both sides have the same count > 1;
                # otherwise 1->1, fan-out, fan-in and all-to-all take every source
                wanted = [sources[index]] if len(sources) == len(targets) > 1 else sources
                edges = expanded.setdefault(target, [])
                known = seen.setdefault(target, set())
                for source in wanted:
                    if source not in known:
                        known.add(source)
                        edges.append(source)
    return Expansion(sheets, expanded, stage_sheets)


def lax_int(value: object) -> int | None:
    """An integer as pydantic's lax mode reads one (``3``, ``"3"``, ``3.0``), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def planned_sheets(sheet: object) -> tuple[int, tuple[object, ...]] | None:
    """How many sheets a score's ``sheet`` section expands to, computed without expanding it,
    and the key that decides it; None when the section is not readable (the models say why).
    """
    if not isinstance(sheet, dict):
        return None
    total = lax_int(sheet.get("total_items"))
    if total is None or total < 1:
        return None
    fan_out = sheet.get("fan_out")
    if isinstance(fan_out, dict) and fan_out:
        count = total
        biggest: tuple[int, object] | None = None
        for stage, instances in fan_out.items():
            number, many = lax_int(stage), lax_int(instances)
            if number is None or many is None or not 1 <= number <= total or many < 1:
                return None
            count += many - 1
            if biggest is None or many > biggest[0]:
                biggest = (many, stage)
        if biggest is not None and biggest[0] > total:
            return count, ("sheet", "fan_out", biggest[1])
        return count, ("sheet", "total_items")
    size = lax_int(sheet.get("size", 1))
    if size is None or size < 1:
        return None
    start = lax_int(sheet.get("start_item", 1)) or 1
    return -(-(total - start + 1) // size) if total >= start else 0, ("sheet", "total_items")


def planned_edges(sheet: object) -> tuple[int, tuple[object, ...]] | None:
    """How many sheet-to-sheet dependencies a score's ``sheet`` section expands to, counted from the
    stage counts (nothing is expanded), and the dependency entry that adds the most; None when the
    section is not readable or has no fan-out (then there is one edge per written entry)."""
    if not isinstance(sheet, dict):
        return None
    fan_out, dependencies = sheet.get("fan_out"), sheet.get("dependencies")
    if not isinstance(fan_out, dict) or not fan_out or not isinstance(dependencies, dict):
        return None
    counts: dict[int, int] = {}
    for stage, instances in fan_out.items():
        number, many = lax_int(stage), lax_int(instances)
        if number is None or many is None or many < 1:
            return None
        counts[number] = many
    total = 0
    biggest: tuple[int, object] | None = None
    for stage, upstream in dependencies.items():
        target = lax_int(stage)
        if target is None or not isinstance(upstream, list):
            return None
        targets = counts.get(target, 1)
        added = 0
        for dep in upstream:
            source = lax_int(dep)
            if source is None:
                return None
            sources = counts.get(source, 1)
            added += targets if sources == targets > 1 else targets * sources
        total += added
        if biggest is None or added > biggest[0]:
            biggest = (added, stage)
    if biggest is None:
        return None
    return total, ("sheet", "dependencies", biggest[1])
