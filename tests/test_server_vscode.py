"""The VS Code extension's language-server half (vscode-schema/src/extension.js): its manifest,
and, run under node with stand-ins for the ``vscode`` and ``vscode-languageclient`` modules, that
it starts ``marianne-lint server`` when the program is found (``marianne-lint.path`` first) and
starts nothing, saying why, when it is not. Packaging with vsce is tested in test_vscode_extension.

Without node these tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "vscode-schema"

#: Loads src/extension.js with fake modules, activates it, prints what it did as JSON.
HARNESS = r"""
const Module = require('module');
const path = require('path');
const [extension, settingsJson, workspace, pathEnv] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const started = [];
const lines = [];
const vscode = {
  workspace: {
    workspaceFolders: workspace ? [{ uri: { fsPath: workspace } }] : [],
    getConfiguration: () => ({ get: (key, fallback) => (key in settings ? settings[key] : fallback) }),
    createFileSystemWatcher: (glob) => ({ glob }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
  },
  window: { createOutputChannel: () => ({ appendLine: (line) => lines.push(line), dispose() {} }) },
  commands: { registerCommand: (name) => ({ name, dispose() {} }) },
};
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    started.push({ id, serverOptions, selector: clientOptions.documentSelector,
                   init: clientOptions.initializationOptions });
  }
  start() { return Promise.resolve(); }
  stop() { return Promise.resolve(); }
}
const fakes = { vscode, 'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0 } } };
const load = Module._load;
Module._load = function (request, parent, isMain) {
  return request in fakes ? fakes[request] : load.apply(this, arguments);
};
process.env.PATH = pathEnv;
const ext = require(path.resolve(extension));
ext.activate({ subscriptions: [] }).then(() => {
  console.log(JSON.stringify({ started, lines }));
});
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but node is missing")
        pytest.skip("node is needed to run the extension")
    return node


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _activate(tmp_path: Path, settings: dict[str, Any], workspace: Path | None, path_env: str) -> dict[str, Any]:
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    done = subprocess.run([_node(), str(harness), str(EXT / "src" / "extension.js"), json.dumps(settings),
                           str(workspace or ""), path_env], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_the_manifest_starts_the_bundled_client_and_keeps_the_schemas() -> None:
    package = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    assert package["main"] == "./dist/extension.js"
    assert "onLanguage:yaml" in package["activationEvents"]
    props = package["contributes"]["configuration"]["properties"]
    assert {"marianne-lint.path", "marianne-lint.enable", "marianne-lint.lintDelayMs"} <= set(props)
    assert len(package["contributes"]["yamlValidation"]) == 4
    assert "vscode-languageclient" in package["devDependencies"] and "dependencies" not in package
    assert package["scripts"]["vscode:prepublish"] == "node scripts/copy-schemas.js && node scripts/build.js"
    ignored = [line.strip() for line in (EXT / ".vscodeignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert "src/**" in ignored and "node_modules/**" in ignored and not any(p.startswith("dist") for p in ignored)


def test_the_extension_starts_the_server_found_on_path(tmp_path: Path) -> None:
    program = _executable(tmp_path / "bin" / "marianne-lint")
    out = _activate(tmp_path, {}, None, str(tmp_path / "bin"))
    (client,) = out["started"]
    assert client["serverOptions"]["command"] == str(program)
    assert client["serverOptions"]["args"] == ["server"]
    assert {"scheme": "file", "language": "yaml"} in client["selector"]
    assert client["init"] == {"lintDelayMs": 0}


def test_the_path_setting_and_a_workspace_venv_win(tmp_path: Path) -> None:
    _executable(tmp_path / "bin" / "marianne-lint")
    chosen = _executable(tmp_path / "elsewhere" / "my-linter")
    out = _activate(tmp_path, {"path": str(chosen)}, None, str(tmp_path / "bin"))
    assert out["started"][0]["serverOptions"]["command"] == str(chosen)
    workspace = tmp_path / "project"
    venv = _executable(workspace / ".venv" / "bin" / "marianne-lint")
    out = _activate(tmp_path, {}, workspace, str(tmp_path / "bin"))
    assert out["started"][0]["serverOptions"]["command"] == str(venv)


def test_without_marianne_lint_nothing_starts_and_the_log_says_why(tmp_path: Path) -> None:
    out = _activate(tmp_path, {}, None, str(tmp_path / "empty"))
    assert out["started"] == []
    assert any("not found" in line and "JSON schemas" in line for line in out["lines"]), out["lines"]
    out = _activate(tmp_path, {"path": str(tmp_path / "missing")}, None, "")
    assert out["started"] == [] and any("marianne-lint.path" in line for line in out["lines"])
    out = _activate(tmp_path, {"enable": False}, None, "")
    assert out["started"] == [] and any("turned off" in line for line in out["lines"])
