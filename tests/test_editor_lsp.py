"""What an editor shows with our schemas: the real yaml-language-server, driven over LSP.

The server (the engine of VS Code's YAML extension) is installed once with npm into a
cache folder (``MARIANNE_LINT_LSP_DIR``, default ``~/.cache/marianne-lint/lsp``). Without
node/npm these tests are skipped, except under CI (``CI`` set), where they fail.

One server runs for the whole module; every test opens its own document, associated with a
schema by file name (``*.score.yaml``, ``*.conductor.yaml``, ...) through the ``yaml.schemas``
setting, as a user's editor settings would do. The editor reads YAML 1.2 (its default).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from conftest import shared_dir
from marianne_lint.building.models import root_model
from marianne_lint.building.schema_export import schema_file_name
from marianne_lint.reading.loader import load

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schema"
#: The server version the expectations were checked with.
SERVER_VERSION = os.environ.get("MARIANNE_LINT_LSP_VERSION", "1.25.0")
CACHE = Path(os.environ.get("MARIANNE_LINT_LSP_DIR") or Path.home() / ".cache" / "marianne-lint" / "lsp")
TIMEOUT = 30.0


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the editor tests cannot run: {reason}")
    pytest.skip(reason)


def _server_script() -> Path:
    """The yaml-language-server bin script, installed into CACHE when missing."""
    folder = CACHE / SERVER_VERSION
    script = folder / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if script.is_file():
        return script
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed to run yaml-language-server")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
         f"yaml-language-server@{SERVER_VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not script.is_file():
        _unavailable(f"npm could not install yaml-language-server@{SERVER_VERSION}: {done.stderr.strip()[-500:]}")
    return script


class LspClient:
    """A minimal LSP client over the stdio of one yaml-language-server process."""

    def __init__(self, script: Path, settings: dict[str, Any], root: Path) -> None:
        self.settings = settings
        self.root = root
        self.proc = subprocess.Popen(
            [shutil.which("node") or "node", str(script), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
        self.ids = itertools.count(1)
        self.responses: dict[int, dict[str, Any]] = {}
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.published_at: dict[str, float] = {}
        self.cond = threading.Condition()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {
                    "workspace": {"configuration": True, "workspaceFolders": True},
                    "textDocument": {
                        "completion": {"completionItem": {"snippetSupport": True,
                                                          "documentationFormat": ["markdown", "plaintext"]}},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": True},
                    },
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})
        time.sleep(0.5)

    # -- transport ---------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                self._answer(message)
            elif "method" in message:
                if message["method"] == "textDocument/publishDiagnostics":
                    with self.cond:
                        self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
                        self.published_at[message["params"]["uri"]] = time.monotonic()
                        self.cond.notify_all()
            else:
                with self.cond:
                    self.responses[message["id"]] = message
                    self.cond.notify_all()

    def _answer(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [self._section(item.get("section")) for item in message["params"].get("items", [])]
        self._send({"id": message["id"], "result": result})

    def _section(self, section: str | None) -> Any:
        current: Any = self.settings
        for part in (section or "").split("."):
            if part:
                current = current.get(part) if isinstance(current, dict) else None
        return current

    def request(self, method: str, params: Any) -> Any:
        number = next(self.ids)
        self._send({"id": number, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while number not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to {method}")
                self.cond.wait(left)
            response = self.responses.pop(number)
        assert "error" not in response, response
        return response.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=5)
        except (TimeoutError, OSError, subprocess.TimeoutExpired, AssertionError):
            self.proc.kill()
            self.proc.wait(timeout=5)

    # -- documents ---------------------------------------------------------------------------
    def open(self, uri: str, text: str) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                              "text": text}})

    def close_doc(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def complete(self, uri: str, line: int, character: int) -> list[dict[str, Any]]:
        result = self.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                          "position": {"line": line, "character": character}})
        items: list[dict[str, Any]] = result.get("items", []) if isinstance(result, dict) else (result or [])
        return items

    def hover(self, uri: str, line: int, character: int) -> str:
        result = self.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                     "position": {"line": line, "character": character}})
        if not result:
            return ""
        contents = result["contents"]
        return str(contents.get("value", "") if isinstance(contents, dict) else contents)

    def wait_diagnostics(self, uri: str, settle: float = 1.0) -> list[dict[str, Any]]:
        """The last diagnostics published for ``uri`` once none came for ``settle`` seconds."""
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while True:
                last = self.published_at.get(uri)
                now = time.monotonic()
                if last is not None and now - last >= settle:
                    return self.diagnostics[uri]
                if now >= deadline:
                    raise TimeoutError(f"no diagnostics for {uri}")
                self.cond.wait(settle if last is None else settle - (now - last))


GLOBS = {kind: f"**/*.{kind}.yaml" for kind in ("score", "conductor", "instrument", "fleet")}


@pytest.fixture(scope="module")
def lsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    script = _server_script()
    root = tmp_path_factory.mktemp("editor")
    settings = {
        "yaml": {
            "validate": True,
            "completion": True,
            "hover": True,
            "yamlVersion": "1.2",
            "schemas": {(SCHEMA_DIR / schema_file_name(kind)).as_uri(): [glob] for kind, glob in GLOBS.items()},
            "schemaStore": {"enable": False, "url": ""},
            "format": {"enable": False},
        },
        "editor": {"tabSize": 2},
    }
    client = LspClient(script, settings, root)
    try:
        yield client
    finally:
        client.close()


_counter = itertools.count()


class Doc:
    """One open document; ``<|>`` in the text marks the cursor."""

    def __init__(self, lsp: LspClient, kind: str, text: str) -> None:
        self.lsp = lsp
        self.uri = (lsp.root / f"doc{next(_counter)}.{kind}.yaml").as_uri()
        self.cursor: tuple[int, int] | None = None
        if "<|>" in text:
            before = text[: text.index("<|>")]
            self.cursor = (before.count("\n"), len(before) - (before.rfind("\n") + 1))
            text = text.replace("<|>", "", 1)
        self.text = text
        lsp.open(self.uri, text)

    def __enter__(self) -> Doc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lsp.close_doc(self.uri)

    def complete(self) -> list[dict[str, Any]]:
        assert self.cursor is not None
        return self.lsp.complete(self.uri, *self.cursor)

    def hover(self, line: int, character: int) -> str:
        return self.lsp.hover(self.uri, line, character)

    def diagnostics(self) -> list[dict[str, Any]]:
        return self.lsp.wait_diagnostics(self.uri)


def diagnostics_of(lsp: LspClient, docs: list[tuple[str, str]]) -> list[list[dict[str, Any]]]:
    """Open every (kind, text) at once and return each one's diagnostics."""
    opened = [Doc(lsp, kind, text) for kind, text in docs]
    try:
        return [doc.diagnostics() for doc in opened]
    finally:
        for doc in opened:
            doc.__exit__()


def _schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / schema_file_name(kind)).read_text(encoding="utf-8"))
    return loaded


def _suggested_keys(kind: str, definition: str | None) -> set[str]:
    """The keys completion should offer for a model: all but those marked doNotSuggest."""
    schema = _schema(kind)
    node = schema if definition is None else schema["$defs"][definition]
    return {key for key, prop in node["properties"].items() if not prop.get("doNotSuggest")}


def _insert_text(item: dict[str, Any]) -> str:
    edit = item.get("textEdit")
    return str(edit["newText"] if isinstance(edit, dict) else item.get("insertText") or item["label"])


def _by_label(items: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        out.setdefault(item["label"], _insert_text(item))
    return out


SECTIONS = [
    # (kind, model definition, document with the cursor)
    ("score", None, "<|>"),
    ("score", "SheetConfig", "name: demo\nsheet:\n  <|>\n"),
    ("score", "RetryConfig", "name: demo\nretry:\n  <|>\n"),
    ("score", "RateLimitConfig", "name: demo\nrate_limit:\n  <|>\n"),
    ("score", "CircuitBreakerConfig", "name: demo\ncircuit_breaker:\n  <|>\n"),
    ("score", "CostLimitConfig", "name: demo\ncost_limits:\n  <|>\n"),
    ("score", "StaleDetectionConfig", "name: demo\nstale_detection:\n  <|>\n"),
    ("score", "ParallelConfig", "name: demo\nparallel:\n  <|>\n"),
    ("score", "ValidationRule", "name: demo\nvalidations:\n  - <|>\n"),
    ("score", "ValidationRule", "name: demo\nvalidations:\n  - type: file_exists\n    path: x\n  - <|>\n"),
    ("conductor", None, "<|>"),
    ("conductor", "PreflightConfig", "preflight:\n  <|>\n"),
    ("instrument", None, "<|>"),
    ("fleet", None, "<|>"),
]


@pytest.mark.parametrize(("kind", "definition", "text"), SECTIONS,
                         ids=[f"{k}:{d or 'root'}:{n}" for n, (k, d, _) in enumerate(SECTIONS)])
def test_completion_offers_every_field(lsp: LspClient, kind: str, definition: str | None, text: str) -> None:
    with Doc(lsp, kind, text) as doc:
        offered = _by_label(doc.complete())
    expected = _suggested_keys(kind, definition)
    assert expected <= set(offered), f"not offered: {sorted(expected - set(offered))}"
    hidden = {key for key, prop in (_schema(kind) if definition is None else _schema(kind)["$defs"][definition])[
        "properties"].items() if prop.get("doNotSuggest")}
    assert not hidden & set(offered), f"offered although doNotSuggest: {hidden & set(offered)}"
    nulls = {label: text for label, text in offered.items() if _inserts_null(text)}
    assert not nulls, f"completions that insert null: {nulls}"


def _inserts_null(text: str) -> bool:
    """Does a completion insert `null` as a value?"""
    return re.search(r":\s*(\$\{\d+:)?null\b", text) is not None


def test_completion_inserts_useful_values(lsp: LspClient) -> None:
    with Doc(lsp, "score", "name: demo\nvalidations:\n  - type: command_succeeds\n    <|>\n") as doc:
        offered = _by_label(doc.complete())
    assert offered["retry_count"] == "retry_count: ${1:3}"  # a number, with its default
    assert offered["sheet"] == "sheet: ${1:1}"  # optional int >= 1: its smallest value, not null
    assert offered["description"] == "description: "  # optional string: empty, not null
    with Doc(lsp, "score", "name: demo\n<|>\n") as doc:
        offered = _by_label(doc.complete())
    assert offered["pause_between_sheets_seconds"] == "pause_between_sheets_seconds: ${1:2}"
    assert offered["sheet"].startswith("sheet:\n  size: ")  # required keys of the section
    assert offered["cross_sheet"].startswith("cross_sheet:\n  ")  # optional section: its keys, not null
    assert offered["agent_card"] == "agent_card:\n  name: $1\n  description: $2"
    with Doc(lsp, "score", "name: demo\nparallel:\n  enabled: <|>\n") as doc:
        assert {"true", "false"} <= set(_by_label(doc.complete()))


def test_enum_values_complete_with_descriptions(lsp: LspClient) -> None:
    with Doc(lsp, "score", "name: demo\nvalidations:\n  - type: <|>\n") as doc:
        items = {item["label"]: item for item in doc.complete()}
    assert set(items) >= {"file_exists", "file_modified", "content_contains", "content_regex", "command_succeeds"}
    documentation = items["command_succeeds"].get("documentation")
    text = documentation.get("value") if isinstance(documentation, dict) else documentation
    assert "exits with status 0" in str(text)


def test_snippets(lsp: LspClient) -> None:
    with Doc(lsp, "score", "<|>") as doc:
        offered = _by_label(doc.complete())
    score = _expand(offered["new Marianne score"]) + "\n"
    root_model("score").model_validate(load(score).data)
    (diagnostics,) = diagnostics_of(lsp, [("score", score)])
    assert diagnostics == [], score
    with Doc(lsp, "score", "name: demo\nvalidations:\n  - <|>\n") as doc:
        labels = set(_by_label(doc.complete()))
    for kind in ("file_exists", "file_modified", "content_contains", "content_regex", "command_succeeds"):
        assert f"{kind} validation" in labels
    with Doc(lsp, "score", "name: demo\nsheet:\n  <|>\n") as doc:
        assert "sheet section" in _by_label(doc.complete())


def _expand(snippet: str) -> str:
    """A snippet as inserted when every placeholder keeps its default text."""
    previous = None
    while previous != snippet:
        previous = snippet
        snippet = re.sub(r"\$\{\d+:((?:\\.|[^\\{}$])*(?:\{(?:\\.|[^\\{}$])*\}(?:\\.|[^\\{}$])*)*)\}", r"\1", snippet)
    return re.sub(r"\$\d+", "", snippet).replace("\\}", "}").replace("\\$", "$")


HOVERS = [
    # (kind, document, line, character, model definition, field)
    ("score", "name: demo\nretry:\n  max_retries: 3\n", 2, 4, "RetryConfig", "max_retries"),
    ("score", "name: demo\nsheet:\n  dependencies:\n    2: [1]\n", 2, 4, "SheetConfig", "dependencies"),
    ("score", "name: demo\nstale_detection:\n  idle_timeout_seconds: 600\n", 2, 4,
     "StaleDetectionConfig", "idle_timeout_seconds"),
    ("score", "name: demo\nvalidations:\n  - type: file_exists\n    path: x\n", 3, 5, "ValidationRule", "path"),
    ("score", "name: demo\nsheet:\n  prelude:\n    - file: a.md\n      as: context\n", 4, 7, "InjectionItem", "as_"),
    ("conductor", "preflight:\n  token_error_threshold: 200000\n", 1, 4, "PreflightConfig", "token_error_threshold"),
    ("score", "name: demo\n", 0, 1, None, "name"),
]


@pytest.mark.parametrize(("kind", "text", "line", "character", "definition", "field"), HOVERS,
                         ids=[h[-1] for h in HOVERS])
def test_hover_shows_the_description(lsp: LspClient, kind: str, text: str, line: int, character: int,
                                     definition: str | None, field: str) -> None:
    model: type[BaseModel] = root_model(kind)
    if definition is not None:
        from marianne_lint.building.schema_export import _models_by_name

        model = _models_by_name(model)[definition]
    description = model.model_fields[field].description
    assert description
    with Doc(lsp, kind, text) as doc:
        shown = doc.hover(line, character)
    first_words = " ".join(description.split()[:6])
    assert first_words in " ".join(shown.replace("\\", "").split()), shown


def test_hover_on_an_enum_value_lists_the_value_descriptions(lsp: LspClient) -> None:
    with Doc(lsp, "conductor", "log_level: debug\n") as doc:
        shown = doc.hover(0, 12)
    assert "Only errors." in shown and "`info`" in shown


def _lines(diagnostics: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(d["range"]["start"]["line"] + 1, d["message"]) for d in diagnostics]


def test_diagnostics_point_at_the_offending_line(lsp: LspClient) -> None:
    score = (
        "name: demo\n"                     # 1
        "sheet:\n"                         # 2
        "  size: 1\n"                      # 3
        "  total_items: 3\n"               # 4
        "prompt:\n"                        # 5
        "  template: hi\n"                 # 6
        "parallel:\n"                      # 7
        "  max_concurrent: 99\n"           # 8  out of range (1 to 20)
        "retry:\n"                         # 9
        "  max_retires: 3\n"               # 10 unknown key
        "validations:\n"                   # 11
        "  - type: file_exist\n"           # 12 not an enum value
        "    path: out.md\n"               # 13
    )
    conductor = (
        "max_concurrent_jobs: 10\n"        # 1
        "preflight:\n"                     # 2
        "  token_warning_threshold: -5\n"  # 3 out of range (>= 0)
        "  token_limit: 10\n"              # 4 unknown key
    )
    found_score, found_conductor = diagnostics_of(lsp, [("score", score), ("conductor", conductor)])
    lines = _lines(found_score)
    assert (8, "Value is above the maximum of 20.") in lines, lines
    assert (10, "Property max_retires is not allowed.") in lines, lines
    assert any(line == 12 and "Value is not accepted" in message for line, message in lines), lines
    assert len(lines) == 3, lines
    lines = _lines(found_conductor)
    assert (3, "Value is below the minimum of 0.") in lines, lines
    assert (4, "Property token_limit is not allowed.") in lines, lines
    assert len(lines) == 2, lines


def test_what_marianne_reads_leniently_is_not_flagged(lsp: LspClient) -> None:
    score = (
        "name: demo\n"
        "sheet:\n"
        "  size: '1'\n"                           # numeric string
        "  total_items: 3\n"
        "  dependencies:\n"
        "    2: [1]\n"                            # integer key
        "    '3': ['2']\n"                        # quoted key and value
        "  prelude:\n"
        "    - {file: a.md, as_: context}\n"      # as_ spelling
        "  total_sheets: 3\n"                     # legacy key, ignored
        "prompt: {template: hi}\n"
        "parallel: {enabled: yes}\n"              # YAML 1.1 boolean, a string to the editor
        "stale_detection: {enabled: on, idle_timeout_seconds: 5:00, check_interval_seconds: '30'}\n"
        "retry: {max_retries: 1.0, jitter: 0}\n"
        "bridge:\n"                               # optional section left empty (null)
    )
    conductor = "socket: {permissions: 432}\nprofiler: {strace_enabled: yes, interval_seconds: '2.0'}\n"
    assert diagnostics_of(lsp, [("score", score), ("conductor", conductor)]) == [[], []]


def test_structural_errors_in_lax_fields_are_still_flagged(lsp: LspClient) -> None:
    score = (
        "name: demo\n"
        "sheet: {size: 1, total_items: 3, dependencies: {two: [1]}}\n"  # 2: not a sheet number
        "prompt: {template: hi}\n"
        "parallel: {enabled: sometimes}\n"                              # 4: not a boolean
        "retry: {max_retries: 2.5}\n"                                   # 5: not a whole number
    )
    (found,) = diagnostics_of(lsp, [("score", score)])
    assert sorted({line for line, _ in _lines(found)}) == [2, 4, 5], _lines(found)


def test_corpus_files_marianne_accepts_get_no_diagnostic(lsp: LspClient) -> None:
    base = shared_dir() / "corpus"
    entries = [json.loads(line) for line in (base / "VERDICTS.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    docs = [(entry["kind"], (base / entry["path"]).read_text(encoding="utf-8")) for entry in entries]
    results = diagnostics_of(lsp, docs)
    failures = [f"{entry['path']}: {_lines(found)[:3]}" for entry, found in zip(entries, results, strict=True)
                if entry["valid"] and found]
    assert not failures, "\n".join(failures)
    assert all(found for entry, found in zip(entries, results, strict=True) if not entry["valid"])
    assert sum(entry["valid"] for entry in entries) >= 40


def test_rewrites_that_stay_valid_get_no_diagnostic(lsp: LspClient) -> None:
    """The class D vectors: YAML 1.1 scalars, numeric strings, quoted keys, merge keys, `as_`, ..."""
    base = shared_dir() / "vectors" / "dev"
    cases = [json.loads(line) for line in (base / "INDEX.jsonl").read_text(encoding="utf-8").splitlines()]
    cases = [case for case in cases if case["mutation"]["class"] == "D"]
    results = diagnostics_of(lsp, [(case["kind"], (base / case["id"] / "input.yaml").read_text(encoding="utf-8"))
                                   for case in cases])
    failures = [f"{case['id']} ({case['mutation']['name']}): {_lines(found)[:3]}"
                for case, found in zip(cases, results, strict=True) if found]
    assert cases and not failures, "\n".join(failures)
