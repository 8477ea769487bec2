"""The public API: lint_text and lint_paths, the Diagnostic they return, and the CLI built on them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import marianne_lint
from marianne_lint import Config, ConfigError, Diagnostic, LintError, Severity, lint_paths, lint_text
from marianne_lint.commands import lint as cli
from marianne_lint.diagnostics import Fix, Related
from marianne_lint.reading.positions import Span

CYCLIC = """\
name: cyclic
workspace: ./ws
sheet:
  size: 1
  total_items: 3
  dependencies:
    2: [3]
    3: [2]
prompt:
  template: "part {{ sheet_num }}"
validations:
  - type: content_contains
    path: "{workspace}/out-{sheet_num}.md"
    pattern: Done
"""


def test_lint_text_finds_a_cycle_in_memory_at_the_edge() -> None:
    found = lint_text(CYCLIC, "nowhere/does-not-exist.yaml")
    (cycle,) = [d for d in found if d.rule == "dependency-cycle"]
    assert (cycle.path, cycle.line, cycle.column, cycle.end_line, cycle.end_column) == (
        "nowhere/does-not-exist.yaml", 7, 9, 7, 10,
    )
    assert cycle.code == "ML201" and cycle.severity is Severity.ERROR
    assert cycle.url.endswith("docs/rules.md#dependency-cycle")
    assert cycle.related and cycle.related[0].line == 8
    assert cycle.suggestion and cycle.fix is None


def test_a_diagnostic_is_frozen_and_typed() -> None:
    (first, *_) = lint_text(CYCLIC)
    assert isinstance(first, Diagnostic) and first.path == "-"
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.line = 3  # type: ignore[misc]
    names = [field.name for field in dataclasses.fields(Diagnostic)]
    assert names == ["path", "line", "column", "end_line", "end_column", "code", "rule", "severity", "message",
                     "related", "suggestion", "url", "fix"]


def test_diagnostic_at_sets_every_field_as_the_constructor_does() -> None:
    fix = Fix("f", "safe", ())
    made = Diagnostic.at("p.yaml", Span(1, 2, 3, 4), "ML101", "schema-unknown-key", Severity.INFO, "m",
                         (Related("q.yaml", 5, 6, "r"),), "s", fix)
    assert made == Diagnostic("p.yaml", 1, 2, 3, 4, "ML101", "schema-unknown-key", Severity.INFO, "m",
                              (Related("q.yaml", 5, 6, "r"),), "s", fix=fix)
    assert made.url.endswith("#schema-unknown-key") and hash(made) == hash(dataclasses.replace(made))


def test_findings_are_sorted_as_the_command_line_prints_them() -> None:
    text = CYCLIC + "zzz: 1\naaa: 2\n"
    found = lint_text(text)
    assert found == sorted(found, key=Diagnostic.sort_key)
    assert [d.rule for d in found if d.rule == "schema-unknown-key"] == ["schema-unknown-key"] * 2


def test_the_text_is_never_read_from_disk(tmp_path: Path) -> None:
    on_disk = tmp_path / "s.yaml"
    on_disk.write_text("name: [broken\n", encoding="utf-8")
    assert [d.rule for d in lint_text(CYCLIC, on_disk) if d.rule == "yaml-syntax"] == []


def test_kind_and_configuration(tmp_path: Path) -> None:
    assert [d.rule for d in lint_text("log_level: chatty\n", kind="conductor")] == ["schema-enum"]
    with pytest.raises(ValueError):
        lint_text(CYCLIC, kind="nope")
    ignore = Config(ignore=["dependency-cycle"])
    assert not [d for d in lint_text(CYCLIC, config=ignore) if d.rule == "dependency-cycle"]
    (tmp_path / ".marianne-lint.toml").write_text('ignore = ["ML201"]\n', encoding="utf-8")
    # found from the file's folder, as the command line finds it from the current folder
    assert not [d for d in lint_text(CYCLIC, tmp_path / "s.yaml") if d.rule == "dependency-cycle"]
    assert not [d for d in lint_text(CYCLIC, config=tmp_path / ".marianne-lint.toml") if d.code == "ML201"]
    (tmp_path / ".marianne-lint.toml").write_text('select = ["ML999"]\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        lint_text(CYCLIC, tmp_path / "s.yaml")


def test_lint_paths_gives_what_the_command_line_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for number in range(6):
        (tmp_path / f"s{number}.yaml").write_text(CYCLIC.replace("cyclic", f"s{number}"), encoding="utf-8")
    (tmp_path / "ci.yaml").write_text("on: push\n", encoding="utf-8")  # not a Marianne file: skipped
    found = lint_paths(["."])
    assert found == lint_paths([tmp_path.relative_to(tmp_path) / "."], jobs=2)
    cli.main(["--no-cache", "--format", "json", "."])
    printed = json.loads(capsys.readouterr().out)["diagnostics"]
    assert [(d.path, d.line, d.column, d.code, d.message) for d in found] == [
        (d["path"], d["line"], d["column"], d["code"], d["message"]) for d in printed
    ]
    with pytest.raises(ValueError):
        lint_paths(["."], jobs=0)


def test_an_internal_error_in_lint_paths_is_raised_with_the_other_findings(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from marianne_lint.rules import graph

    (tmp_path / "s.yaml").write_text(CYCLIC, encoding="utf-8")
    (tmp_path / "t.yaml").write_text("name: [broken\n", encoding="utf-8")

    def broken(self: object, ctx: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(graph.DependencyCycle, "check", broken)
    with pytest.raises(LintError) as raised:
        lint_paths([tmp_path / "s.yaml", tmp_path / "t.yaml"])
    assert [path for path, _ in raised.value.failures] == [str(tmp_path / "s.yaml")]
    assert [d.rule for d in raised.value.diagnostics] == ["yaml-syntax"]


def test_the_package_exports_only_what_it_documents() -> None:
    assert set(marianne_lint.__all__) >= {"lint_text", "lint_paths", "Diagnostic", "Severity", "Config"}
    with pytest.raises(AttributeError):
        marianne_lint.nothing_here  # noqa: B018
