"""``concise``: exactly one line per finding, then a summary line."""

from __future__ import annotations

from marianne_lint.diagnostics import Diagnostic
from marianne_lint.report import Report, printable, summary_line


def line_of(d: Diagnostic) -> str:
    """``PATH:LINE:COL: CODE SEVERITY: MESSAGE [rule-name]``, always one line (control characters escaped)."""
    return f"{printable(d.path)}:{d.line}:{d.column}: {d.code} {d.severity.label}: {printable(d.message)} [{d.rule}]"


def render(report: Report) -> str:
    out = [line_of(d) for d in report.diagnostics]
    out.append(summary_line(report))
    return "\n".join(out) + "\n"
