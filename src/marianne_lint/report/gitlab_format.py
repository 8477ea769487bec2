"""``gitlab``: a GitLab Code Quality report (a JSON list of issues).

Exactly the fields GitLab documents: description, check_name, fingerprint,
severity (info, minor, major, critical, blocker) and location (path and
lines.begin), and no others.
"""

from __future__ import annotations

import json
from typing import Any

from marianne_lint.diagnostics import Severity
from marianne_lint.report import Report, fingerprints

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def render(report: Report) -> str:
    issues: list[dict[str, Any]] = []
    for d, fingerprint in fingerprints(report):
        description = f"{d.code} {d.message}"
        if d.suggestion:
            description += f" (help: {d.suggestion})"
        issues.append(
            {
                "description": description,
                "check_name": d.rule,
                "fingerprint": fingerprint,
                "severity": _SEVERITY[d.severity],
                "location": {"path": d.path, "lines": {"begin": d.line}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
