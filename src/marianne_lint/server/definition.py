"""Go to definition: from ``{{ name }}`` in a template to its key under ``prompt.variables``, and
from an instrument name (a movement's ``instrument``, the score's, a fallback, a per-sheet one) to
its entry under ``instruments:``, or to the profile file on disk that defines it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from marianne_lint.server import facts
from marianne_lint.server.context import data_schema_path, tree_at
from marianne_lint.server.convert import TextIndex
from marianne_lint.server.hover import INSTRUMENT_KEYS, template_name_at
from marianne_lint.server.schema_info import ITEM
from marianne_lint.server.snapshot import Snapshot


def _key_location(snapshot: Snapshot, index: TextIndex, uri: str, path: tuple[Any, ...]) -> types.Location | None:
    root = snapshot.loaded.root
    if root is None:
        return None
    found = root.locate(path)
    if not found.exact or found.key is None:
        return None
    return types.Location(uri, index.span(*found.key.span))


def definition(snapshot: Snapshot, index: TextIndex, uri: str, position: types.Position,
               path: str | None = None) -> list[types.Location] | None:
    if snapshot.kind != "score" or not snapshot.ok:
        return None
    line, column = index.column(position)
    text = snapshot.lines[line - 1] if 0 < line <= len(snapshot.lines) else ""
    named = template_name_at(text, column - 1)
    if named is not None:
        found = _key_location(snapshot, index, uri, ("prompt", "variables", named[0]))
        return [found] if found is not None else None
    hit = tree_at(snapshot.loaded.root, line, column)
    if hit is None or hit.role != "value":
        return None
    value = hit.node.text if hit.node.text is not None else None
    data = snapshot.data
    spath = data_schema_path(data, hit.path)
    keys = [step for step in spath if isinstance(step, str) and step != ITEM]
    if not keys or keys[-1] not in INSTRUMENT_KEYS or not isinstance(value, str):
        return None
    if keys[-1] != "profile":
        found = _key_location(snapshot, index, uri, ("instruments", value))
        if found is not None:
            return [found]
    if path is not None:
        file = facts.local_profiles(path).get(value)
        if file is not None:
            start = types.Position(0, 0)
            return [types.Location(Path(file).absolute().as_uri(), types.Range(start, start))]
    return None


__all__ = ["definition"]
