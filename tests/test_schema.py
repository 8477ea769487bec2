"""The JSON Schema files in ``schema/``: up to date, complete, and in agreement with Marianne.

A file Marianne accepts must validate (no red squiggles in an editor), a structural defect
Marianne rejects must not. Files are checked the way an editor reads them (YAML 1.2: ``yes``
is a string, ``0660`` is 660, ``5:00`` is a string) and the way Marianne reads them (YAML 1.1
through our loader), in both cases with map keys turned into strings as an editor sees them.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML

from conftest import shared_dir
from marianne_lint.building import schema_export
from marianne_lint.building.models import root_model
from marianne_lint.building.schema_export import (
    BOOL_STRING_PATTERN,
    INT_KEY_PATTERN,
    INT_STRING_PATTERN,
    JSON_SCHEMA_DIALECT,
    NUMBER_STRING_PATTERN,
    POSITIVE_INT_KEY_PATTERN,
    SCHEMA_BASE_URL,
    schema_file_name,
)
from marianne_lint.commands.schema import schema_command
from marianne_lint.reading.kinds import KINDS
from marianne_lint.reading.loader import load

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schema"

#: Class A mutations whose defect no JSON Schema can express, and why.
NOT_EXPRESSIBLE: dict[str, str] = {
    "learning-min-ge-high": "compares two numbers of one section (JSON Schema has no relative bounds)",
    "retry-base-gt-max": "compares two numbers of one section",
    "stale-interval-ge-idle": "compares two numbers of one section",
    "ai-review-min-gt-target": "compares two numbers of one section",
    "self-dependency": "compares a map key with the numbers listed under it",
    "dependency-out-of-range": "needs the sheet count, computed from size, total_items, start_item and fan-out",
    "instrument-map-duplicate": "needs the same number not to appear under two different keys",
    "invalid-regex": "Python regular-expression syntax; JSON Schema's `format: regex` is ECMA 262 and not asserted",
}


# -- reading files as an editor and as Marianne do ------------------------------------------------


def _key_text(key: Any) -> str:
    """A map key as the property name an editor sees."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key_text(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()  # an editor's YAML 1.2 core schema has no timestamps
    return value


def editor_view(text: str) -> Any:
    """What an editor validates: the text read as YAML 1.2, keys as strings."""
    return _jsonable(YAML(typ="safe", pure=True).load(text))


def marianne_view(text: str) -> Any:
    """What Marianne validates (YAML 1.1, through our loader), keys as strings."""
    return _jsonable(load(text).data)


VIEWS = {"editor (YAML 1.2)": editor_view, "Marianne (YAML 1.1)": marianne_view}


def schema_of(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / schema_file_name(kind)).read_text(encoding="utf-8"))
    return loaded


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(kind))


def _errors(kind: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:120]}"
            for e in validator(kind).iter_errors(data)]


# -- the command ------------------------------------------------------------------------------------


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_command(["--check", "--output-dir", str(SCHEMA_DIR)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_on_a_modified_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for kind in KINDS:
        shutil.copy(SCHEMA_DIR / schema_file_name(kind), tmp_path)
    changed = tmp_path / schema_file_name("conductor")
    changed.write_text(changed.read_text(encoding="utf-8").replace("socket", "sock", 1), encoding="utf-8")
    (tmp_path / schema_file_name("fleet")).unlink()

    assert schema_command(["--check", "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{changed}: differs from the models" in err
    assert f"{tmp_path / schema_file_name('fleet')}: missing" in err
    assert schema_file_name("score") not in err and schema_file_name("instrument") not in err
    assert f"regenerate with: marianne-lint schema --output-dir {tmp_path}" in err

    assert schema_command(["--check", "--kind", "score", "--output-dir", str(tmp_path)]) == 0


def test_write_reproduces_the_committed_files(tmp_path: Path) -> None:
    assert schema_command(["--output-dir", str(tmp_path)]) == 0
    for kind in KINDS:
        name = schema_file_name(kind)
        assert (tmp_path / name).read_bytes() == (SCHEMA_DIR / name).read_bytes(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schema_file_name(k) for k in KINDS)


def test_kind_writes_one_file(tmp_path: Path) -> None:
    assert schema_command(["--kind", "fleet", "--output-dir", str(tmp_path / "out")]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == [schema_file_name("fleet")]


def test_default_output_dir_is_schema_under_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert schema_command(["--kind", "fleet"]) == 0
    assert (tmp_path / "schema" / schema_file_name("fleet")).is_file()
    with pytest.raises(SystemExit) as exit_info:
        schema_command(["--help"])
    assert exit_info.value.code == 0
    assert "default: schema/ under the current folder" in " ".join(capsys.readouterr().out.split())


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        schema_command(["--kind", "nope"])
    assert exit_info.value.code == 2


def test_command_line_check_from_a_folder_without_schema_dir(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "marianne_lint", "schema", "--check", "--output-dir", str(SCHEMA_DIR)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_command_line_check_from_the_checkout_root() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "marianne_lint", "schema", "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr


# -- the files themselves ---------------------------------------------------------------------------


def test_output_is_deterministic() -> None:
    for kind in KINDS:
        first = schema_export.render_schema(kind)
        assert first == schema_export.render_schema(kind)
        assert first.endswith("}\n") and "\r" not in first
        assert first == json.dumps(json.loads(first), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("kind", KINDS)
def test_header(kind: str) -> None:
    schema = schema_of(kind)
    assert schema["$schema"] == JSON_SCHEMA_DIALECT
    assert schema["$id"] == SCHEMA_BASE_URL + schema_file_name(kind)
    assert schema["$id"].endswith(f"/schema/marianne-{kind}.schema.json")
    assert schema["title"] and schema["description"]
    Draft202012Validator.check_schema(schema)


#: Keywords under which schemas express conditions, not the fields an editor documents.
CONDITIONS = ("if", "then", "else", "not", "allOf", "anyOf", "oneOf", "propertyNames")


def _documented(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) for the root, every definition and every property outside a condition."""
    stack: list[tuple[str, Any]] = [("(root)", schema)]
    stack += [(f"$defs/{name}", node) for name, node in schema.get("$defs", {}).items()]
    while stack:
        where, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield where, node
        for key, value in node.get("properties", {}).items():
            stack.append((f"{where}.{key}", value))
        for keyword in ("items", "additionalProperties"):
            inner = node.get(keyword)
            if isinstance(inner, dict) and "properties" in inner:
                stack.append((f"{where}[{keyword}]", inner))


def _all_schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key not in ("enum", "default", "examples", "const", "defaultSnippets", "required",
                           "enumDescriptions", "markdownEnumDescriptions"):
                yield from _all_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _all_schemas(value, f"{where}/{index}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_and_definition_is_documented(kind: str) -> None:
    missing = []
    count = 0
    for where, node in _documented(schema_of(kind)):
        count += 1
        for keyword in ("title", "description", "markdownDescription"):
            if not node.get(keyword):
                missing.append(f"{where} has no {keyword}")
    assert count >= 10
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_field_is_in_the_schema(kind: str) -> None:
    schema = schema_of(kind)
    model = root_model(kind)
    from marianne_lint.building.schema_export import _models_by_name

    for name, cls in _models_by_name(model).items():
        node = schema if cls is model else schema["$defs"][name]
        keys = set(node["properties"])
        for field, info in cls.model_fields.items():
            assert (info.alias or field) in keys, f"{name}.{field}"
        assert node["additionalProperties"] is False, name


@pytest.mark.parametrize("kind", KINDS)
def test_every_enum_value_is_described(kind: str) -> None:
    found = 0
    for where, node in _all_schemas(schema_of(kind)):
        if "enum" in node and node.get("type") is not None:
            found += 1
            for keyword in ("enumDescriptions", "markdownEnumDescriptions"):
                texts = node.get(keyword)
                assert isinstance(texts, list) and len(texts) == len(node["enum"]), f"{where}: {keyword}"
                assert all(isinstance(t, str) and t for t in texts), where
    assert found >= 1


@pytest.mark.parametrize("kind", KINDS)
def test_no_field_completes_to_null(kind: str) -> None:
    """yaml-language-server inserts `key: null` for a null default or a type list starting with null."""
    problems = []
    for where, node in _documented(schema_of(kind)):
        if "default" in node and node["default"] is None:
            problems.append(f"{where}: default null")
        types = node.get("type")
        if isinstance(types, list) and types[0] == "null":
            problems.append(f"{where}: first type is null")
        if any(option == {"type": "null"} for option in node.get("anyOf", [])):
            problems.append(f"{where}: anyOf with null")
    assert not problems, "\n".join(problems)


def test_optional_fields_still_accept_null() -> None:
    check = validator("score")
    base = {"name": "x", "sheet": {"size": 1, "total_items": 1}, "prompt": {"template": "t"}}
    for key in ("description", "bridge", "cross_sheet", "agent_card", "state_path", "instrument"):
        assert check.is_valid({**base, key: None}), key
    assert check.is_valid({**base, "validations": [{"type": "command_succeeds", "command": "true", "sheet": None}]})
    assert not check.is_valid({**base, "retry": None}), "a section written `retry:` (null) is an error"
    assert validator("instrument").is_valid(
        {"name": "n", "display_name": "N", "kind": "http", "code_mode": None,
         "http": {"base_url": "u", "schema_family": "openai", "auth_env_var": None}}
    )


def test_defaults_and_bounds_are_exported() -> None:
    retry = schema_of("score")["$defs"]["RetryConfig"]["properties"]
    assert retry["max_retries"]["default"] == 3 and retry["max_retries"]["minimum"] == 0
    assert retry["exponential_base"]["exclusiveMinimum"] == 1
    assert retry["completion_threshold_percent"]["maximum"] == 100
    notifications = schema_of("score")["$defs"]["NotificationConfig"]["properties"]
    assert notifications["on_events"]["default"] == ["job_complete", "job_failed"]
    assert schema_of("conductor")["properties"]["max_concurrent_jobs"]["maximum"] == 50


# -- lax scalars: what pydantic accepts must pass ----------------------------------------------------

INT_SAMPLES = ["3", " 3 ", "+3", "-3", "3.0", "1_000", "0660", "0x10", "1e3", "3.5", "", "abc", "٣"]
FLOAT_SAMPLES = ["2.5", " 2.5 ", "1e3", "1E-2", ".5", "5.", "inf", "-Infinity", "nan", "1_000.5", "+2", "0x1", "abc",
                 "1.2.3", ""]
BOOL_SAMPLES = ["yes", "YES", "Yes", "y", "N", "on", "OFF", "t", "F", "true", "False", "1", "0", "2", "maybe",
                " yes", ""]


@pytest.mark.parametrize(
    ("python_type", "pattern", "samples"),
    [(int, INT_STRING_PATTERN, INT_SAMPLES), (float, NUMBER_STRING_PATTERN, FLOAT_SAMPLES),
     (bool, BOOL_STRING_PATTERN, BOOL_SAMPLES)],
)
def test_lax_string_patterns_follow_pydantic(python_type: type, pattern: str, samples: list[str]) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(python_type)
    for sample in samples:
        try:
            adapter.validate_python(sample)
            accepted = True
        except ValidationError:
            accepted = False
        assert bool(re.search(pattern, sample)) == accepted, f"{python_type.__name__} {sample!r}"


@settings(max_examples=3000, deadline=None)
@given(
    int_text=st.text(alphabet="0123456789+-. eE", max_size=8),
    float_text=st.text(alphabet="0123456789+-. eEinfatyINF", max_size=8),
    bool_text=st.text(alphabet="yesnoYESNOtrufalTRUFAL01 ", max_size=6),
)
def test_lax_string_patterns_agree_with_pydantic(int_text: str, float_text: str, bool_text: str) -> None:
    """Exactly the strings pydantic converts, among ordinary spellings.

    Left out: underscores (pydantic takes them almost anywhere in a float) and pydantic's
    reading of ``"0-5"`` as -5; nobody writes either on purpose.
    """
    for python_type, pattern, text in ((int, INT_STRING_PATTERN, int_text), (float, NUMBER_STRING_PATTERN, float_text),
                                       (bool, BOOL_STRING_PATTERN, bool_text)):
        if python_type is int and re.search(r"[0-9]-", text):
            continue
        try:
            TypeAdapter(python_type).validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        assert bool(re.search(pattern, text)) == accepted, f"{python_type.__name__} {text!r}"


def test_yaml11_spellings_an_editor_sees_as_strings() -> None:
    """YAML 1.1 numbers Marianne reads as numbers while an editor reads a string."""
    assert re.search(INT_STRING_PATTERN, "1:30") and re.search(INT_STRING_PATTERN, "0b101")
    assert re.search(NUMBER_STRING_PATTERN, "5:00") and re.search(NUMBER_STRING_PATTERN, "1:30.5")
    assert not re.search(INT_STRING_PATTERN, "1:3a")


def test_integer_keys() -> None:
    for key in ("1", " 2", "+3", "1.0", "-4", "0"):
        assert re.search(INT_KEY_PATTERN, key), key
    for key in ("a", "1.5", "", "one"):
        assert not re.search(INT_KEY_PATTERN, key), key
    for key in ("1", "12", "+3", "007", "2.0"):
        assert re.search(POSITIVE_INT_KEY_PATTERN, key), key
    for key in ("0", "-1", "0.0", "x"):
        assert not re.search(POSITIVE_INT_KEY_PATTERN, key), key
    check = validator("score")
    base = {"name": "x", "prompt": {"template": "t"}}
    assert check.is_valid({**base, "sheet": {"size": 1, "total_items": 3, "dependencies": {"2": [1], "3": ["2"]}}})
    assert not check.is_valid({**base, "sheet": {"size": 1, "total_items": 3, "dependencies": {"two": [1]}}})
    assert not check.is_valid({**base, "sheet": {"size": 1, "total_items": 3, "dependencies": {"0": [1]}}})
    assert check.is_valid({**base, "sheet": {"size": 1, "total_items": 3, "descriptions": {"0": "unchecked"}}})


def test_as_and_as_underscore() -> None:
    check = validator("score")
    base = {"name": "x", "prompt": {"template": "t"}}

    def score(item: dict[str, Any]) -> dict[str, Any]:
        return {**base, "sheet": {"size": 1, "total_items": 1, "prelude": [item]}}

    assert check.is_valid(score({"file": "a.md", "as": "context"}))
    assert check.is_valid(score({"file": "a.md", "as_": "skill"}))
    assert check.is_valid(score({"file": None, "directory": "d", "as": "tool"}))
    assert not check.is_valid(score({"file": "a.md"}))
    assert not check.is_valid(score({"file": "a.md", "as": "context", "as_": "context"}))
    assert not check.is_valid(score({"file": "a.md", "directory": "d", "as": "context"}))
    assert not check.is_valid(score({"file": "a.md", "as": "Context"}))


def test_legacy_total_sheets_is_accepted_but_not_suggested() -> None:
    sheet = schema_of("score")["$defs"]["SheetConfig"]
    assert sheet["properties"]["total_sheets"]["doNotSuggest"] is True
    assert validator("score").is_valid(
        {"name": "x", "prompt": {"template": "t"}, "sheet": {"size": 1, "total_items": 1, "total_sheets": 99}}
    )


# -- snippets ------------------------------------------------------------------------------------------------


def _expand(text: str) -> str:
    """A snippet as inserted with its default texts: `${1:x}` -> x, `$1` -> nothing."""
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\$\{\d+:((?:\\.|[^\\{}$])*(?:\{(?:\\.|[^\\{}$])*\}(?:\\.|[^\\{}$])*)*)\}", r"\1", text)
    text = re.sub(r"\$\d+", "", text)
    return text.replace("\\}", "}").replace("\\$", "$")


def _snippet_yaml(value: Any, indent: str = "") -> str:
    """yaml-language-server's rendering of a snippet body (strings are inserted as written)."""
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:\n{_snippet_yaml(item, indent + '  ')}")
        elif isinstance(item, list):
            lines.append(f"{indent}{key}:")
            for entry in item:
                body = _snippet_yaml(entry, indent + "    ")
                lines.append(f"{indent}  - {body.lstrip()}")
        else:
            text = str(item)
            lines.append(f"{indent}{key}: {text[1:] if text.startswith('^') else text}")
    return "\n".join(lines)


def test_snippets_produce_files_marianne_accepts() -> None:
    schema = schema_of("score")
    (root_snippet,) = schema["defaultSnippets"]
    text = _expand(_snippet_yaml(root_snippet["body"])) + "\n"
    data = load(text).data
    root_model("score").model_validate(data)
    assert validator("score").is_valid(editor_view(text)), text

    snippets = schema["$defs"]["ValidationRule"]["defaultSnippets"]
    types = schema["$defs"]["ValidationRule"]["properties"]["type"]["enum"]
    assert sorted(s["body"]["type"] for s in snippets) == sorted(types), "one snippet per validation type"
    for snippet in snippets:
        item = _expand(_snippet_yaml({"validations": [snippet["body"]]}))
        score = f"name: x\nsheet: {{size: 1, total_items: 2}}\nprompt: {{template: t}}\n{item}\n"
        root_model("score").model_validate(load(score).data)
        assert validator("score").is_valid(editor_view(score)), score

    (sheet_snippet,) = schema["$defs"]["SheetConfig"]["defaultSnippets"]
    sheet = _expand(_snippet_yaml({"sheet": sheet_snippet["body"]}))
    root_model("score").model_validate(load(f"name: x\nprompt: {{template: t}}\n{sheet}\n").data)


# -- agreement with Marianne's verdicts -----------------------------------------------------------------------


def _corpus() -> list[dict[str, Any]]:
    base = shared_dir() / "corpus"
    entries = [json.loads(line) for line in (base / "VERDICTS.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    for entry in entries:
        entry["text"] = (base / entry["path"]).read_text(encoding="utf-8")
    return entries


def _vectors(cls: str) -> list[dict[str, Any]]:
    base = shared_dir() / "vectors" / "dev"
    cases = []
    for line in (base / "INDEX.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if case["mutation"]["class"] == cls:
            case["text"] = (base / case["id"] / "input.yaml").read_text(encoding="utf-8")
            cases.append(case)
    return cases


def test_corpus_files_marianne_accepts_validate() -> None:
    failures = []
    checked = 0
    for entry in _corpus():
        if not entry["valid"]:
            continue
        for view_name, view in VIEWS.items():
            checked += 1
            errors = _errors(entry["kind"], view(entry["text"]))
            if errors:
                failures.append(f"{entry['path']} read by the {view_name}: {errors[:3]}")
    assert checked >= 50
    assert not failures, "\n".join(failures)


def test_corpus_files_marianne_rejects_do_not_validate() -> None:
    rejected = [entry for entry in _corpus() if not entry["valid"]]
    assert rejected
    for entry in rejected:
        assert _errors(entry["kind"], editor_view(entry["text"])), entry["path"]


def test_class_a_vectors_are_rejected() -> None:
    """Every structural defect JSON Schema can express is flagged, as an editor reads the file."""
    failures = []
    skipped: set[str] = set()
    cases = _vectors("A")
    for case in cases:
        mutation = case["mutation"]
        if mutation.get("subtype") in NOT_EXPRESSIBLE:
            skipped.add(mutation["subtype"])
            continue
        if not _errors(case["kind"], editor_view(case["text"])):
            label = f"{mutation['name']} {mutation.get('subtype', '')}".strip()
            failures.append(f"{case['id']} ({label}): {mutation['description']}")
    assert len(cases) > 100
    assert skipped, "the skip list names subtypes that no longer occur"
    assert not failures, "accepted although Marianne rejects them:\n" + "\n".join(failures)


def test_class_d_vectors_are_accepted() -> None:
    """Rewrites that keep a file valid (YAML 1.1 scalars, numeric strings, `as_`, merge keys, ...)."""
    failures = []
    cases = _vectors("D")
    for case in cases:
        for view_name, view in VIEWS.items():
            errors = _errors(case["kind"], view(case["text"]))
            if errors:
                failures.append(f"{case['id']} ({case['mutation']['name']}) read by the {view_name}: {errors[:3]}")
    names = {case["mutation"]["name"] for case in cases}
    assert {"numeric-string", "quote-string", "yaml11-scalars", "string-int-keys", "as-underscore",
            "merge-keys", "anchors-aliases"} <= names
    assert not failures, "\n".join(failures)
