"""Positions between marianne-lint and LSP.

marianne-lint counts lines from 1 and columns in Python characters (code points) from 1, ends
exclusive, in the text as linted (after a leading byte order mark). LSP counts both from 0, and
columns in the code units of the negotiated position encoding: UTF-16 unless the client offered
another (Neovim offers UTF-8 first). Lines end at LF, CRLF or a lone CR, in both.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Literal

from lsprotocol import types

Encoding = Literal["utf-8", "utf-16", "utf-32"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
BOM = "\ufeff"


def encoding_of(name: object) -> Encoding:
    """The position encoding named by the server capabilities (UTF-16 when unsure)."""
    text = str(getattr(name, "value", name) or "").lower()
    if text in ("utf-8", "utf-32"):
        return "utf-8" if text == "utf-8" else "utf-32"
    return "utf-16"


def units(text: str, encoding: Encoding = "utf-16") -> int:
    """How many code units ``text`` takes in ``encoding``."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _char_units(char: str, encoding: Encoding) -> int:
    if encoding == "utf-32":
        return 1
    code = ord(char)
    if encoding == "utf-16":
        return 2 if code > 0xFFFF else 1
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def chars_for_units(line: str, count: int, encoding: Encoding = "utf-16") -> int:
    """The number of characters of ``line`` that ``count`` code units cover (clamped to the line;
    a position inside a character counts as before it)."""
    if count <= 0:
        return 0
    if encoding == "utf-32" or line.isascii():
        return min(count, len(line))
    used = 0
    for index, char in enumerate(line):
        used += _char_units(char, encoding)
        if used > count:
            return index
    return len(line)


class TextIndex:
    """Where each line of one text starts and ends, for conversions both ways."""

    __slots__ = ("bom", "encoding", "ends", "starts", "text")

    def __init__(self, text: str, encoding: Encoding = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.bom = 1 if text.startswith(BOM) else 0
        self.starts = [0]
        self.ends: list[int] = []
        for match in _LINE_BREAK.finditer(text):
            self.ends.append(match.start())
            self.starts.append(match.end())
        self.ends.append(len(text))

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line(self, number: int) -> str:
        """The text of 0-based line ``number``, without its line break ("" past the end)."""
        if not 0 <= number < len(self.starts):
            return ""
        return self.text[self.starts[number] : self.ends[number]]

    # -- offsets (characters of the buffer) ---------------------------------------------------------

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position (clamped into the text)."""
        if position.line >= len(self.starts):
            return len(self.text)
        line = max(position.line, 0)
        start = self.starts[line]
        return start + chars_for_units(self.text[start : self.ends[line]], position.character, self.encoding)

    def position(self, offset: int) -> types.Position:
        """The LSP position of a character offset of the buffer."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        offset = min(offset, self.ends[line])  # inside a CRLF: the end of the line
        return types.Position(line, units(self.text[start:offset], self.encoding))

    def lint_offset(self, offset: int) -> int:
        """A buffer offset of an offset into the linted text (which has no byte order mark)."""
        return offset + self.bom

    # -- marianne-lint positions (1-based line, 1-based character column) ---------------------------

    def place(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based (line, column) of the linted text."""
        number = min(max(line, 1), len(self.starts)) - 1
        text = self.line(number)
        chars = max(column, 1) - 1 + (self.bom if number == 0 else 0)
        chars = min(chars, len(text))
        return types.Position(number, units(text[:chars], self.encoding))

    def span(self, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        start = self.place(line, column)
        end = self.place(end_line, end_column)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start, end)

    def column(self, position: types.Position) -> tuple[int, int]:
        """The 1-based (line, column) of the linted text at an LSP position."""
        number = min(max(position.line, 0), len(self.starts) - 1)
        chars = chars_for_units(self.line(number), position.character, self.encoding)
        if number == 0:
            chars = max(chars - self.bom, 0)
        return number + 1, chars + 1


def contains(rng: types.Range, position: types.Position, *, inclusive_end: bool = True) -> bool:
    """Whether ``position`` lies in ``rng`` (its end counts when ``inclusive_end``)."""
    start = (rng.start.line, rng.start.character)
    end = (rng.end.line, rng.end.character)
    here = (position.line, position.character)
    return start <= here <= end if inclusive_end else start <= here < end


def overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges meet (touching counts, as in VS Code)."""
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


__all__ = ["BOM", "Encoding", "TextIndex", "chars_for_units", "contains", "encoding_of", "overlaps", "units"]
