"""``sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every rule is described (id, name, summary, full documentation, help URI,
default level); each result carries its region, related locations and a
stable fingerprint.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from marianne_lint.diagnostics import Diagnostic, Fix, Severity
from marianne_lint.report import Report, fingerprints, rule_url
from marianne_lint.report.json_format import JSON_STRING, indented
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


def result_dict(d: Diagnostic, fingerprint: str, rule_index: int) -> dict[str, Any]:
    """One SARIF result."""
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[d.severity],
        "message": {"text": _text(d)},
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
    return result


def _text(d: Diagnostic) -> str:
    return d.message if not d.suggestion else f"{d.message} (help: {d.suggestion})"


#: Where a result stands in the document (runs[0].results[i], four levels deep), and its
#: artifactLocation (results[i].locations[0].physicalLocation.artifactLocation, four more).
_RESULT_LEVEL = "\n" + " " * 8
_ARTIFACT_LEVEL = "\n" + " " * 16


def _plain_result_text(d: Diagnostic, fingerprint: str, rule_index: int, artifact: str) -> str:
    """``indented(result_dict(...), _RESULT_LEVEL)`` for a result without fixes and related places,
    written without building it (``artifact``: its artifactLocation, written)."""
    s = JSON_STRING
    end = (
        f',\n                  "endLine": {d.end_line:d},\n                  "endColumn": {d.end_column:d}'
        if (d.end_line, d.end_column) > (d.line, d.column) else ""
    )
    return (
        f'{{\n          "ruleId": {s(d.code)},\n          "ruleIndex": {rule_index:d},'
        f'\n          "level": {s(_LEVEL[d.severity])},\n          "message": {{\n            "text": {s(_text(d))}'
        f'\n          }},\n          "locations": [\n            {{\n              "physicalLocation": {{'
        f'\n                "artifactLocation": {artifact},\n                "region": {{'
        f'\n                  "startLine": {d.line:d},\n                  "startColumn": {d.column:d}{end}'
        f'\n                }}\n              }}\n            }}\n          ],\n          "fingerprints": {{'
        f'\n            "marianneLint/v1": {s(fingerprint)}\n          }}\n        }}'
    )


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
    results: list[str] = []  # each result written as soon as it is made: a report may hold 200,000
    artifacts: dict[str, str] = {}  # path -> its artifactLocation as written in a result
    for d, fingerprint in fingerprints(report):
        if d.fix is None and not d.related:
            artifact = artifacts.get(d.path)
            if artifact is None:
                artifact = artifacts[d.path] = indented(_uri(d.path), _ARTIFACT_LEVEL)
            results.append(_plain_result_text(d, fingerprint, index[d.code], artifact))
        else:
            results.append(indented(result_dict(d, fingerprint, index[d.code]), _RESULT_LEVEL))
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
                "results": [],
            }
        ],
    }
    # json.dumps(document, indent=2, ensure_ascii=False), byte for byte, with the results put in
    # their place (the last '"results": []': any other would be inside a string, its quotes escaped)
    text = indented(document)
    if not results:
        return text + "\n"
    head, _, tail = text.rpartition('"results": []')
    results[0] = f'{head}"results": [{_RESULT_LEVEL}{results[0]}'
    results[-1] = f"{results[-1]}\n      ]{tail}\n"
    return ("," + _RESULT_LEVEL).join(results)  # one copy of a text that may run to 160 MB

