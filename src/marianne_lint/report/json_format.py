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
    summary = {
        "files": report.files,
        "error": report.count(Severity.ERROR),
        "warning": report.count(Severity.WARNING),
        "info": report.count(Severity.INFO),
    }
    if not report.diagnostics:
        return indented({"version": 1, "diagnostics": [], "summary": summary}) + "\n"
    # The document as json.dumps(indent=2) lays it out, each diagnostic written on its own.
    items = ",\n    ".join(diagnostic_text(d) for d in report.diagnostics)
    written_summary = indented(summary, _LEVEL_1)
    return f'{{\n  "version": 1,\n  "diagnostics": [\n    {items}\n  ],\n  "summary": {written_summary}\n}}\n'


_LEVEL_1 = "\n  "
_LEVEL_2 = "\n    "


def diagnostic_text(d: Diagnostic) -> str:
    """One diagnostic as it stands in the report's list (indented two levels), without building a dict
    when it has no related places and no fix."""
    if d.related or d.fix is not None:
        return indented(as_dict(d), _LEVEL_2)
    s = JSON_STRING
    suggestion = s(d.suggestion) if d.suggestion else "null"
    return (
        f'{{\n      "path": {s(d.path)},\n      "line": {d.line:d},\n      "column": {d.column:d},'
        f'\n      "end_line": {d.end_line:d},\n      "end_column": {d.end_column:d},\n      "code": {s(d.code)},'
        f'\n      "rule": {s(d.rule)},\n      "severity": {s(d.severity.label)},\n      "message": {s(d.message)},'
        f'\n      "related": [],\n      "suggestion": {suggestion},\n      "url": {s(d.url)},'
        f'\n      "fix": null\n    }}'
    )


def indented(value: Any, newline: str = "\n") -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte, several times faster.

    The standard encoder only uses its C speed-up without ``indent``; a report with hundreds of
    thousands of findings spent most of its time there. Only the types a report holds are
    written (dicts with string keys, lists, strings, numbers, booleans, None).
    """
    out: list[str] = []
    _write(value, newline, out)
    return "".join(out)


JSON_STRING = json.encoder.encode_basestring  # the C version when it is built, as json.dumps uses


def _write(value: Any, newline: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(JSON_STRING(value))
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
        separator = "," + inner
        out.append("{")
        first = True
        for key, item in value.items():
            out.append(inner if first else separator)
            first = False
            out.append(JSON_STRING(key))
            out.append(": ")
            kind = type(item)  # the scalars every diagnostic is made of, written without a call
            if kind is str:
                out.append(JSON_STRING(item))
            elif kind is int:
                out.append(int.__repr__(item))
            elif item is None:
                out.append("null")
            else:
                _write(item, inner, out)
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "," + inner
        out.append("[")
        first = True
        for item in value:
            out.append(inner if first else separator)
            first = False
            _write(item, inner, out)
        out.append(newline + "]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
