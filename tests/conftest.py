"""Shared test helpers: where ../shared is, and how to lint a snippet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import decode

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: A small score that gives no finding at all (tests mix it with broken files).
GOOD = """\
name: good
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
prompt:
  template: "Write part {{ sheet_num }} to {{ workspace }}/part-{{ sheet_num }}.md, ending with Done"
validations:
  - type: file_exists
    path: "{workspace}/part-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: "Done"
"""


def shared_dir() -> Path:
    """../shared beside the checkout: required in CI, optional elsewhere."""
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the shared material is missing at {SHARED}")
    pytest.skip(f"shared material not found at {SHARED}")


def lint_text(text: str, kind: str | None = None, path: str = "test.yaml", **options: object) -> list[Diagnostic]:
    """Lint YAML text with every rule enabled; returns the diagnostics."""
    config = Config(select=["ALL"], options=dict(options))
    result = lint_source(decode(path, text.encode("utf-8")), Settings.from_config(config), kind=kind)
    assert result is not None
    return result.diagnostics


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [f"{d.line}:{d.column}: {d.code}" for d in diagnostics]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long test (for example one that writes a 50 MB file)")
    config.addinivalue_line("markers", "long: a long fuzz run; skipped unless --run-long or MARIANNE_LINT_LONG=1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-long", action="store_true", help="run the tests marked long (or set MARIANNE_LINT_LONG=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-long") or os.environ.get("MARIANNE_LINT_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long run: use --run-long or MARIANNE_LINT_LONG=1")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
