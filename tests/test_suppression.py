"""Suppression comments, as conventions.md describes them."""

from __future__ import annotations

from conftest import codes, lint_text
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.loader import load
from marianne_lint.reading.source import decode
from marianne_lint.suppression import parse

#: A clean score whose stale detection timeout (line 11) is too short: one idle-timeout-too-short warning.
SCORE = """\
name: quiet
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
prompt:
  template: "Write part {{ sheet_num }} to {{ workspace }}/part-{{ sheet_num }}.md, ending with Done"
stale_detection:
  enabled: true
  check_interval_seconds: 10
  idle_timeout_seconds: 60
validations:
  - type: file_exists
    path: "{workspace}/part-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: "Done"
"""
TIMEOUT_LINE = "  idle_timeout_seconds: 60\n"


def rules_of(diagnostics: list[Diagnostic]) -> list[tuple[int, str]]:
    return [(d.line, d.rule) for d in diagnostics]


def with_line(replacement: str) -> str:
    return SCORE.replace(TIMEOUT_LINE, replacement)


def test_the_unsuppressed_finding() -> None:
    assert codes(lint_text(SCORE)) == ["11:3: ML302"]


def test_end_of_line_by_code() -> None:
    assert lint_text(with_line("  idle_timeout_seconds: 60  # marianne-lint: disable=ML302\n")) == []


def test_end_of_line_by_name() -> None:
    text = with_line("  idle_timeout_seconds: 60 # marianne-lint: disable=idle-timeout-too-short\n")
    assert lint_text(text) == []


def test_code_in_lower_case() -> None:
    assert lint_text(with_line("  idle_timeout_seconds: 60  # marianne-lint: disable=ml302\n")) == []


def test_several_rules_in_one_comment() -> None:
    text = with_line("  idle_timeout_seconds: 60  # marianne-lint: disable=dependency-cycle, ML302\n")
    # dependency-cycle silences nothing on that line
    assert rules_of(lint_text(text)) == [(11, "unused-suppression")]


def test_own_line_silences_the_next_line() -> None:
    text = with_line("  # marianne-lint: disable=idle-timeout-too-short\n" + TIMEOUT_LINE)
    assert lint_text(text) == []


def test_own_line_skips_blank_and_comment_lines() -> None:
    text = with_line("  # marianne-lint: disable=ML302\n\n  # why: a fast test instrument\n" + TIMEOUT_LINE)
    assert lint_text(text) == []


def test_own_line_does_not_reach_further() -> None:
    text = SCORE.replace(
        "  check_interval_seconds: 10\n", "  # marianne-lint: disable=ML302\n  check_interval_seconds: 10\n"
    )
    found = lint_text(text)
    assert rules_of(found) == [(10, "unused-suppression"), (12, "idle-timeout-too-short")]
    assert "on line 11" in found[0].message


def test_end_of_line_does_not_cover_the_next_line() -> None:
    text = SCORE.replace(
        "  check_interval_seconds: 10\n", "  check_interval_seconds: 10  # marianne-lint: disable=ML302\n"
    )
    assert rules_of(lint_text(text)) == [(10, "unused-suppression"), (11, "idle-timeout-too-short")]


def test_disable_file_anywhere() -> None:
    assert lint_text(SCORE + "# marianne-lint: disable-file=ML302\n") == []
    assert lint_text("# marianne-lint: disable-file=idle-timeout-too-short\n" + SCORE) == []


def test_comment_syntax_is_tolerant_of_spaces() -> None:
    assert lint_text(with_line("  idle_timeout_seconds: 60  #marianne-lint:disable = ML302\n")) == []


def test_unused_suppression_is_reported_at_the_rule_name() -> None:
    text = SCORE.replace("name: quiet\n", "name: quiet  # marianne-lint: disable=dependency-cycle\n")
    found = lint_text(text)
    assert rules_of(found) == [(1, "unused-suppression"), (11, "idle-timeout-too-short")]
    unused = found[0]
    assert unused.column == len("name: quiet  # marianne-lint: disable=") + 1
    assert unused.span.end_column == unused.column + len("dependency-cycle")
    assert unused.severity.label == "warning"
    assert "dependency-cycle" in unused.message


def test_unused_file_wide_suppression() -> None:
    found = lint_text(SCORE + "# marianne-lint: disable-file=ML201\n")
    assert rules_of(found) == [(11, "idle-timeout-too-short"), (18, "unused-suppression")]
    assert "in this file" in found[1].message


def test_unknown_rule_is_reported() -> None:
    found = lint_text(with_line("  idle_timeout_seconds: 60  # marianne-lint: disable=ML302,idle-timout\n"))
    assert rules_of(found) == [(11, "unknown-suppressed-rule")]
    assert "'idle-timout'" in found[0].message


def test_unused_suppression_can_be_silenced_file_wide() -> None:
    text = SCORE.replace("name: quiet\n", "name: quiet  # marianne-lint: disable=dependency-cycle\n")
    assert codes(lint_text(text + "# marianne-lint: disable-file=unused-suppression\n")) == ["11:3: ML302"]


def test_suppressing_a_rule_that_did_not_run_is_not_unused() -> None:
    text = with_line("  idle_timeout_seconds: 60  # marianne-lint: disable=ML302\n")
    config = Config(select=["ALL"], ignore=["idle-timeout-too-short"])
    result = lint_source(decode("x.yaml", text.encode()), Settings.from_config(config))
    assert result is not None and result.diagnostics == []


def test_hash_inside_a_quoted_scalar_is_not_a_comment() -> None:
    text = SCORE.replace(
        '  template: "Write part', '  template: "# marianne-lint: disable-file=ML302 Write part'
    )
    assert codes(lint_text(text)) == ["11:3: ML302"]
    text = with_line("  idle_timeout_seconds: 60\n  # marianne-lint: disable=nothing-here\n")
    assert rules_of(lint_text(text)) == [(11, "idle-timeout-too-short"), (12, "unknown-suppressed-rule")]


def test_hash_inside_a_block_scalar_is_not_a_comment() -> None:
    text = SCORE.replace(
        '  template: "Write part {{ sheet_num }} to {{ workspace }}/part-{{ sheet_num }}.md, ending with Done"\n',
        "  template: |\n    # marianne-lint: disable-file=ML302\n    Write part {{ sheet_num }} to"
        " {{ workspace }}/part-{{ sheet_num }}.md, ending with Done\n",
    )
    assert codes(lint_text(text)) == ["13:3: ML302"]


def test_parse_skips_scalars_but_finds_comments() -> None:
    text = (
        "a: 'x # marianne-lint: disable=ML001'\n"
        'b: "y" # marianne-lint: disable=ML002\n'
        "c: |\n  # marianne-lint: disable=ML003\n"
        "d: e#marianne-lint: disable=ML004\n"
        "# marianne-lint: disable-file=ML005\n"
    )
    directives = parse(text, load(text).text_spans).directives
    assert [(d.token, d.span.line, d.file_wide, d.target_line) for d in directives] == [
        ("ML002", 2, False, 2),
        ("ML005", 6, True, 7),
    ]


def test_suppressing_a_syntax_error() -> None:
    broken = "name: x\nsheet: {size: 1\n"
    assert rules_of(lint_text(broken)) == [(2, "yaml-syntax")]  # the end of the file is the end of line 2
    assert lint_text(broken + "# marianne-lint: disable-file=yaml-syntax\n") == []


def test_suppressing_a_schema_error_by_its_name() -> None:
    text = SCORE.replace("  size: 1\n", "  size: 1\n  totl: 3  # marianne-lint: disable=schema-unknown-key\n")
    # silenced; the file still fails Marianne's models, so the semantic rules (ML302) do not run
    assert lint_text(text) == []
