"""Hover: on a key, what the schema says about it; on a finding, its rule's summary and link; on a
sheet or stage number, what it stands for after fan-out; on ``{{ name }}``, what the name holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from marianne_lint.diagnostics import Diagnostic
from marianne_lint.server import facts, schema_info
from marianne_lint.server.context import Hit, data_schema_path, guess, outline, tree_at
from marianne_lint.server.convert import TextIndex, contains
from marianne_lint.server.schema_info import ITEM
from marianne_lint.server.snapshot import Snapshot

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Keys whose numbers are sheets, or stages under fan-out (``sheet.<key>``).
_STAGE_KEYED = frozenset({"dependencies", "skip_when", "skip_when_command"})
#: Keys whose numbers are always concrete sheets (``sheet.<key>``).
_SHEET_KEYED = frozenset({"per_sheet_instruments", "per_sheet_fallbacks"})
#: Keys whose values are instrument names, and whether a score alias counts.
INSTRUMENT_KEYS = {"instrument": True, "instrument_fallbacks": True, "per_sheet_instruments": True,
                   "per_sheet_fallbacks": True, "profile": False}


def template_name_at(line: str, column: int) -> tuple[str, int, int] | None:
    """The name under 0-based character ``column`` when it is inside ``{{ ... }}`` (name, start, end)."""
    opening = line.rfind("{{", 0, column + 1)
    if opening < 0 or line.rfind("}}", 0, column) > opening:
        return None
    closing = line.find("}}", opening + 2)
    if closing >= 0 and column > closing:
        return None
    for match in _NAME.finditer(line, opening + 2, closing if closing >= 0 else len(line)):
        if match.start() <= column <= match.end():
            if line[opening + 2 : match.start()].rstrip()[-1:] in (".", "|"):
                return None  # an attribute or a filter: not a name of its own
            return match.group(0), match.start(), match.end()
        if match.start() > column:
            break
    return None


def describe_template_name(name: str, data: Any) -> str:
    variables = facts.variables(data)
    if name in variables:
        value = variables[name]
        shown = schema_info.shown(value)
        if len(shown) > 300:
            shown = shown[:300] + "..."
        return f"**`{name}`**: a variable of `prompt.variables`\n\n```yaml\n{name}: {shown}\n```"
    if name in facts.BUILTIN_NAMES:
        return f"**`{name}`**: built-in, {facts.BUILTIN_NAMES[name]}"
    return f"**`{name}`**: not defined: neither built in nor a key of `prompt.variables`"


def describe_finding(diagnostic: Diagnostic) -> str:
    from marianne_lint.rules import BY_CODE

    rule = BY_CODE.get(diagnostic.code)
    summary = f": {rule.summary}" if rule is not None else ""
    parts = [f"**{diagnostic.code}** `{diagnostic.rule}` ({diagnostic.severity.label}){summary}"]
    if diagnostic.suggestion:
        parts.append(f"Suggestion: {diagnostic.suggestion}")
    if diagnostic.fix is not None:
        parts.append(f"Quick fix: {diagnostic.fix.message}")
    if diagnostic.url:
        parts.append(f"[Documentation of {diagnostic.rule}]({diagnostic.url})")
    return "\n\n".join(parts)


def number_meaning(spath: Sequence[Any], number: Any, data: Any) -> str | None:
    """What a sheet or stage number at ``spath`` stands for (``spath`` ends with the key it is, or
    with the list item it is)."""
    from marianne_lint.building.expansion import lax_int

    value = lax_int(number) if not isinstance(number, bool) else None
    if value is None or len(spath) < 2:
        return None
    head = tuple(spath[:2])
    plan = facts.sheet_plan(data)
    if plan is None:
        return None
    if spath[0] == "movements" and len(spath) == 2:
        return f"movement {value} = " + plan.describe_stage(value)
    if head == ("sheet", "fan_out") and len(spath) == 3:
        return plan.describe_stage(value)
    if spath[0] == "sheet" and spath[1] in _STAGE_KEYED and (len(spath) == 3 or (len(spath) == 4 and spath[3] == ITEM)):
        return plan.describe_stage(value) if plan.fan_out else plan.describe_sheet(value)
    if spath[0] == "sheet" and spath[1] in _SHEET_KEYED and len(spath) == 3:
        return plan.describe_sheet(value)
    if head == ("sheet", "instrument_map") and len(spath) == 4 and spath[3] == ITEM:
        return plan.describe_sheet(value)
    return None


def _instrument_meaning(spath: Sequence[Any], value: Any, data: Any, path: str | None) -> str | None:
    keys = [step for step in spath if step != ITEM and isinstance(step, str)]
    if not keys or not isinstance(value, str):
        return None
    owner = keys[-1]
    if owner not in INSTRUMENT_KEYS or (owner == "profile" and spath[0] != "instruments"):
        return None
    names = facts.instrument_names(data, path, aliases=INSTRUMENT_KEYS[owner])
    where = names.get(value)
    if where is None:
        return f"instrument `{value}`: not a known profile" + (" or alias" if INSTRUMENT_KEYS[owner] else "")
    return f"instrument `{value}`: {where}"


def _schema_parts(snapshot: Snapshot, hit: Hit, path: str | None) -> list[str]:
    kind = snapshot.kind
    data = snapshot.data
    spath = data_schema_path(data, hit.path)
    parts: list[str] = []
    if kind is not None:
        node = schema_info.at(kind, spath)
        if hit.role == "key" and node is not None and hit.path:
            parts.append(schema_info.describe(str(hit.path[-1]), node, kind))
        elif hit.role == "value" and node is not None:
            full = schema_info.merged(node, kind)
            allowed = dict(schema_info.enum_of(full))
            value = _value(data, hit.path)
            if allowed.get(value):
                parts.append(f"`{schema_info.shown(value)}`: {allowed[value]}")
    if kind == "score" and hit.path:
        number = hit.path[-1] if hit.role == "key" else _value(data, hit.path)
        meaning = number_meaning(spath, number, data)
        if meaning is not None:
            parts.append(meaning[:1].upper() + meaning[1:] + ".")
        if hit.role == "value":
            about = _instrument_meaning(spath, _value(data, hit.path), data, path)
            if about is not None:
                parts.append(about[:1].upper() + about[1:] + ".")
    return parts


def _value(data: Any, path: Sequence[Any]) -> Any:
    value = data
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def _guessed_parts(snapshot: Snapshot, line: int, column: int) -> list[str]:
    """For a buffer that does not load: the key under the cursor, placed by indentation."""
    if snapshot.kind is None or not 0 <= line < len(snapshot.lines):
        return []
    found = outline(snapshot.lines[line])
    if found is None or found.key is None or not found.column <= column <= found.column + len(found.key):
        return []
    where = guess(snapshot.lines, line, found.column, new_item=found.dashes > 0)
    node = schema_info.at(snapshot.kind, (*where.path, found.key))
    return [schema_info.describe(found.key, node, snapshot.kind)] if node is not None else []


def hover(
    snapshot: Snapshot,
    index: TextIndex,
    position: types.Position,
    findings: Sequence[tuple[Diagnostic, types.Range]] = (),
    path: str | None = None,
) -> types.Hover | None:
    line, column = index.column(position)
    parts: list[str] = []
    text = snapshot.lines[line - 1] if 0 < line <= len(snapshot.lines) else ""
    named = template_name_at(text, column - 1) if snapshot.kind == "score" else None
    if named is not None:
        parts.append(describe_template_name(named[0], snapshot.data))
    for diagnostic, rng in findings:
        if contains(rng, position):
            parts.append(describe_finding(diagnostic))
    if named is None and snapshot.kind is not None:
        if snapshot.ok:
            hit = tree_at(snapshot.loaded.root, line, column)
            if hit is not None:
                parts.extend(_schema_parts(snapshot, hit, path))
        else:
            parts.extend(_guessed_parts(snapshot, line - 1, column - 1))
    if not parts:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(parts)))


__all__ = ["INSTRUMENT_KEYS", "describe_finding", "describe_template_name", "hover", "number_meaning",
           "template_name_at"]
