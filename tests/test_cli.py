"""The command line as conventions.md describes it: formats, exit codes, inputs, kinds, subcommands."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import GOOD
from marianne_lint.commands import lint as cli
from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path
from marianne_lint.version import __version__

#: An error (a cycle, line 7 with a related line 8) and a warning (line 13).
FAULTY = GOOD.replace(
    "  total_items: 2\n",
    "  total_items: 3\n  dependencies:\n    2: [3]\n    3: [2]\n",
).replace(
    "validations:\n",
    "stale_detection:\n  enabled: true\n  idle_timeout_seconds: 60\n  check_interval_seconds: 10\nvalidations:\n",
)

#: Only a warning (line 10).
WARNING_ONLY = GOOD.replace(
    "validations:\n",
    "stale_detection:\n  enabled: true\n  idle_timeout_seconds: 60\n  check_interval_seconds: 10\nvalidations:\n",
)

WORKFLOW = """\
name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
"""

FLEET = "name: nightly\ntype: fleet\nscores:\n  - path: good.yaml\n"
INSTRUMENT = """\
name: my-tool
display_name: My tool
kind: cli
cli:
  command:
    executable: my-tool
  output:
    format: text
"""
CONDUCTOR = "max_concurrent_jobs: 3\nlog_level: info\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / ".marianne-lint.toml").write_text("", encoding="utf-8")  # no configuration from above
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "faulty.yaml").write_text(FAULTY, encoding="utf-8")
    (tmp_path / "warning.yaml").write_text(WARNING_ONLY, encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``marianne-lint ARGS`` in-process: (exit code, stdout, stderr). argparse errors exit via SystemExit."""
    try:
        code = cli.main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "--format", "json", *args)
    return code, json.loads(out)


# -- formats ----------------------------------------------------------------------------------------


def test_concise_is_one_line_per_finding(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "concise", "faulty.yaml")
    assert code == 1
    lines = out.splitlines()
    pattern = re.compile(r"^faulty\.yaml:(\d+):(\d+): (ML\d{3})( \[\*\])? (error|warning|info): .+ \[[a-z0-9-]+\]$")
    assert all(pattern.match(line) for line in lines[:-2]), lines
    assert lines[0].startswith("faulty.yaml:7:9: ML201 error: sheets 2 -> 3 -> 2 form a dependency cycle")
    assert lines[0].endswith("[dependency-cycle]")
    assert lines[1].startswith("faulty.yaml:13:3: ML302 warning: ")  # its fix is unsafe: no [*]
    assert lines[-2] == "Found 1 error, 1 warning (1 file checked)."
    assert lines[-1] == "No fix available with `--fix` (1 hidden fix can be enabled with `--unsafe-fixes`)."


def test_full_shows_the_line_and_a_caret(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "warning.yaml")  # full is the default
    assert code == 0
    assert out.splitlines()[:4] == [
        "warning.yaml:10:3: ML302 warning: stale_detection.idle_timeout_seconds is 60 s: a sheet silent for that "
        "long is failed as stale, and AI instruments are often silent for minutes while working (floor: 120 s) "
        "[idle-timeout-too-short]",
        "   |",
        "10 |   idle_timeout_seconds: 60",
        "   |   ^^^^^^^^^^^^^^^^^^^^",
    ]
    assert "  = related: warning.yaml:9:3: stale detection is enabled here" in out
    assert "  = help: raise idle_timeout_seconds to at least 120" in out
    assert out.endswith("Found 1 warning (1 file checked).\n"
                        "No fix available with `--fix` (1 hidden fix can be enabled with `--unsafe-fixes`).\n")


def test_clean_run_says_so(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("full", "concise"):
        code, out, _ = run(capsys, "--format", fmt, "good.yaml")
        assert (code, out) == (0, "All checks passed (1 file checked).\n")


DIAGNOSTIC_KEYS = [
    "path", "line", "column", "end_line", "end_column", "code", "rule", "severity", "message", "related",
    "suggestion", "url", "fix",
]


def test_json_matches_the_conventions(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "warning.yaml", "faulty.yaml", "good.yaml")
    assert code == 1
    assert list(report) == ["version", "diagnostics", "summary"]
    assert report["version"] == 1
    assert report["summary"] == {"files": 3, "error": 1, "warning": 2, "info": 0}
    diagnostics = report["diagnostics"]
    for d in diagnostics:
        assert list(d) == DIAGNOSTIC_KEYS
        assert isinstance(d["line"], int) and isinstance(d["column"], int)
        assert (d["end_line"], d["end_column"]) > (d["line"], d["column"])
        assert d["severity"] in ("error", "warning", "info")
        assert re.fullmatch(r"ML\d{3}", d["code"])
        assert d["url"].endswith("#" + d["rule"])
        for related in d["related"]:
            assert list(related) == ["path", "line", "column", "message"]
    keys = [(d["path"], d["line"], d["column"], d["code"]) for d in diagnostics]
    assert keys == sorted(keys)
    assert keys == [
        ("faulty.yaml", 7, 9, "ML201"),
        ("faulty.yaml", 13, 3, "ML302"),
        ("warning.yaml", 10, 3, "ML302"),
    ]
    cycle = diagnostics[0]
    assert cycle["rule"] == "dependency-cycle" and cycle["severity"] == "error"
    assert cycle["related"] == [
        {"path": "faulty.yaml", "line": 8, "column": 9, "message": "sheet 3 waits for sheet 2"}
    ]
    assert (cycle["end_line"], cycle["end_column"]) == (7, 10)


def test_json_when_clean(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "good.yaml")
    assert code == 0
    assert report == {"version": 1, "diagnostics": [], "summary": {"files": 1, "error": 0, "warning": 0, "info": 0}}


def test_github_format_is_chosen_on_github_actions(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, "warning.yaml")
    assert out.startswith("::warning file=warning.yaml,line=10,col=3,")
    _, out, _ = run(capsys, "--format", "concise", "warning.yaml")  # an explicit format wins
    assert out.startswith("warning.yaml:10:3: ML302")


def test_output_is_deterministic(workdir: Path) -> None:
    (workdir / "sub").mkdir()
    (workdir / "sub" / "b.yml").write_text(FAULTY, encoding="utf-8")
    (workdir / "sub" / "a.yaml").write_text(WARNING_ONLY, encoding="utf-8")
    outputs = []
    for fmt in ("full", "json", "sarif"):
        for _ in range(2):
            proc = subprocess.run(
                [sys.executable, "-m", "marianne_lint", "--format", fmt, "."], cwd=workdir, capture_output=True
            )
            assert proc.returncode == 1
            outputs.append(proc.stdout)
        assert outputs[-1] == outputs[-2]
        assert outputs[-1]


def test_output_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", "--output-file", "report.json", "faulty.yaml")
    assert code == 1
    assert out == ""
    report = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["error"] == 1


def test_output_file_that_cannot_be_written(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--output-file", "missing-folder/report.txt", "good.yaml")
    assert code == 2
    assert "cannot write" in err


# -- exit codes -------------------------------------------------------------------------------------


def test_exit_codes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "good.yaml")[0] == 0
    assert run(capsys, "faulty.yaml")[0] == 1
    assert run(capsys, "warning.yaml")[0] == 0  # a warning is below the default threshold
    assert run(capsys, "--fail-on", "warning", "warning.yaml")[0] == 1
    assert run(capsys, "--fail-on", "info", "good.yaml")[0] == 0
    assert run(capsys, "--exit-zero", "faulty.yaml")[0] == 0
    assert run(capsys, "--exit-zero", "--fail-on", "warning", "warning.yaml")[0] == 0


def test_bad_option_is_exit_2_with_a_message(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--no-such-option", "good.yaml")
    assert code == 2 and out == ""
    assert "unrecognized arguments: --no-such-option" in err
    code, _, err = run(capsys, "--format", "xml", "good.yaml")
    assert code == 2 and "invalid choice: 'xml'" in err
    code, _, err = run(capsys, "--fail-on", "fatal", "good.yaml")
    assert code == 2


def test_exit_zero_still_reports_a_tool_failure(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--exit-zero", "--select", "no-such-rule", "good.yaml")
    assert code == 2 and "unknown rule" in err


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--select", "dependancy-cycle", "did you mean 'dependency-cycle'?"),
        ("--ignore", "idle-timout-too-short", "did you mean 'idle-timeout-too-short'?"),
        ("--extend-select", "duplicate-kye", "did you mean 'duplicate-key'?"),
        ("--select", "ML999", "ML999"),
    ],
)
def test_unknown_rule_on_the_command_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, hint: str
) -> None:
    code, out, err = run(capsys, option, value, "good.yaml")
    assert code == 2 and out == ""
    assert hint in err


def test_select_and_ignore(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = run_json(capsys, "--select", "ML302", "faulty.yaml")
    assert [d["code"] for d in report["diagnostics"]] == ["ML302"]
    _, report = run_json(capsys, "--ignore", "dependency-cycle", "faulty.yaml")
    assert [d["code"] for d in report["diagnostics"]] == ["ML302"]
    _, report = run_json(capsys, "--select", "ML2", "faulty.yaml")  # a code prefix
    assert [d["code"] for d in report["diagnostics"]] == ["ML201"]


# -- inputs -----------------------------------------------------------------------------------------


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))


def test_stdin_with_a_filename(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, FAULTY)
    code, report = run_json(capsys, "--stdin-filename", "scores/build.yaml", "-")
    assert code == 1
    assert {d["path"] for d in report["diagnostics"]} == {"scores/build.yaml"}
    assert report["summary"]["files"] == 1


def test_stdin_without_a_filename(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, WARNING_ONLY)
    code, out, _ = run(capsys, "--format", "concise", "-")
    assert code == 0
    assert out.startswith("-:10:3: ML302 warning")


def test_folder_walk(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "nested" / "deeper").mkdir(parents=True)
    (workdir / "nested" / "deeper" / "score.yml").write_text(FAULTY, encoding="utf-8")
    (workdir / "nested" / "notes.txt").write_text(FAULTY, encoding="utf-8")  # not *.yaml / *.yml
    (workdir / ".github" / "workflows").mkdir(parents=True)
    (workdir / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (workdir / "docker-compose.yaml").write_text("services:\n  web:\n    image: nginx\n", encoding="utf-8")
    (workdir / ".venv").mkdir()
    (workdir / ".venv" / "skipped.yaml").write_text(FAULTY, encoding="utf-8")
    code, report = run_json(capsys, ".")
    assert code == 1
    assert report["summary"]["files"] == 4  # good, faulty, warning, nested/deeper/score.yml
    assert sorted({d["path"] for d in report["diagnostics"]}) == [
        "faulty.yaml", "nested/deeper/score.yml", "warning.yaml",
    ]
    code, report = run_json(capsys)  # no path: the current folder
    assert report["summary"]["files"] == 4


def test_a_skipped_file_is_linted_when_named(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    code, report = run_json(capsys, ".")
    assert report["summary"]["files"] == 3
    code, report = run_json(capsys, "ci.yml")
    assert code == 1
    assert report["summary"]["files"] == 1
    rules = {d["rule"] for d in report["diagnostics"]}
    assert "schema-missing-key" in rules  # linted as a score: no sheet, no prompt


def test_same_file_twice_is_linted_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = run_json(capsys, "faulty.yaml", "./faulty.yaml")
    assert report["summary"]["files"] == 1


# -- kinds ------------------------------------------------------------------------------------------


def detected_kind(path: Path) -> str | None:
    result = lint_source(read_path(str(path), path.name), Settings.from_config(Config()), walked=True)
    return None if result is None else result.kind


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (FLEET, "fleet"),
        (INSTRUMENT, "instrument"),
        ("name: x\ndisplay_name: X\nkind: http\nhttp:\n  base_url: https://x\n", "instrument"),
        (CONDUCTOR, "conductor"),
        (GOOD, "score"),
        ("name: half\nsheet: {size: 1}\n", "score"),  # a broken score is still a score
        ("name: x\nkind: cli\n", None),  # 'kind: cli' without profile keys
        ("max_concurrent_jobs: 3\nprompt: {template: x}\n", "score"),  # a prompt makes it a score
        (WORKFLOW, None),
        ("- a\n", None),
    ],
    ids=["fleet", "instrument-cli", "instrument-http", "conductor", "score", "broken-score", "kind-only",
         "conductor-keys-and-prompt", "workflow", "list"],
)
def test_kind_detection(tmp_path: Path, content: str, kind: str | None) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    assert detected_kind(path) == kind


def test_every_kind_is_linted_by_a_folder_walk(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "fleet.yaml").write_text(FLEET, encoding="utf-8")
    (workdir / "tool.yaml").write_text(INSTRUMENT, encoding="utf-8")
    (workdir / "conductor.yaml").write_text(CONDUCTOR.replace("info", "bogus"), encoding="utf-8")
    _, report = run_json(capsys, ".")
    assert report["summary"]["files"] == 6
    conductor = [d for d in report["diagnostics"] if d["path"] == "conductor.yaml"]
    assert [(d["line"], d["rule"]) for d in conductor] == [(2, "schema-enum")]


def test_kind_option_forces_the_kind(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "conductor.yaml").write_text(CONDUCTOR, encoding="utf-8")
    assert run_json(capsys, "conductor.yaml")[0] == 0
    code, report = run_json(capsys, "--kind", "score", "conductor.yaml")
    assert code == 1
    assert {"schema-unknown-key", "schema-missing-key"} <= {d["rule"] for d in report["diagnostics"]}
    code, report = run_json(capsys, "--kind", "conductor", "good.yaml")
    assert code == 1
    assert {d["rule"] for d in report["diagnostics"]} == {"schema-unknown-key"}


def test_kind_option_rejects_unknown_kinds(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--kind", "playbook", "good.yaml")
    assert code == 2 and "invalid choice" in err


# -- version and rules ------------------------------------------------------------------------------


def test_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "marianne_lint", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"marianne-lint {__version__}"


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from marianne_lint.rules import RULES

    code, out, _ = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(RULES)
    for line, rule in zip(lines, RULES, strict=True):
        assert line.split()[:3] == [rule.code, rule.name, rule.severity.label]
        assert line.endswith(rule.summary)


@pytest.mark.parametrize("token", ["dependency-cycle", "ML201", "ml201"])
def test_rules_shows_one_rule(capsys: pytest.CaptureFixture[str], token: str) -> None:
    code, out, _ = run(capsys, "rules", token)
    assert code == 0
    assert out.startswith("ML201 dependency-cycle (error; score)\n")
    assert "Failing:\n" in out and "Passing:\n" in out and "``" not in out


def test_rules_shows_options(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "rules", "idle-timeout-too-short")
    assert "min-idle-timeout-seconds = 120.0" in out


def test_rules_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "rules", "dependency-cycles")
    assert code == 2 and out == ""
    assert "unknown rule 'dependency-cycles'; did you mean 'dependency-cycle'?" in err


def test_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "ML302", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["name"] == "idle-timeout-too-short"
    assert payload["options"] == {"min-idle-timeout-seconds": 120.0}


def test_a_file_named_like_a_subcommand_is_linted(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "rules").write_text(FAULTY, encoding="utf-8")
    code, report = run_json(capsys, "rules")
    assert code == 1 and report["summary"]["files"] == 1
