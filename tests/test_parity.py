"""Parity with Marianne's own `mzt validate`: every static check it has is covered by a rule,
and on the real corpus we report the problems it reports.

../shared/corpus/MZT_VALIDATE.jsonl records what `mzt validate` said about each score.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import shared_dir
from marianne_lint.config import Config
from marianne_lint.diagnostics import Severity
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path
from marianne_lint.rules import RULES

#: mzt validate's registered checks (spec part B §3.1) and the two defined but unregistered (§3.4).
MZT_CHECKS = [
    "V001",
    "V101",
    "V002",
    "V003",
    "V004",
    "V005",
    "V107",
    "V108",
    "V007",
    "V008",
    "V103",
    "V104",
    "V106",
    "V009",
    "V210",
    "V211",
    "V201",
    "V202",
    "V203",
    "V204",
    "V205",
    "V206",
    "V207",
    "V208",
    "V209",
    "V212",
    "V301",
    "V302",
]


def covering_rules() -> dict[str, set[str]]:
    """Check id -> names of the rules whose documentation says they cover it."""
    out: dict[str, set[str]] = {}
    for rule in RULES:
        for check in re.findall(r"\bV\d{3}\b", rule.doc()):
            out.setdefault(check, set()).add(rule.name)
    return out


def test_every_mzt_validate_check_has_a_rule() -> None:
    covered = covering_rules()
    missing = [check for check in MZT_CHECKS if check not in covered]
    assert missing == []


def test_we_report_what_mzt_validate_reports_on_the_corpus() -> None:
    corpus = shared_dir() / "corpus"
    covered = covering_rules()
    settings = Settings.from_config(Config())
    checked = 0
    for line in (corpus / "MZT_VALIDATE.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        path = corpus / record["path"]
        result = lint_source(read_path(str(path), record["path"]), settings, kind="score", file_path=path)
        assert result is not None
        rules = {d.rule for d in result.diagnostics}
        if record["exit"] == 2:
            # Schema failure: Marianne rejects the file; we must report at least one error.
            assert any(d.severity == Severity.ERROR for d in result.diagnostics), record["path"]
        for issue in record["issues"]:
            check = issue["check_id"]
            if check == "V002" and Path(issue["metadata"]["path"]).exists():
                # V002 looks at the author's machine: the workspace parent existed nowhere but there.
                # Where that folder exists, the workspace is fine and there is nothing to report.
                continue
            assert covered[check] & rules, f"{record['path']}: mzt validate reports {check}, we do not"
            checked += 1
    assert checked >= 5
