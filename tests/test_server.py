"""The language server end to end: ``marianne-lint server`` over stdio, driven by
``../shared/tools/lsp_session.py`` as VS Code would drive it.

Without ../shared these tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conftest import shared_dir
from marianne_lint import lint_text
from marianne_lint.reading.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]
SERVER = shlex.join([sys.executable, "-m", "marianne_lint", "server"])


def run_session(root: Path, steps: list[dict[str, Any]], *, timeout: float = 60.0,
                expect_ok: bool = True) -> dict[str, Any]:
    """Run one session of ``steps`` against a fresh server whose workspace is ``root``."""
    tool = shared_dir() / "tools" / "lsp_session.py"
    if not tool.is_file():
        pytest.fail(f"{tool} is missing")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(steps, handle)  # outside `root`: the workspace (../shared included) is never written to
    script = Path(handle.name)
    try:
        done = subprocess.run(
            [sys.executable, str(tool), "--server-cmd", SERVER, "--root", str(root), "--compact",
             "--timeout", str(timeout), "--init-quiet", "0.05", str(script)],
            capture_output=True, text=True, timeout=timeout + 30, check=False)
    finally:
        script.unlink(missing_ok=True)
    try:
        out: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"lsp_session printed no JSON (exit {done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    if expect_ok:
        assert out["exit_code"] == 0, json.dumps({k: out.get(k) for k in ("error", "failures")}, indent=1) + \
            json.dumps(out.get("session", {}).get("server_stderr_tail"))
    assert out["session"]["shutdown"] == "clean", out["session"]
    return out


def step(out: dict[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = out["steps"][number]
    return found


def cli_json(paths: list[str], cwd: Path) -> dict[str, set[tuple[str, int]]]:
    """(code, line) of every finding of the command line, per path as given."""
    done = subprocess.run([sys.executable, "-m", "marianne_lint", "--format", "json", "--no-cache", "--exit-zero",
                           *paths], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out: dict[str, set[tuple[str, int]]] = {path: set() for path in paths}
    for d in json.loads(done.stdout)["diagnostics"]:
        out.setdefault(d["path"], set()).add((d["code"], d["line"]))
    return out


ACYCLIC = """\
name: cycle-demo
workspace: ./ws
sheet:
  size: 1
  total_items: 3
  dependencies:
    2: [1]
    3: [2]
prompt:
  template: "Write part {{ sheet_num }}"
validations:
  - type: file_exists
    path: "{workspace}/part-{sheet_num}.md"
"""


def test_a_cycle_appears_and_disappears_as_the_buffer_is_edited(tmp_path: Path) -> None:
    cyclic = ACYCLIC.replace("2: [1]", "2: [3]")
    (tmp_path / "cyclic.yaml").write_text(cyclic, encoding="utf-8")
    expected = [d for d in json.loads(subprocess.run(
        [sys.executable, "-m", "marianne_lint", "--format", "json", "--no-cache", "--exit-zero", "cyclic.yaml"],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60).stdout)["diagnostics"]
        if d["code"] == "ML201"]
    assert expected
    out = run_session(tmp_path, [
        {"open": "demo.yaml", "text": ACYCLIC},
        {"diagnostics": "demo.yaml", "settle": 0.1, "expect": {"lacks": [{"code": "ML201"}]}},
        {"change": "demo.yaml", "edit": {"at": "2: [1]", "new_text": "2: [3]"}},
        {"diagnostics": "demo.yaml", "settle": 0.1, "expect": {"has": [
            {"code": "ML201", "source": "marianne-lint", "severity": "error"}]}},
        {"change": "demo.yaml", "edit": {"at": "2: [3]", "new_text": "2: [1]"}},
        {"diagnostics": "demo.yaml", "settle": 0.1, "expect": {"lacks": [{"code": "ML201"}]}},
        {"save": "demo.yaml"},
        {"diagnostics": "demo.yaml", "settle": 0.1, "expect": {"lacks": [{"code": "ML201"}]}},
    ])
    (cycle,) = [d for d in step(out, 3)["diagnostics"] if d["code"] == "ML201"]
    want = expected[0]
    assert (cycle["line"], cycle["character"], cycle["end_line"], cycle["end_character"]) == (
        want["line"] - 1, want["column"] - 1, want["end_line"] - 1, want["end_column"] - 1)
    assert cycle["message"] == want["message"]
    assert cycle["codeDescription"] == {"href": want["url"]}
    related = cycle["relatedInformation"]
    assert [(r["location"]["range"]["start"]["line"] + 1, r["message"]) for r in related] == [
        (r["line"], r["message"]) for r in want["related"]]
    assert all(r["location"]["uri"].endswith("/demo.yaml") for r in related)
    assert step(out, 3)["published_version"] == 2
    caps = out["server"]["capabilities"]
    assert caps["textDocumentSync"]["change"] == 2 and caps["codeActionProvider"]["resolveProvider"] is True


def _ml003_has_a_fix() -> bool:
    return any(d.code == "ML003" and d.fix is not None for d in lint_text("on: push\n", "x.yaml"))


ON_KEY = ("name: triggers\nworkspace: ./ws\nsheet: {size: 1, total_items: 1}\nprompt:\n  template: hi {{ on }}\n"
          "  variables:\n    on: push\n")


def test_the_disable_comment_and_its_code_action_path(tmp_path: Path) -> None:
    out = run_session(tmp_path, [
        {"open": "on.yaml", "text": ON_KEY},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"has": [{"code": "ML003"}]}},
        {"codeAction": "on.yaml", "at": "on: push", "only": ["quickfix"],
         "expect": {"has": [{"title": "Disable ML003 (yaml11-boolean-key) for this line"}]}},
        {"applyAction": "on.yaml", "title_contains": "for this line",
         "expect": {"text_contains": ["on: push  # marianne-lint: disable=ML003"]}},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML003"},
                                                                         {"code": "ML008"}]}},
    ])
    assert step(out, 3)["via"] == ["edit"]


@pytest.mark.skipif(not _ml003_has_a_fix(), reason="yaml11-boolean-key (ML003) attaches no fix yet")
def test_the_on_key_quick_fix_removes_ml003(tmp_path: Path) -> None:
    run_session(tmp_path, [
        {"open": "on.yaml", "text": ON_KEY},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"has": [{"code": "ML003"}]}},
        {"codeAction": "on.yaml", "at": "on: push", "only": ["quickfix"],
         "expect": {"has": [{"kind": "quickfix", "preferred": True, "has_edit": True}]}},
        {"applyAction": "on.yaml", "preferred": True, "expect": {"changed": True}},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML003"}]}},
        # "Fix all" without `only`: no edit yet, resolved when applied
        {"change": "on.yaml", "text": ON_KEY},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"has": [{"code": "ML003"}]}},
        {"codeAction": "on.yaml", "line": 0, "character": 0,
         "expect": {"has": [{"kind": "source.fixAll.marianne-lint", "has_edit": False, "has_data": True}]}},
        {"applyAction": "on.yaml", "kind": "source.fixAll.marianne-lint", "expect": {"changed": True}},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML003"}]}},
        # "Fix all" asked for explicitly (as on save): the edit comes with the action
        {"change": "on.yaml", "text": ON_KEY},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"has": [{"code": "ML003"}]}},
        {"codeAction": "on.yaml", "line": 0, "character": 0, "only": ["source.fixAll"],
         "expect": {"count": 1, "has": [{"kind": "source.fixAll.marianne-lint", "has_edit": True}]}},
        {"applyAction": "on.yaml", "kind": "source.fixAll", "expect": {"changed": True}},
        {"diagnostics": "on.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML003"}]}},
    ])


WORKFLOW = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest
"""
COMPOSE = "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n    environment:\n      DEBUG: yes\n"


def test_yaml_that_is_not_a_marianne_file_stays_silent(tmp_path: Path) -> None:
    out = run_session(tmp_path, [
        {"open": ".github/workflows/ci.yml", "text": WORKFLOW},
        {"diagnostics": ".github/workflows/ci.yml", "settle": 0.1, "expect": {"count": 0}},
        {"open": "docker-compose.yml", "text": COMPOSE},
        {"diagnostics": "docker-compose.yml", "settle": 0.1, "expect": {"count": 0}},
        {"hover": ".github/workflows/ci.yml", "at": "runs-on", "expect": {"empty": True}},
        {"complete": ".github/workflows/ci.yml", "line": 5, "character": 0, "expect": {"count": 0}},
        {"change": ".github/workflows/ci.yml", "edit": {"at": "jobs:", "new_text": "jobs: [broken"}},
        {"diagnostics": ".github/workflows/ci.yml", "settle": 0.1, "expect": {"count": 0}},
    ])
    assert "window/showMessage" not in out["session"]["notifications"]


def test_the_server_and_the_command_line_agree_on_every_vector() -> None:
    from marianne_lint.api import detect_kind

    vectors = shared_dir() / "vectors" / "dev"
    cases = sorted(p.relative_to(vectors).as_posix() for p in vectors.glob("*/input.yaml"))
    assert len(cases) > 100
    steps: list[dict[str, Any]] = []
    for case in cases:
        steps += [{"open": case}, {"diagnostics": case, "settle": 0}, {"close": case}]
    out = run_session(vectors, steps, timeout=240)
    served = {step(out, 3 * n)["file"]: {(d["code"], d["line"] + 1) for d in step(out, 3 * n + 1)["diagnostics"]}
              for n in range(len(cases))}
    cli = cli_json(cases, vectors)
    undetected = [case for case in cases if detect_kind((vectors / case).read_text(encoding="utf-8"),
                                                        str(vectors / case)) is None]
    for case in undetected:  # the command line lints a named file as a score; the editor skips it
        assert served[case] == set(), case
    differ = {case: (sorted(served[case] ^ cli[case])) for case in cases if case not in undetected
              and served[case] != cli[case]}
    assert not differ, differ
    assert sum(bool(found) for found in served.values()) > len(cases) / 2  # the comparison is not vacuous
    assert len(undetected) <= 2, undetected


FEATURES = """\
name: features
workspace: ./ws
instrument: claude-code
instruments:
  fast:
    profile: gemini-cli
movements:
  1:
    name: Review
    instrument: fast
sheet:
  size: 1
  total_items: 3
  fan_out:
    2: 3
  dependencies:
    2: [1]
    3: [2]
prompt:
  template: |
    Review part {{ sheet_num }} about {{ topic }}.
  variables:
    topic: cats
stale_detection:
  enabled: true
validations:
  - type: file_exists
    path: "{workspace}/out-{sheet_num}.md"
"""


def _schema_description(*path: str, follow: bool = True) -> str:
    """The description the schema file gives the key at ``path`` (of its definition when ``follow``)."""
    schema = json.loads((ROOT / "schema" / "marianne-score.schema.json").read_text(encoding="utf-8"))
    node: Any = schema
    for number, key in enumerate(path):
        node = node["properties"][key]
        if "$ref" in node and (follow or number < len(path) - 1):
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    text: str = node["description"]
    return text


def _at(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return {"line": line, "character": index - (text.rfind("\n", 0, index) + 1)}


def test_hover_completion_symbols_and_definitions(tmp_path: Path) -> None:
    assert set(KINDS) == {"score", "conductor", "instrument", "fleet"}
    enabled = _schema_description("stale_detection", "enabled")
    with_line = FEATURES.replace("  enabled: true\n", "  enabled: true\n  \n").replace(
        "    3: [2]\n", "    3: [2]\n    \n")
    uri = "$uri:features.yaml"
    lines = FEATURES.split("\n")
    out = run_session(tmp_path, [
        {"open": "features.yaml", "text": FEATURES},
        {"diagnostics": "features.yaml", "settle": 0.05, "expect": {"lacks": [{"severity": "error"}]}},
        {"hover": "features.yaml", "at": "enabled", "expect": {"contains": [
            "enabled", "boolean", "default `false`", enabled.split("\n")[0]]}},
        {"hover": "features.yaml", "at": "stale_detection", "expect": {"contains": [
            _schema_description("stale_detection", follow=False).split("\n")[0]]}},
        {"hover": "features.yaml", "at": "type: file_exists", "expect": {"contains": [
            "Allowed values", "`content_regex`"]}},
        {"hover": "features.yaml", "at": "topic }}", "expect": {"contains": ["prompt.variables", "topic: cats"]}},
        {"hover": "features.yaml", "at": "sheet_num }} about", "expect": {"contains": ["built-in"]}},
        {"hover": "features.yaml", "at": "2: 3", "expect": {"contains": ["Stage 2: 3 instances, sheets 2, 3, 4"]}},
        {"hover": "features.yaml", "at": "3: [2]", "expect": {"contains": ["Stage 3: sheet 5"]}},
        {"hover": "features.yaml", "at": "gemini-cli", "expect": {"contains": ["built-in cli profile"]}},
        {"complete": "features.yaml", "at": "claude-code", "expect": {"labels": ["claude-code", "gemini-cli", "fast"]}},
        {"complete": "features.yaml", "at": "file_exists", "expect": {"labels": [
            "file_exists", "content_regex", "command_succeeds"]}},
        {"complete": "features.yaml", "at": "2]", "expect": {"labels": ["1"], "labels_absent": ["3"]}},
        {"symbols": "features.yaml", "expect": {"paths": [
            "sheet/sheets/stage 2/sheet 3", "sheet/sheets/stage 3", "validations/validation 1: file_exists",
            "movements/movement 1", "stale_detection/enabled"]}},
        {"request": "textDocument/definition", "params": {"textDocument": {"uri": uri},
                                                          "position": _at(FEATURES, "topic }}")},
         "expect": {"result_contains": [f'"line": {lines.index("    topic: cats")}']}},
        {"request": "textDocument/definition", "params": {"textDocument": {"uri": uri},
                                                          "position": _at(FEATURES, "instrument: fast", 13)},
         "expect": {"result_contains": [f'"line": {lines.index("  fast:")}']}},
        {"change": "features.yaml", "text": with_line},
        {"complete": "features.yaml", "at": "  \nvalidations", "offset": 2, "expect": {
            "count": 2, "labels": ["idle_timeout_seconds", "check_interval_seconds"], "labels_absent": ["enabled"]}},
        {"complete": "features.yaml", "at": "    \nprompt", "offset": 4, "expect": {
            "labels": ["1"], "labels_absent": ["2", "3"]}},
        {"change": "features.yaml", "edit": {"at": "about {{ topic }}.", "new_text": "about {{ "}},
        {"complete": "features.yaml", "at": "about {{ ", "after": True, "expect": {
            "labels": ["sheet_num", "topic", "workspace"]}},
        {"change": "features.yaml", "edit": {"at": "  \nvalidations", "new_text": "  idle_\nvalidations"}},
        {"complete": "features.yaml", "at": "idle_", "after": True, "expect": {"labels": ["idle_timeout_seconds"]}},
        {"symbols": "features.yaml", "expect": {"paths": ["sheet/sheets/stage 2/sheet 3"]}},
    ])
    assert step(out, 2)["text"].count("Fail a sheet") == 1


def test_positions_count_utf16_units_after_an_emoji(tmp_path: Path) -> None:
    text = ('name: emoji\nworkspace: ./ws\nsheet: {size: 1, total_items: 2}\nprompt: {template: "hi"}\n'
            'validations:\n  - {type: file_exists, path: "{workspace}/a.md", description: "🎉", "on": 1}\n')
    found = [d for d in lint_text(text, str(tmp_path / "emoji.yaml")) if d.line == 6]
    assert found
    out = run_session(tmp_path, [{"open": "emoji.yaml", "text": text}, {"diagnostics": "emoji.yaml", "settle": 0.05}])
    line = text.split("\n")[5]
    served = {(d["code"], d["line"], d["character"], d["end_character"]) for d in step(out, 1)["diagnostics"]}
    for d in found:
        start = len(line[: d.column - 1].encode("utf-16-le")) // 2
        end = len(line[: d.end_column - 1].encode("utf-16-le")) // 2
        assert start == d.column  # one astral character before it: one unit more than code points
        assert (d.code, 5, start, end) in served


def test_hostile_buffers_and_fast_edits_never_kill_the_server(tmp_path: Path) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    steps: list[dict[str, Any]] = [{"open": "h.yaml", "text": ACYCLIC}, {"diagnostics": "h.yaml", "settle": 0}]
    for text in ("[" * 20000, laughs, "\x00\x01: \x7f\n", "sheet:\n" + "  " * 3000 + "x: 1\n",
                 "\ufeff" + ACYCLIC, "prompt: {template: '{{ {% for %}'}\nsheet: 7\n"):
        steps += [{"change": "h.yaml", "text": text}, {"diagnostics": "h.yaml", "settle": 0}]
    for number in range(15):  # edits as fast as the client can send them
        steps.append({"change": "h.yaml", "text": ACYCLIC.replace("cycle-demo", f"fast-{number}")})
    steps += [
        {"diagnostics": "h.yaml", "settle": 0.2, "expect": {"lacks": [{"code": "internal-error"}]}},
        {"hover": "h.yaml", "at": "total_items", "expect": {"contains": ["total_items"]}},
        {"request": "marianne-lint/status", "params": {}, "expect": {"result_contains": ['"documents": 1']}},
    ]
    out = run_session(tmp_path, steps, timeout=90)
    last = out["steps"][-3]
    assert last["published_version"] == 22  # only the newest version's findings after the burst
    assert out["session"]["server_exit_code"] == 0


NO_VALIDATIONS = ("name: configured\nworkspace: ./ws\nsheet:\n  size: 1\n  total_items: 2\n"
                  "prompt:\n  template: \"part {{ sheet_num }}\"\n")


def test_the_folder_configuration_and_suppressions_are_honoured(tmp_path: Path) -> None:
    (tmp_path / ".marianne-lint.toml").write_text('ignore = ["no-validations"]\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    suppressed = NO_VALIDATIONS.replace("name: configured", "name: configured  # marianne-lint: disable=ML405")
    toml = ".marianne-lint.toml"
    out = run_session(tmp_path, [
        {"open": "sub/a.yaml", "text": NO_VALIDATIONS},
        {"diagnostics": "sub/a.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML405"}]}},
        {"open": toml, "language_id": "toml"},
        {"diagnostics": toml, "settle": 0.05, "expect": {"count": 0}},  # not YAML: never linted
        # the configuration is edited and saved: every open document is linted again with it
        {"change": toml, "text": "ignore = []\n"},
        {"save": toml, "write": True},
        {"sleep": 0.4},
        {"diagnostics": "sub/a.yaml", "settle": 0.1, "expect": {"has": [{"code": "ML405"}]}},
        {"change": "sub/a.yaml", "text": suppressed},
        {"diagnostics": "sub/a.yaml", "settle": 0.05, "expect": {"lacks": [{"code": "ML405"}]}},
        # a broken configuration is one finding, not a dead server
        {"change": toml, "text": 'select = ["ML9999"]\n'},
        {"save": toml, "write": True},
        {"sleep": 0.4},
        {"diagnostics": "sub/a.yaml", "settle": 0.1, "expect": {"has": [{"code": "config-error"}]}},
    ])
    (broken,) = step(out, 13)["diagnostics"]
    assert "ML9999" in broken["message"] and broken["severity_name"] == "error"
    assert "workspace/didChangeWatchedFiles" in out["session"]["registrations"]
