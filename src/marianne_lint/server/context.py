"""Where the cursor is in the YAML: the key path of the key or value under it.

When the buffer loads, the loader's position tree answers exactly. While the user types the
buffer often does not load (a half-typed key is not YAML), so :func:`guess` reads the path from
the indentation of the lines above the cursor instead, and the keys already present from the
lines at the same indentation around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from marianne_lint.reading.positions import MAP, SEQ, PNode, Span
from marianne_lint.server.schema_info import ITEM

Path = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """The node under the cursor in the loaded tree."""

    path: Path
    """Data path of the value (for a key: of the value the key names)."""
    role: Literal["key", "value"]
    node: PNode
    """The key's node (role key) or the scalar value's node."""


def _inside(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column)


def _touches(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def tree_at(root: PNode | None, line: int, column: int) -> Hit | None:
    """The key or scalar value at 1-based (line, column), or None (between nodes)."""
    if root is None:
        return None
    node: PNode = root
    path: list[Any] = []
    for _ in range(10_000):
        if node.kind == MAP and node.keys is not None and node.values is not None:
            inner = None
            for key, key_node in node.keys.items():
                if _touches(key_node.span, line, column) and key_node.span.line == line:
                    return Hit((*path, key), "key", key_node)
                value = node.values.get(key)
                if value is not None and _inside(value.span, line, column):
                    inner = (key, value)
            if inner is None:
                return None
            path.append(inner[0])
            node = inner[1]
        elif node.kind == SEQ and node.items is not None:
            for position, item in enumerate(node.items):
                if _inside(item.span, line, column):
                    path.append(position)
                    node = item
                    break
            else:
                return None
        else:
            return Hit(tuple(path), "value", node) if _touches(node.span, line, column) else None
    return None


def data_schema_path(data: Any, path: Sequence[Any]) -> Path:
    """A data path with list positions replaced by :data:`ITEM` (the data tells which integer steps are
    positions and which are keys, such as sheet numbers), for schema look-ups."""
    out: list[Any] = []
    value = data
    for step in path:
        if isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            out.append(ITEM)
            value = value[step] if 0 <= step < len(value) else None
        else:
            out.append(step)
            value = value.get(step) if isinstance(value, dict) else None
    return tuple(out)


# -- the indentation guess -------------------------------------------------------------------------------

_LINE = re.compile(r"^( *)((?:-(?: +|$))*)(.*)$")
_KEY = re.compile(
    r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'"""  # a quoted key
    r"""|([^\s#'"{\[\]},:&*!|>%@`-][^#:]*?|-[^\s#:][^#:]*?))"""  # a plain key
    r"""\s*:(?:\s+(.*))?$"""
)


@dataclass(frozen=True, slots=True)
class Outline:
    """One line of YAML in block style, as far as indentation tells."""

    indent: int
    """Column of the first character (a dash or a key)."""
    column: int
    """Column where the content after the dashes starts (the key's column)."""
    dashes: int
    key: str | None
    rest: str
    """What follows ``key:`` (or the content when there is no key), comments included."""


def outline(line: str) -> Outline | None:
    """The indentation, key and rest of one line; None for a blank or comment-only line."""
    match = _LINE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    spaces, dashes, content = match.groups()
    if not dashes and (not content.strip() or content.lstrip().startswith("#")):
        return None
    count = dashes.count("-")
    column = len(spaces) + len(dashes)
    content = content.rstrip()
    found = _KEY.match(content)
    if found is None:
        return Outline(len(spaces), column, count, None, content)
    key = found.group(1) if found.group(1) is not None else (
        found.group(2).replace("''", "'") if found.group(2) is not None else found.group(3).strip())
    return Outline(len(spaces), column, count, key, (found.group(4) or "").strip())


def _opens_block(rest: str) -> bool:
    """Whether ``key:`` followed by ``rest`` opens a nested block (nothing, a comment, an anchor or tag)."""
    stripped = re.sub(r"(^|\s)#.*$", "", rest).strip()
    return stripped == "" or re.fullmatch(r"(&\S+|!\S*)(\s+(&\S+|!\S*))?", stripped) is not None


@dataclass(slots=True)
class Guess:
    """The mapping (or list) the cursor is in, read from the indentation."""

    path: list[Any] = field(default_factory=list)
    """Data path of the mapping the cursor's key would belong to (list items as :data:`ITEM`)."""
    siblings: set[str] = field(default_factory=set)
    """Keys already written in that mapping."""
    scalar_key: str | None = None
    """When the cursor is inside a block scalar (``template: |``): the path ends with its key."""


def _dash_column(item: Outline) -> int:
    """The column of the last dash of an item line (``  - - key:`` -> 4)."""
    return item.column - 2 if item.dashes else item.indent


def guess(lines: Sequence[str], line: int, column: int, *, new_item: bool = False) -> Guess:
    """The path of the mapping whose keys start at ``column`` on 0-based ``line``.

    ``new_item``: the cursor line itself starts a list item (``- |``), so the mapping is a new item
    of the list whose dash is at ``column - 2``.
    """
    out = Guess()
    reversed_path: list[Any] = []
    want = column
    in_sequence = False  # looking for the key that holds the list whose dashes are at `want`
    first_level = True  # still in the cursor's own mapping (its keys are the siblings)
    parent_seen = False
    if new_item:
        reversed_path.append(ITEM)
        want, in_sequence, first_level = max(column - 2, 0), True, False

    def enter_item(found: Outline) -> None:
        nonlocal want, in_sequence
        reversed_path.append(ITEM)
        want, in_sequence = _dash_column(found), True

    for number in range(line - 1, -1, -1):
        found = outline(lines[number])
        if found is None:
            continue
        if in_sequence:
            if found.indent > want or (found.dashes and found.indent == want):
                continue  # inside an earlier item, or another item of the same list
            if found.key is not None and (found.column < want or (found.column == want and not found.dashes)):
                reversed_path.append(found.key)
                in_sequence, want = False, found.column
                if found.dashes:
                    enter_item(found)
                continue
            if found.dashes and found.column <= want:
                enter_item(found)  # a list of lists
                continue
            break
        if found.column > want:
            continue  # deeper: the children of a sibling
        if found.column == want:
            if found.key is not None and first_level:
                out.siblings.add(found.key)
            if found.dashes:
                first_level = False  # the mapping is a list item: what is above belongs to other items
                enter_item(found)
            continue
        first_level = False  # found.column < want: this line holds the mapping
        if found.key is None:
            if found.dashes:
                enter_item(found)
                continue
            break
        reversed_path.append(found.key)
        if not parent_seen and not _opens_block(found.rest):
            out.scalar_key = found.key  # a block scalar (or a plain one going on): not a mapping
        parent_seen = True
        want = found.column
        if found.dashes:
            enter_item(found)
    out.path = list(reversed(reversed_path))
    if not new_item and out.scalar_key is None:
        _siblings_below(lines, line, column, out)
    return out


def _siblings_below(lines: Sequence[str], line: int, column: int, out: Guess) -> None:
    for number in range(line + 1, len(lines)):
        found = outline(lines[number])
        if found is None:
            continue
        if found.column < column or (found.dashes and _dash_column(found) < column):
            return
        if found.column == column and found.key is not None and not found.dashes:
            out.siblings.add(found.key)


__all__ = ["Guess", "Hit", "Outline", "data_schema_path", "guess", "outline", "tree_at"]
