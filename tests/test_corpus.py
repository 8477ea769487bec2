"""The real Marianne files: an error exactly when Marianne rejects the file, on the line of each error it names.

VERDICTS.jsonl holds Marianne's verdict for every corpus file and, for an
invalid one, the ``loc`` (data path) of each error. Marianne reports no
lines; the line expected here is the one the loc (or its nearest ancestor
that is written in the file) has in our own position map.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import shared_dir
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.pipeline import Result, Settings, lint_source
from marianne_lint.reading.loader import load
from marianne_lint.reading.source import read_path


def verdicts() -> list[dict[str, Any]]:
    corpus = shared_dir() / "corpus"
    return [json.loads(line) for line in (corpus / "VERDICTS.jsonl").read_text(encoding="utf-8").splitlines() if line]


def lint_corpus_file(entry: dict[str, Any]) -> Result:
    path = shared_dir() / "corpus" / entry["path"]
    settings = Settings.from_config(Config())
    result = lint_source(read_path(str(path), entry["path"]), settings, kind=entry["kind"], file_path=path)
    assert result is not None
    return result


def errors(result: Result) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.severity == Severity.ERROR]


def expected_line(text: str, loc: list[Any]) -> int:
    """The line of the key at ``loc``, or of its nearest ancestor written in the file (1 at the top)."""
    loaded = load(text.removeprefix("\ufeff"))
    assert loaded.root is not None
    found = loaded.root.locate(tuple(loc))
    return 1 if found.depth == 0 else found.key_or_value.line


def test_every_corpus_file_has_a_verdict() -> None:
    corpus = shared_dir() / "corpus"
    listed = {entry["path"] for entry in verdicts()}
    on_disk = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.yaml")}
    assert listed == on_disk
    assert any(not entry["valid"] for entry in verdicts())


def test_verdicts() -> None:
    wrong = []
    for entry in verdicts():
        found = errors(lint_corpus_file(entry))
        if bool(found) == entry["valid"]:
            shown = [f"{d.line}: {d.rule}" for d in found]
            wrong.append(f"{entry['path']}: Marianne says valid={entry['valid']}, we report errors {shown}")
    assert wrong == []


def test_an_error_on_the_line_of_every_upstream_error() -> None:
    missing = []
    for entry in verdicts():
        if entry["valid"]:
            continue
        text = (shared_dir() / "corpus" / entry["path"]).read_text(encoding="utf-8")
        lines = {d.line for d in errors(lint_corpus_file(entry))}
        for error in entry["errors"]:
            line = expected_line(text, error["loc"])
            if line not in lines:
                missing.append(f"{entry['path']}: {error['loc']} ({error['type']}) expects an error on line {line}")
    assert missing == []


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (["sheet", "size"], 2),  # missing: the parent's key
        (["prompt"], 1),  # missing at the top level
        (["sheet", "template"], 4),
        (["validations", 0, "name"], 6),
    ],
)
def test_expected_line_helper(loc: list[Any], line: int) -> None:
    text = "name: x\nsheet:\n  total: 1\n  template: t\nvalidations:\n  - name: v\n"
    assert expected_line(text, loc) == line
