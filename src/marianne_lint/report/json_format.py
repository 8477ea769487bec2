"""``json``: the machine-readable report of conventions.md (version 1)."""

from __future__ import annotations

import json
from typing import Any

from marianne_lint.diagnostics import Diagnostic, Fix, Severity
from marianne_lint.report import Report


def as_dict(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": d.path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "code": d.code,
        "rule": d.rule,
        "severity": d.severity.label,
        "message": d.message,
        "related": [
            {"path": r.path, "line": r.line, "column": r.column, "message": r.message} for r in d.related
        ],
    }
    out["suggestion"] = d.suggestion or None  # always present, so every diagnostic has the same keys
    out["url"] = d.url
    out["fix"] = fix_dict(d.fix) if d.fix is not None else None
    return out


def fix_dict(fix: Fix) -> dict[str, Any]:
    """A fix as JSON: each edit by its offsets in the text and by its 1-based positions."""
    return {
        "message": fix.message,
        "applicability": fix.applicability,
        "edits": [
            {"start": e.start, "end": e.end, "line": e.line, "column": e.column, "end_line": e.end_line,
             "end_column": e.end_column, "content": e.text}
            for e in fix.edits
        ],
    }


def render(report: Report) -> str:
    document = {
        "version": 1,
        "diagnostics": [as_dict(d) for d in report.diagnostics],
        "summary": {
            "files": report.files,
            "error": report.count(Severity.ERROR),
            "warning": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
        },
    }
    return indented(document) + "\n"


def indented(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte, several times faster.

    The standard encoder only uses its C speed-up without ``indent``; a report with hundreds of
    thousands of findings spent most of its time there. Only the types a report holds are
    written (dicts with string keys, lists, strings, numbers, booleans, None).
    """
    out: list[str] = []
    _write(value, "\n", out)
    return "".join(out)


_STRING = json.encoder.encode_basestring  # the C version when it is built, as json.dumps uses


def _write(value: Any, newline: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_STRING(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(json.dumps(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        out.append("{")
        first = True
        for key, item in value.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(_STRING(key))
            out.append(": ")
            _write(item, inner, out)
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[")
        for index, item in enumerate(value):
            out.append(inner if index == 0 else "," + inner)
            _write(item, inner, out)
        out.append(newline + "]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
