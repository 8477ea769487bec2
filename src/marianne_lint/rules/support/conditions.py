"""Marianne's validation ``condition`` grammar, evaluated exactly as its engine does.

The whole string is stripped. If it contains the exact text ``" and "`` it is
split there and every part must hold. Each part is matched, from its start
only, against ``NAME OP INTEGER`` with OP one of ``>= <= == != > <``; text
after the match is ignored, and a part that does not match counts as true.
``sheet_num`` defaults to 0; any other name that is missing or not an
integer makes its part true. There is no ``or``, ``not`` or parentheses.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PART = re.compile(r"(\w+)\s*(>=|<=|==|!=|>|<)\s*(\d+)")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class Part:
    """One ``and``-separated part of a condition, as Marianne reads it."""

    text: str
    name: str | None
    op: str | None
    number: int | None
    ignored_tail: str
    """Text after the comparison that Marianne ignores."""

    @property
    def parsed(self) -> bool:
        return self.name is not None


@functools.lru_cache(maxsize=4096)
def split(condition: str) -> tuple[Part, ...]:
    """The parts Marianne evaluates, in order (cached: scores repeat their conditions)."""
    text = condition.strip()
    pieces = text.split(" and ") if " and " in text else [text]
    parts = []
    for piece in pieces:
        piece = piece.strip()
        match = PART.match(piece)
        if match is None or len(match.group(3)) > 4300:  # a number too long for Python: unparsed
            parts.append(Part(piece, None, None, None, ""))
        else:
            parts.append(Part(piece, match.group(1), match.group(2), int(match.group(3)), piece[match.end() :]))
    return tuple(parts)


def part_holds(part: Part, context: dict[str, Any]) -> bool:
    if part.name is None or part.op is None or part.number is None:
        return True
    if part.name == "sheet_num":
        value = context.get("sheet_num", 0)
    else:
        value = context.get(part.name)
        if value is None or not isinstance(value, int):
            return True
    return _OPS[part.op](value, part.number)


def sheets_where(condition: str | None, contexts: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """The sheets (of ``(sheet, context)`` pairs) to which a validation with ``condition`` applies."""
    if condition is None:
        return [sheet for sheet, _context in contexts]
    parts = split(condition)
    out = []
    for sheet, context in contexts:
        for part in parts:
            if not part_holds(part, context):
                break
        else:
            out.append(sheet)
    return out
