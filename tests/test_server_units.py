"""The language server's parts in process: positions, the conversion of findings, code actions (with
a fabricated fix), the suppression comments, the cursor's key path, the scheduler (only the latest
version is published) and the isolation of a failing rule."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Edit, Fix, Related, Severity
from marianne_lint.server import actions, completion, hover, linting, symbols
from marianne_lint.server.configs import Configs
from marianne_lint.server.context import guess, outline
from marianne_lint.server.convert import TextIndex, units
from marianne_lint.server.documents import Document, Documents, uri_path
from marianne_lint.server.findings import to_lsp
from marianne_lint.server.scheduler import LintResult, Scheduler, run_lint
from marianne_lint.server.snapshot import take
from marianne_lint.server.suppress import disable_file, disable_line

ROOT = Path(__file__).resolve().parents[1]
URI = "file:///tmp/unit/demo.yaml"


def _result(text: str, diagnostics: list[Diagnostic], version: int = 1) -> LintResult:
    index = TextIndex(text)
    lsp = [to_lsp(d, index, URI, data={"version": version, "index": n}) for n, d in enumerate(diagnostics)]
    return LintResult(URI, version, text, tuple(diagnostics), lsp, index)


def _diag(line: int, column: int, end_column: int, code: str = "ML003", rule: str = "yaml11-boolean-key",
          fix: Fix | None = None, end_line: int | None = None) -> Diagnostic:
    return Diagnostic("/tmp/unit/demo.yaml", line, column, end_line or line, end_column, code, rule, Severity.ERROR,
                      "a message", fix=fix)


# -- positions ---------------------------------------------------------------------------------------


def test_utf16_positions_of_astral_characters() -> None:
    text = "a: 🎉x\r\nb: é😀y\rc\n"
    index = TextIndex(text)
    assert units("🎉") == 2 and units("é") == 1
    assert index.line_count == 4 and index.line(1) == "b: é😀y"
    # 1-based code point column 5 of line 1 is 'x', after the emoji: UTF-16 character 5
    assert index.place(1, 5) == types.Position(0, 5)
    assert index.place(2, 6) == types.Position(1, 6)
    assert index.column(types.Position(1, 6)) == (2, 6)
    offset = text.index("y")
    assert index.position(offset) == types.Position(1, 6)
    assert index.offset(types.Position(1, 6)) == offset
    assert TextIndex(text, "utf-8").place(1, 5) == types.Position(0, 7)
    assert TextIndex(text, "utf-32").place(1, 5) == types.Position(0, 4)


def test_a_byte_order_mark_shifts_the_first_line_only() -> None:
    index = TextIndex("\ufeffon: 1\nb: 2\n")
    assert index.place(1, 1) == types.Position(0, 1)
    assert index.place(2, 1) == types.Position(1, 0)
    assert index.position(index.lint_offset(0)) == types.Position(0, 1)
    assert index.column(types.Position(0, 1)) == (1, 1)


def test_line_breaks_are_lsp_line_breaks_only() -> None:
    doc = Document(URI, "a: 1\u2028b\nc: 2\n", 1)
    assert doc.index.line_count == 3  # LINE SEPARATOR is inside a line
    change = types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(1, 0), types.Position(1, 1)), text="d")
    doc.apply([change], 2)
    assert doc.text == "a: 1\u2028b\nd: 2\n" and doc.version == 2
    doc.apply([types.TextDocumentContentChangeWholeDocument(text="x: 1\n")], 3)
    assert doc.text == "x: 1\n"
    assert uri_path("file:///tmp/a%20b/c.yaml") == "/tmp/a b/c.yaml"
    assert uri_path("untitled:Untitled-1") is None


def test_findings_become_lsp_diagnostics_with_everything_the_cli_has() -> None:
    text = "x: 🎉\non: 1\n"
    d = Diagnostic("/tmp/unit/demo.yaml", 2, 1, 2, 3, "ML003", "yaml11-boolean-key", Severity.WARNING, "msg",
                   related=(Related("/tmp/unit/demo.yaml", 1, 4, "here"), Related("/tmp/other.yaml", 3, 2, "there")))
    lsp = to_lsp(d, TextIndex(text), URI)
    assert lsp.range == types.Range(types.Position(1, 0), types.Position(1, 2))
    assert lsp.source == "marianne-lint" and lsp.code == "ML003"
    assert lsp.severity == types.DiagnosticSeverity.Warning
    assert lsp.code_description is not None and lsp.code_description.href.endswith("#yaml11-boolean-key")
    assert lsp.related_information is not None
    first, second = lsp.related_information
    assert first.location.uri == URI and first.location.range.start == types.Position(0, 3)
    assert second.location.uri == "file:///tmp/other.yaml" and second.message == "there"


# -- code actions ------------------------------------------------------------------------------------


def _request(text: str, diagnostics: list[Diagnostic], rng: types.Range, only: list[str] | None = None,
             sent: list[types.Diagnostic] | None = None) -> actions.Request:
    result = _result(text, diagnostics)
    context = types.CodeActionContext(diagnostics=sent if sent is not None else [], only=only)
    return actions.Request(URI, result, take(text, "/tmp/unit/demo.yaml"), rng, context)


def test_a_fabricated_fix_becomes_a_preferred_quick_fix_with_utf16_ranges() -> None:
    text = 'name: "🎉"\non: push\n'
    start = text.index("on")
    fix = Fix('quote the key: "on"', "safe", (Edit(start, start, '"'), Edit(start + 2, start + 2, '"')))
    unsafe = Fix("rename it", "unsafe", (Edit(start, start + 2, "trigger"),))
    diagnostics = [_diag(2, 1, 3, fix=fix), _diag(2, 1, 3, code="ML101", rule="schema-unknown-key", fix=unsafe)]
    request = _request(text, diagnostics, types.Range(types.Position(1, 0), types.Position(1, 0)))
    got = actions.code_actions(request)
    titles = [a.title for a in got]
    assert titles[:2] == ['quote the key: "on"', "rename it (unsafe)"]
    quick = got[0]
    assert quick.kind == types.CodeActionKind.QuickFix and quick.is_preferred is True
    assert got[1].is_preferred is False
    assert quick.edit is not None and quick.edit.document_changes is not None
    change = quick.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1
    assert [(e.range.start.line, e.range.start.character, getattr(e, "new_text", None)) for e in change.edits] == [
        (1, 0, '"'), (1, 2, '"')]
    assert "Disable ML003 (yaml11-boolean-key) for this line" in titles
    assert "Disable ML003 (yaml11-boolean-key) for this file" in titles
    fix_all = [a for a in got if a.kind == actions.FIX_ALL_KIND]
    assert len(fix_all) == 1 and fix_all[0].edit is None
    assert isinstance(fix_all[0].data, dict) and fix_all[0].data["action"] == "fixAll"
    # the astral character on line 1 shifts nothing on line 2, but a fix after it on line 1 is shifted
    after = text.index('"🎉"') + 2  # the closing quote: 7 + 2 UTF-16 units before it
    edits = actions.text_edits([Edit(after, after + 1, "'")], request.result.index)
    assert edits[0].range.start == types.Position(0, 9)


def test_only_filters_kinds_and_an_explicit_fix_all_carries_its_edit() -> None:
    text = "on: push\nyes: 1\n"
    fixes = [Fix("quote on", "safe", (Edit(0, 0, '"'), Edit(2, 2, '"'))),
             Fix("quote yes", "safe", (Edit(9, 9, '"'), Edit(12, 12, '"')))]
    diagnostics = [_diag(1, 1, 3, fix=fixes[0]), _diag(2, 1, 4, fix=fixes[1])]
    rng = types.Range(types.Position(0, 0), types.Position(0, 0))
    request = _request(text, diagnostics, rng, only=["source.fixAll"])
    got = actions.code_actions(request, lambda result: actions.fix_all_edits(result, None))
    assert [a.kind for a in got] == [actions.FIX_ALL_KIND]
    assert got[0].edit is not None
    request = _request(text, diagnostics, rng, only=["quickfix"])
    assert all(a.kind == "quickfix" for a in actions.code_actions(request))
    assert actions.wanted(actions.FIX_ALL_KIND, ["source"]) and not actions.wanted("quickfix", ["source"])


def test_fix_all_without_fix_text_applies_non_overlapping_safe_edits() -> None:
    overlapping = [
        _diag(1, 1, 3, fix=Fix("a", "safe", (Edit(0, 2, "X"),))),
        _diag(1, 2, 4, fix=Fix("b", "safe", (Edit(1, 3, "Y"),))),
        _diag(2, 1, 3, fix=Fix("c", "unsafe", (Edit(5, 6, "Z"),))),
        _diag(2, 1, 3, fix=Fix("d", "safe", (Edit(7, 7, "!"),))),
    ]
    assert actions.safe_edits(overlapping) == [Edit(0, 2, "X"), Edit(7, 7, "!")]
    result = _result("abcd\nefgh\n", overlapping)
    edits = actions.fix_all_edits(result, None)
    assert [(e.range.start.line, e.range.start.character, e.new_text) for e in edits] == [(0, 0, "X"), (1, 2, "!")]
    whole = actions.fix_all_edits(result, lambda text: text.replace("efgh", "eFGh"))
    assert len(whole) == 1 and whole[0].new_text == "FG"
    assert whole[0].range == types.Range(types.Position(1, 1), types.Position(1, 3))


def test_resolve_fills_a_missing_edit_and_returns_a_filled_action_as_is() -> None:
    filled = types.CodeAction(title="t", edit=types.WorkspaceEdit(changes={URI: []}))
    assert actions.resolve(filled, lambda data: None) is filled
    bare = types.CodeAction(title="t", data={"action": "fixAll"})
    edit = types.WorkspaceEdit(changes={URI: [types.TextEdit(types.Range(types.Position(0, 0),
                                                                         types.Position(0, 0)), "x")]})
    assert actions.resolve(bare, lambda data: edit).edit is edit


def test_the_client_sent_diagnostics_pick_the_findings() -> None:
    text = "on: push\nyes: 1\n"
    diagnostics = [_diag(1, 1, 3, fix=Fix("quote on", "safe", (Edit(0, 0, '"'),))),
                   _diag(2, 1, 4, fix=Fix("quote yes", "safe", (Edit(9, 9, '"'),)))]
    result = _result(text, diagnostics)
    request = _request(text, diagnostics, types.Range(types.Position(0, 0), types.Position(1, 3)),
                       sent=[result.lsp[1]])
    titles = [a.title for a in actions.code_actions(request)]
    assert "quote yes" in titles and "quote on" not in titles


# -- suppression comments ------------------------------------------------------------------------------


def test_disable_for_this_line_appends_or_merges_the_comment() -> None:
    text = "name: x\non: push\nyes: 1  # marianne-lint: disable=ML101\n"
    loaded = take(text, None).loaded
    first = disable_line(text, loaded, 2, "ML003")
    assert first is not None
    assert text[: first.offset] + first.text + text[first.offset :] == (
        "name: x\non: push  # marianne-lint: disable=ML003\nyes: 1  # marianne-lint: disable=ML101\n")
    merged = disable_line(text, loaded, 3, "ML003")
    assert merged is not None
    assert (text[: merged.offset] + merged.text + text[merged.offset :]).endswith("disable=ML101,ML003\n")


def test_disable_is_not_offered_where_the_comment_would_change_the_file() -> None:
    text = "prompt:\n  template: |\n    on the line {{ x }}\nname: y\n"
    loaded = take(text, None).loaded
    assert disable_line(text, loaded, 3, "ML502") is None  # inside a block scalar
    assert disable_line("a: 1\n\nb: 2\n", take("a: 1\n\nb: 2\n", None).loaded, 2, "ML003") is None
    whole = disable_file(text, loaded, "ML502")
    assert whole is not None and whole.offset == 0 and whole.text == "# marianne-lint: disable-file=ML502\n"
    modeline = "# yaml-language-server: $schema=x.json\r\nname: y\r\n"
    after = disable_file(modeline, take(modeline, None).loaded, "ML405")
    assert after is not None and after.offset == modeline.index("name") and after.text.endswith("\r\n")


# -- where the cursor is --------------------------------------------------------------------------------

LINES = [
    "name: x",
    "stale_detection:",
    "  enabled: true",
    "",
    "  check_interval_seconds: 5",
    "validations:",
    "  - type: file_exists",
    "    path: a",
    "",
    "  - type: content_contains",
    "prompt:",
    "  template: |",
    "    hello {{",
]


def test_the_key_path_is_guessed_from_indentation() -> None:
    assert guess(LINES, 3, 2).path == ["stale_detection"]
    assert guess(LINES, 3, 2).siblings == {"enabled", "check_interval_seconds"}
    where = guess(LINES, 8, 4)
    assert where.path == ["validations", "[]"] and where.siblings == {"type", "path"}
    assert guess(LINES, 8, 4, new_item=True).path == ["validations", "[]"]
    assert guess(LINES, 12, 4).scalar_key == "template"
    assert guess(LINES, 3, 0).siblings >= {"name", "stale_detection", "validations", "prompt"}
    found = outline('  - "on": 1  # c')
    assert found is not None and (found.indent, found.column, found.dashes, found.key) == (2, 4, 1, "on")


def test_completion_of_a_half_typed_key_in_a_buffer_that_does_not_load() -> None:
    text = "name: x\nstale_detection:\n  enabled: true\n  idle_\nsheet: {size: 1, total_items: 2}\n"
    snapshot = take(text, None)
    assert not snapshot.ok and snapshot.kind == "score"
    got = completion.complete(snapshot, TextIndex(text), types.Position(3, 7))
    labels = [item.label for item in got.items]
    assert labels == ["idle_timeout_seconds", "check_interval_seconds"]
    edit = got.items[0].text_edit
    assert isinstance(edit, types.TextEdit) and edit.range.start == types.Position(3, 2)
    shown = hover.hover(snapshot, TextIndex(text), types.Position(2, 4))
    assert shown is not None and "enabled" in str(shown.contents)


def test_symbols_of_a_fan_out_score() -> None:
    text = ("name: x\nsheet:\n  size: 1\n  total_items: 2\n  fan_out:\n    2: 2\nprompt:\n  template: hi\n"
            "validations:\n  - type: file_exists\n    path: a\n")
    found = symbols.document_symbols(take(text, None), TextIndex(text))
    assert found is not None

    def paths(nodes: list[types.DocumentSymbol], prefix: str = "") -> Iterator[str]:
        for node in nodes:
            yield prefix + node.name
            yield from paths(list(node.children or []), prefix + node.name + "/")

    every = set(paths(found))
    assert {"sheet/sheets/stage 1", "sheet/sheets/stage 2/sheet 2", "sheet/sheets/stage 2/sheet 3",
            "validations/validation 1: file_exists"} <= every
    flat = symbols.flatten(found, URI)
    assert any(s.name == "sheet 3" and s.container_name == "sheet/sheets/stage 2" for s in flat)


# -- robustness ---------------------------------------------------------------------------------------


def test_a_failing_rule_costs_only_its_own_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    from marianne_lint.rules import BY_NAME

    text = ("name: c\nworkspace: ./ws\nsheet:\n  size: 1\n  total_items: 2\n  dependencies:\n    1: [2]\n"
            "    2: [1]\nprompt:\n  template: hi\n")
    rule = BY_NAME["no-validations"]

    def explode(ctx: Any) -> Iterator[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(type(rule), "check", lambda self, ctx: explode(ctx))
    outcome = linting.lint_buffer(text, "/tmp/unit/c.yaml", Config())
    codes = [d.code for d in outcome.diagnostics]
    assert codes[0] == linting.INTERNAL_CODE and "ML201" in codes and "ML405" not in codes
    assert "no-validations" in outcome.diagnostics[0].message and "boom" in outcome.diagnostics[0].message
    assert outcome.failures and "RuntimeError: boom" in outcome.failures[0]


def test_hostile_buffers_give_findings_not_exceptions(tmp_path: Path) -> None:
    configs = Configs(str(tmp_path))
    for text in ("[" * 5000, "a: &a [*a]\n", "\x00\x01: \ud800\n", "a: " + "[" * 300 + "\n",
                 "x: &x [" + ", ".join(["*x"] * 50) + "]\n", "\ufeff\ufeff\r\r\n\u2028", "- " * 4000 + "a\n"):
        result = run_lint(URI, text, 1, str(tmp_path / "h.yaml"), "utf-16", configs)
        assert isinstance(result.lsp, list)


class _Inline(Executor):
    """Runs submitted work at once, optionally changing the document first (a change during a lint)."""

    def __init__(self, during: Any = None) -> None:
        self.during = during

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self.during is not None:
            during, self.during = self.during, None
            during()
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_only_the_latest_version_is_published(tmp_path: Path) -> None:
    docs = Documents()
    published: list[int] = []
    logged: list[str] = []
    uri = (tmp_path / "s.yaml").as_uri()

    def change() -> None:
        docs.change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="name: b\n")]))

    async def scenario() -> None:
        scheduler = Scheduler(docs, Configs(str(tmp_path)), _Inline(during=change),
                              lambda result: published.append(result.version), logged.append)
        docs.open(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text="name: a\n"))
        scheduler.request(uri, now=True)
        for _ in range(20):
            await asyncio.sleep(0.01)
        current = await scheduler.current(uri)
        assert current is not None and current.version == 2

    asyncio.run(scenario())
    assert published == [2]


def test_a_lint_runs_on_a_worker_and_waiters_get_the_current_result(tmp_path: Path) -> None:
    docs = Documents()
    uri = (tmp_path / "w.yaml").as_uri()
    published: list[LintResult] = []

    async def scenario() -> LintResult | None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            scheduler = Scheduler(docs, Configs(str(tmp_path)), pool, published.append, print)
            docs.open(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text="on: x\nsheet: {}\n"))
            return await scheduler.current(uri)

    result = asyncio.run(scenario())
    assert result is not None and result.version == 1 and [r.version for r in published] == [1]
    assert any(d.code == "ML003" for d in result.diagnostics)


# -- start-up ------------------------------------------------------------------------------------------


def test_linting_never_imports_pygls() -> None:
    code = (
        "import sys, marianne_lint\n"
        "marianne_lint.lint_text('name: x\\n', 'a.yaml')\n"
        "from marianne_lint.commands.lint import main\n"
        "main(['--no-cache', '--exit-zero', '--format', 'concise', 'tests/conftest.py'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs')"
        " or m.startswith('marianne_lint.server')]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_a_failing_rule_is_published_and_logged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from marianne_lint.rules import BY_NAME

    rule = BY_NAME["dependency-cycle"]
    monkeypatch.setattr(type(rule), "check", lambda self, ctx: iter([1 // 0]))
    docs = Documents()
    uri = (tmp_path / "f.yaml").as_uri()
    published: list[LintResult] = []
    logged: list[str] = []

    async def scenario() -> None:
        scheduler = Scheduler(docs, Configs(str(tmp_path)), _Inline(), published.append, logged.append)
        docs.open(types.TextDocumentItem(uri=uri, language_id="yaml", version=1,
                                         text="name: f\nsheet: {size: 1, total_items: 2}\nprompt: {template: hi}\n"))
        assert await scheduler.current(uri) is not None

    asyncio.run(scenario())
    (result,) = published
    assert result.lsp[0].code == linting.INTERNAL_CODE and "dependency-cycle" in result.lsp[0].message
    assert any("ZeroDivisionError" in line and "dependency-cycle" in line for line in logged), logged
    assert any(d.code == "ML405" for d in result.diagnostics)  # the other rules still report


def test_documents_that_are_not_yaml_are_never_linted(tmp_path: Path) -> None:
    docs = Documents()
    uri = (tmp_path / "pyproject.toml").as_uri()
    published: list[LintResult] = []

    async def scenario() -> LintResult | None:
        scheduler = Scheduler(docs, Configs(str(tmp_path)), _Inline(), published.append, print)
        docs.open(types.TextDocumentItem(uri=uri, language_id="toml", version=1, text="on = 1\n"))
        return await scheduler.current(uri, timeout=2)

    result = asyncio.run(scenario())
    assert result is not None and result.lsp == [] and len(published) == 1
