"""Warnings on real files Marianne accepts must each be a known, explained, real problem.

tests/data/corpus_findings.txt lists every warning and info marianne-lint gives on the valid
files of ../shared/corpus, with a one-line reason. A new finding without a reason is a false
positive until someone explains it there; a listed finding that disappears is a lost check.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import shared_dir
from marianne_lint.config import Config
from marianne_lint.diagnostics import Severity
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path

LISTED = Path(__file__).parent / "data" / "corpus_findings.txt"


def _listed() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in LISTED.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        finding, _, reason = line.partition("  # ")
        out[finding.strip()] = reason.strip()
    return out


def _reported() -> set[str]:
    corpus = shared_dir() / "corpus"
    settings = Settings.from_config(Config())
    found: set[str] = set()
    for entry in (corpus / "VERDICTS.jsonl").read_text(encoding="utf-8").splitlines():
        verdict = json.loads(entry)
        if not verdict["valid"]:
            continue
        path = corpus / verdict["path"]
        result = lint_source(read_path(str(path), verdict["path"]), settings, kind=verdict["kind"], file_path=path)
        assert result is not None
        for d in result.diagnostics:
            assert d.severity < Severity.ERROR, f"error on a file Marianne accepts: {d}"
            found.add(f"{d.path}:{d.line}:{d.column}: {d.code}")
    return found


def test_every_listed_finding_has_a_reason() -> None:
    listed = _listed()
    assert listed
    assert all(len(reason) > 20 for reason in listed.values()), "every finding needs a one-line reason"


def test_corpus_findings_are_exactly_the_explained_ones() -> None:
    reported = _reported()
    listed = set(_listed())
    assert sorted(reported - listed) == [], "new findings on valid corpus files: explain them or fix the rule"
    assert sorted(listed - reported) == [], "listed findings are no longer reported"
