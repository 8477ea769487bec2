"""Kind detection: by content, then by the place Marianne reads a file from, then near misses;
YAML that is not Marianne's stays skipped by a folder walk and by --skip-non-marianne."""

from __future__ import annotations

from pathlib import Path

import pytest

from marianne_lint.commands import lint as cli
from marianne_lint.reading.kinds import by_location, detect

BROKEN_CONDUCTOR = "log_levl: info\nmax_concurrent_jobs: 3\n"
BROKEN_PROFILE = "name: mytool\nkind: shell\ndisplay_name: My tool\ncli:\n  command: {executable: x}\n"


@pytest.mark.parametrize(("path", "kind"), [
    ("conductor.yaml", "conductor"), ("home/.marianne/conductor.yml", "conductor"),
    ("ops/prod.fleet.yaml", "fleet"), (".marianne/instruments/tool.yaml", "instrument"),
    ("instruments/tool.yml", "instrument"), ("scores/review.yaml", None), ("-", None), (None, None),
    ("instruments.yaml", None),
])
def test_by_location(path: str | None, kind: str | None) -> None:
    assert by_location(path) == kind


def test_content_wins_over_the_place() -> None:
    assert detect({"name": "x", "sheet": {}, "prompt": {}}, "conductor.yaml") == "score"


def test_near_misses() -> None:
    assert detect({"log_levl": "info", "max_concurrent_jobs": 3, "socket": {}}) == "conductor"
    assert detect({"apiVersion": "v1", "kind": "Deployment", "metadata": {}, "spec": {}}) is None
    assert detect({"name": "x", "description": "y", "version": 1}) is None


def test_broken_conductor_and_profiles_are_reported_under_skip_non_marianne(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conductor.yaml").write_text(BROKEN_CONDUCTOR, encoding="utf-8")
    for folder in (tmp_path / ".marianne" / "instruments", tmp_path / "instruments"):
        folder.mkdir(parents=True)
        (folder / "mytool.yaml").write_text(BROKEN_PROFILE, encoding="utf-8")
    (tmp_path / "docker-compose.yaml").write_text("services:\n  web: {image: nginx}\n", encoding="utf-8")
    (tmp_path / "ci.yaml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    names = ["conductor.yaml", ".marianne/instruments/mytool.yaml", "instruments/mytool.yaml",
             "docker-compose.yaml", "ci.yaml"]
    assert cli.main(["--no-cache", "--skip-non-marianne", "--format", "concise", *names]) == 1
    out = capsys.readouterr().out
    assert "conductor.yaml:1:1: ML101 error: unknown key 'log_levl' at the top level" in out
    assert ".marianne/instruments/mytool.yaml:2:1: ML105 error: kind is 'shell'" in out
    assert "instruments/mytool.yaml:2:1: ML105" in out
    assert "docker-compose" not in out and "ci.yaml" not in out
    assert "(3 files checked)" in out
    assert "missing" not in out.split("conductor.yaml")[1].split("\n")[0]  # not linted as a score
