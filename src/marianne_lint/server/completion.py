"""Completion: the keys allowed at the cursor that are not written yet, the values a field allows
(its enum, true/false, instrument names, sheet numbers), and template names inside ``{{ }}``.

It works on the lines as typed (a half-typed key rarely parses): the cursor's mapping is found by
indentation (:func:`marianne_lint.server.context.guess`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types

from marianne_lint.server import facts, schema_info
from marianne_lint.server.context import guess
from marianne_lint.server.convert import TextIndex
from marianne_lint.server.hover import INSTRUMENT_KEYS, number_meaning
from marianne_lint.server.schema_info import ITEM, JsonDict
from marianne_lint.server.snapshot import Snapshot

_KEY_POSITION = re.compile(r"( *)((?:- +)*)([A-Za-z0-9_.\-\"']*)")
_VALUE_POSITION = re.compile(r"( *)((?:- +)*)(\"[^\"]*\"|'[^']*'|[^\s#'\"][^#:]*?)\s*:\s+(.*)")
_WORD_END = re.compile(r"[A-Za-z0-9_.\-]*$")
_NUMBERED = (("sheet", "dependencies"), ("sheet", "fan_out"), ("sheet", "skip_when"), ("sheet", "skip_when_command"),
             ("sheet", "per_sheet_instruments"), ("sheet", "per_sheet_fallbacks"), ("movements",))


class _Items:
    """Completion items sharing one replaced range."""

    def __init__(self, index: TextIndex, line: int, start: int, end: int) -> None:
        # start/end: 0-based character columns of the linted line
        self.range = types.Range(index.place(line + 1, start + 1), index.place(line + 1, end + 1))
        self.items: list[types.CompletionItem] = []
        self.labels: set[str] = set()

    def add(self, label: str, new_text: str, kind: types.CompletionItemKind, detail: str | None = None,
            documentation: str | None = None) -> None:
        if label in self.labels:
            return
        self.labels.add(label)
        self.items.append(types.CompletionItem(
            label=label,
            kind=kind,
            detail=detail,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, documentation) if documentation else None,
            sort_text=f"{len(self.items):05d}",
            filter_text=label,
            text_edit=types.TextEdit(self.range, new_text),
            insert_text_format=types.InsertTextFormat.PlainText,
        ))


def _present_numbers(rest: str) -> set[str]:
    return {token.strip() for token in re.split(r"[\[\],\s]+", rest) if token.strip()}


def _value_items(items: _Items, snapshot: Snapshot, spath: Sequence[Any], node: JsonDict | None, path: str | None,
                 present: Iterable[str] = ()) -> None:
    kind = snapshot.kind
    assert kind is not None
    data = snapshot.data
    if node is not None:
        full = schema_info.merged(node, kind)
        for value, about in schema_info.enum_of(full):
            shown = schema_info.shown(value)
            items.add(shown, shown, types.CompletionItemKind.EnumMember, schema_info.type_label(full), about)
        if schema_info.is_boolean(full):
            for word in ("true", "false"):
                items.add(word, word, types.CompletionItemKind.Value, "boolean")
    keys = [step for step in spath if isinstance(step, str) and step != ITEM]
    if kind == "score" and keys:
        owner = keys[-1]
        if owner in INSTRUMENT_KEYS and (owner != "profile" or spath[0] == "instruments"):
            for name, where in sorted(facts.instrument_names(data, path, aliases=INSTRUMENT_KEYS[owner]).items()):
                items.add(name, name, types.CompletionItemKind.Value, "instrument", where)
        if len(spath) == 4 and tuple(spath[:2]) == ("sheet", "dependencies") and spath[3] == ITEM:
            _number_items(items, snapshot, spath, exclude={str(spath[2]), *present})


def _number_items(items: _Items, snapshot: Snapshot, spath: Sequence[Any], exclude: Iterable[str],
                  suffix: str = "") -> None:
    plan = facts.sheet_plan(snapshot.data) if snapshot.data is not None else None
    if plan is None:
        plan = _plan_from_lines(snapshot)
    if plan is None:
        return
    stage_keyed = plan.fan_out and (spath[0] == "movements" or spath[1] in ("fan_out", "dependencies", "skip_when",
                                                                           "skip_when_command"))
    count = plan.stages if stage_keyed or not plan.fan_out else len(plan.sheets)
    skip = set(exclude)
    for number in range(1, min(count, facts.MAX_LISTED_SHEETS) + 1):
        if str(number) in skip:
            continue
        meaning = number_meaning((*spath[:2], number) if len(spath) >= 2 else (spath[0], number), number, snapshot.data
                                 ) if snapshot.data is not None else None
        items.add(str(number), f"{number}{suffix}", types.CompletionItemKind.Value,
                  meaning or ("stage" if stage_keyed else "sheet"))


def _plan_from_lines(snapshot: Snapshot) -> facts.SheetPlan | None:
    """The sheets of a buffer that does not load: load its ``sheet:`` section alone."""
    from marianne_lint.reading.loader import Limits, load

    lines = snapshot.lines
    for number, line in enumerate(lines):
        if re.match(r"sheet\s*:", line):
            block = [line]
            for later in lines[number + 1 :]:
                if later and not later[0].isspace() and not later.startswith("#"):
                    break
                block.append(later)
            loaded = load("\n".join(block) + "\n", Limits())
            return facts.sheet_plan(loaded.data) if loaded.ok else None
    return None


def _key_items(items: _Items, snapshot: Snapshot, spath: Sequence[Any], siblings: set[str], column: int) -> None:
    kind = snapshot.kind
    assert kind is not None
    node = schema_info.at(kind, spath)
    if node is None:
        return
    root = schema_info.schema(kind)
    props = schema_info.properties(node, root)
    if not props:
        if tuple(spath) in _NUMBERED:
            _number_items(items, snapshot, spath, exclude=siblings, suffix=": ")
        return
    indent = " " * (column + 2)
    for key, prop in props.items():
        if key in siblings:
            continue
        full = schema_info.merged(prop, kind)
        if full.get("doNotSuggest") or full.get("deprecated"):
            continue
        label = schema_info.type_label(full)
        types_ = schema_info.types_of(full)
        if "array" in types_[:1] or (not types_ and "items" in full):
            new_text = f"{key}:\n{indent}- "
        elif ("object" in types_[:1] or (not types_ and "properties" in full)) and schema_info.properties(full, root):
            new_text = f"{key}:\n{indent}"
        else:
            new_text = f"{key}: "
        items.add(key, new_text, types.CompletionItemKind.Property, label, schema_info.describe(key, prop, kind))


def _template_items(items: _Items, data: Any) -> None:
    for name, about in facts.BUILTIN_NAMES.items():
        items.add(name, name, types.CompletionItemKind.Variable, "built-in", about)
    for name, value in facts.variables(data).items():
        shown = schema_info.shown(value)
        items.add(name, name, types.CompletionItemKind.Variable, "prompt.variables",
                  f"```yaml\n{name}: {shown[:200]}\n```")


def _variables_from_lines(snapshot: Snapshot, line: int) -> Any:
    """The data of a buffer that does not load, with the cursor's line left out (often what breaks it)."""
    from marianne_lint.reading.loader import Limits, load

    if snapshot.ok:
        return snapshot.data
    lines = list(snapshot.lines)
    if 0 <= line < len(lines):
        lines[line] = ""
    loaded = load("\n".join(lines), Limits())
    return loaded.data if loaded.ok else None


def complete(snapshot: Snapshot, index: TextIndex, position: types.Position, path: str | None = None
             ) -> types.CompletionList:
    """The completion items at ``position``."""
    empty = types.CompletionList(is_incomplete=False, items=[])
    if snapshot.kind is None:
        return empty
    line_number, column = index.column(position)
    line = line_number - 1
    text = snapshot.lines[line] if 0 <= line < len(snapshot.lines) else ""
    before = text[: column - 1]
    word = _WORD_END.search(before)
    start = word.start() if word is not None else len(before)

    opening = before.rfind("{{")
    if snapshot.kind == "score" and opening >= 0 and before.rfind("}}") < opening:
        items = _Items(index, line, start, len(before))
        _template_items(items, _variables_from_lines(snapshot, line))
        return types.CompletionList(is_incomplete=False, items=items.items)

    key_position = _KEY_POSITION.fullmatch(before)
    if key_position is not None:
        spaces, dashes, _typed = key_position.groups()
        column0 = len(spaces) + len(dashes)
        where = guess(snapshot.lines, line, column0, new_item=bool(dashes))
        if where.scalar_key is not None:
            return empty
        items = _Items(index, line, column0, len(before))
        mapping = tuple(where.path)
        node = schema_info.at(snapshot.kind, mapping)
        if dashes and node is not None and not schema_info.properties(node, schema_info.schema(snapshot.kind)):
            _value_items(items, snapshot, mapping, node, path)  # a scalar list item: `- cl|`
        else:
            _key_items(items, snapshot, mapping, where.siblings, column0)
        return types.CompletionList(is_incomplete=False, items=items.items)

    value_position = _VALUE_POSITION.fullmatch(before)
    if value_position is not None:
        spaces, dashes, key, rest = value_position.groups()
        key = key.strip("\"'")
        column0 = len(spaces) + len(dashes)
        where = guess(snapshot.lines, line, column0, new_item=bool(dashes))
        if where.scalar_key is not None:
            return empty
        spath: tuple[Any, ...] = (*where.path, key)
        present: set[str] = set()
        if rest.lstrip().startswith("["):
            spath = (*spath, ITEM)
            present = _present_numbers(rest)
            piece = re.search(r"[^\s\[,'\"]*$", rest)
            start = len(before) - (len(piece.group(0)) if piece else 0)
        elif rest.strip().startswith(("|", ">", "{", "&", "*", "!")):
            return empty
        else:
            start = len(before) - len(rest.lstrip("\"' ")) if rest.strip() else len(before)
        items = _Items(index, line, start, len(before))
        _value_items(items, snapshot, spath, schema_info.at(snapshot.kind, spath), path, present)
        return types.CompletionList(is_incomplete=False, items=items.items)
    return empty


__all__ = ["complete"]
