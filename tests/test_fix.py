"""``--fix``, ``--unsafe-fixes`` and ``--diff``: exact edits, the engine's guards, the command line.

The per-rule results are the ``.fixed`` goldens (``test_fix_golden.py``); this file covers what
surrounds them: bytes outside the edits, the engine refusing a fix that breaks the file, atomic
writes, the output of every format, and a property test over the shared corpus and vectors.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from conftest import shared_dir
from marianne_lint import lint_text
from marianne_lint.commands.fix import _write
from marianne_lint.commands.lint import main
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Edit, Fix, Severity
from marianne_lint.fixing import MAX_PASSES, applies, fix_source, fix_text
from marianne_lint.pipeline import Settings
from marianne_lint.reading.edits import TextIndex, apply_edits
from marianne_lint.reading.positions import Span

SCORE = """\
# a score with one fix of each easy kind
name: fixes   # the name
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
  total_sheets: 2        # legacy, ignored
  dependencies:
    2: [1, 1]
prompt:
  template: "Part {sheet_num}, ending with done"
  variables:
    on: launch
validations:
  - type: file_exists
    path: "{{ workspace }}/part-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: done
"""

#: Without the key the structure step rejects, so that every rule runs on the first pass.
VALID = SCORE.replace("  variables:\n    on: launch\n", "")

FIXED = """\
# a score with one fix of each easy kind
name: fixes   # the name
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
  dependencies:
    2: [1]
prompt:
  template: "Part {{ sheet_num }}, ending with done"
  variables:
    "on": launch
validations:
  - type: file_exists
    path: "{workspace}/part-{sheet_num}.md"
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: done
"""


def _settings(root: Path) -> Settings:
    return Settings.from_config(Config(root=root))


def _fix(text: str, root: Path, unsafe: bool = False) -> str:
    fixed = fix_source(text, str(root / "score.yaml"), _settings(root), unsafe=unsafe)
    assert fixed is not None
    return fixed.text


# -- edits -----------------------------------------------------------------------------------------


def test_every_byte_outside_the_edits_is_kept(tmp_path: Path) -> None:
    assert _fix(SCORE, tmp_path) == FIXED


def test_crlf_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    text = "\ufeff" + SCORE.replace("\n", "\r\n")
    assert _fix(text, tmp_path) == "\ufeff" + FIXED.replace("\n", "\r\n")


def test_edits_count_code_points_before_astral_characters(tmp_path: Path) -> None:
    text = SCORE.replace("# the name", "# the name \U0001F600\U0001F600")
    assert _fix(text, tmp_path) == FIXED.replace("# the name", "# the name \U0001F600\U0001F600")


def test_text_index_positions_and_offsets_agree() -> None:
    text = "a: 1\r\nb: 2\rc: 3\n\u2028d: 4"
    index = TextIndex(text)
    for offset in range(len(text)):
        line, column = index.position(offset)
        assert index.offset(line, column) == offset
    assert index.position(text.index("c")) == (3, 1)
    assert index.position(text.index("d")) == (4, 2)  # U+2028 is a character inside the line


def test_overlapping_edits_are_refused_by_apply() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])
    assert apply_edits("abcdef", [Edit(4, 6, "Z"), Edit(0, 1, "")]) == "bcdZ"


def test_delete_entry_keeps_a_flow_mapping_and_a_lone_entry() -> None:
    index = TextIndex("a: {x: 1, x: 2}\nb:\n  only: 1\n")
    assert index.delete_entry(Span(1, 5, 1, 6), Span(1, 8, 1, 9), 2) is None  # shares its line
    assert index.delete_entry(Span(3, 3, 3, 7), Span(3, 9, 3, 10), 1) is None  # would leave b: null


def test_quote_refuses_text_it_cannot_quote_plainly() -> None:
    index = TextIndex('a: "x\\"y"\n')
    assert index.quote(Span(1, 4, 1, 10), 'x"y') is None


# -- the engine ------------------------------------------------------------------------------------


def _finding(text: str, start: int, end: int, new: str, rule: str = "ignored-key",
             applicability: str = "safe") -> Diagnostic:
    index = TextIndex(text)
    fix = Fix("test", "safe" if applicability == "safe" else "unsafe", (index.edit(start, end, new),))
    line, column = index.position(start)
    return Diagnostic("x.yaml", line, column, line, column + 1, "ML111", rule, Severity.WARNING, "m", fix=fix)


def test_a_fix_that_breaks_the_file_is_refused() -> None:
    text = "a: 1\nb: 2\n"

    def lint(candidate: str) -> list[Diagnostic]:
        if candidate == text:
            return [_finding(text, 0, 1, "[")]  # would make the YAML unparsable
        broken = Diagnostic("x.yaml", 1, 1, 1, 2, "ML001", "yaml-syntax", Severity.ERROR, "bad")
        return [broken] if candidate.startswith("[") else []

    fixed = fix_text(text, lint)
    assert fixed.text == text and not fixed.changed
    assert [d.rule for d in fixed.refused] == ["ignored-key"]
    assert all(d.fix is None for d in fixed.diagnostics)  # a refused fix is not offered any more


def test_a_fix_that_adds_an_error_is_refused_but_the_others_apply() -> None:
    text = "a: 1\nb: 2\n"
    good = _finding(text, 5, 6, "c", rule="duplicate-key")
    bad = _finding(text, 0, 1, "z")

    def lint(candidate: str) -> list[Diagnostic]:
        out = []
        if candidate.startswith("z"):
            out.append(Diagnostic("x.yaml", 1, 1, 1, 2, "ML101", "schema-unknown-key", Severity.ERROR, "new"))
        if candidate == text:
            out += [good, bad]
        elif candidate.startswith("a"):
            out.append(bad)
        return out

    fixed = fix_text(text, lint)
    assert fixed.text == "a: 1\nc: 2\n"
    assert [d.rule for d in fixed.applied] == ["duplicate-key"]
    assert [d.rule for d in fixed.refused] == ["ignored-key"]


def test_the_engine_stops_after_a_fixed_number_of_passes() -> None:
    calls = []

    def lint(candidate: str) -> list[Diagnostic]:  # a fix that always finds more to do
        calls.append(candidate)
        return [_finding(candidate, len(candidate), len(candidate), "x")]

    fixed = fix_text("a", lint)
    assert fixed.text == "a" + "x" * MAX_PASSES
    assert len(calls) == MAX_PASSES + 1


def test_a_file_with_a_syntax_error_is_never_fixed(tmp_path: Path) -> None:
    text = SCORE + "broken: [\n"
    assert _fix(text, tmp_path, unsafe=True) == text


def test_unsafe_fixes_wait_for_the_flag(tmp_path: Path) -> None:
    text = SCORE.replace("  total_sheets: 2        # legacy, ignored\n", "").replace("retry", "x") + (
        "retry:\n  max_retris: 3\n")
    assert "max_retries" not in _fix(text, tmp_path)
    assert "  max_retries: 3\n" in _fix(text, tmp_path, unsafe=True)


def test_unsafe_rename_is_not_offered_when_the_key_exists_or_the_shape_differs() -> None:
    both = "name: x\nsheet: {size: 1, total_items: 1}\nprompt: {template: hi}\n" + (
        "retry:\n  max_retries: 2\n  max_retris: 3\n")
    assert not [d for d in lint_text(both) if d.rule == "schema-unknown-key" and d.fix is not None]
    shape = "name: x\nsheet: {size: 1, total_items: 1}\nprompt: {template: hi}\nretry:\n  max_retris: [3]\n"
    found = [d for d in lint_text(shape) if d.rule == "schema-unknown-key"]
    assert found and all(d.fix is None for d in found)


def test_the_api_returns_fixes_with_offsets_and_positions() -> None:
    found = [d for d in lint_text(VALID, "score.yaml") if d.rule == "ignored-key"]
    assert len(found) == 1 and found[0].fix is not None
    (edit,) = found[0].fix.edits
    assert VALID[edit.start : edit.end] == "  total_sheets: 2        # legacy, ignored\n"
    assert (edit.line, edit.column, edit.end_line, edit.end_column) == (7, 1, 8, 1)
    assert edit.text == ""


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def scored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "score.yaml"
    path.write_text(SCORE, encoding="utf-8")
    path.chmod(0o640)
    return path


def test_fix_writes_the_file_keeps_its_mode_and_is_idempotent(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-cache", "--fix", "--format", "concise", "score.yaml"]) == 0
    out = capsys.readouterr().out
    assert scored.read_text(encoding="utf-8") == FIXED
    assert stat.S_IMODE(scored.stat().st_mode) == 0o640
    assert "5 fixed" in out or "Fixed 5 findings" in out
    before = scored.stat().st_mtime_ns
    assert main(["--no-cache", "--fix", "score.yaml"]) == 0
    assert scored.stat().st_mtime_ns == before  # nothing to write: not even touched
    assert not list(scored.parent.glob(".marianne-lint-*"))  # no temporary file left


def test_diff_writes_nothing_and_exits_1(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-cache", "--diff", "score.yaml"]) == 1
    captured = capsys.readouterr()
    assert scored.read_text(encoding="utf-8") == SCORE
    assert captured.out.startswith("--- a/score.yaml\n+++ b/score.yaml\n")
    assert ('-  template: "Part {sheet_num}, ending with done"\n'
            '+  template: "Part {{ sheet_num }}, ending with done"\n') in captured.out
    assert "Would fix 5 findings in 1 file." in captured.err
    scored.write_text(FIXED, encoding="utf-8")
    assert main(["--no-cache", "--diff", "score.yaml"]) == 0
    assert capsys.readouterr().out == ""


def test_fix_through_a_link_keeps_the_link(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = scored.parent / "link.yaml"
    link.symlink_to(scored.name)
    assert main(["--no-cache", "--fix", "link.yaml"]) == 0
    assert link.is_symlink() and scored.read_text(encoding="utf-8") == FIXED


def test_fix_of_stdin_prints_the_fixed_text(scored: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(SCORE.encode())))
    assert main(["--no-cache", "--fix", "--stdin-filename", "score.yaml", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == FIXED
    assert "Fixed 5 findings" in captured.err  # the report goes to stderr
    assert scored.read_text(encoding="utf-8") == SCORE  # the file of that name is not touched


def test_findings_with_a_fix_are_marked_in_every_format(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scored.write_text(VALID, encoding="utf-8")
    main(["--no-cache", "--format", "concise", "score.yaml"])
    lines = capsys.readouterr().out.splitlines()
    assert any(" ML111 [*] warning: " in line for line in lines)
    assert lines[-1] == "[*] 4 fixable with `--fix`."
    main(["--no-cache", "--format", "json", "score.yaml"])
    document = json.loads(capsys.readouterr().out)
    fixes = [d["fix"] for d in document["diagnostics"] if d["fix"] is not None]
    assert len(fixes) == 4 and set(document["summary"]) == {"files", "error", "warning", "info"}
    assert {"message", "applicability", "edits"} <= set(fixes[0])
    assert {"start", "end", "line", "column", "end_line", "end_column", "content"} == set(fixes[0]["edits"][0])
    main(["--no-cache", "--format", "sarif", "score.yaml"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    with_fixes = [r for r in results if "fixes" in r]
    assert len(with_fixes) == 4
    replacement = with_fixes[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert {"deletedRegion", "insertedContent"} == set(replacement)


def test_rules_lists_which_rules_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("ML002  duplicate-key") and "[*]" in line for line in out.splitlines())
    assert any(line.startswith("ML101  schema-unknown-key") and "[!]" in line for line in out.splitlines())
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert sum(1 for r in rules if r["fix"]) >= 15


def test_a_file_changed_while_it_was_fixed_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("new\n", encoding="utf-8")
    assert _write(str(path), "fixed\n", b"old\n") is not None
    assert path.read_text(encoding="utf-8") == "new\n"


# -- property: the shared corpus and vectors -------------------------------------------------------


def _cases() -> list[tuple[Path, str, bool | None]]:
    shared = shared_dir()
    cases: list[tuple[Path, str, bool | None]] = []
    for line in (shared / "corpus" / "VERDICTS.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        cases.append((shared / "corpus" / entry["path"], entry["kind"], entry["valid"]))
    for line in (shared / "vectors" / "dev" / "INDEX.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        cycle = any(e["rule"] == "dependency-cycle" for e in entry["expect"])
        cases.append((shared / "vectors" / "dev" / entry["id"] / "input.yaml", entry["kind"],
                      None if cycle else entry["upstream_valid"]))
    return cases


def test_fixing_the_shared_files_never_breaks_one() -> None:
    settings = Settings.from_config(Config(select=["ALL"]))
    changed = 0
    fixed_rules: set[str] = set()
    for path, kind, valid in _cases():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        fixed = fix_source(text, str(path), settings, kind=kind, unsafe=True, file_path=path)
        assert fixed is not None
        name = str(path)
        if not fixed.changed:
            continue
        changed += 1
        fixed_rules |= {d.rule for d in fixed.applied}
        after = fixed.diagnostics
        assert not [d for d in after if d.rule in ("yaml-syntax", "unreadable-file")], name
        before_errors = sorted({d.rule for d in fixed_source_errors(text, path, kind, settings)})
        new_errors = sorted({d.rule for d in after if d.severity >= Severity.ERROR} - set(before_errors))
        assert not new_errors, (name, new_errors)
        if valid:
            assert not [d for d in after if d.severity >= Severity.ERROR], name  # still accepted
        assert not [d.rule for d in after if applies(d, True)], name  # every offered fix was made
        again = fix_source(fixed.text, str(path), settings, kind=kind, unsafe=True, file_path=path)
        assert again is not None and not again.changed, name  # a second run is a no-op
    assert changed >= 40 and len(fixed_rules) >= 4


def fixed_source_errors(text: str, path: Path, kind: str, settings: Settings) -> list[Diagnostic]:
    from marianne_lint.pipeline import lint_source, text_source

    result = lint_source(text_source(text, str(path), settings), settings, kind=kind, file_path=path)
    assert result is not None
    return [d for d in result.diagnostics if d.severity >= Severity.ERROR]


def test_nothing_is_written_outside_the_fixed_files(scored: Path) -> None:
    other = scored.parent / "other.yaml"
    other.write_text(FIXED, encoding="utf-8")
    before = {p.name: p.stat().st_mtime_ns for p in scored.parent.iterdir()}
    assert main(["--no-cache", "--fix", "."]) == 0
    after = {p.name: p.stat().st_mtime_ns for p in scored.parent.iterdir()}
    assert set(after) == set(before)
    assert after["other.yaml"] == before["other.yaml"]
