"""The seeded vector cases (../shared/vectors/dev), scored in-process the way check_vectors.py scores them.

A case passes when every ``expect`` entry is met (a finding of that rule, or
of any ``schema-*`` rule for the family ``schema``, at or above the severity,
on one of the listed lines), no ``must_not`` rule is reported, and the
verdict agrees: an error exactly when upstream rejects the file, except that
a case expecting an error-severity semantic rule (dependency-cycle) should
get an error although upstream accepts it. The cases are isolated folders,
so the rules that look at the file system (ML6xx) are turned off.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, shared_dir
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path

FILESYSTEM_RULES = ["ML6"]


def matches(rule: str, diagnostic: Diagnostic) -> bool:
    return diagnostic.rule == rule or (rule == "schema" and diagnostic.rule.startswith("schema-"))


def problems(expected: dict[str, Any], diagnostics: Iterable[Diagnostic]) -> list[str]:
    """Why a case fails; empty when it passes."""
    found = list(diagnostics)
    out = []
    for entry in expected["expect"]:
        need = Severity.parse(entry["severity_at_least"])
        if not any(matches(entry["rule"], d) and d.severity >= need and d.line in entry["lines"] for d in found):
            got = sorted({(d.line, d.rule) for d in found if matches(entry["rule"], d)})
            out.append(f"no {entry['rule']} (>= {entry['severity_at_least']}) on lines {entry['lines']}; got {got}")
    for rule in expected["must_not"]:
        hits = [d.line for d in found if matches(rule, d)]
        if hits:
            out.append(f"{rule} must not be reported (lines {hits})")
    wanted_errors = {e["rule"] for e in expected["expect"] if e["severity_at_least"] == "error"}
    should_fail = not expected["upstream_valid"] or bool(wanted_errors)
    reported = [f"{d.line}: {d.rule}" for d in found if d.severity == Severity.ERROR]
    if bool(reported) != should_fail:
        out.append(f"verdict: expected {'an error' if should_fail else 'no error'}, got {reported}")
    return out


def cases() -> list[Path]:
    folder = shared_dir() / "vectors" / "dev"
    return sorted(p for p in folder.iterdir() if (p / "expected.json").is_file())


def test_vectors() -> None:
    settings = Settings.from_config(Config(ignore=FILESYSTEM_RULES))
    failures = []
    all_cases = cases()
    assert len(all_cases) >= 300
    for case in all_cases:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        path = case / "input.yaml"
        result = lint_source(read_path(str(path), "input.yaml"), settings, kind=expected["kind"], file_path=path)
        assert result is not None
        why = problems(expected, result.diagnostics)
        if why:
            mutation = expected["mutation"]
            failures.append(f"{expected['id']} {mutation['class']}/{mutation['name']}: " + "; ".join(why))
    assert failures == []


def test_index_lists_every_case() -> None:
    folder = shared_dir() / "vectors" / "dev"
    index = [json.loads(line)["id"] for line in (folder / "INDEX.jsonl").read_text().splitlines() if line]
    assert index == [case.name for case in cases()]


def _diagnostic(rule: str, line: int, severity: Severity) -> Diagnostic:
    from marianne_lint.reading.positions import Span

    return Diagnostic.at("input.yaml", Span(line, 1, line, 2), "ML000", rule, severity, "m")


def test_scoring_logic() -> None:
    """The scorer itself: family matching, severity, lines, must_not and the verdict exception."""
    base = {"upstream_valid": False, "must_not": [], "expect": [
        {"rule": "schema", "lines": [3, 4], "severity_at_least": "error"}
    ]}
    assert problems(base, [_diagnostic("schema-type", 4, Severity.ERROR)]) == []
    assert problems(base, [_diagnostic("schema-type", 5, Severity.ERROR)])
    assert problems(base, [_diagnostic("schema-type", 4, Severity.WARNING)])
    cycle = {"upstream_valid": True, "must_not": ["schema"], "expect": [
        {"rule": "dependency-cycle", "lines": [7], "severity_at_least": "error"}
    ]}
    assert problems(cycle, [_diagnostic("dependency-cycle", 7, Severity.ERROR)]) == []
    schema_error = _diagnostic("schema-x", 1, Severity.ERROR)
    assert problems(cycle, [_diagnostic("dependency-cycle", 7, Severity.ERROR), schema_error])
    control = {"upstream_valid": True, "must_not": [], "expect": []}
    assert problems(control, [_diagnostic("duplicate-key", 2, Severity.WARNING)]) == []
    assert problems(control, [_diagnostic("no-sheets", 2, Severity.ERROR)])


@pytest.mark.slow
def test_check_vectors_tool_on_the_command_line() -> None:
    """The official scorer, running the real command line on every case."""
    shared = shared_dir()
    linter = f"{sys.executable} -m marianne_lint"
    proc = subprocess.run(
        [sys.executable, str(shared / "tools" / "check_vectors.py"), str(shared / "vectors" / "dev"),
         "--linter", linter, "--kind-arg", "--kind {kind}"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    last = proc.stdout.strip().splitlines()[-1]
    assert last.endswith(", 0 failed"), proc.stdout[-3000:]
