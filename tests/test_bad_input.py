"""Hostile and broken input: always a clear finding and exit 1, never a traceback, and the next file is still linted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from conftest import GOOD
from marianne_lint.commands import lint as cli


def alias_bomb(levels: int = 10) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean folder with a good score in it, as the current directory (no configuration above it matters)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".marianne-lint.toml").write_text("", encoding="utf-8")  # stops the search for a config upward
    return tmp_path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    code = cli.main(["--format", "json", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, json.loads(out), err


def findings_for(report: dict[str, object], path: str) -> list[dict[str, object]]:
    diagnostics = report["diagnostics"]
    assert isinstance(diagnostics, list)
    return [d for d in diagnostics if d["path"] == path]


def check_bad(
    capsys: pytest.CaptureFixture[str], name: str, rule: str, *, line: int | None = None, words: str = ""
) -> dict[str, object]:
    """Lint the bad file and the good one together: one clear finding for the bad, none for the good."""
    code, report, _ = run_json(capsys, name, "good.yaml")
    assert code == 1
    assert report["summary"]["files"] == 2  # type: ignore[index]
    assert findings_for(report, "good.yaml") == []
    found = findings_for(report, name)
    assert [d["rule"] for d in found] == [rule], found
    (finding,) = found
    assert finding["severity"] == "error"
    if line is not None:
        assert finding["line"] == line
    assert words.lower() in str(finding["message"]).lower()
    return finding


# -- empty and odd documents ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "no YAML document"),
        ("# only a comment\n\n# and another\n", "no YAML document"),
        ("- name: a\n- name: b\n", "a list"),
        ("just some text\n", "the string"),
        ("42\n", "number"),
    ],
    ids=["empty", "comment-only", "list-root", "scalar-root", "number-root"],
)
def test_document_that_is_not_a_mapping(
    workdir: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    (workdir / "bad.yaml").write_text(content, encoding="utf-8")
    check_bad(capsys, "bad.yaml", "schema-root-type", line=1, words=words)


def test_empty_conductor_config_is_fine(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "conductor.yaml").write_text("# all defaults\n", encoding="utf-8")
    code, report, _ = run_json(capsys, "--kind", "conductor", "conductor.yaml")
    assert code == 0 and report["diagnostics"] == []


# -- bytes that are not UTF-8 text ----------------------------------------------------------------


def test_binary_data(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    check_bad(capsys, "bad.yaml", "unreadable-file", words="binary")


def test_non_utf8_points_at_the_bad_byte(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_bytes(b"name: caf\xc3\xa9\nprompt: na\xefve\n")
    finding = check_bad(capsys, "bad.yaml", "unreadable-file", line=2, words="UTF-8")
    assert finding["column"] == 11
    assert "0xef" in str(finding["message"])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_utf16_and_utf32(workdir: Path, capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    (workdir / "bad.yaml").write_bytes(GOOD.encode(encoding))
    finding = check_bad(capsys, "bad.yaml", "unreadable-file", line=1, words=encoding[:6])
    assert finding["column"] == 1


def test_utf8_bom_is_fine(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    code, report, _ = run_json(capsys, "bom.yaml")
    assert code == 0 and report["diagnostics"] == []


# -- YAML syntax ----------------------------------------------------------------------------------


def test_tabs_for_indentation(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD.replace("  size: 1", "\tsize: 1"), encoding="utf-8")
    finding = check_bad(capsys, "bad.yaml", "yaml-syntax", line=4)
    assert "tab" in (str(finding["message"]) + str(finding["suggestion"])).lower()


def test_tab_after_a_colon(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """libyaml accepts ``key:<TAB>value``; PyYAML, and so Marianne, refuses it."""
    (workdir / "bad.yaml").write_text(GOOD.replace("name: good", "name:\tgood"), encoding="utf-8")
    finding = check_bad(capsys, "bad.yaml", "yaml-syntax", line=1, words="tab")
    assert finding["column"] == 6


@pytest.mark.parametrize(
    ("content", "lines"),
    [
        ('name: "good\nsheet:\n  size: 1\n', {1, 3}),  # never past the last line
        ("name: good\nsheet: {size: 1, total_items: 2\nprompt: {template: x}\n", {2, 3}),
        ("name: good\nsheet: [1, 2\n", {2, 3}),
        ("name: good\n  sheet: 1\n", {1, 2}),
    ],
    ids=["unterminated-quote", "unclosed-flow-mapping", "unclosed-flow-sequence", "bad-indentation"],
)
def test_syntax_errors(workdir: Path, capsys: pytest.CaptureFixture[str], content: str, lines: set[int]) -> None:
    (workdir / "bad.yaml").write_text(content, encoding="utf-8")
    finding = check_bad(capsys, "bad.yaml", "yaml-syntax", words="YAML syntax error")
    assert finding["line"] in lines


def test_two_documents(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD + "---\n" + GOOD, encoding="utf-8")
    check_bad(capsys, "bad.yaml", "yaml-syntax", line=GOOD.count("\n") + 1, words="second YAML document")


def test_unknown_python_tag(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD + "x: !!python/object:os.system echo\n", encoding="utf-8")
    check_bad(capsys, "bad.yaml", "yaml-syntax", line=14, words="python/object")


def test_mapping_used_as_a_key(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD + "? {a: 1}\n: 2\n", encoding="utf-8")
    check_bad(capsys, "bad.yaml", "yaml-syntax", line=14, words="key")


def test_undefined_alias(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD + "retry: *defaults\n", encoding="utf-8")
    check_bad(capsys, "bad.yaml", "yaml-syntax", line=14, words="*defaults")


def test_recursive_alias(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD + "loop: &loop\n  - *loop\n", encoding="utf-8")
    check_bad(capsys, "bad.yaml", "resource-limit", line=15, words="recursive")


# -- resource limits ------------------------------------------------------------------------------


def run_subprocess(cwd: Path, *args: str, stdin: bytes | None = None) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "marianne_lint", "--format", "json", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return proc.returncode, json.loads(proc.stdout), elapsed


def test_alias_bomb(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text(alias_bomb(10), encoding="utf-8")
    code, report, elapsed = run_subprocess(workdir, "bad.yaml", "good.yaml")
    assert elapsed < 5
    assert code == 1
    assert [d["rule"] for d in findings_for(report, "bad.yaml")] == ["resource-limit"]
    assert findings_for(report, "good.yaml") == []


@pytest.mark.parametrize(
    "content",
    [
        "sheet: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "sheet: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
        "- " * 10_000 + "x\n",
        "".join(" " * level + "k:\n" for level in range(1_000)) + " " * 1_000 + "x: 1\n",
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences", "block-mappings"],
)
def test_deep_nesting(workdir: Path, content: str) -> None:
    (workdir / "bad.yaml").write_text(content, encoding="utf-8")
    code, report, elapsed = run_subprocess(workdir, "bad.yaml", "good.yaml")
    assert elapsed < 5
    assert code == 1
    found = findings_for(report, "bad.yaml")
    assert [d["rule"] for d in found] == ["resource-limit"]
    assert "nest" in str(found[0]["message"])
    assert findings_for(report, "good.yaml") == []


@pytest.mark.parametrize("size", [200_000, 600_000])
def test_syntax_error_at_the_end_of_a_big_file(workdir: Path, capsys: pytest.CaptureFixture[str], size: int) -> None:
    block = "".join(f"key{i}:\n  a: [1, 2, 3]\n  b: 'text {i}'\n" for i in range(1000))
    text = block * (size // len(block) + 1) + "bad: [1, 2\n"
    (workdir / "bad.yaml").write_text(text, encoding="utf-8")
    started = time.monotonic()
    finding = check_bad(capsys, "bad.yaml", "yaml-syntax", words="YAML syntax error")
    assert time.monotonic() - started < 5
    assert finding["line"] == text.count("\n")  # the last line: an editor shows no line after it


def test_file_over_the_configured_size_limit(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / ".marianne-lint.toml").write_text("max-file-size = 1000\n", encoding="utf-8")
    (workdir / "bad.yaml").write_text(GOOD + "# padding\n" * 200, encoding="utf-8")
    finding = check_bad(capsys, "bad.yaml", "resource-limit", line=1, words="max-file-size")
    assert "1000 bytes" in str(finding["message"])


def test_sparse_file_over_the_default_limit(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(workdir / "bad.yaml", "wb") as handle:
        handle.truncate(30 * 1024 * 1024)  # sparse: costs no disk
    finding = check_bad(capsys, "bad.yaml", "resource-limit", line=1)
    assert "5 MiB" in str(finding["message"])


def test_standard_input_over_the_limit(workdir: Path) -> None:
    (workdir / ".marianne-lint.toml").write_text("max-file-size = 1000\n", encoding="utf-8")
    code, report, _ = run_subprocess(workdir, "-", "good.yaml", stdin=(GOOD + "# padding\n" * 200).encode())
    assert code == 1
    assert [d["rule"] for d in findings_for(report, "-")] == ["resource-limit"]
    assert findings_for(report, "good.yaml") == []


@pytest.mark.slow
def test_real_50_mb_file_is_refused_without_reading_it(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = b"- some filler text for a large YAML list\n"
    with open(workdir / "bad.yaml", "wb") as handle:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    assert (workdir / "bad.yaml").stat().st_size > 50 * 1024 * 1024
    run_json(capsys, "good.yaml")  # imports everything first, so that only the run itself is measured
    tracemalloc.start()
    try:
        started = time.monotonic()
        finding = check_bad(capsys, "bad.yaml", "resource-limit", line=1)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "50 MiB" in str(finding["message"])
    assert elapsed < 5
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak / 1_048_576:.1f} MiB"


# -- paths that cannot be read --------------------------------------------------------------------


def test_missing_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_bad(capsys, "missing.yaml", "unreadable-file", line=1, words="No such file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_folder_without_read_permission(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    (locked / "score.yaml").write_text(GOOD, encoding="utf-8")
    locked.chmod(0)
    try:
        code, report, _ = run_json(capsys, ".")
    finally:
        locked.chmod(0o755)
    assert code == 1
    found = findings_for(report, "locked")
    assert [d["rule"] for d in found] == ["unreadable-file"]
    assert "Permission denied" in str(found[0]["message"])
    assert findings_for(report, "good.yaml") == []


def test_folder_the_walk_cannot_list(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as above without needing a non-root user: the listing of one folder fails."""
    locked = workdir / "locked"
    locked.mkdir()
    (locked / "score.yaml").write_text(GOOD, encoding="utf-8")
    real_scandir = os.scandir
    real_listdir = os.listdir

    def refuse(path: Any = ".") -> Any:
        if Path(path).resolve() == locked.resolve():
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def refuse_listing(path: Any = ".") -> list[str]:
        if Path(path).resolve() == locked.resolve():
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    monkeypatch.setattr(os, "listdir", refuse_listing)
    code, report, _ = run_json(capsys, ".")
    assert code == 1
    assert report["summary"]["files"] == 2  # type: ignore[index]
    found = findings_for(report, "locked")
    assert [d["rule"] for d in found] == ["unreadable-file"]
    assert found[0]["message"] == "cannot read the folder: Permission denied"
    assert findings_for(report, "good.yaml") == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_file_without_read_permission(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yaml").write_text(GOOD, encoding="utf-8")
    (workdir / "bad.yaml").chmod(0)
    check_bad(capsys, "bad.yaml", "unreadable-file", line=1, words="Permission denied")


def test_bad_files_in_a_folder_walk(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A walk reports unreadable and unparsable scores and goes on with the others."""
    (workdir / "a-binary.yaml").write_bytes(b"sheet: \x00\x01")
    (workdir / "b-syntax.yaml").write_text("name: x\nsheet: {size: 1\nprompt: y\n", encoding="utf-8")
    code, report, _ = run_json(capsys, ".")
    assert code == 1
    assert [d["rule"] for d in findings_for(report, "a-binary.yaml")] == ["unreadable-file"]
    assert [d["rule"] for d in findings_for(report, "b-syntax.yaml")] == ["yaml-syntax"]
    assert findings_for(report, "good.yaml") == []
