"""``github``: GitHub Actions workflow commands, shown as annotations on the pull request.

Chosen automatically when ``GITHUB_ACTIONS=true`` and no format was given.
"""

from __future__ import annotations

from marianne_lint.diagnostics import Severity
from marianne_lint.report import Report, printable, summary_line

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    """GitHub's escapes for %, CR and LF; other control characters (ESC, DEL...), which the syntax
    cannot carry, written as ``\\x1b`` as every other format does (never raw into a CI log)."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    out = []
    for d in report.diagnostics:
        props = [f"file={_property(d.path)}", f"line={d.line}", f"col={d.column}"]
        if d.end_line >= d.line:
            props += [f"endLine={d.end_line}", f"endColumn={d.end_column}"]
        props.append(f"title={_property(f'{d.code} {d.rule}')}")
        message = d.message if not d.suggestion else f"{d.message} (help: {d.suggestion})"
        out.append(f"::{_LEVEL[d.severity]} {','.join(props)}::{_data(message)}")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"
