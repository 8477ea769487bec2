"""``sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every rule is described (id, name, summary, full documentation, help URI,
default level); each result carries its region, related locations and a
stable fingerprint.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from marianne_lint.diagnostics import Fix, Severity
from marianne_lint.report import Report, fingerprints, rule_url
from marianne_lint.report.rule_doc import as_markdown, as_text
from marianne_lint.version import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _quote(text: str) -> str:
    """Percent-encode a path: a name that is not UTF-8 (read as surrogate escapes) keeps its bytes."""
    try:
        return quote(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return quote(text.encode("utf-8", "surrogatepass"))


def _uri(path: str) -> dict[str, str]:
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": "file://" + _quote(pure.as_posix())}
    return {"uri": _quote(pure.as_posix()), "uriBaseId": "%SRCROOT%"}


def _location(path: str, line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> dict[
    str, Any
]:
    region: dict[str, int] = {"startLine": line, "startColumn": column}
    if end_line is not None and end_column is not None and (end_line, end_column) > (line, column):
        region["endLine"] = end_line
        region["endColumn"] = end_column
    return {"physicalLocation": {"artifactLocation": _uri(path), "region": region}}


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    """A SARIF fix: the replacements of one artifact (regions 1-based, end exclusive)."""
    return {
        "description": {"text": f"{fix.message} ({fix.applicability})"},
        "artifactChanges": [{
            "artifactLocation": _uri(path),
            "replacements": [
                {
                    "deletedRegion": {"startLine": e.line, "startColumn": e.column, "endLine": e.end_line,
                                      "endColumn": e.end_column},
                    "insertedContent": {"text": e.text},
                }
                for e in fix.edits
            ],
        }],
    }


def render(report: Report) -> str:
    from marianne_lint.rules import RULES

    index = {rule.code: position for position, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": as_text(rule.doc()).split("\n\n", 1)[0].replace("\n", " ")},
            "help": {"text": as_text(rule.doc()), "markdown": as_markdown(rule.doc())},
            "helpUri": rule_url(rule.name),
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
            "properties": {"tags": [rule.code[:3] + "xx", *rule.kinds]},
        }
        for rule in RULES
    ]
    results = []
    for d, fingerprint in fingerprints(report):
        text = d.message if not d.suggestion else f"{d.message} (help: {d.suggestion})"
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL[d.severity],
            "message": {"text": text},
            "locations": [_location(d.path, d.line, d.column, d.end_line, d.end_column)],
            "fingerprints": {"marianneLint/v1": fingerprint},
        }
        if d.fix is not None:
            result["fixes"] = [_fix(d.path, d.fix)]
        if d.related:
            result["relatedLocations"] = [
                {**_location(r.path, r.line, r.column), "id": number, "message": {"text": r.message}}
                for number, r in enumerate(d.related, start=1)
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "marianne-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://github.com/marianne-lint/marianne-lint",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
