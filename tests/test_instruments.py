"""Instrument rules (ML7xx): how known instrument names are discovered, and a few semantics.

Profiles are looked up in ``.marianne/instruments`` folders from the score's
folder up to the repository root (the first folder holding ``.git``), and in
``~/.marianne/instruments`` only when the option ``read-home-instruments`` is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import lint_text, shared_dir
from marianne_lint.config import Config, from_table
from marianne_lint.diagnostics import Diagnostic
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path
from marianne_lint.rules import option_defaults
from marianne_lint.rules.support import profiles as instruments
from marianne_lint.rules.support.builtin_instruments import (
    BUILTIN_PROFILES,
    LEGACY_BACKEND_TYPES,
    NATIVE_NAMES,
    YAML_NAMES,
)

VALIDATIONS = """
validations:
  - type: file_exists
    path: "{workspace}/out-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/out-{sheet_num}.md"
    pattern: "Done"
"""


def _score(instrument: str, extra: str = "") -> str:
    return (
        f"name: demo\nworkspace: ./workspace\ninstrument: {instrument}\n{extra}"
        'sheet:\n  size: 1\n  total_items: 2\nprompt:\n  template: "Part {{ sheet_num }}, ending with Done"\n'
        + VALIDATIONS
    )


def _profile(name: str) -> str:
    return f"name: {name}\ndisplay_name: {name}\nkind: cli\ncli:\n  command:\n    executable: {name}\n  output: {{}}\n"


def _write_profile(folder: Path, name: str, suffix: str = ".yaml", text: str | None = None) -> None:
    target = folder / ".marianne" / "instruments"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}{suffix}").write_text(text if text is not None else _profile(name), encoding="utf-8")


def _lint_file(path: Path, **options: object) -> list[Diagnostic]:
    settings = Settings.from_config(Config(select=["ALL"], options=dict(options)))
    result = lint_source(read_path(str(path), path.name), settings, file_path=path)
    assert result is not None
    return result.diagnostics


def _rules(diagnostics: list[Diagnostic], prefix: str = "ML7") -> list[str]:
    return [d.rule for d in diagnostics if d.code.startswith(prefix)]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    instruments.clear_cache()
    yield
    instruments.clear_cache()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home folder holding one profile, ``home-bot``."""
    folder = tmp_path / "home"
    _write_profile(folder, "home-bot")
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: folder))
    return folder


def test_builtin_names_are_the_thirteen_of_marianne() -> None:
    assert sorted(NATIVE_NAMES) == ["anthropic_api", "claude_cli", "ollama", "recursive_light"]
    assert len(YAML_NAMES) == 9 and len(BUILTIN_PROFILES) == 13
    assert BUILTIN_PROFILES["claude_cli"].origin == "native"
    assert BUILTIN_PROFILES["claude-code"].origin == "yaml"
    assert set(LEGACY_BACKEND_TYPES) == set(NATIVE_NAMES)
    assert [name for name in YAML_NAMES if BUILTIN_PROFILES[name].mcp_config_flag] == ["claude-code"]


def test_builtin_yaml_names_match_the_shipped_profiles() -> None:
    folder = shared_dir() / "corpus" / "instruments"
    found = {profile.name for profile in instruments.profiles_in(folder) if profile.valid}
    assert found == set(YAML_NAMES)
    flags = {p.name: p.mcp_config_flag for p in instruments.profiles_in(folder)}
    assert flags == {name: BUILTIN_PROFILES[name].mcp_config_flag for name in YAML_NAMES}


def test_repository_profile_found_from_a_nested_score_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    _write_profile(repo, "team-bot")
    _write_profile(repo / "scores", "sub-bot", suffix=".yml")
    score = repo / "scores" / "nightly" / "deep" / "score.yaml"
    score.parent.mkdir(parents=True)
    score.write_text(_score("team-bot", "instrument_fallbacks: [sub-bot]\n"), encoding="utf-8")
    assert _rules(_lint_file(score)) == []


def test_profiles_above_the_repository_root_are_not_read(tmp_path: Path) -> None:
    _write_profile(tmp_path, "outer-bot")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    score = repo / "score.yaml"
    score.write_text(_score("outer-bot"), encoding="utf-8")
    found = _lint_file(score)
    assert _rules(found) == ["unknown-instrument"]
    assert "'outer-bot' is not a known instrument" in found[-1].message


def test_without_a_repository_the_walk_goes_to_the_root(tmp_path: Path) -> None:
    _write_profile(tmp_path, "outer-bot")
    score = tmp_path / "a" / "b" / "score.yaml"
    score.parent.mkdir(parents=True)
    score.write_text(_score("outer-bot"), encoding="utf-8")
    assert _rules(_lint_file(score)) == []


def test_home_profiles_ignored_by_default(tmp_path: Path, home: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    score = repo / "score.yaml"
    score.write_text(_score("home-bot"), encoding="utf-8")
    found = [d for d in _lint_file(score) if d.rule == "unknown-instrument"]
    assert len(found) == 1
    assert found[0].suggestion is not None and "read-home-instruments" in found[0].suggestion


def test_home_profiles_used_with_the_option(tmp_path: Path, home: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    score = repo / "score.yaml"
    score.write_text(_score("home-bot"), encoding="utf-8")
    assert _rules(_lint_file(score, **{"read-home-instruments": True})) == []


def test_option_is_a_known_boolean_setting() -> None:
    assert option_defaults()["read-home-instruments"] is False
    config = from_table({"read-home-instruments": True}, option_defaults(), "test")
    assert config.options["read-home-instruments"] is True


def test_invalid_repository_profile_is_skipped_and_explained(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _write_profile(tmp_path, "half-bot", text="name: half-bot\nkind: cli\n")
    _write_profile(tmp_path, "not-a-map", text="- just\n- a list\n")
    score = tmp_path / "score.yaml"
    score.write_text(_score("half-bot"), encoding="utf-8")
    found = [d for d in _lint_file(score) if d.rule == "unknown-instrument"]
    assert len(found) == 1
    assert "half-bot.yaml" in found[0].message and "not a valid profile" in found[0].message


def test_nearer_profile_overrides_a_builtin_name(tmp_path: Path) -> None:
    """A repository profile named like a shipped one replaces it (here: it gains an MCP flag)."""
    (tmp_path / ".git").mkdir()
    text = _profile("gemini-cli").replace(
        "    executable: gemini-cli\n", "    executable: gemini\n    mcp_config_flag: --mcp\n"
    )
    _write_profile(tmp_path, "gemini-cli", text=text)
    score = tmp_path / "score.yaml"
    score.write_text(_score("gemini-cli", "techniques:\n  github: {kind: mcp, phases: [work]}\n"), encoding="utf-8")
    assert "technique-mcp-unsupported" not in _rules(_lint_file(score))
    instruments.clear_cache()
    other = tmp_path / "elsewhere"
    (other / ".git").mkdir(parents=True)
    moved = other / "score.yaml"
    moved.write_text(score.read_text(encoding="utf-8"), encoding="utf-8")
    assert "technique-mcp-unsupported" in _rules(_lint_file(moved))


def test_standard_input_uses_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    _write_profile(tmp_path, "cwd-bot")
    monkeypatch.chdir(tmp_path)
    assert _rules(lint_text(_score("cwd-bot"), kind="score")) == []
    assert _rules(lint_text(_score("nobody-bot"), kind="score")) == ["unknown-instrument"]


def test_alias_resolution_and_per_sheet_order() -> None:
    text = (
        "name: order\nworkspace: ./workspace\ninstrument: claude-code\n"
        "instruments:\n  reviewer: {profile: gemini-cli}\n"
        "movements:\n  3: {instrument: goose}\n"
        "sheet:\n  size: 1\n  total_items: 4\n  per_sheet_instruments: {1: reviewer}\n"
        "  instrument_map: {opencode: [2, 3]}\n"
        "techniques:\n  github: {kind: mcp, phases: [work]}\n"
        'prompt:\n  template: "Part {{ sheet_num }}, ending with Done"\n' + VALIDATIONS
    )
    found = [d for d in lint_text(text, kind="score") if d.rule == "technique-mcp-unsupported"]
    messages = sorted(d.message for d in found)
    # Sheet 1 -> alias reviewer -> gemini-cli; 2 and 3 -> instrument_map beats movement 3; 4 -> claude-code.
    assert len(messages) == 2
    assert any("sheet 1: it runs on 'gemini-cli'" in m for m in messages)
    assert any("sheets 2-3: they run on 'opencode'" in m for m in messages)


def test_skip_permissions_only_for_claude_cli() -> None:
    backend = "backend:\n  skip_permissions: false\n  disable_mcp: false\n"
    native = lint_text(_score("claude_cli", backend), kind="score")
    assert sorted(_rules(native)) == ["mcp-enabled", "skip-permissions-disabled"]
    profile = lint_text(_score("claude-code", backend), kind="score")
    assert _rules(profile) == []


def test_shipped_profiles_findings_are_the_known_ones() -> None:
    folder = shared_dir() / "corpus" / "instruments"
    settings = Settings.from_config(Config(select=["ALL"]))
    found: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        result = lint_source(read_path(str(path), path.name), settings, kind="instrument", file_path=path)
        assert result is not None
        found += [f"{d.path}:{d.rule}" for d in result.diagnostics if d.code.startswith("ML7")]
    # aider and gemini-cli declare a prompt flag but leave prompt_via_stdin at true without a sentinel;
    # aider, cline-cli and goose list no models, and cline-cli and goose report no token counts;
    # cline-cli, codex-cli, goose and opencode declare the mcp capability with no mcp_config_flag.
    assert sorted(found) == sorted([
        "aider.yaml:profile-cost-untracked",
        "aider.yaml:prompt-flag-unused",
        "cline-cli.yaml:profile-mcp-capability-without-flag",
        "cline-cli.yaml:profile-cost-untracked",
        "cline-cli.yaml:profile-cost-untracked",
        "codex-cli.yaml:profile-mcp-capability-without-flag",
        "gemini-cli.yaml:prompt-flag-unused",
        "goose.yaml:profile-mcp-capability-without-flag",
        "goose.yaml:profile-cost-untracked",
        "goose.yaml:profile-cost-untracked",
        "opencode.yaml:profile-mcp-capability-without-flag",
    ])
