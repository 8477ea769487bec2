"""Python ``str.format`` placeholders, as Marianne fills validation paths with them.

Parsed once per distinct text for the life of the process: a score's
validation paths repeat the same few shapes, and several rules read them.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

Piece = tuple[str, str | None, str | None, str | None]
"""(literal text, field, format spec, conversion), as ``string.Formatter().parse`` gives them."""

_ROOT = re.compile(r"[^.\[]*")


@lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[Piece, ...] | None:
    """The pieces of ``text``, or None when ``str.format`` would reject it."""
    try:
        return tuple(string.Formatter().parse(text))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def fields(text: str) -> tuple[tuple[str, str, str | None], ...]:
    """(field, format spec, conversion) of every replacement field, nested specs included.

    Raises ValueError for a malformed format string, as ``str.format`` does
    (errors are not cached).
    """
    out: list[tuple[str, str, str | None]] = []
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        out.append((field, spec or "", conversion))
        if spec and "{" in spec:
            out.extend(fields(spec))
    return tuple(out)


def root(field: str) -> str:
    """The name a field starts with (``a`` of ``a.b[0]``)."""
    match = _ROOT.match(field)
    return match.group(0) if match else field
