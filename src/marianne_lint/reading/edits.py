"""Text edits computed from the positions the loader keeps: the building blocks of fixes.

A fix never re-dumps the YAML: it replaces exact stretches of the original text, so every byte
outside its edits (comments, quoting, indentation, key order, CRLF line breaks) stays as it was.
:class:`TextIndex` turns the loader's 1-based line/column spans into offsets of the text and
back, and builds the few edits fixes are made of: replace a token, quote a plain scalar, delete
a whole block-mapping entry or a sequence item.
"""

from __future__ import annotations

import bisect
import re

from marianne_lint.diagnostics import Edit
from marianne_lint.reading.positions import PNode, Span, editor_lines

_COMMENT_OR_BLANK = re.compile(r"[ \t]*(#.*)?")
#: A scalar that reads the same plain and quoted: a name, a word, a dotted or dashed identifier.
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


class TextIndex:
    """Offsets of the lines of one text, as editors count lines (see ``editor_lines``)."""

    __slots__ = ("lines", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        table = editor_lines(text)
        self.starts = [start for start, _ in table]
        self.lines = [line for _, line in table]

    def offset(self, line: int, column: int) -> int:
        """The offset of 1-based ``line``/``column`` (clamped to the text)."""
        if line < 1:
            return 0
        if line > len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + max(column, 1) - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of ``offset``."""
        index = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        return index + 1, offset - self.starts[index] + 1

    def line_end(self, line: int) -> int:
        """The offset just after line ``line``'s break (the next line's start, or the text's end)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def edit(self, start: int, end: int, text: str) -> Edit:
        """Replace ``[start, end)`` with ``text``."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Edit(start, end, text, line, column, end_line, end_column)

    def source(self, span: Span) -> str:
        """The text a span covers."""
        return self.text[self.offset(span.line, span.column) : self.offset(span.end_line, span.end_column)]

    def replace(self, span: Span, text: str) -> Edit:
        """Replace the text of ``span``."""
        return self.edit(self.offset(span.line, span.column), self.offset(span.end_line, span.end_column), text)

    def replace_token(self, span: Span, expected: str, text: str) -> Edit | None:
        """Replace the span's text when it reads ``expected`` (None when the file says otherwise)."""
        return self.replace(span, text) if self.source(span) == expected else None

    def replace_scalar(self, node: PNode, written: str, text: str) -> Edit | None:
        """Replace the scalar whose value is ``written`` at ``node`` with the value ``text``."""
        return self.replace_value(node.span, written, text)

    def replace_value(self, span: Span, written: str, text: str) -> Edit | None:
        """Replace the one-line scalar whose value is ``written`` at ``span`` with the value ``text``.

        The quotes are kept; a plain scalar whose new value would read differently plain is
        double-quoted. None when the file does not hold ``written`` there as written (escapes, a
        block scalar, a multi-line value), or ``text`` cannot be written in that style.
        """
        if span.line != span.end_line or "\n" in text or "\r" in text:
            return None
        source = self.source(span)
        if source == written:
            return self.replace(span, text if _reads_plain(text) else _double_quoted(text))
        for quote, unsafe in (('"', '"\\'), ("'", "'")):
            if source == f"{quote}{written}{quote}":
                if any(char in written or char in text for char in unsafe):
                    return None
                return self.replace(span, f"{quote}{text}{quote}")
        return None

    def quote(self, span: Span, expected: str) -> Edit | None:
        """Double-quote the plain scalar ``expected`` at ``span``."""
        if not expected or any(char in expected for char in '"\\\n\r'):
            return None
        return self.replace_token(span, expected, f'"{expected}"')

    def _rest_is_blank(self, line: int, column: int) -> bool:
        """Whether only blanks or a comment follow ``column`` on ``line``."""
        rest = self.lines[line - 1][column - 1 :] if 0 < line <= len(self.lines) else ""
        return _COMMENT_OR_BLANK.fullmatch(rest) is not None

    def _whole_lines(self, first: Span, last: Span) -> tuple[int, int] | None:
        """``[start, end)`` of the lines from ``first`` to ``last`` when nothing else shares them.

        Only blanks may come before ``first`` on its line, and only blanks or a comment after
        ``last``; the stretch runs to the start of the next line. A block value's span ends at the
        start of the line after it, which counts as the end of the line before.
        """
        if not 0 < first.line <= len(self.lines):
            return None
        if self.lines[first.line - 1][: first.column - 1].strip(" "):
            return None
        end_line, end_column = last.end_line, last.end_column
        if end_column == 1 and end_line > first.line:
            end_line -= 1
            end_column = len(self.lines[end_line - 1]) + 1 if end_line <= len(self.lines) else 1
        if end_line > len(self.lines) or not self._rest_is_blank(end_line, end_column):
            return None
        return self.starts[first.line - 1], self.line_end(end_line)

    def delete_entry(self, key: Span, value: Span, siblings: int) -> Edit | None:
        """Delete the block-mapping entry ``key: value`` with its lines.

        None for an entry of a flow mapping, one that shares a line with other text (the first key
        of a sequence item: ``- key: value``), or the only entry of its mapping (deleting it would
        leave the parent key empty, which reads as null).
        """
        if siblings < 2:
            return None
        stretch = self._whole_lines(key, value if (value.end_line, value.end_column) >= (key.end_line, key.end_column)
                                    else key)
        if stretch is None:
            return None
        return self.edit(stretch[0], stretch[1], "")

    def delete_item(self, items: list[Span], index: int, flow: bool) -> Edit | None:
        """Delete item ``index`` of a sequence whose items are at ``items``.

        In a flow sequence (``[1, 2, 1]``) the item and the comma before it (after it, for the
        first item) go; in a block sequence the item's whole ``- item`` line, when it holds
        nothing else.
        """
        if not 0 <= index < len(items) or len(items) < 2:
            return None
        item = items[index]
        start, end = self.offset(item.line, item.column), self.offset(item.end_line, item.end_column)
        if flow:
            if index > 0:
                before = items[index - 1]
                cut_from = self.offset(before.end_line, before.end_column)
                if "," not in self.text[cut_from:start] or self.text[cut_from:start].count(",") != 1:
                    return None
                return self.edit(cut_from, end, "")
            after = items[1]
            cut_to = self.offset(after.line, after.column)
            if self.text[end:cut_to].count(",") != 1:
                return None
            return self.edit(start, cut_to, "")
        line_text = self.lines[item.line - 1] if 0 < item.line <= len(self.lines) else ""
        dash = line_text[: item.column - 1].rstrip(" ")
        if not dash.endswith("-") or dash[:-1].strip(" "):
            return None
        dash_span = Span(item.line, len(dash), item.end_line, item.end_column)
        stretch = self._whole_lines(dash_span, item)
        return None if stretch is None else self.edit(stretch[0], stretch[1], "")


#: What may not start a plain scalar, or appear in one, without changing how it reads.
_PLAIN_START = re.compile(r"[-?:,\[\]{}#&*!|>'\"%@`\s]")
_PLAIN_BREAKERS = (": ", " #", "\t")


def _reads_plain(text: str) -> bool:
    """Whether ``text`` written plain reads back as the same string (conservatively)."""
    if not text or _PLAIN_START.match(text) or text != text.strip() or text.endswith(":"):
        return False
    if any(breaker in text for breaker in _PLAIN_BREAKERS):
        return False
    from marianne_lint.reading.yaml11 import resolve_plain

    return isinstance(resolve_plain(text)[0], str)


def _double_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LAST: list[TextIndex] = []


def index_of(text: str) -> TextIndex:
    """The :class:`TextIndex` of ``text`` (the last one is kept: one file is fixed at a time)."""
    if _LAST and _LAST[0].text is text:
        return _LAST[0]
    index = TextIndex(text)
    _LAST[:] = [index]
    return index


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (in any order)."""
    out: list[str] = []
    at = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < at:
            raise ValueError("overlapping edits")
        out.append(text[at : edit.start])
        out.append(edit.text)
        at = edit.end
    out.append(text[at:])
    return "".join(out)


__all__ = ["TextIndex", "apply_edits", "index_of"]
