"""ML6xx: how paths are resolved, with real files under tmp_path (both branches of each check)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import lint_text
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path

VALIDATIONS = """validations:
  - type: file_exists
    path: "{workspace}/out.md"
  - type: content_contains
    path: "{workspace}/out.md"
    pattern: "Done"
"""


DEFAULT_PROMPT = '  template: "Write {{ workspace }}/out.md"\n'


def score(top: str = "workspace: ./ws\n", sheet: str = "", prompt: str = "", validations: str = VALIDATIONS) -> str:
    return (
        f"name: demo\n{top}sheet:\n  size: 1\n  total_items: 2\n{sheet}prompt:\n{prompt or DEFAULT_PROMPT}{validations}"
    )


def lint_file(path: Path, kind: str | None = None) -> list[Diagnostic]:
    settings = Settings.from_config(Config(select=["ALL"], root=path.parent))
    result = lint_source(read_path(str(path), path.name), settings, kind=kind, file_path=path)
    assert result is not None
    return result.diagnostics


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def of(diagnostics: list[Diagnostic], rule: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.rule == rule]


# -- workspace ------------------------------------------------------------------------------------


def test_relative_workspace_resolves_against_the_score_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "runs").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    missing = write(tmp_path / "scores" / "a.yaml", score("workspace: runs/ws\n"))
    assert len(of(lint_file(missing), "workspace-parent-missing")) == 1
    (tmp_path / "scores" / "runs").mkdir()
    assert of(lint_file(missing), "workspace-parent-missing") == []


def test_workspace_follows_the_real_path_of_a_symlinked_score(tmp_path: Path) -> None:
    real = write(tmp_path / "real" / "scores" / "a.yaml", score("workspace: ../shared/ws\n"))
    (tmp_path / "real" / "shared").mkdir()
    (tmp_path / "links" / "scores").mkdir(parents=True)
    link = tmp_path / "links" / "scores" / "a.yaml"
    os.symlink(real, link)
    # Marianne resolves the score file first: ../shared is next to the real file, not the link.
    assert of(lint_file(link), "workspace-parent-missing") == []


def test_absolute_workspace_is_checked_as_written(tmp_path: Path) -> None:
    ok = write(tmp_path / "ok.yaml", score(f"workspace: {tmp_path}/ws\n"))
    assert of(lint_file(ok), "workspace-parent-missing") == []
    bad = write(tmp_path / "bad.yaml", score(f"workspace: {tmp_path}/gone/ws\n"))
    [finding] = of(lint_file(bad), "workspace-parent-missing")
    assert "V002" in finding.message and finding.severity is Severity.WARNING


def test_parent_that_is_a_file(tmp_path: Path) -> None:
    write(tmp_path / "blocker", "x")
    path = write(tmp_path / "a.yaml", score("workspace: blocker/ws\n"))
    [finding] = of(lint_file(path), "workspace-parent-missing")
    assert "is a file" in finding.message and "V002" not in finding.message


def test_no_filesystem_checks_without_a_file() -> None:
    diagnostics = lint_text(score("workspace: /nonexistent-marianne-lint/x/ws\n"))
    assert of(diagnostics, "workspace-parent-missing") == []


def test_absent_workspace_is_info_and_never_checked_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", score(""))
    diagnostics = lint_file(path)
    assert [d.severity for d in of(diagnostics, "default-workspace")] == [Severity.INFO]
    assert of(diagnostics, "workspace-parent-missing") == []
    assert of(lint_text(score("")), "default-workspace") != []


def test_null_and_empty_workspace(tmp_path: Path) -> None:
    null = write(tmp_path / "null.yaml", score("workspace:\n"))
    diagnostics = lint_file(null)
    assert len(of(diagnostics, "null-workspace")) == 1
    assert of(diagnostics, "workspace-parent-missing") == []  # <score dir>/None: the parent exists
    assert len(of(lint_text(score('workspace: ""\n')), "null-workspace")) == 1
    assert of(lint_text(score("workspace: ./None-yet\n")), "null-workspace") == []


@pytest.mark.parametrize(
    ("value", "hits"),
    [("~/runs", 1), ("$HOME/runs", 1), ("./ws-${USER}", 1), ("./a~b", 0), ("./cost-$", 0), ("./ws", 0)],
)
def test_unexpanded_workspace(value: str, hits: int) -> None:
    assert len(of(lint_text(score(f"workspace: '{value}'\n")), "unexpanded-workspace-path")) == hits


# -- files next to the score ----------------------------------------------------------------------


def test_template_file_both_branches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ws").mkdir()
    path = write(tmp_path / "s" / "a.yaml", score(prompt="  template_file: t.j2\n"))
    write(tmp_path / "t.j2", "in the current folder, not next to the score")
    [finding] = of(lint_file(path), "template-file-missing")
    assert "does not exist" in finding.message
    write(tmp_path / "s" / "t.j2", "Write {{ workspace }}/out.md")
    assert of(lint_file(path), "template-file-missing") == []
    folder = write(tmp_path / "s" / "b.yaml", score(prompt=f"  template_file: {tmp_path}\n"))
    [finding] = of(lint_file(folder), "template-file-missing")
    assert "not a file" in finding.message


def test_system_prompt_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", score("workspace: ./ws\nbackend:\n  system_prompt_file: sys.md\n"))
    assert len(of(lint_file(path), "system-prompt-file-missing")) == 1
    write(tmp_path / "sys.md", "be careful")
    assert of(lint_file(path), "system-prompt-file-missing") == []


def test_working_directory(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", score("workspace: ./ws\nbackend:\n  working_directory: src\n"))
    assert "does not exist" in of(lint_file(path), "working-directory-missing")[0].message
    write(tmp_path / "src", "a file")
    assert "not a folder" in of(lint_file(path), "working-directory-missing")[0].message
    (tmp_path / "src").unlink()
    (tmp_path / "src").mkdir()
    assert of(lint_file(path), "working-directory-missing") == []


def test_skill_technique(tmp_path: Path) -> None:
    top = "workspace: ./ws\ntechniques:\n  r:\n    kind: skill\n    phases: []\n    config: {path: skills/r.md}\n"
    path = write(tmp_path / "a.yaml", score(top))
    assert len(of(lint_file(path), "technique-skill-missing")) == 1
    write(tmp_path / "skills" / "r.md", "how")
    assert of(lint_file(path), "technique-skill-missing") == []
    mcp = write(tmp_path / "b.yaml", score(top.replace("kind: skill", "kind: mcp")))
    assert of(lint_file(mcp), "technique-skill-missing") == []


# -- prelude and cadenzas -------------------------------------------------------------------------

PRELUDE = "  prelude:\n    - file: ctx.md\n      as: context\n"


def test_injection_is_looked_up_in_the_workspace(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", score(sheet=PRELUDE))
    # No workspace folder yet: relative entries cannot be judged.
    assert of(lint_file(path), "injection-file-missing") == []
    (tmp_path / "ws").mkdir()
    [plain] = of(lint_file(path), "injection-file-missing")
    assert "next to the score" not in plain.message
    write(tmp_path / "ctx.md", "beside the score only")
    [beside] = of(lint_file(path), "injection-file-missing")
    assert "looks in the workspace" in beside.message
    write(tmp_path / "ws" / "ctx.md", "in the workspace")
    assert of(lint_file(path), "injection-file-missing") == []


def test_absolute_injection_checked_without_workspace(tmp_path: Path) -> None:
    sheet = f"  prelude:\n    - file: {tmp_path}/abs.md\n      as: skill\n"
    path = write(tmp_path / "a.yaml", score(sheet=sheet))
    assert len(of(lint_file(path), "injection-file-missing")) == 1
    write(tmp_path / "abs.md", "x")
    assert of(lint_file(path), "injection-file-missing") == []


def test_injection_severity_and_templates(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    sheet = (
        "  prelude:\n"
        "    - directory: refs\n      as: context\n"
        "    - directory: tools\n      as: tool\n"
        "    - file: '{{ workspace }}/later.md'\n      as: skill\n"
        "  cadenzas:\n    2:\n      - file: out-1.md\n        as: context\n"
    )
    path = write(tmp_path / "a.yaml", score(sheet=sheet))
    found = of(lint_file(path), "injection-file-missing")
    assert [(d.line, d.severity) for d in found] == [(7, Severity.INFO), (9, Severity.WARNING), (15, Severity.WARNING)]
    assert "earlier sheet" in found[2].message


# -- validations ----------------------------------------------------------------------------------


def _validation(path: str, extra: str = "") -> str:
    return VALIDATIONS + f"  - type: file_exists\n    path: '{path}'\n{extra}"


@pytest.mark.parametrize(
    ("path", "hits"),
    [
        ("out.md", 1),
        ("./out.md", 1),
        ("~/out.md", 1),
        ("{sheet_num}/out.md", 1),
        ("{rel}/out.md", 1),
        ("{abs}/out.md", 0),
        ("{workspace}/out.md", 0),
        ("{workspace!s}/out.md", 0),
        ("/srv/out.md", 0),
        ("{{ workspace }}/out.md", 0),  # jinja-in-validation-path reports it
        ("{unknown}/out.md", 0),  # fails at run time; another rule's business
    ],
)
def test_relative_validation_path(path: str, hits: int) -> None:
    prompt = "  variables: {rel: reports, abs: /srv/reports}\n  template: 'Write {{ workspace }}/out.md'\n"
    found = of(lint_text(score(prompt=prompt, validations=_validation(path))), "relative-validation-path")
    assert len(found) == hits


def test_relative_command_working_directory() -> None:
    extra = "  - type: command_succeeds\n    command: 'true'\n    working_directory: build\n"
    found = of(lint_text(score(validations=VALIDATIONS + extra)), "relative-validation-path")
    assert [d.line for d in found] == [16]


def test_content_validation_on_a_missing_absolute_file(tmp_path: Path) -> None:
    target = tmp_path / "status.txt"
    extra = f"  - type: content_contains\n    path: {target}\n    pattern: READY\n"
    path = write(tmp_path / "a.yaml", score(validations=VALIDATIONS + extra))
    [finding] = of(lint_file(path), "validation-file-missing")
    assert finding.severity is Severity.INFO
    write(target, "READY")
    assert of(lint_file(path), "validation-file-missing") == []
    exists_only = write(tmp_path / "b.yaml", score(validations=_validation(str(tmp_path / "nope.txt"))))
    assert of(lint_file(exists_only), "validation-file-missing") == []


# -- versioned scores -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "name", "hits"),
    [
        ("report-v3.yaml", "report-v2", 1),
        ("report-v3.yaml", "report-v20", 0),
        ("report-v3.yaml", "report-v3", 0),
        ("report-v1.yaml", "report-v0", 0),
        ("report-v3.yml", "report-v2", 0),
        ("reportv3.yaml", "report-v2", 0),
    ],
)
def test_versioned_name(tmp_path: Path, file_name: str, name: str, hits: int) -> None:
    text = score().replace("name: demo", f"name: {name}")
    path = write(tmp_path / file_name, text)
    assert len(of(lint_file(path), "versioned-score-reference")) == hits


# -- fleets ---------------------------------------------------------------------------------------


def test_fleet_paths_are_relative_to_the_fleet_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "build.yml", "name: build\n")  # in the current folder, not next to the fleet
    fleet = write(tmp_path / "fleets" / "f.yaml", "name: f\ntype: fleet\nscores:\n  - path: build.yml\n")
    assert len(of(lint_file(fleet, "fleet"), "fleet-score-missing")) == 1
    write(tmp_path / "fleets" / "build.yml", "name: build\n")
    assert of(lint_file(fleet, "fleet"), "fleet-score-missing") == []


def test_fleet_unknown_group() -> None:
    text = "name: f\ntype: fleet\nscores:\n  - {path: a.yaml, group: one}\n  - {path: b.yaml}\n"
    [finding] = of(lint_text(text, kind="fleet"), "fleet-unknown-group")
    assert finding.severity is Severity.ERROR and "no groups" in finding.message
    defined = text + "groups:\n  one: {}\n"
    assert of(lint_text(defined, kind="fleet"), "fleet-unknown-group") == []
