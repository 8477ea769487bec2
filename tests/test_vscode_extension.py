"""The VS Code extension in vscode-schema/: its manifest, the schema copy step, and the .vsix.

* ``package.json`` is valid, names the Red Hat YAML extension as a dependency, maps every
  file pattern to the schema of the right kind, and runs the bundled language client
  (``dist/extension.js``, built by ``scripts/build.js``; its behaviour is tested in test_server_vscode).
* The copy step (``scripts/copy-schemas.js``, run by ``vscode:prepublish``) and its Python
  equivalent (:func:`copy_schemas`) give files byte-identical to ``schema/``.
* The real yaml-language-server, given the associations exactly as the Red Hat extension builds
  them from ``contributes.yamlValidation``, picks the right schema for each file name.
* ``npx @vscode/vsce package`` builds the .vsix (network: npx fetches vsce; marked ``slow``, and
  run under CI like every other test).

Without node/npm the tests that need them are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from marianne_lint.building.schema_export import schema_file_name
from marianne_lint.reading.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "vscode-schema"
SCHEMA_DIR = ROOT / "schema"
COPY_SCRIPT = EXT / "scripts" / "copy-schemas.js"

#: What each kind's schema is attached to (the patterns of the issue).
EXPECTED: dict[str, set[str]] = {
    "score": {"*.score.yaml", "*.score.yml", "**/scores/**/*.yaml", "**/scores/**/*.yml"},
    "conductor": {"conductor.yaml", "**/.marianne/conductor.yaml"},
    "instrument": {"**/.marianne/instruments/*.yaml", "**/.marianne/instruments/*.yml"},
    "fleet": {"*.fleet.yaml", "**/fleets/**/*.yaml"},
}

#: (path of a document in the workspace, the kind whose schema it must get, or None for none).
FILE_NAMES: list[tuple[str, str | None]] = [
    ("nightly.score.yaml", "score"),
    ("jobs/nightly.score.yml", "score"),
    ("scores/build.yaml", "score"),
    ("team/scores/2026/q4/build.yml", "score"),
    ("conductor.yaml", "conductor"),
    ("ops/conductor.yaml", "conductor"),
    ("home/.marianne/conductor.yaml", "conductor"),
    ("repo/.marianne/instruments/local-echo.yaml", "instrument"),
    ("repo/.marianne/instruments/local-echo.yml", "instrument"),
    ("nightly.fleet.yaml", "fleet"),
    ("fleets/nightly.yaml", "fleet"),
    ("ops/fleets/2026/nightly.yaml", "fleet"),
    ("notes.yaml", None),
    ("my-conductor.yaml", None),
    ("score.yaml", None),
    ("scores.yaml", None),
    (".github/workflows/ci.yml", None),
    ("repo/.marianne/instruments/old/tool.yaml", None),
]

#: The vsce used to package; npm picks the newest release whose engines accept this node.
VSCE = os.environ.get("MARIANNE_LINT_VSCE", "@vscode/vsce")
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "network request")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the extension tests cannot run: {reason}")
    pytest.skip(reason)


def _package() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    return loaded


def _schema_names() -> list[str]:
    return sorted(path.name for path in SCHEMA_DIR.glob("*.schema.json"))


def copy_schemas(dest: Path, source: Path = SCHEMA_DIR) -> list[Path]:
    """The Python equivalent of scripts/copy-schemas.js: every ``*.schema.json``, byte for byte."""
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(path.name for path in source.glob("*.schema.json"))
    for stale in dest.glob("*.schema.json"):
        if stale.name not in names:
            stale.unlink()
    return [Path(shutil.copyfile(source / name, dest / name)) for name in names]


def _assert_same_bytes(folder: Path) -> None:
    names = _schema_names()
    assert names == [schema_file_name(kind) for kind in sorted(KINDS)]
    assert sorted(path.name for path in folder.glob("*.schema.json")) == names
    for name in names:
        assert (folder / name).read_bytes() == (SCHEMA_DIR / name).read_bytes(), name


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is needed to run scripts/copy-schemas.js")
    assert node is not None
    return node


# -- package.json ------------------------------------------------------------------------------------


def test_package_json_fields() -> None:
    package = _package()
    for field in ("name", "publisher", "displayName", "description", "version", "license", "repository"):
        assert package.get(field), field
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", package["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
    assert package["license"] == "MIT"
    assert re.fullmatch(r"\^\d+\.\d+\.\d+", package["engines"]["vscode"])
    assert package["categories"] and isinstance(package["categories"], list)
    assert package["extensionDependencies"] == ["redhat.vscode-yaml"]
    assert package["scripts"]["vscode:prepublish"] == "node scripts/copy-schemas.js && node scripts/build.js"
    assert package["main"] == "./dist/extension.js" and "browser" not in package  # the bundled LSP client


def _kind_of(url: str) -> str:
    found = re.fullmatch(r"\./schemas/marianne-(\w+)\.schema\.json", url)
    assert found is not None, f"{url} is not ./schemas/marianne-<kind>.schema.json"
    assert found.group(1) in KINDS
    return found.group(1)


def test_every_pattern_maps_to_the_right_kind() -> None:
    mapping: dict[str, set[str]] = {}
    for entry in _package()["contributes"]["yamlValidation"]:
        kind = _kind_of(entry["url"])
        assert kind not in mapping, f"{kind} is mapped twice"
        mapping[kind] = set(entry["fileMatch"])
    assert mapping == EXPECTED


def test_every_schema_path_exists_after_the_copy_step(tmp_path: Path) -> None:
    extension = tmp_path / "vscode-schema"
    extension.mkdir()
    shutil.copy2(EXT / "package.json", extension / "package.json")
    copy_schemas(extension / "schemas")
    for entry in _package()["contributes"]["yamlValidation"]:
        assert (extension / entry["url"]).is_file(), entry["url"]
    _assert_same_bytes(extension / "schemas")


def test_packaged_files() -> None:
    assert (EXT / "README.md").is_file() and (EXT / "LICENSE").is_file()
    assert (EXT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    ignored = [line.strip() for line in (EXT / ".vscodeignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert "node_modules/**" in ignored and "scripts/**" in ignored
    kept = ["package.json", "README.md", "LICENSE", "dist/extension.js",
            *(f"schemas/{name}" for name in _schema_names())]
    for path in kept:  # fnmatch's * also crosses "/", so this errs on the side of "ignored"
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), path
    readme = (EXT / "README.md").read_text(encoding="utf-8")
    for needed in ("yaml.schemas", "# yaml-language-server: $schema=", "YAML 1.1", "YAML 1.2",
                   "`marianne-lint` is the authority"):
        assert needed in readme, needed


# -- the copy step -----------------------------------------------------------------------------------


def test_copy_script_copies_byte_for_byte(tmp_path: Path) -> None:
    node = _node()
    dest = tmp_path / "schemas"
    dest.mkdir()
    (dest / "marianne-old.schema.json").write_text("{}\n", encoding="utf-8")  # from an earlier build
    done = subprocess.run([node, str(COPY_SCRIPT), "--dest", str(dest)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    _assert_same_bytes(dest)
    check = [node, str(COPY_SCRIPT), "--check", "--dest", str(dest)]
    assert subprocess.run(check, capture_output=True, timeout=60, check=False).returncode == 0
    (dest / schema_file_name("fleet")).write_bytes(b"{}\n")
    stale = subprocess.run(check, capture_output=True, text=True, timeout=60, check=False)
    assert stale.returncode == 1 and schema_file_name("fleet") in stale.stderr


def test_python_equivalent_of_the_copy_step(tmp_path: Path) -> None:
    dest = tmp_path / "schemas"
    dest.mkdir()
    (dest / "marianne-old.schema.json").write_text("{}\n", encoding="utf-8")
    copy_schemas(dest)
    _assert_same_bytes(dest)


# -- what the editor does with the manifest ----------------------------------------------------------


def _vscode_yaml_associations(extension: Path) -> list[dict[str, Any]]:
    """``contributes.yamlValidation`` as the Red Hat extension sends it to the server.

    As in vscode-yaml's ``getSchemaAssociations``: a ``./`` url is resolved against the extension
    folder, and a pattern that does not start with a scheme, ``/`` or ``!`` gets a leading ``/``.
    """
    out = []
    for entry in _package()["contributes"]["yamlValidation"]:
        patterns = [fm if re.match(r"^(\w+://|/|!)", fm) else "/" + fm for fm in entry["fileMatch"]]
        out.append({"fileMatch": patterns, "uri": (extension / entry["url"]).resolve().as_uri()})
    return out


def test_the_language_server_attaches_each_schema_by_file_name(tmp_path: Path) -> None:
    from test_editor_lsp import LspClient, _server_script

    script = _server_script()
    extension = tmp_path / "extension"
    copy_schemas(extension / "schemas")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    settings = {
        "yaml": {
            "validate": True,
            "hover": True,
            "completion": True,
            "yamlVersion": "1.2",
            "schemaStore": {"enable": False, "url": ""},
            "format": {"enable": False},
        },
    }
    client = LspClient(script, settings, workspace)
    try:
        # One parameter that is a list goes by position, as vscode-languageclient sends it.
        client.notify("json/schemaAssociations", [_vscode_yaml_associations(extension)])
        probe = (workspace / "probe.score.yaml").as_uri()
        client.open(probe, "name: demo\n")
        deadline = time.monotonic() + 30
        while not client.request("yaml/get/jsonSchema", probe):  # the server applies settings asynchronously
            assert time.monotonic() < deadline, "the schema associations were never applied"
            time.sleep(0.2)
        client.close_doc(probe)
        got: dict[str, str | None] = {}
        for relative, _ in FILE_NAMES:
            uri = (workspace / relative).as_uri()
            client.open(uri, "name: demo\n")
            schemas = client.request("yaml/get/jsonSchema", uri) or []
            kinds = sorted({re.sub(r".*/marianne-(\w+)\.schema\.json$", r"\1", str(s["uri"])) for s in schemas})
            assert len(kinds) <= 1, (relative, schemas)
            got[relative] = kinds[0] if kinds else None
            client.close_doc(uri)
        assert got == dict(FILE_NAMES)
        # The schema is read from the extension folder: a misspelt key is flagged.
        uri = (workspace / "scores" / "typo.yaml").as_uri()
        client.open(uri, "name: demo\nretry:\n  max_retires: 3\n")
        messages = [d["message"] for d in client.wait_diagnostics(uri)]
        assert "Property max_retires is not allowed." in messages, messages
    finally:
        client.close()


# -- the .vsix ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_vsix_builds_with_vsce(tmp_path: Path) -> None:
    npx = shutil.which("npx")
    if npx is None or shutil.which("npm") is None or shutil.which("node") is None:
        _unavailable("node, npm and npx are needed to build the .vsix")
    assert npx is not None
    # The extension folder beside its ../schema, as in the repository, without earlier build output.
    (tmp_path / "repo").mkdir()
    shutil.copytree(SCHEMA_DIR, tmp_path / "repo" / "schema")
    extension = tmp_path / "repo" / "vscode-schema"
    shutil.copytree(EXT, extension, ignore=shutil.ignore_patterns("node_modules", "schemas", "*.vsix"))
    vsix = tmp_path / "marianne-yaml.vsix"
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false",
           "npm_config_audit": "false"}
    started = time.monotonic()
    done = subprocess.run([npx, "--yes", VSCE, "package", "--out", str(vsix)], cwd=extension, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(error in output for error in NETWORK_ERRORS):
        _unavailable(f"npx could not fetch {VSCE}: {output[-1000:]}")
    assert done.returncode == 0, output
    assert time.monotonic() - started < 240
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
        assert manifest["extensionDependencies"] == ["redhat.vscode-yaml"]
        for entry in manifest["contributes"]["yamlValidation"]:
            assert "extension/" + entry["url"].removeprefix("./") in names, entry["url"]
        for name in _schema_names():
            assert archive.read(f"extension/schemas/{name}") == (SCHEMA_DIR / name).read_bytes(), name
        assert {"extension.vsixmanifest", "extension/readme.md", "extension/LICENSE.txt",
                "extension/dist/extension.js"} <= names, names
        assert not any(name.startswith(("extension/scripts/", "extension/node_modules/")) for name in names), names
