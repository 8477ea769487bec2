"""Suppression comments: ``# marianne-lint: disable=...`` and ``disable-file=...``.

At the end of a line a comment silences the named rules on that line; on a
line of its own it silences them on the next line that holds YAML. A
``disable-file`` comment anywhere silences them in the whole file. Rules are
named by code or name. Comments that silence nothing, or name unknown rules,
are findings themselves.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from marianne_lint.diagnostics import Edit, Finding, Fix
from marianne_lint.reading.positions import Span, editor_lines

_DIRECTIVE = re.compile(r"#\s*marianne-lint:\s*(disable-file|disable)\s*=\s*([A-Za-z0-9_,\- \t]*)")


@dataclass(slots=True)
class Comment:
    """Where one suppression comment stands, for the fix that removes it."""

    line: int
    offset: int
    """Offset of the line's first character."""
    text: str
    """The line, without its break."""
    next_line: int
    """Offset of the next line's first character (the text's length on the last line)."""
    hash_column: int
    """0-based column of the comment's '#'."""
    own_line: bool
    tokens: list[Directive] = field(default_factory=list)

    def removal(self) -> Edit:
        """Delete the whole comment (its line, when it stands on a line of its own)."""
        if self.own_line:
            return Edit(self.offset, self.next_line, "", self.line, 1, self.line + 1, 1)
        keep = len(self.text[: self.hash_column].rstrip(" \t"))
        return Edit(self.offset + keep, self.offset + len(self.text), "", self.line, keep + 1, self.line,
                    len(self.text) + 1)

    def without(self, directive: Directive) -> Edit:
        """Delete one rule name from the comment's list, with the comma that joins it to another."""
        names = self.tokens
        index = names.index(directive)
        start, end = directive.span.column - 1, directive.span.end_column - 1
        if index + 1 < len(names):
            end = names[index + 1].span.column - 1  # "a, b" -> "b"
        else:
            start = names[index - 1].span.end_column - 1  # "a, b" -> "a"
        return Edit(self.offset + start, self.offset + end, "", self.line, start + 1, self.line, end + 1)


@dataclass(slots=True)
class Directive:
    """One rule named in one suppression comment."""

    token: str
    span: Span
    file_wide: bool
    target_line: int
    used: bool = False
    comment: Comment | None = field(default=None, repr=False)

    def fix(self, unused: set[int]) -> Fix | None:
        """Remove this name from its comment (the comment, when nothing it names is used)."""
        comment = self.comment
        if comment is None:
            return None
        if all(id(other) in unused for other in comment.tokens):
            return Fix("remove the suppression comment", "safe", (comment.removal(),))
        return Fix(f"remove '{self.token}' from the suppression comment", "safe", (comment.without(self),))


@dataclass(slots=True)
class Suppressions:
    """All suppression comments of one file."""

    directives: list[Directive] = field(default_factory=list)

    def silences(self, line: int, code: str, name: str) -> bool:
        hit = False
        for directive in self.directives:
            if directive.token not in (code, name) and directive.token.upper() != code:
                continue  # codes are matched case-insensitively, as the rule lookup does
            if directive.file_wide or directive.target_line == line:
                directive.used = True
                hit = True
        return hit

    def leftovers(self, known: Callable[[str], bool], ran: Callable[[str], bool],
                  names: Sequence[str] = ()) -> list[Finding]:
        """Findings for unknown rule names and suppressions that silenced nothing.

        ``ran`` tells whether a rule was checked on this file at all: a
        suppression of a rule that did not run is not called unused. ``names``
        (the rule names) give an unknown name its rename fix.
        """
        out: list[Finding] = []
        unused = {id(d) for d in self.directives if not known(d.token) or (not d.used and ran(d.token))}
        for directive in self.directives:
            if not known(directive.token):
                out.append(
                    Finding(
                        "unknown-suppressed-rule",
                        directive.span,
                        f"'{directive.token}' is not a marianne-lint rule code or name",
                        suggestion="run `marianne-lint rules` for the list",
                        fix=_rename(directive, names),
                    )
                )
            elif not directive.used and ran(directive.token):
                where = "in this file" if directive.file_wide else f"on line {directive.target_line}"
                out.append(
                    Finding(
                        "unused-suppression",
                        directive.span,
                        f"the suppression of '{directive.token}' silences nothing {where}",
                        suggestion="remove it",
                        fix=directive.fix(unused),
                    )
                )
        return out


def parse(text: str, text_spans: list[tuple[int, int]]) -> Suppressions:
    """Find suppression comments, skipping '#' inside quoted or block scalars."""
    found = Suppressions()
    if "marianne-lint:" not in text:
        return found
    starts = sorted(text_spans)
    begins = [start for start, _ in starts]
    numbered = editor_lines(text)
    lines = [line for _, line in numbered]
    for number, (offset, line) in enumerate(numbered, start=1):
        for match in _DIRECTIVE.finditer(line):
            column = match.start()
            if column and not line[column - 1].isspace():
                continue  # part of a plain value such as a#b
            if _inside(starts, begins, offset + column):
                continue
            own_line = not line[:column].strip()
            target = _next_content_line(lines, number) if own_line else number
            file_wide = match.group(1) == "disable-file"
            next_line = numbered[number][0] if number < len(numbered) else len(text)
            comment = Comment(number, offset, line, next_line, column, own_line)
            for token_match in re.finditer(r"[A-Za-z0-9_\-]+", match.group(2)):
                token = token_match.group(0)
                start = column + match.start(2) - match.start() + token_match.start() + 1
                directive = Directive(token, Span(number, start, number, start + len(token)), file_wide, target,
                                      comment=comment)
                comment.tokens.append(directive)
                found.directives.append(directive)
    return found


def _rename(directive: Directive, names: Sequence[str]) -> Fix | None:
    """Rename an unknown rule to the one rule name it is a slip of (unsafe: a guess)."""
    import difflib

    close = difflib.get_close_matches(directive.token, names, n=2, cutoff=0.8)
    if len(close) != 1 or directive.comment is None:
        return None
    span = directive.span
    offset = directive.comment.offset
    edit = Edit(offset + span.column - 1, offset + span.end_column - 1, close[0], span.line, span.column,
                span.line, span.end_column)
    return Fix(f"rename '{directive.token}' to '{close[0]}'", "unsafe", (edit,))


def _inside(spans: list[tuple[int, int]], begins: list[int], index: int) -> bool:
    position = bisect.bisect_right(begins, index) - 1
    return position >= 0 and spans[position][0] <= index < spans[position][1]


def _next_content_line(lines: list[str], number: int) -> int:
    for later in range(number, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("#"):
            return later + 1
    return number + 1
