"""Golden fixes: every rule fixture whose findings carry a fix has a ``NAME.fixed`` beside it.

``NAME.fixed`` is the fixture after ``--fix --unsafe-fixes`` (all rules on, as in
``test_golden``), byte for byte; a fixture without a fix has no ``.fixed`` file. Every rule that
declares ``fixable`` must fix at least one fixture. To rewrite the ``.fixed`` files after a
deliberate change, run ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_fix_golden.py``
and read the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from marianne_lint.config import Config
from marianne_lint.fixing import Fixed, applies, fix_source
from marianne_lint.pipeline import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CASES = sorted(FIXTURES.rglob("*.yaml"))
_KIND = re.compile(r"^# kind: (score|conductor|instrument|fleet)\s*$", re.M)


def _fix(case: Path, unsafe: bool = True) -> Fixed | None:
    data = case.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = _KIND.match(text.split("\n", 1)[0])
    settings = Settings.from_config(Config(select=["ALL"], root=case.parent))
    return fix_source(text, case.name, settings, kind=match.group(1) if match else None, unsafe=unsafe,
                      file_path=case)


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_fixed_golden(case: Path) -> None:
    fixed = _fix(case)
    expected = case.with_suffix(".fixed")
    if fixed is None or not fixed.changed:
        assert not expected.exists(), f"{expected.name} exists but nothing in {case.name} is fixed"
        return
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_bytes(fixed.text.encode("utf-8"))
    assert expected.exists(), f"{expected.name} is missing (UPDATE_GOLDEN=1 writes it)"
    assert fixed.text == expected.read_bytes().decode("utf-8")
    # Nothing that carries an applicable fix is left, and fixing again changes nothing.
    assert not [d.code for d in fixed.diagnostics if applies(d, True)]
    again = _fix_text_again(case, fixed.text)
    assert again is not None and not again.changed


def _fix_text_again(case: Path, text: str) -> Fixed | None:
    match = _KIND.match(text.split("\n", 1)[0])
    settings = Settings.from_config(Config(select=["ALL"], root=case.parent))
    return fix_source(text, case.name, settings, kind=match.group(1) if match else None, unsafe=True,
                      file_path=case)


def test_every_fixable_rule_fixes_a_fixture() -> None:
    from marianne_lint.rules import RULES

    fixed_rules: set[str] = set()
    safe_rules: set[str] = set()
    unsafe_rules: set[str] = set()
    for case in CASES:
        fixed = _fix(case)
        if fixed is None:
            continue
        for d in fixed.applied:
            fixed_rules.add(d.rule)
            assert d.fix is not None
            (safe_rules if d.fix.applicability == "safe" else unsafe_rules).add(d.rule)
    declared = {rule.name: rule.fixable for rule in RULES if rule.fixable}
    assert len(declared) >= 15
    assert sorted(set(declared) - fixed_rules) == [], "fixable rules that fix no fixture"
    assert sorted(fixed_rules - set(declared)) == [], "rules that fix without declaring `fixable`"
    for name, kind in declared.items():
        if kind == "safe":
            assert name not in unsafe_rules, f"{name} is declared safe but made an unsafe fix"
        if kind == "unsafe":
            assert name not in safe_rules, f"{name} is declared unsafe but made a safe fix"
