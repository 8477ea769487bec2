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
from collections.abc import Callable
from dataclasses import dataclass, field

from marianne_lint.diagnostics import Finding
from marianne_lint.reading.positions import Span, editor_lines

_DIRECTIVE = re.compile(r"#\s*marianne-lint:\s*(disable-file|disable)\s*=\s*([A-Za-z0-9_,\- \t]*)")


@dataclass(slots=True)
class Directive:
    """One rule named in one suppression comment."""

    token: str
    span: Span
    file_wide: bool
    target_line: int
    used: bool = False


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

    def leftovers(self, known: Callable[[str], bool], ran: Callable[[str], bool]) -> list[Finding]:
        """Findings for unknown rule names and suppressions that silenced nothing.

        ``ran`` tells whether a rule was checked on this file at all: a
        suppression of a rule that did not run is not called unused.
        """
        out: list[Finding] = []
        for directive in self.directives:
            if not known(directive.token):
                out.append(
                    Finding(
                        "unknown-suppressed-rule",
                        directive.span,
                        f"'{directive.token}' is not a marianne-lint rule code or name",
                        suggestion="run `marianne-lint rules` for the list",
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
            for token_match in re.finditer(r"[A-Za-z0-9_\-]+", match.group(2)):
                token = token_match.group(0)
                start = column + match.start(2) - match.start() + token_match.start() + 1
                found.directives.append(
                    Directive(token, Span(number, start, number, start + len(token)), file_wide, target)
                )
    return found


def _inside(spans: list[tuple[int, int]], begins: list[int], index: int) -> bool:
    position = bisect.bisect_right(begins, index) - 1
    return position >= 0 and spans[position][0] <= index < spans[position][1]


def _next_content_line(lines: list[str], number: int) -> int:
    for later in range(number, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("#"):
            return later + 1
    return number + 1
