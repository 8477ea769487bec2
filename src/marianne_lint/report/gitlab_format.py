"""``gitlab``: a GitLab Code Quality report (a JSON list of issues).

Exactly the fields GitLab documents: description, check_name, fingerprint,
severity (info, minor, major, critical, blocker) and location (path and
lines.begin), and no others.
"""

from __future__ import annotations

from marianne_lint.diagnostics import Severity
from marianne_lint.report import Report, fingerprints
from marianne_lint.report.json_format import JSON_STRING

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def render(report: Report) -> str:
    issues: list[str] = []  # each written as it is made, not built: a report may hold 200,000
    s = JSON_STRING
    for d, fingerprint in fingerprints(report):
        description = f"{d.code} {d.message}"
        if d.suggestion:
            description += f" (help: {d.suggestion})"
        issues.append(  # indented(issue_dict, "\n  "), written without building the dict
            f'{{\n    "description": {s(description)},\n    "check_name": {s(d.rule)},'
            f'\n    "fingerprint": {s(fingerprint)},\n    "severity": {s(_SEVERITY[d.severity])},'
            f'\n    "location": {{\n      "path": {s(d.path)},\n      "lines": {{\n        "begin": {d.line:d}'
            f'\n      }}\n    }}\n  }}'
        )
    # json.dumps(issues, indent=2, ensure_ascii=False), byte for byte
    return "[\n  " + ",\n  ".join(issues) + "\n]\n" if issues else "[]\n"
