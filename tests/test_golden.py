"""Golden fixtures: every ``tests/fixtures/rules/**/NAME.yaml`` is linted with all rules on,
and the findings must equal the lines of ``NAME.out``, whole:
``NAME.yaml:LINE:COL: CODE SEVERITY: MESSAGE [RULE]`` (the concise format), so a message cannot
change unseen. Absolute paths in messages are written ``<fixtures>/...``.

A fixture is linted as the kind its content shows; a first line
``# kind: conductor`` (or instrument, fleet, score) forces the kind. To rewrite the .out files
after a deliberate change, run ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py``
and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CASES = sorted(FIXTURES.rglob("*.yaml"))
_KIND = re.compile(r"^# kind: (score|conductor|instrument|fleet)\s*$", re.M)


def _render(case: Path) -> list[str]:
    text = case.read_text(encoding="utf-8", errors="replace")
    first = text.split("\n", 1)[0]
    match = _KIND.match(first)
    settings = Settings.from_config(Config(select=["ALL"], root=case.parent))
    result = lint_source(
        read_path(str(case), case.name), settings, kind=match.group(1) if match else None, file_path=case
    )
    assert result is not None
    lines = [f"{d.path}:{d.line}:{d.column}: {d.code} {d.severity.label}: {d.message} [{d.rule}]"
             for d in result.diagnostics]
    # Messages of the path rules name absolute paths: pin them relative to the fixtures folder, so
    # that the goldens hold wherever the checkout is.
    for real in sorted({str(FIXTURES.resolve()), str(FIXTURES)}, key=len, reverse=True):
        lines = [line.replace(real, "<fixtures>") for line in lines]
    return lines


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_golden(case: Path) -> None:
    expected_file = case.with_suffix(".out")
    actual = _render(case)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text("".join(line + "\n" for line in actual), encoding="utf-8")
    assert expected_file.exists(), f"{expected_file.name} is missing"
    expected = [line for line in expected_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert actual == expected


def test_every_rule_has_a_fixture() -> None:
    from marianne_lint.rules import RULES

    covered = {
        line.split(": ", 1)[1].split()[0]
        for out in FIXTURES.rglob("*.out")
        for line in out.read_text(encoding="utf-8").splitlines()
        if ": " in line
    }
    missing = [f"{r.code} {r.name}" for r in RULES if r.code not in covered]
    assert not missing, f"rules without a golden fixture that triggers them: {missing}"


def test_every_golden_line_pins_severity_message_and_rule() -> None:
    line_shape = re.compile(r"^[^:]+:\d+:\d+: ML\d{3} (error|warning|info): .+ \[[a-z0-9-]+\]$")
    lines = [line for out in FIXTURES.rglob("*.out") for line in out.read_text(encoding="utf-8").splitlines()]
    bad = [line for line in lines if line.strip() and not line_shape.match(line)]
    assert lines and not bad, f"golden lines without severity, message and rule: {bad[:5]}"
