"""The result cache and parallel runs: same output, and a cache that knows when it is stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marianne_lint import cache as cache_module
from marianne_lint.commands import lint as cli

SCORE = """\
name: cached
workspace: ./ws
sheet:
  size: 1
  total_items: 3
  dependencies:
    2: [3]
    3: [2]
prompt:
  template_file: prompt.j2
stale_detection:
  enabled: true
  idle_timeout_seconds: 60
  check_interval_seconds: 10
validations:
  - type: file_exists
    path: "{workspace}/out-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/out-{sheet_num}.md"
    pattern: Done
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = cli.main(["--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)["diagnostics"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "score.yaml").write_text(SCORE, encoding="utf-8")
    return tmp_path


def rules(diagnostics: list[dict[str, object]]) -> list[str]:
    return sorted(str(d["rule"]) for d in diagnostics)


def entries(folder: Path) -> list[Path]:
    return sorted((folder / ".marianne-lint-cache").rglob("*.json"))


def test_second_run_uses_the_cache(project: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(capsys, "score.yaml")
    assert len(entries(project)) == 1
    import marianne_lint.pipeline as lint_module

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was linted again")

    monkeypatch.setattr(lint_module, "lint_source", fail)
    assert run(capsys, "score.yaml") == first


def test_no_cache_neither_reads_nor_writes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--no-cache", "score.yaml")
    assert not (project / ".marianne-lint-cache").exists()


def test_changed_file_config_rules_and_version_invalidate(project: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _, base = run(capsys, "score.yaml")
    assert "idle-timeout-too-short" in rules(base)
    # a changed configuration (an option of a rule)
    (project / ".marianne-lint.toml").write_text("min-idle-timeout-seconds = 30\n", encoding="utf-8")
    _, relaxed = run(capsys, "score.yaml")
    assert "idle-timeout-too-short" not in rules(relaxed)
    (project / ".marianne-lint.toml").unlink()
    # a changed rule set
    _, selected = run(capsys, "--select", "dependency-cycle", "score.yaml")
    assert set(rules(selected)) == {"dependency-cycle"}
    # a changed file
    (project / "score.yaml").write_text(SCORE.replace("idle_timeout_seconds: 60", "idle_timeout_seconds: 600"))
    _, edited = run(capsys, "score.yaml")
    assert "idle-timeout-too-short" not in rules(edited)
    # a new version of the linter
    before = len(entries(project))
    cache_module.code_fingerprint.cache_clear()
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    run(capsys, "score.yaml")
    cache_module.code_fingerprint.cache_clear()
    assert len(entries(project)) == before + 1


def test_a_file_the_rules_looked_at_invalidates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, missing = run(capsys, "score.yaml")
    assert "template-file-missing" in rules(missing)
    (project / "prompt.j2").write_text("Part {{ sheet_num }} {{ nope }}\n", encoding="utf-8")
    _, present = run(capsys, "score.yaml")
    assert "template-file-missing" not in rules(present)
    assert "undefined-template-variable" in rules(present)


def test_a_broken_cache_entry_is_ignored(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "score.yaml")
    for entry in entries(project):
        entry.write_text("{not json", encoding="utf-8")
    assert run(capsys, "score.yaml") == first


def _many(folder: Path, count: int) -> None:
    for number in range(count):
        text = SCORE.replace("name: cached", f"name: score-{number}")
        if number % 3 == 0:
            text = text.replace("    3: [2]\n", "")
        (folder / f"s{number:03}.score.yaml").write_text(text, encoding="utf-8")


def test_parallel_output_is_identical(tmp_path: Path) -> None:
    _many(tmp_path, 24)
    outputs = []
    for jobs in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-m", "marianne_lint", "--no-cache", "-j", jobs, "--format", "json", "."],
            cwd=tmp_path, capture_output=True, check=False,
        )
        assert done.returncode == 1, done.stderr
        assert b"Traceback" not in done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])["summary"]["files"] == 24


def test_concurrent_runs_share_the_cache(tmp_path: Path) -> None:
    _many(tmp_path, 30)
    command = [sys.executable, "-m", "marianne_lint", "-j", "1", "--format", "json", "."]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    runs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            for _ in range(3)]
    results = [process.communicate() for process in runs]
    assert all(b"Traceback" not in err for _, err in results)
    assert results[0][0] == results[1][0] == results[2][0]
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False)
    assert again.stdout == results[0][0]
    assert not list((tmp_path / ".marianne-lint-cache").rglob(".tmp-*"))


def test_bad_jobs_value_is_a_tool_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-j", "0", "score.yaml"]) == 2
    assert "--jobs" in capsys.readouterr().err
