"""`marianne-lint graph`: the sheet graph after fan-out expansion, with cycles and blocked sheets marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from marianne_lint.commands import lint as cli

FAN_OUT = """\
name: fan
sheet:
  size: 1
  total_items: 3
  fan_out: {2: 3}
  dependencies:
    2: [1]
    3: [2]
prompt:
  template: "Stage {{ stage }}"
"""

CYCLE = """\
name: cyc
sheet:
  size: 1
  total_items: 4
  dependencies:
    2: [3]
    3: [2]
    4: [3]
prompt:
  template: "Part {{ sheet_num }}"
"""


def graph(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *options: str) -> tuple[int, str]:
    score = tmp_path / "score.yaml"
    score.write_text(text, encoding="utf-8")
    code = cli.main(["graph", *options, str(score)])
    return code, capsys.readouterr().out


def test_mermaid_shows_the_expanded_fan_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = graph(tmp_path, capsys, FAN_OUT)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  s3["3 (stage 2, 2/3)"]' in lines
    # fan-out: every instance waits for sheet 1; fan-in: sheet 5 waits for every instance
    assert {"  s1 --> s2", "  s1 --> s3", "  s1 --> s4", "  s2 --> s5", "  s3 --> s5", "  s4 --> s5"} <= set(lines)
    assert "cycle" not in out


def test_cycles_and_blocked_sheets_are_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = graph(tmp_path, capsys, CYCLE)
    assert code == 0
    assert "  class s2,s3 cycle" in out.splitlines()
    assert "  class s4 blocked" in out.splitlines()
    code, dot = graph(tmp_path, capsys, CYCLE, "--format", "dot")
    assert dot.startswith("digraph sheets {")
    assert 's3 [label="3", color="#cc0000"' in dot
    assert "s3 -> s4;" in dot


def test_without_dependencies_stages_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = FAN_OUT.replace("  dependencies:\n    2: [1]\n    3: [2]\n", "")
    _, out = graph(tmp_path, capsys, text)
    assert "no sheet.dependencies" in out
    assert "  s4 --> s5" in out.splitlines()


def test_an_invalid_score_is_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    score = tmp_path / "bad.yaml"
    score.write_text("name: x\nsheet: {size: 0, total_items: 1}\nprompt: {template: t}\n", encoding="utf-8")
    assert cli.main(["graph", str(score)]) == 1
    err = capsys.readouterr().err
    assert "not a valid score" in err and "Traceback" not in err
