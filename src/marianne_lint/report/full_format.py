"""``full`` (the default): each finding with its source line, a caret, related places and help."""

from __future__ import annotations

from marianne_lint.diagnostics import Diagnostic
from marianne_lint.report import Report, printable, summary_lines
from marianne_lint.report.concise_format import line_of


def _excerpt(d: Diagnostic, text: str) -> str:
    """The source line under a finding, with a caret under its stretch (three lines in one string)."""
    number = str(d.line)
    pad = " " * len(number)
    shown = (text.expandtabs(1) if "\t" in text else text).rstrip()
    start = d.column - 1 if d.column > 1 else 0
    room = len(shown) - start if len(shown) - start > 1 else 1
    width = d.end_column - d.column if d.end_line == d.line and d.end_column > d.column else room
    width = 1 if width < 1 else room if width > room else width
    return f"{pad} |\n{number} | {shown}\n{pad} | {' ' * start}{'^' * width}"


#: A help text at least this long is printed once per file; later findings with the same help point
#: back to it (a mapping of 1,000 unknown keys would repeat the list of allowed keys 1,000 times).
_LONG_HELP = 100


def render(report: Report) -> str:
    out: list[str] = []
    shown: dict[tuple[str, str], int] = {}  # (path, long help) -> the line of the finding that printed it
    for d in report.diagnostics:
        out.append(line_of(d, report.applicable(d)))
        text = report.lines.get((d.path, d.line))
        if text is not None:
            out.append(_excerpt(d, text))
        for related in d.related:
            out.append(f"  = related: {printable(related.path)}:{related.line}:{related.column}: "
                       f"{printable(related.message)}")
        if d.suggestion:
            first = shown.setdefault((d.path, d.suggestion), d.line) if len(d.suggestion) >= _LONG_HELP else d.line
            if first != d.line:
                out.append(f"  = help: as for line {first} above")
            else:
                out.append(f"  = help: {printable(d.suggestion)}")
        if d.fix is not None:
            kind = "fix" if d.fix.applicability == "safe" else "unsafe fix"
            out.append(f"  = {kind}: {printable(d.fix.message)}")
        out.append("")
    out.extend(summary_lines(report))
    return "\n".join(out) + "\n"
