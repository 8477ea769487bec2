"""Facts about a score read from its data as loaded (no validation needed, so they are there while
the file still has errors): its sheets after fan-out, its template names, its instrument names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marianne_lint.building.expansion import SheetMeta, expand, lax_int

#: Beyond this many sheets, hover, completion and symbols stop listing them one by one.
MAX_LISTED_SHEETS = 2_000


@dataclass(frozen=True, slots=True)
class SheetPlan:
    """The concrete sheets of a score."""

    fan_out: bool
    stages: int
    """Stages declared (``total_items`` under fan-out; else one stage per sheet)."""
    sheets: dict[int, SheetMeta]
    stage_sheets: dict[int, list[int]]
    items: dict[int, tuple[int, int]]
    """Sheet -> (first item, last item) without fan-out."""

    def describe_sheet(self, number: int) -> str:
        meta = self.sheets.get(number)
        if meta is None:
            return f"sheet {number} does not exist: the score has {len(self.sheets)} sheet(s)"
        if self.fan_out:
            if meta.fan_count > 1:
                return f"sheet {number}: stage {meta.stage}, instance {meta.instance} of {meta.fan_count}"
            return f"sheet {number}: stage {meta.stage} (no fan-out)"
        first, last = self.items.get(number, (number, number))
        span = f"item {first}" if first == last else f"items {first}-{last}"
        return f"sheet {number} of {len(self.sheets)}: {span}"

    def describe_stage(self, stage: int) -> str:
        members = self.stage_sheets.get(stage)
        if not members:
            return f"stage {stage} does not exist: the score declares {self.stages} stage(s)"
        if len(members) == 1:
            return f"stage {stage}: sheet {members[0]}"
        shown = ", ".join(str(m) for m in members[:12]) + (", ..." if len(members) > 12 else "")
        return f"stage {stage}: {len(members)} instances, sheets {shown}"


def _int_map(value: Any) -> dict[int, int]:
    out: dict[int, int] = {}
    if isinstance(value, dict):
        for key, count in value.items():
            number, many = lax_int(key), lax_int(count)
            if number is not None and many is not None:
                out[number] = many
    return out


def _dependencies(value: Any) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if isinstance(value, dict):
        for key, upstream in value.items():
            number = lax_int(key)
            if number is None or not isinstance(upstream, list):
                continue
            out[number] = [n for n in (lax_int(u) for u in upstream) if n is not None]
    return out


def sheet_plan(data: Any) -> SheetPlan | None:
    """The sheets of a score as Marianne expands them (None when ``sheet`` is not readable)."""
    sheet = data.get("sheet") if isinstance(data, dict) else None
    if not isinstance(sheet, dict):
        return None
    total = lax_int(sheet.get("total_items"))
    if total is None or total < 1:
        return None
    fan_out = _int_map(sheet.get("fan_out"))
    if fan_out:
        if total > MAX_LISTED_SHEETS or sum(max(c, 1) for c in fan_out.values()) > MAX_LISTED_SHEETS:
            return None
        counts = {stage: count for stage, count in fan_out.items() if 1 <= stage <= total and count >= 1}
        expansion = expand(total, counts, _dependencies(sheet.get("dependencies")))
        return SheetPlan(True, total, expansion.sheets, expansion.stage_sheets, {})
    size = lax_int(sheet.get("size", 1)) or 1
    start = lax_int(sheet.get("start_item", 1)) or 1
    if size < 1 or total < start:
        return SheetPlan(False, 0, {}, {}, {})
    count = -(-(total - start + 1) // size)
    if count > MAX_LISTED_SHEETS:
        return None
    sheets = {n: SheetMeta(n, 1, 1) for n in range(1, count + 1)}
    items = {n: (start + (n - 1) * size, min(start + n * size - 1, total)) for n in sheets}
    return SheetPlan(False, count, sheets, {n: [n] for n in sheets}, items)


# -- template names ----------------------------------------------------------------------------------

#: What each name the prompt renderer defines holds (our own short descriptions).
BUILTIN_NAMES: dict[str, str] = {
    "sheet_num": "the number of the sheet being rendered (from 1)",
    "total_sheets": "how many sheets the score has, after fan-out",
    "start_item": "the first item of this sheet's range",
    "end_item": "the last item of this sheet's range",
    "workspace": "the job's workspace folder",
    "stage": "the stage this sheet belongs to (its number before fan-out)",
    "movement": "the same as `stage`",
    "instance": "which instance of its stage this sheet is (from 1)",
    "voice": "the same as `instance`",
    "fan_count": "how many instances this sheet's stage has",
    "voice_count": "the same as `fan_count`",
    "total_stages": "how many stages the score declares",
    "total_movements": "the same as `total_stages`",
    "previous_outputs": "what earlier sheets printed (with `cross_sheet`), by sheet number",
    "previous_files": "files captured from earlier sheets (`cross_sheet.capture_files`)",
    "skipped_upstream": "the upstream sheets that were skipped",
    "injected_context": "text added by prelude/cadenza items with `as: context`",
    "injected_skills": "text added by prelude/cadenza items with `as: skill`",
    "injected_tools": "text added by prelude/cadenza items with `as: tool`",
    "stakes": "the text of `prompt.stakes`",
    "thinking_method": "the text of `prompt.thinking_method`",
}


def variables(data: Any) -> dict[str, Any]:
    """``prompt.variables`` as loaded."""
    prompt = data.get("prompt") if isinstance(data, dict) else None
    found = prompt.get("variables") if isinstance(prompt, dict) else None
    return {str(k): v for k, v in found.items()} if isinstance(found, dict) else {}


# -- instrument names --------------------------------------------------------------------------------


def instrument_names(data: Any, path: str | None, *, aliases: bool = True) -> dict[str, str]:
    """Instrument name -> where it comes from: built-in profiles, profiles in the
    ``.marianne/instruments`` folders of the score's repository, and the score's own aliases."""
    from marianne_lint.rules.support.builtin_instruments import BUILTIN_PROFILES

    out: dict[str, str] = {}
    for builtin in BUILTIN_PROFILES.values():
        out[builtin.name] = f"built-in {builtin.kind} profile" + (" (native)" if builtin.origin == "native" else "")
    if path is not None:
        for name, file in local_profiles(path).items():
            out[name] = f"profile `{file}`"
    if aliases and isinstance(data, dict) and isinstance(data.get("instruments"), dict):
        for alias, definition in data["instruments"].items():
            profile = definition.get("profile") if isinstance(definition, dict) else None
            out[str(alias)] = f"alias of `{profile}` in this score" if profile else "alias in this score"
    return out


def local_profiles(path: str) -> dict[str, str]:
    """Profiles on disk that a score at ``path`` sees: name -> profile file."""
    from marianne_lint.rules.support.profiles import profiles_in, repository_instrument_dirs

    out: dict[str, str] = {}
    try:
        for folder in repository_instrument_dirs(Path(path).absolute().parent):
            for profile in profiles_in(folder):
                out[profile.name] = str(profile.path)
    except OSError:
        pass
    return out


__all__ = ["BUILTIN_NAMES", "MAX_LISTED_SHEETS", "SheetPlan", "instrument_names", "local_profiles", "sheet_plan",
           "variables"]
