"""Where every key and value of a loaded document is written in the file.

The loader builds a tree of :class:`PNode` parallel to the Python data: a
mapping node knows the node of each key and each value, a sequence node the
node of each item. Nodes reached through an alias or a merge key are the
anchored nodes themselves, so a position is always that of the text that
produced the value. :meth:`PNode.locate` turns a data path (as pydantic
reports it) into positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

Path = tuple[Any, ...]

MAP: Final = "map"
SEQ: Final = "seq"
SCALAR: Final = "scalar"


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based, end-exclusive stretch of the file."""

    line: int
    column: int
    end_line: int
    end_column: int


class PNode:
    """Position of one YAML node, with its children."""

    __slots__ = ("items", "keys", "kind", "merged", "note", "span", "style", "text", "values")

    def __init__(self, span: Span, kind: str) -> None:
        self.span = span
        self.kind = kind
        self.keys: dict[Any, PNode] | None = None  # mapping: key -> node of the key
        self.values: dict[Any, PNode] | None = None  # mapping: key -> node of the value
        self.items: list[PNode] | None = None  # sequence items
        self.note: str | None = None  # scalar: how YAML 1.1 read it differently from 1.2
        self.style: str | None = None  # scalar: None plain, or the quote/block indicator
        self.text: str | None = None  # scalar: the text as written
        self.merged: frozenset[Any] = frozenset()  # mapping: keys that came from a merge key

    def child(self, step: Any) -> tuple[PNode | None, PNode | None]:
        """The (key node, value node) one step below, or (None, None)."""
        if self.kind == SEQ and self.items is not None:
            if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(self.items):
                return None, self.items[step]
            return None, None
        if self.kind != MAP or self.values is None or self.keys is None:
            return None, None
        key = _find_key(self.values, step)
        if key is _MISSING:
            return None, None
        return self.keys[key], self.values[key]

    def locate(self, path: Path) -> Located:
        """Follow ``path`` as far as it exists in the file."""
        node: PNode = self
        key_node: PNode | None = None
        depth = 0
        for step in path:
            k, v = node.child(step)
            if v is None:
                break
            node, key_node = v, k
            depth += 1
        return Located(node, key_node, depth == len(path), depth)


class _Missing:
    pass


_MISSING: Final = _Missing()


def _find_key(values: dict[Any, PNode], step: Any) -> Any:
    """Find ``step`` among mapping keys, tolerating the conversions pydantic makes.

    Pydantic reports ``"3"`` written in the file as the int 3 of a
    ``dict[int, ...]`` (and a boolean key ``true`` as 1), so compare loosely
    when no key of the same type is equal.
    """
    for key in values:
        if type(key) is type(step) and key == step:
            return key
    text = str(step)
    for key in values:
        if str(key) == text:
            return key
        if isinstance(key, (bool, int, float)) and isinstance(step, (bool, int, float)) and key == step:
            return key
        if isinstance(key, (int, float)) and not isinstance(key, bool) and _same_number(text, key):
            return key
    return _MISSING


def _same_number(text: str, key: int | float) -> bool:
    try:
        return float(text) == float(key)
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Located:
    """Result of :meth:`PNode.locate`."""

    node: PNode
    """The value node reached (the deepest existing one)."""
    key: PNode | None
    """The node of the key naming ``node`` in its mapping, if any."""
    exact: bool
    """Whether the whole path exists in the file."""
    depth: int
    """How many steps of the path exist."""

    @property
    def key_or_value(self) -> Span:
        """The key's span when there is one, else the value's."""
        return (self.key or self.node).span
