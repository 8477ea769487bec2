"""Hostile and generated input: never a traceback, every position inside the file, and linear time.

The time bounds here are generous (they catch a quadratic algorithm, which takes minutes on these
sizes); the measured times are in docs/robustness.md and come from bench/worst_cases.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marianne_lint import lint_text
from marianne_lint.commands import lint as cli

HEAD = "name: x\nworkspace: ./w\nsheet:\n  size: 1\n  total_items: 2\nprompt:\n  template: hi\n"


def cli_run(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marianne_lint", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, input=stdin,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def inside(text: str, line: int, column: int) -> bool:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if text.endswith(("\n", "\r")):
        lines.pop()
    return 1 <= line <= max(len(lines), 1) and 1 <= column <= len(lines[line - 1] if lines else "") + 1


# -- linear time -------------------------------------------------------------------------------------


def test_many_unknown_keys_in_one_mapping() -> None:
    text = HEAD + "".join(f"key{i}: 1\n" for i in range(50_000))
    started = time.monotonic()
    found = lint_text(text, "many.yaml")
    assert time.monotonic() - started < 60
    unknown = [d for d in found if d.rule == "schema-unknown-key"]
    assert len(unknown) == 50_000
    assert unknown[-1].line == 8 + 49_999


def test_the_allowed_keys_are_listed_for_the_first_unknown_keys_of_a_mapping_only() -> None:
    from marianne_lint.building.structure import MAX_LISTINGS

    text = HEAD + "".join(f"zz{i}: 1\n" for i in range(MAX_LISTINGS + 5))
    unknown = [d for d in lint_text(text, "many.yaml") if d.rule == "schema-unknown-key"]
    assert len(unknown) == MAX_LISTINGS + 5
    assert all((d.suggestion or "").startswith("allowed keys here: ") for d in unknown[:MAX_LISTINGS])
    assert {d.suggestion for d in unknown[MAX_LISTINGS:]} == {"the allowed keys here are listed at line 8"}


def test_a_long_dependency_ring_and_the_chain_that_waits_on_it() -> None:
    ring, chain = 20_000, 5_000
    total = ring + chain
    deps = [f"    {i}: [{i - 1 if i > 1 else ring}]\n" for i in range(1, ring + 1)]
    # the chain waits on the ring in reverse order: each pass of a naive search marks one sheet
    deps += [f"    {i}: [{i + 1 if i < total else 1}]\n" for i in range(ring + 1, total + 1)]
    text = HEAD.replace("total_items: 2", f"total_items: {total}") + "  dependencies:\n" + "".join(deps)
    text = text.replace("prompt:\n  template: hi\n", "") + "prompt:\n  template: hi\n"
    started = time.monotonic()
    found = lint_text(text, "ring.yaml")
    assert time.monotonic() - started < 60
    cycles = [d for d in found if d.rule == "dependency-cycle"]
    assert "form a dependency cycle" in cycles[0].message
    assert len(cycles) == 1 + chain  # the ring, and each waiting sheet


# -- numbers Python cannot print ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9" * 5000, "0x" + "f" * 4000, ":".join(["59"] * 2500), "-" + "1" * 4400])
def test_an_integer_beyond_the_int_string_limit_is_a_resource_limit(value: str) -> None:
    text = HEAD.replace("total_items: 2", f"total_items: {value}")
    (found,) = lint_text(text, "big.yaml")
    assert (found.rule, found.line, found.column) == ("resource-limit", 5, 16)
    assert "4300 digits" in found.message


# -- positions ------------------------------------------------------------------------------------------


def test_an_end_of_file_error_is_on_the_last_line() -> None:
    text = 'name: x\nworkspace: "./w\nsheet: 1\n'
    (found,) = lint_text(text, "eof.yaml")
    assert found.rule == "yaml-syntax"
    assert (found.line, found.column) == (3, 9)


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_positions_after_any_line_break_are_editor_positions(newline: str) -> None:
    body = (HEAD + "unknown: 1   # marianne-lint: disable=ML999\nvariables_x: 2\n").replace("\n", newline)
    found = lint_text(body, "breaks.yaml")
    assert found, body
    for d in found:
        assert inside(body, d.line, d.column), (d.line, d.column, d.rule)
    suppression = [d for d in found if d.rule == "unknown-suppressed-rule"]
    assert [(d.line, d.column) for d in suppression] == [(8, 39)]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_inside_a_value_do_not_shift_positions(separator: str) -> None:
    text = HEAD.replace("template: hi", f'template: "a{separator}b"') + "unknown: 1\n"
    (found,) = [d for d in lint_text(text, "sep.yaml") if d.rule == "schema-unknown-key"]
    assert (found.line, found.column) == (8, 1)


# -- surrogates and file names ----------------------------------------------------------------------------

FORMATS = ["full", "concise", "json", "sarif", "github", "gitlab"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lone_surrogates_and_a_non_utf8_file_name_in_every_format(tmp_path: Path, fmt: str) -> None:
    text = HEAD.replace("template: hi", 'template: "x \\udfff"') + '"\\ud800key": 1\n'
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    if sys.platform != "darwin":  # macOS refuses names that are not UTF-8
        (tmp_path / os.fsdecode(b"bad\xff.yaml")).write_text(text, encoding="utf-8")
    proc = cli_run(tmp_path, "--format", fmt, ".")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(proc.stdout)


@pytest.mark.parametrize("text", ["name: \udfff\n", HEAD + "x: 'a\ud800'\n", "\udc80"])
def test_a_lone_surrogate_in_an_editor_buffer_is_a_finding_at_its_place(text: str) -> None:
    """Not a file's bytes (UTF-8 cannot hold them) but a buffer the API or the server gets: an
    unreadable-file finding where the character is, for linting and for fixing."""
    from marianne_lint.api import fix_text

    index = next(i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    (found,) = lint_text(text, "buffer.score.yaml")
    assert (found.rule, found.line, found.column) == ("unreadable-file", line, column)
    assert fix_text(text, "buffer.score.yaml", unsafe=True).text == text


def test_a_file_name_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "two\nlines.yaml").write_text(HEAD + "unknown: 1\n", encoding="utf-8")
    proc = cli_run(tmp_path, "--format", "concise", ".")
    first = proc.stdout.splitlines()[0]
    assert first.startswith("two\\nlines.yaml:8:1: ML101 error:"), proc.stdout


# -- the command line --------------------------------------------------------------------------------------


def test_a_misspelled_subcommand_is_a_tool_error_with_a_suggestion(tmp_path: Path) -> None:
    proc = cli_run(tmp_path, "rulez")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "marianne-lint: unknown command 'rulez' (did you mean 'rules'?); to lint a file of that name, write ./rulez"
    )


def test_an_empty_path_is_a_tool_error_not_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: [\n", encoding="utf-8")
    proc = cli_run(tmp_path, "")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "marianne-lint: an empty path names no file or folder"
    from marianne_lint import lint_paths

    (found,) = lint_paths([""])
    assert found.rule == "unreadable-file" and found.path == ""


def test_fail_on_takes_a_severity_in_any_case_as_the_configuration_does(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("name: x\nworkspace: ./w\nsheet: {size: 1, total_items: 2}\n"
                                     "prompt: {template: hi}\n", encoding="utf-8")
    assert cli_run(tmp_path, "--fail-on", "WARNING", "--no-cache", "s.yaml").returncode == 1
    assert cli_run(tmp_path, "--fail-on", "Error", "--no-cache", "s.yaml").returncode == 0


def test_an_unknown_option_gets_a_did_you_mean(tmp_path: Path) -> None:
    proc = cli_run(tmp_path, "--selct", "ML1", ".")
    assert proc.returncode == 2
    assert "(did you mean --select?)" in proc.stderr


@pytest.mark.parametrize("setting", [
    "max-file-size = -1", "max-depth = 0", "min-idle-timeout-seconds = true", "max-alias-nodes = 1.5",
    "read-home-instruments = 1", "min-idle-timeout-seconds = nan",
])
def test_a_bad_option_value_is_a_tool_error(tmp_path: Path, setting: str) -> None:
    (tmp_path / ".marianne-lint.toml").write_text(setting + "\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(HEAD, encoding="utf-8")
    proc = cli_run(tmp_path, "s.yaml")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and setting.split(" ")[0] in proc.stderr


def test_a_run_that_finds_no_marianne_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "ci.yaml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    proc = cli_run(tmp_path, ".")
    assert proc.returncode == 0
    assert "No Marianne file found" in proc.stdout
    assert "no Marianne file found" in proc.stderr


def test_an_internal_error_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from marianne_lint.rules import graph

    def broken(self: object, ctx: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(graph.DependencyCycle, "check", broken)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(HEAD, encoding="utf-8")
    assert cli.main(["--no-cache", "s.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "boom second line" in err


def test_an_internal_error_outside_linting_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from marianne_lint import runner

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("out of memory")

    monkeypatch.setattr(runner, "lint_many", broken)
    assert cli.main(["--no-cache", "."]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("marianne-lint: internal error: MemoryError")


# -- documentation shown to people is not reStructuredText ------------------------------------------------


def test_rule_documentation_shows_no_restructuredtext(tmp_path: Path) -> None:
    from marianne_lint.rules import RULES

    for rule in RULES[:: max(1, len(RULES) // 12)]:
        proc = cli_run(tmp_path, "rules", rule.name)
        assert proc.returncode == 0
        assert "``" not in proc.stdout and "::\n" not in proc.stdout and ":mod:`" not in proc.stdout, rule.name
    (tmp_path / "s.yaml").write_text(HEAD, encoding="utf-8")
    sarif = json.loads(cli_run(tmp_path, "--format", "sarif", "s.yaml").stdout)
    for described in sarif["runs"][0]["tool"]["driver"]["rules"]:
        markdown = re.sub(r"```yaml\n.*?\n```", "", described["help"]["markdown"], flags=re.S)
        for text in (described["help"]["text"], markdown, described["fullDescription"]["text"]):
            assert "``" not in text and "::\n" not in text, described["name"]


@pytest.mark.parametrize(("data", "where"), [
    (b"a: 1\rb: 2\rc: \x00\r", (3, 4)),  # lone CR line breaks
    (b"a: 1\r\nb: 2\r\nc: \x00\r\n", (3, 4)),
    (b"a: 1\nname: \xc3\xa9\xc3\xa9 \xff\n", (2, 10)),  # columns in characters, not bytes
    (b"\xef\xbb\xbfa: \xff\n", (1, 4)),  # a byte order mark is not a column
    (b"a: \xff\xfe\xff\nb: \xff\n", (1, 4)),
])
def test_an_unreadable_byte_is_placed_as_an_editor_shows_it(tmp_path: Path, data: bytes,
                                                              where: tuple[int, int]) -> None:
    from marianne_lint.reading.source import decode

    source = decode("x.yaml", data)
    assert source.text is None and source.finding is not None
    assert (source.finding.span.line, source.finding.span.column) == where


def test_a_key_with_a_lone_surrogate_is_reported_at_the_key() -> None:
    text = 'name: x\nworkspace: ./w\nsheet:\n  size: 1\n  total_items: 2\nprompt:\n  template: hi\n"\\udfff": 1\n'
    (found,) = [d for d in lint_text(text) if d.severity.label == "error"]
    assert (found.rule, found.line, found.column) == ("schema-key-type", 8, 1)
    assert "'\\udfff' at the top level" in found.message
