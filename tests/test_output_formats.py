"""The CI formats as their consumers read them: GitLab Code Quality, GitHub workflow commands, --output-file.

GitLab: a JSON list whose issues have exactly the documented fields
(description, check_name, fingerprint, severity, location.path,
location.lines.begin), with unique fingerprints. GitHub: one
``::LEVEL file=...,line=...,col=...::message`` command per finding, with the
runner's escaping (``%``, CR and LF in the message; also ``:`` and ``,`` in
properties), chosen when GITHUB_ACTIONS=true and no --format is given.
``--output-file`` writes exactly the bytes standard output would get.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_dir
from marianne_lint.diagnostics import Diagnostic, Related, Severity
from marianne_lint.reading.positions import Span
from marianne_lint.report import FORMATS, Report, printable, renderer
from marianne_lint.rules import RULES

FAULTY = """\
name: faulty
workspace: ./workspace
sheet:
  size: 1
  total_items: 3
  dependencies:
    2: [3]
    3: [2]
prompt:
  template: "Write part {{ sheet_num }}"
stale_detection:
  enabled: true
  idle_timeout_seconds: 60
  check_interval_seconds: 10
"""

#: Keys whose duplicate-key message holds '%', a line feed, a carriage return, ':' and ',', and non-ASCII text.
AWKWARD = (
    'name: awkward\nsheet: {size: 1, total_items: 1}\nprompt: {template: "x"}\n'
    '"100%": 1\n"100%": 2\n"two\\nlines": 1\n"two\\nlines": 2\n"cr\\rhere": 1\n"cr\\rhere": 2\n'
    '"a:b,c": 1\n"a:b,c": 2\nclé: 1\nclé: 2\n'
)

#: File names with the characters a workflow-command property must escape.
AWKWARD_NAMES = ("faulty.yaml", "colon:comma,100%.yaml", "awkward.yaml")

GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / ".marianne-lint.toml").write_text("", encoding="utf-8")
    (tmp_path / "faulty.yaml").write_text(FAULTY, encoding="utf-8")
    (tmp_path / "colon:comma,100%.yaml").write_text(FAULTY, encoding="utf-8")
    (tmp_path / "awkward.yaml").write_text(AWKWARD, encoding="utf-8")
    return tmp_path


@cache
def no_cache() -> tuple[str, ...]:
    """``--no-cache`` where the command line has a result cache: every run here must really lint."""
    from marianne_lint.commands import lint as cli

    return ("--no-cache",) if "--no-cache" in cli._lint_parser().format_help() else ()


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check_stderr: bool = True
) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "PYTHONIOENCODING")}
    proc = subprocess.run(
        [sys.executable, "-m", "marianne_lint", *no_cache(), *args],
        cwd=cwd,
        capture_output=True,
        env={**base, **(env or {})},
        timeout=300,
    )
    if check_stderr:
        stderr = proc.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, stderr
        assert proc.returncode in (0, 1), stderr
    return proc


@pytest.fixture(scope="module")
def shared_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of ../shared's corpus and vectors: runs there write nothing into ../shared."""
    root = tmp_path_factory.mktemp("shared")
    shutil.copytree(shared_dir() / "corpus", root / "corpus")
    shutil.copytree(shared_dir() / "vectors" / "dev", root / "vectors" / "dev")
    return root


def corpus_args(root: Path) -> tuple[Path, list[str]]:
    corpus = root / "corpus"
    return corpus, sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.yaml"))


def vector_args(root: Path, kind: str) -> tuple[Path, list[str]]:
    folder = root / "vectors" / "dev"
    paths = [
        f"{case.name}/input.yaml"
        for case in sorted(folder.iterdir())
        if (case / "expected.json").is_file()
        and json.loads((case / "expected.json").read_text(encoding="utf-8"))["kind"] == kind
    ]
    return folder, ["--kind", kind, *paths]


# -- GitLab Code Quality ----------------------------------------------------------------------------


def check_gitlab(issues: Any) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}, issue
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in GITLAB_SEVERITIES
        assert set(issue["location"]) == {"path", "lines"}
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        assert set(issue["location"]["lines"]) == {"begin"}
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and not isinstance(begin, bool) and begin >= 1
    prints = [issue["fingerprint"] for issue in issues]
    assert len(prints) == len(set(prints)), "fingerprints must be unique"


def test_gitlab_has_exactly_the_documented_fields(workdir: Path) -> None:
    proc = run(workdir, "--format", "gitlab", *AWKWARD_NAMES)
    issues = json.loads(proc.stdout)
    check_gitlab(issues)
    report = json.loads(run(workdir, "--format", "json", *AWKWARD_NAMES).stdout)
    assert len(issues) == len(report["diagnostics"])
    for issue, d in zip(issues, report["diagnostics"], strict=True):
        assert issue["check_name"] == d["rule"]
        assert issue["location"] == {"path": d["path"], "lines": {"begin": d["line"]}}
        assert issue["description"].startswith(f"{d['code']} {d['message']}")
        severity = {"error": "critical", "warning": "major", "info": "info"}[d["severity"]]
        assert issue["severity"] == severity


def test_gitlab_with_no_findings_is_an_empty_list(tmp_path: Path) -> None:
    (tmp_path / "empty-conductor.yaml").write_text("# defaults\n", encoding="utf-8")
    proc = run(tmp_path, "--isolated", "--kind", "conductor", "--format", "gitlab", "empty-conductor.yaml")
    assert proc.stdout == b"[]\n"


@pytest.mark.parametrize("kind", ["corpus", "score", "conductor", "instrument"])
def test_gitlab_on_real_files(shared_copy: Path, kind: str) -> None:
    cwd, args = corpus_args(shared_copy) if kind == "corpus" else vector_args(shared_copy, kind)
    gitlab = json.loads(run(cwd, "--isolated", "--select", "ALL", "--format", "gitlab", *args).stdout)
    assert gitlab
    check_gitlab(gitlab)
    # The same fingerprints as the SARIF report, so that both CI systems track a finding alike.
    sarif = json.loads(run(cwd, "--isolated", "--select", "ALL", "--format", "sarif", *args).stdout)
    (sarif_run,) = sarif["runs"]
    assert [i["fingerprint"] for i in gitlab] == [r["fingerprints"]["marianneLint/v1"] for r in sarif_run["results"]]


# -- GitHub workflow commands -----------------------------------------------------------------------

_COMMAND = re.compile(
    r"::(?P<level>error|warning|notice) "
    r"file=(?P<file>[^,:]+),line=(?P<line>\d+),col=(?P<col>\d+),endLine=(?P<end_line>\d+),"
    r"endColumn=(?P<end_col>\d+),title=(?P<title>[^,:]+)::(?P<message>.*)"
)
_ESCAPE = re.compile(r"%(25|0D|0A|3A|2C)")
_UNESCAPED = {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}


def unescape(text: str) -> str:
    assert "%" not in _ESCAPE.sub("", text), f"a bare % in {text!r}"
    return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], text)


def parse_github(output: str) -> list[dict[str, str]]:
    lines = output.split("\n")
    assert lines[-1] == "", "the output ends with a line break"
    summary = lines[-2]
    assert summary.startswith(("Found ", "All checks passed")), summary
    commands = []
    for line in lines[:-2]:
        assert "\r" not in line
        match = _COMMAND.fullmatch(line)
        assert match is not None, line
        found = match.groupdict()
        found["file"] = unescape(found["file"])
        found["title"] = unescape(found["title"])
        found["message"] = unescape(found["message"])
        commands.append(found)
    return commands


def test_github_lines_are_workflow_commands(workdir: Path) -> None:
    commands = parse_github(run(workdir, "--format", "github", *AWKWARD_NAMES).stdout.decode("utf-8"))
    report = json.loads(run(workdir, "--format", "json", *AWKWARD_NAMES).stdout)
    assert len(commands) == len(report["diagnostics"])
    for command, d in zip(commands, report["diagnostics"], strict=True):
        assert command["level"] == {"error": "error", "warning": "warning", "info": "notice"}[d["severity"]]
        assert command["file"] == d["path"]
        assert (int(command["line"]), int(command["col"])) == (d["line"], d["column"])
        assert (int(command["end_line"]), int(command["end_col"])) == (d["end_line"], d["end_column"])
        assert command["title"] == f"{d['code']} {d['rule']}"
        expected = d["message"] if not d["suggestion"] else f"{d['message']} (help: {d['suggestion']})"
        assert command["message"] == expected
    messages = "".join(c["message"] for c in commands)
    files = {c["file"] for c in commands}
    for needed in ("%", "\n", "\r", "a:b,c", "clé"):
        assert needed in messages, needed  # the escaping was exercised
    assert "colon:comma,100%.yaml" in files


_text = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(path=_text.filter(bool), message=_text, suggestion=st.none() | _text.filter(bool),
       line=st.integers(1, 10**6), column=st.integers(1, 10**4), severity=st.sampled_from(list(Severity)))
def test_github_escaping_round_trips(
    path: str, message: str, suggestion: str | None, line: int, column: int, severity: Severity
) -> None:
    rule = RULES[line % len(RULES)]
    d = Diagnostic.at(path, Span(line, column, line, column + 1), rule.code, rule.name, severity, message,
                   (Related(path, 1, 1, "x"),), suggestion)
    (command,) = parse_github(renderer("github")(Report([d], 1, {})))
    # CR and LF round-trip through GitHub's escapes; the other control characters, which its
    # syntax cannot carry, are written escaped (\x1b) as in every format
    shown = "".join(char if char in "\r\n" else printable(char) for char in path)
    assert command["file"] == shown
    text = message if not suggestion else f"{message} (help: {suggestion})"
    assert command["message"] == "".join(char if char in "\r\n" else printable(char) for char in text)
    assert not any(unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in command["file"])
    assert (int(command["line"]), int(command["col"])) == (line, column)


def test_github_is_chosen_on_github_actions(workdir: Path) -> None:
    explicit = run(workdir, "--format", "github", *AWKWARD_NAMES).stdout
    automatic = run(workdir, *AWKWARD_NAMES, env={"GITHUB_ACTIONS": "true"})
    assert automatic.stdout == explicit
    assert automatic.stdout.startswith(b"::")
    full = run(workdir, "--format", "full", *AWKWARD_NAMES).stdout
    assert run(workdir, *AWKWARD_NAMES, env={"GITHUB_ACTIONS": "false"}).stdout == full
    assert run(workdir, *AWKWARD_NAMES).stdout == full
    # An explicit format wins over the environment.
    concise = run(workdir, "--format", "concise", *AWKWARD_NAMES).stdout
    assert run(workdir, "--format", "concise", *AWKWARD_NAMES, env={"GITHUB_ACTIONS": "true"}).stdout == concise


# -- --output-file ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_file_has_the_bytes_of_stdout(workdir: Path, fmt: str) -> None:
    stdout = run(workdir, "--format", fmt, *AWKWARD_NAMES)
    to_file = run(workdir, "--format", fmt, "--output-file", "report.out", *AWKWARD_NAMES)
    assert to_file.stdout == b""
    assert to_file.returncode == stdout.returncode == 1
    assert (workdir / "report.out").read_bytes() == stdout.stdout
    assert "clé".encode() in stdout.stdout  # non-ASCII text, written as UTF-8 both ways


def test_stdout_is_utf_8_whatever_the_locale(workdir: Path) -> None:
    """A standard output that cannot encode the report (PYTHONIOENCODING=ascii) still gets the UTF-8 bytes."""
    expected = run(workdir, "--format", "concise", *AWKWARD_NAMES).stdout
    other = run(workdir, "--format", "concise", *AWKWARD_NAMES, env={"PYTHONIOENCODING": "ascii"})
    assert other.stdout == expected


def test_json_on_stdout_is_utf_8_in_a_latin_1_locale(workdir: Path) -> None:
    """JSON (RFC 8259), SARIF and GitLab reports are UTF-8: redirected to a file they must match --output-file."""
    expected = run(workdir, "--format", "json", *AWKWARD_NAMES).stdout
    other = run(workdir, "--format", "json", *AWKWARD_NAMES, env={"PYTHONIOENCODING": "latin-1"})
    assert other.stdout == expected


def test_fast_indented_json_is_json_dumps_byte_for_byte() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from marianne_lint.report.json_format import indented

    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=30)

    @settings(max_examples=300, deadline=None)
    @given(values)
    def same(value: object) -> None:
        assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)

    same()


def test_the_json_report_is_json_dumps_of_its_document_byte_for_byte() -> None:
    """The JSON format writes each diagnostic without building the document; what it writes must be
    exactly ``json.dumps(document, indent=2)``: for findings with and without related places, fixes,
    suggestions, non-ASCII text and line breaks in messages."""
    from marianne_lint.api import lint_text
    from marianne_lint.diagnostics import Severity
    from marianne_lint.report import Report
    from marianne_lint.report.json_format import as_dict, render

    fixtures = Path(__file__).parent / "fixtures" / "rules"
    diagnostics = []
    for case in sorted(fixtures.rglob("*.yaml")):
        text = case.read_bytes().decode("utf-8", "replace")
        diagnostics += lint_text(text, path=f"é/{case.name}\n")
    assert any(d.related for d in diagnostics) and any(d.fix for d in diagnostics)
    assert any(not d.related and d.fix is None and d.suggestion for d in diagnostics)
    report = Report(diagnostics=diagnostics, files=len(diagnostics), lines={})
    document = {
        "version": 1,
        "diagnostics": [as_dict(d) for d in diagnostics],
        "summary": {"files": report.files, "error": report.count(Severity.ERROR),
                    "warning": report.count(Severity.WARNING), "info": report.count(Severity.INFO)},
    }
    assert render(report) == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    empty = Report(diagnostics=[], files=0, lines={})
    assert render(empty) == json.dumps({"version": 1, "diagnostics": [], "summary": {
        "files": 0, "error": 0, "warning": 0, "info": 0}}, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("fmt", ["sarif", "gitlab"])
def test_sarif_and_gitlab_are_laid_out_as_json_dumps_does(fmt: str) -> None:
    """Both write each result as it is made (a report may hold 200,000); the text must still be
    exactly ``json.dumps(document, indent=2)`` of what it holds, with and without findings."""
    from marianne_lint.api import lint_text
    from marianne_lint.report import Report, renderer

    fixtures = Path(__file__).parent / "fixtures" / "rules"
    diagnostics = []
    for case in sorted(fixtures.rglob("*.yaml")):
        diagnostics += lint_text(case.read_bytes().decode("utf-8", "replace"), path=f"é/{case.name}")
    assert any(d.related for d in diagnostics) and any(d.fix for d in diagnostics)
    for found in (diagnostics, diagnostics[:1], []):
        text = renderer(fmt)(Report(diagnostics=found, files=1, lines={}))
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        document = json.loads(text)
        assert len(document["runs"][0]["results"] if fmt == "sarif" else document) == len(found)


def test_a_plain_sarif_result_is_written_as_its_dict_would_be() -> None:
    """Results without fixes or related places are written from a template: the same text as
    writing their dict (ends before and after the start, absolute and relative paths)."""
    from marianne_lint.diagnostics import Diagnostic, Severity
    from marianne_lint.report.json_format import indented
    from marianne_lint.report.sarif_format import _ARTIFACT_LEVEL, _RESULT_LEVEL, _plain_result_text, _uri, result_dict

    for path in ("a b/é.yaml", "/abs/x.yaml", "odd\n\"name\".yaml"):
        for end in ((3, 9), (3, 4), (2, 1)):
            for suggestion in (None, "try \"this\""):
                d = Diagnostic(path, 3, 4, *end, "ML101", "schema-unknown-key", Severity.WARNING, "m é\n",
                               suggestion=suggestion)
                written = _plain_result_text(d, "f" * 64, 7, indented(_uri(path), _ARTIFACT_LEVEL))
                assert written == indented(result_dict(d, "f" * 64, 7), _RESULT_LEVEL)


def test_full_format_prints_a_long_help_once_per_file() -> None:
    """A list of allowed keys is printed at its first finding; later ones point back to it."""
    listing = "allowed keys here: " + ", ".join(f"key_{n}" for n in range(20))
    findings = [
        Diagnostic.at(path, Span(line, 1, line, 4), "ML101", "schema-unknown-key", Severity.ERROR,
                      f"unknown key 'k{line}'", suggestion=listing)
        for path in ("a.yaml", "b.yaml") for line in (2, 5)
    ] + [Diagnostic.at("b.yaml", Span(7, 1, 7, 4), "ML101", "schema-unknown-key", Severity.ERROR, "short",
                       suggestion="did you mean 'name'?")] * 2
    text = renderer("full")(Report(findings, 2, {}))
    assert text.count(listing) == 2  # once in each file
    assert text.count("= help: as for line 2 above") == 2
    assert text.count("did you mean 'name'?") == 2  # short help is always printed
