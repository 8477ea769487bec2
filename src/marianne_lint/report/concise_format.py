"""``concise``: exactly one line per finding, then a summary line."""

from __future__ import annotations

from marianne_lint.diagnostics import Diagnostic
from marianne_lint.report import Report, printable, summary_lines


def line_of(d: Diagnostic, fixable: bool = False) -> str:
    """``PATH:LINE:COL: CODE SEVERITY: MESSAGE [rule-name]``, always one line (control characters escaped).

    A finding ``--fix`` would repair has ``[*]`` after its code, as ruff marks it.
    """
    mark = " [*]" if fixable else ""
    return (f"{printable(d.path)}:{d.line}:{d.column}: {d.code}{mark} {d.severity.label}: {printable(d.message)} "
            f"[{d.rule}]")


def render(report: Report) -> str:
    out = [line_of(d, report.applicable(d)) for d in report.diagnostics]
    out.extend(summary_lines(report))
    return "\n".join(out) + "\n"
