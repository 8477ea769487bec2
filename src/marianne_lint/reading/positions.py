"""Where every key and value of a loaded document is written in the file.

The loader builds a tree of :class:`PNode` parallel to the Python data: a
mapping node knows the node of each key and each value, a sequence node the
node of each item. Nodes reached through an alias or a merge key are the
anchored nodes themselves, so a position is always that of the text that
produced the value. :meth:`PNode.locate` turns a data path (as pydantic
reports it) into positions.
"""

from __future__ import annotations

import re
from typing import Any, Final, NamedTuple

Path = tuple[Any, ...]

MAP: Final = "map"
SEQ: Final = "seq"
SCALAR: Final = "scalar"


class Span(NamedTuple):
    """A 1-based, end-exclusive stretch of the file (a named tuple: the loader makes one per node)."""

    line: int
    column: int
    end_line: int
    end_column: int


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def editor_lines(text: str) -> list[tuple[int, str]]:
    """(offset of its first character, text) of each line, breaking lines as editors and LSP do.

    A line ends at LF, CRLF or a lone CR; NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are
    characters inside a line (YAML 1.1 breaks lines there, editors do not). A text ending with
    a line break has no extra empty last line.
    """
    global _LAST_LINES
    last = _LAST_LINES  # read once: the server lints in a worker thread
    if last is not None and last[0] is text:
        return last[1]  # the same text again (the fix edits and the report both ask)
    out: list[tuple[int, str]] = []
    start = 0
    if "\r" not in text:  # the common case: split in C
        for line in text.split("\n"):
            out.append((start, line))
            start += len(line) + 1
        if len(out) > 1 and out[-1][1] == "":
            out.pop()  # a final line break ends the last line; it does not open another
    else:
        for match in _LINE_BREAK.finditer(text):
            out.append((start, text[start : match.start()]))
            start = match.end()
        if start < len(text) or not out:
            out.append((start, text[start:]))
    _LAST_LINES = (text, out)
    return out


def line_texts(text: str) -> list[str]:
    """The text of each line, as :func:`editor_lines` breaks them, without their offsets."""
    if "\r" in text:
        return [line for _, line in editor_lines(text)]
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


#: The last text :func:`editor_lines` split, with its lines (callers only read them).
_LAST_LINES: tuple[str, list[tuple[int, str]]] | None = None


def line_start(text: str, index: int) -> int:
    """The offset where the line holding ``index`` starts (after LF, CRLF or CR)."""
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def place(text: str, index: int) -> tuple[int, int]:
    """The 1-based (line, column) of character ``index`` as editors count (see :func:`editor_lines`)."""
    line = text.count("\n", 0, index) + text.count("\r", 0, index) - text.count("\r\n", 0, index) + 1
    return line, index - line_start(text, index) + 1


#: The one empty set every node starts with (since Python 3.10 each ``frozenset()`` is a new
#: 216-byte object, and a generated file may hold millions of nodes).
_NO_KEYS: Final[frozenset[Any]] = frozenset()


class PNode:
    """Position of one YAML node, with its children."""

    __slots__ = ("_index", "items", "keys", "kind", "merged", "note", "span", "style", "text", "values")

    def __init__(self, span: Span, kind: str) -> None:
        self.span = span
        self.kind = kind
        self.keys: dict[Any, PNode] | None = None  # mapping: key -> node of the key
        self.values: dict[Any, PNode] | None = None  # mapping: key -> node of the value
        self.items: list[PNode] | None = None  # sequence items
        self.note: str | None = None  # scalar: how YAML 1.1 read it differently from 1.2
        self.style: str | None = None  # scalar: None plain, or the quote/block indicator
        self.text: str | None = None  # scalar: the text as written
        self.merged: frozenset[Any] = _NO_KEYS  # mapping: keys that came from a merge key
        self._index: _KeyIndex | None = None  # mapping: built on the first look-up

    def child(self, step: Any) -> tuple[PNode | None, PNode | None]:
        """The (key node, value node) one step below, or (None, None)."""
        if self.kind == SEQ and self.items is not None:
            if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(self.items):
                return None, self.items[step]
            return None, None
        values, keys = self.values, self.keys
        if self.kind != MAP or values is None or keys is None:
            return None, None
        if type(step) is str and step in values:  # the usual look-up: the very text of a key, no index needed
            return keys[step], values[step]
        index = self._index
        if index is None or index.size != len(values):
            index = self._index = _KeyIndex(values)
        key = index.find(step)
        if key is _MISSING:
            return None, None
        return keys[key], values[key]

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


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return None if number != number else number  # NaN equals nothing


class _KeyIndex:
    """The keys of one mapping, indexed so that each look-up takes constant time.

    A step matches the key of the same type and value first; else, in the order the keys are
    written, the first key whose text is the step's text or that is the same number. Pydantic
    reports ``"3"`` written in the file as the int 3 of a ``dict[int, ...]`` (and a boolean key
    ``true`` as 1), hence the loose matches.
    """

    __slots__ = ("by_number", "by_text", "exact", "plain_numbers", "size")

    def __init__(self, values: dict[Any, PNode]) -> None:
        self.size = len(values)
        self.exact: dict[tuple[type, Any], Any] = {}
        self.by_text: dict[str, tuple[int, Any]] = {}
        self.by_number: dict[float, tuple[int, Any]] = {}  # numbers and booleans
        self.plain_numbers: dict[float, tuple[int, Any]] = {}  # numbers, not booleans
        for position, key in enumerate(values):
            self.exact.setdefault((type(key), key), key)
            self.by_text.setdefault(str(key), (position, key))
            if isinstance(key, (bool, int, float)):
                number = _as_float(key)
                if number is not None:
                    self.by_number.setdefault(number, (position, key))
                    if not isinstance(key, bool):
                        self.plain_numbers.setdefault(number, (position, key))

    def find(self, step: Any) -> Any:
        try:
            return self.exact[(type(step), step)]
        except (KeyError, TypeError):
            pass
        text = str(step)
        found = [self.by_text.get(text)]
        if isinstance(step, (bool, int, float)):
            number = _as_float(step)
            if number is not None:
                found.append(self.by_number.get(number))
        number = _as_float(text)
        if number is not None:
            found.append(self.plain_numbers.get(number))
        hits = [hit for hit in found if hit is not None]
        return min(hits, key=lambda hit: hit[0])[1] if hits else _MISSING


class Located(NamedTuple):
    """Result of :meth:`PNode.locate` (a named tuple: one is made per finding and per look-up)."""

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
