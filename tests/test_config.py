"""Configuration files and their keys, as conventions.md describes them; the command line wins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from marianne_lint.commands import lint as cli

#: idle-timeout-too-short (ML302, warning) on line 11 with the default floor of 120 s.
SCORE = """\
name: configured
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
prompt:
  template: "Write part {{ sheet_num }} to {{ workspace }}/part-{{ sheet_num }}.md, ending with Done"
stale_detection:
  enabled: true
  check_interval_seconds: 10
  idle_timeout_seconds: 90
validations:
  - type: file_exists
    path: "{workspace}/part-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: "Done"
"""

#: Adds a dependency cycle (ML201, error) on line 7.
CYCLE = SCORE.replace("  total_items: 2\n", "  total_items: 3\n  dependencies:\n    2: [3]\n    3: [2]\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path/project with a score; the current folder. A marker file above stops the upward search."""
    (tmp_path / ".marianne-lint.toml").write_text("", encoding="utf-8")
    root = tmp_path / "project"
    root.mkdir()
    (root / "score.yaml").write_text(SCORE, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[tuple[str, int, str, str]], str]:
    """Run the CLI with JSON output: (exit code, [(path, line, rule, severity)], stderr)."""
    try:
        code = cli.main(["--format", "json", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code == 2:
        assert out == ""
        return code, [], err
    report: dict[str, Any] = json.loads(out)
    found = [(d["path"], d["line"], d["rule"], d["severity"]) for d in report["diagnostics"]]
    return code, found, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(capsys, "score.yaml")[1] == [("score.yaml", 11, "idle-timeout-too-short", "warning")]


# -- finding the configuration ----------------------------------------------------------------------


def test_pyproject_table_found_from_a_subfolder(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.marianne-lint]\nmin-idle-timeout-seconds = 60\n')
    write(project / "scores" / "deep" / "score.yaml", SCORE)
    monkeypatch.chdir(project / "scores" / "deep")
    assert lint(capsys, "score.yaml") == (0, [], "")


def test_dedicated_file_found_upward(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / ".marianne-lint.toml", 'ignore = ["ML302"]\n')
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    assert lint(capsys, "../score.yaml")[1] == []


def test_pyproject_without_the_table_is_passed_over(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / ".marianne-lint.toml", 'ignore = ["ML302"]\n')
    write(project / "sub" / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    monkeypatch.chdir(project / "sub")
    assert lint(capsys, "../score.yaml")[1] == []


def test_nearest_configuration_wins(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "pyproject.toml", '[tool.marianne-lint]\nignore = ["ML302"]\n')
    write(project / "sub" / ".marianne-lint.toml", 'severity = {ML302 = "error"}\n')
    monkeypatch.chdir(project / "sub")
    assert lint(capsys, "../score.yaml")[1] == [("../score.yaml", 11, "idle-timeout-too-short", "error")]


def test_dedicated_file_beats_pyproject_in_the_same_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "pyproject.toml", '[tool.marianne-lint]\nignore = ["ML302"]\n')
    write(project / ".marianne-lint.toml", "")
    assert len(lint(capsys, "score.yaml")[1]) == 1


def test_config_option_and_isolated(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", 'ignore = ["ML302"]\n')
    write(project / "other.toml", 'severity = {idle-timeout-too-short = "info"}\n')
    assert lint(capsys, "score.yaml")[1] == []
    assert lint(capsys, "--config", "other.toml", "score.yaml")[1] == [
        ("score.yaml", 11, "idle-timeout-too-short", "info")
    ]
    assert lint(capsys, "--isolated", "score.yaml")[1] == [("score.yaml", 11, "idle-timeout-too-short", "warning")]


# -- the keys ---------------------------------------------------------------------------------------


def test_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "score.yaml", CYCLE)
    write(project / ".marianne-lint.toml", 'select = ["dependency-cycle"]\n')
    assert [f[2] for f in lint(capsys, "score.yaml")[1]] == ["dependency-cycle"]
    write(project / ".marianne-lint.toml", 'select = ["ML3"]\n')  # a code prefix
    assert [f[2] for f in lint(capsys, "score.yaml")[1]] == ["idle-timeout-too-short"]


def test_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "score.yaml", CYCLE)
    write(project / ".marianne-lint.toml", 'ignore = ["ML201"]\n')
    code, found, _ = lint(capsys, "score.yaml")
    assert code == 0 and [f[2] for f in found] == ["idle-timeout-too-short"]


def test_extend_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "score.yaml", CYCLE)
    write(project / ".marianne-lint.toml", 'select = ["ML201"]\nextend-select = ["idle-timeout-too-short"]\n')
    assert [f[2] for f in lint(capsys, "score.yaml")[1]] == ["dependency-cycle", "idle-timeout-too-short"]


def test_per_file_ignores(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "legacy" / "old.yaml", SCORE)
    write(project / ".marianne-lint.toml", '[per-file-ignores]\n"legacy/*.yaml" = ["idle-timeout-too-short"]\n')
    assert lint(capsys, ".")[1] == [("score.yaml", 11, "idle-timeout-too-short", "warning")]


def test_per_file_ignores_by_file_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", '[per-file-ignores]\n"score.yaml" = ["ML302"]\n')
    assert lint(capsys, "score.yaml")[1] == []


def test_severity(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", '[severity]\nidle-timeout-too-short = "error"\n')
    code, found, _ = lint(capsys, "score.yaml")
    assert code == 1 and found == [("score.yaml", 11, "idle-timeout-too-short", "error")]
    write(project / ".marianne-lint.toml", '[severity]\nML302 = "info"\n')
    assert lint(capsys, "score.yaml")[1] == [("score.yaml", 11, "idle-timeout-too-short", "info")]


def test_severity_lowered_to_info_by_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", '[severity]\nidle-timeout-too-short = "info"\n')
    assert lint(capsys, "score.yaml")[1] == [("score.yaml", 11, "idle-timeout-too-short", "info")]


def test_exclude(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "generated" / "out.yaml", CYCLE)
    write(project / "drafts" / "draft.yaml", CYCLE)
    write(project / ".marianne-lint.toml", 'exclude = ["generated", "drafts/*.yaml"]\n')
    assert [f[0] for f in lint(capsys, ".")[1]] == ["score.yaml"]
    # a file named on the command line is linted even when excluded
    assert "generated/out.yaml" in {f[0] for f in lint(capsys, "generated/out.yaml")[1]}


def test_kinds(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "daemon" / "settings.yaml", "log_level: info\n")
    assert lint(capsys, "daemon/settings.yaml") == (0, [], "")  # detected as a conductor config
    write(project / ".marianne-lint.toml", '[kinds]\n"daemon/*.yaml" = "score"\n')
    code, found, _ = lint(capsys, "daemon/settings.yaml")
    assert code == 1 and "schema-missing-key" in {f[2] for f in found}
    assert lint(capsys, "--kind", "conductor", "daemon/settings.yaml")[0] == 0  # the command line wins


def test_kinds_let_a_walk_find_a_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "parts" / "fragment.yaml", "retries: 3\n")  # not recognisable as any kind
    assert {f[0] for f in lint(capsys, ".")[1]} == {"score.yaml"}
    write(project / ".marianne-lint.toml", '[kinds]\n"parts/*.yaml" = "score"\n')
    assert "parts/fragment.yaml" in {f[0] for f in lint(capsys, ".")[1]}


def test_rule_option(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", "min-idle-timeout-seconds = 60\n")
    assert lint(capsys, "score.yaml")[1] == []
    write(project / ".marianne-lint.toml", "min-idle-timeout-seconds = 600\n")
    write(project / "score.yaml", SCORE.replace("idle_timeout_seconds: 90", "idle_timeout_seconds: 300"))
    assert [f[2] for f in lint(capsys, "score.yaml")[1]] == ["idle-timeout-too-short"]


def test_reader_options(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "deep.yaml", SCORE + "x-deep: " + "[" * 30 + "]" * 30 + "\n")
    write(project / ".marianne-lint.toml", "max-depth = 20\n")
    assert [f[2] for f in lint(capsys, "deep.yaml")[1]] == ["resource-limit"]
    write(project / ".marianne-lint.toml", "max-file-size = 100\n")
    assert [f[2] for f in lint(capsys, "score.yaml")[1]] == ["resource-limit"]


# -- the command line wins --------------------------------------------------------------------------


def test_command_line_select_beats_configured_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", 'ignore = ["ML302"]\n')
    assert [f[2] for f in lint(capsys, "--select", "ML302", "score.yaml")[1]] == ["idle-timeout-too-short"]


def test_command_line_extend_select_beats_configured_ignore(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".marianne-lint.toml", 'ignore = ["idle-timeout-too-short"]\n')
    found = lint(capsys, "--extend-select", "idle-timeout-too-short", "score.yaml")[1]
    assert [f[2] for f in found] == ["idle-timeout-too-short"]


def test_command_line_ignore_beats_configured_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / ".marianne-lint.toml", 'select = ["ML302"]\n')
    assert lint(capsys, "--ignore", "ML302", "score.yaml")[1] == []


def test_command_line_select_replaces_configured_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "score.yaml", CYCLE)
    write(project / ".marianne-lint.toml", 'select = ["ML302"]\n')
    assert [f[2] for f in lint(capsys, "--select", "ML201", "score.yaml")[1]] == ["dependency-cycle"]


def test_configured_severity_still_applies_with_command_line_select(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".marianne-lint.toml", 'severity = {ML302 = "error"}\n')
    assert lint(capsys, "--select", "ML302", "score.yaml")[1] == [
        ("score.yaml", 11, "idle-timeout-too-short", "error")
    ]


# -- mistakes are tool errors (exit 2) with a hint ----------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "hint"),
    [
        ("selekt = []\n", "unknown key 'selekt'; did you mean 'select'?"),
        ("min-idle-timout-seconds = 60\n", "did you mean 'min-idle-timeout-seconds'?"),
        ('select = ["dependancy-cycle"]\n', "did you mean 'dependency-cycle'?"),
        ('ignore = ["idle-timeout-to-short"]\n', "did you mean 'idle-timeout-too-short'?"),
        ('extend-select = ["ML999"]\n', "ML999"),
        ('[severity]\ndependancy-cycle = "error"\n', "did you mean 'dependency-cycle'?"),
        ('[severity]\nML201 = "fatal"\n', "fatal"),
        ('[per-file-ignores]\n"*.yaml" = ["duplicate-kee"]\n', "did you mean 'duplicate-key'?"),
        ('[kinds]\n"*.yaml" = "playbook"\n', "playbook"),
        ('min-idle-timeout-seconds = "sixty"\n', "min-idle-timeout-seconds"),
        ('select = "ML201"\n', "list of strings"),
        ("select = [\n", "not valid TOML"),
    ],
)
def test_configuration_mistakes(project: Path, capsys: pytest.CaptureFixture[str], toml: str, hint: str) -> None:
    write(project / ".marianne-lint.toml", toml)
    code, _, err = lint(capsys, "score.yaml")
    assert code == 2
    assert hint in err
    assert ".marianne-lint.toml" in err


def test_mistake_in_pyproject_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "pyproject.toml", "[tool.marianne-lint]\nignor = []\n")
    code, _, err = lint(capsys, "score.yaml")
    assert code == 2 and "did you mean 'ignore'?" in err and "pyproject.toml" in err


@pytest.mark.parametrize("text", [
    '[tool.marianne-lint]\nignore = ["ML302"]\nselect = [\n',
    "[tool.marianne-lint]\n[tool.marianne-lint\n",
    '[project]\nname = "x"\n[ tool . "marianne-lint" ]\nignore = [ML302]\n',
    'tool.marianne-lint.ignore = ["ML302"\n',
])
def test_a_broken_pyproject_with_our_table_is_a_tool_error(project: Path, capsys: pytest.CaptureFixture[str],
                                                           text: str) -> None:
    """Dropping the settings in silence would lint with rules the project turned off."""
    write(project / "pyproject.toml", text)
    code, _, err = lint(capsys, "score.yaml")
    assert code == 2 and "pyproject.toml: not valid TOML" in err


def test_a_broken_pyproject_of_another_tool_is_passed_over(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "pyproject.toml", '[project]\ndependencies = ["marianne-lint"\n')
    code, findings, err = lint(capsys, "score.yaml")
    assert code == 0 and findings and err == ""


def test_missing_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = lint(capsys, "--config", "nowhere.toml", "score.yaml")
    assert code == 2 and "nowhere.toml" in err
