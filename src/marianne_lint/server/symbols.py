"""Document symbols: the key tree of the file, and for a score the sheets and stages after fan-out
(under ``sheet``), each validation and each movement named by what it is."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from marianne_lint.reading.positions import MAP, SEQ, PNode, Span
from marianne_lint.server import facts
from marianne_lint.server.convert import TextIndex
from marianne_lint.server.snapshot import Snapshot

#: Below this depth, keys are not listed.
MAX_DEPTH = 8
#: At most this many symbols in all (a huge file still answers fast).
MAX_SYMBOLS = 5_000
#: At most this many sheets listed under ``sheet`` / ``sheets``.
MAX_SHEETS = 500


class _Builder:
    def __init__(self, index: TextIndex) -> None:
        self.index = index
        self.count = 0

    def range(self, span: Span) -> types.Range:
        return self.index.span(*span)

    def symbol(self, name: str, kind: types.SymbolKind, whole: Span, selection: Span, detail: str | None = None,
               children: list[types.DocumentSymbol] | None = None) -> types.DocumentSymbol:
        self.count += 1
        rng = self.range(whole)
        pick = self.range(selection)
        start = min((rng.start.line, rng.start.character), (pick.start.line, pick.start.character))
        end = max((rng.end.line, rng.end.character), (pick.end.line, pick.end.character))
        rng = types.Range(types.Position(*start), types.Position(*end))
        return types.DocumentSymbol(name=name or "(empty)", kind=kind, range=rng, selection_range=pick,
                                    detail=detail, children=children or None)


def _kind_of(value: Any, node: PNode) -> types.SymbolKind:
    if node.kind == MAP:
        return types.SymbolKind.Object
    if node.kind == SEQ:
        return types.SymbolKind.Array
    if isinstance(value, bool):
        return types.SymbolKind.Boolean
    if isinstance(value, int | float):
        return types.SymbolKind.Number
    if value is None:
        return types.SymbolKind.Null
    return types.SymbolKind.String


def _join(a: Span, b: Span) -> Span:
    start = min((a.line, a.column), (b.line, b.column))
    end = max((a.end_line, a.end_column), (b.end_line, b.end_column))
    return Span(start[0], start[1], end[0], end[1])


def _scalar_detail(value: Any) -> str | None:
    if isinstance(value, dict | list):
        return None
    text = str(value) if not isinstance(value, bool) else ("true" if value else "false")
    text = " ".join(text.split())
    return text[:60] + ("..." if len(text) > 60 else "")


def _item_name(position: int, value: Any, parent: str | None) -> tuple[str, str | None]:
    if isinstance(value, dict):
        if parent == "validations":
            kind = value.get("type")
            detail = value.get("description") or value.get("path") or value.get("command") or value.get("pattern")
            name = f"validation {position + 1}" + (f": {kind}" if kind else "")
            return name, _scalar_detail(detail) if detail else None
        for key in ("name", "type", "id", "title"):
            if isinstance(value.get(key), str | int) and not isinstance(value.get(key), bool):
                return f"{position + 1}: {value[key]}", None
    return f"{position + 1}", _scalar_detail(value)


def _children(builder: _Builder, value: Any, node: PNode, depth: int, parent: str | None) -> list[types.DocumentSymbol]:
    out: list[types.DocumentSymbol] = []
    if depth >= MAX_DEPTH or builder.count >= MAX_SYMBOLS:
        return out
    if node.kind == MAP and node.keys is not None and node.values is not None and isinstance(value, dict):
        for key, key_node in node.keys.items():
            if key in node.merged or builder.count >= MAX_SYMBOLS:
                continue  # keys from a merge key are listed where they are written
            value_node = node.values[key]
            item = value.get(key)
            name = str(key) if not isinstance(key, bool) else ("true" if key else "false")
            detail = _scalar_detail(item)
            if parent == "movements" and isinstance(item, dict):
                name = f"movement {key}"
                detail = " ".join(str(item[k]) for k in ("name", "instrument") if item.get(k)) or None
            kids = _children(builder, item, value_node, depth + 1, str(key))
            out.append(builder.symbol(name, _kind_of(item, value_node), _join(key_node.span, value_node.span),
                                      key_node.span, detail, kids))
    elif node.kind == SEQ and node.items is not None and isinstance(value, list):
        for position, (item_node, item) in enumerate(zip(node.items, value, strict=False)):
            if builder.count >= MAX_SYMBOLS:
                break
            name, detail = _item_name(position, item, parent)
            kind = types.SymbolKind.Event if parent == "validations" else _kind_of(item, item_node)
            kids = _children(builder, item, item_node, depth + 1, None)
            out.append(builder.symbol(name, kind, item_node.span, item_node.span, detail, kids))
    return out


def _sheet_symbols(builder: _Builder, data: Any, root: PNode) -> types.DocumentSymbol | None:
    """``sheets``: each stage and its sheets after fan-out (or each sheet and its items)."""
    plan = facts.sheet_plan(data)
    sheet_key, sheet_value = root.child("sheet")
    if plan is None or sheet_key is None or sheet_value is None or not plan.sheets:
        return None

    def place(stage: int) -> Span:
        for path in (("fan_out", stage), ("dependencies", stage)):
            found = sheet_value.locate(path)
            if found.exact and found.key is not None:
                return found.key.span
        found = root.locate(("movements", stage))
        if found.exact and found.key is not None:
            return found.key.span
        return sheet_key.span

    whole = _join(sheet_key.span, sheet_value.span)
    kids: list[types.DocumentSymbol] = []
    if plan.fan_out:
        for stage, members in plan.stage_sheets.items():
            if builder.count >= MAX_SYMBOLS or len(kids) >= MAX_SHEETS:
                break
            where = place(stage)
            sheets = [builder.symbol(f"sheet {n}", types.SymbolKind.Object, where, where,
                                     f"instance {plan.sheets[n].instance} of {plan.sheets[n].fan_count}")
                      for n in members] if len(members) > 1 else []
            detail = f"{len(members)} instances" if len(members) > 1 else f"sheet {members[0]}"
            kids.append(builder.symbol(f"stage {stage}", types.SymbolKind.Class, where, where, detail, sheets))
        detail = f"{len(plan.sheets)} sheets in {plan.stages} stages"
    else:
        for number in list(plan.sheets)[:MAX_SHEETS]:
            if builder.count >= MAX_SYMBOLS:
                break
            first, last = plan.items[number]
            where = place(number)
            kids.append(builder.symbol(f"sheet {number}", types.SymbolKind.Object, where, where,
                                       f"item {first}" if first == last else f"items {first}-{last}"))
        detail = f"{len(plan.sheets)} sheets"
    return builder.symbol("sheets", types.SymbolKind.Package, whole, sheet_key.span, detail, kids)


def document_symbols(snapshot: Snapshot, index: TextIndex) -> list[types.DocumentSymbol] | None:
    """The outline of a document that loads (None when it does not: the caller keeps the last one)."""
    if not snapshot.ok or snapshot.loaded.root is None:
        return None
    root = snapshot.loaded.root
    builder = _Builder(index)
    symbols = _children(builder, snapshot.data, root, 0, None)
    if snapshot.kind == "score" and isinstance(snapshot.data, dict):
        for position, symbol in enumerate(symbols):
            if symbol.name == "sheet":
                extra = _sheet_symbols(builder, snapshot.data, root)
                if extra is not None:
                    symbol.children = [*(symbol.children or []), extra]
                symbols[position] = symbol
    return symbols


def flatten(symbols: list[types.DocumentSymbol], uri: str) -> list[types.SymbolInformation]:
    """The tree as flat SymbolInformation, for clients without hierarchical symbols."""
    out: list[types.SymbolInformation] = []

    def walk(nodes: list[types.DocumentSymbol], container: str | None) -> None:
        for node in nodes:
            out.append(types.SymbolInformation(name=node.name, kind=node.kind,
                                               location=types.Location(uri, node.selection_range),
                                               container_name=container))
            walk(list(node.children or []), node.name if container is None else f"{container}/{node.name}")

    walk(symbols, None)
    return out


__all__ = ["document_symbols", "flatten"]
