"""Fuzzing: whatever bytes come in, the linter answers with findings, never a traceback.

Two sources of input: (a) the real files of ../shared (corpus and vector
cases) with random mutations (flipped bytes, lines deleted, duplicated or
swapped, indentation changed, YAML specials, tabs, odd Unicode, NULs, long
lines inserted), and (b) documents generated from the models: the keys of
each config kind at random nesting, with values of random types. For each
input, in-process (fast), the properties are:

* ``lint_source`` raises nothing, and every output format renders;
* the result is deterministic: linting again gives the same JSON bytes;
* every finding (and related place) lies inside the file:
  ``1 <= line <= lines + 1``, ``column >= 1``, end not before start;
* the JSON and SARIF reports parse, and the SARIF results are valid against
  the SARIF 2.1.0 schema.

The normal run tries about 1,200 inputs (derandomized, no example database,
so CI sees the same inputs every time); the runs marked ``long`` (see
conftest.py: ``--run-long`` or ``MARIANNE_LINT_LONG=1``) try about 12,000.
A few command-line runs over a folder of mutated files check that nothing
reaches standard error as a traceback. docs/robustness.md records the runs.
"""

from __future__ import annotations

import enum
import json
import random
import re
import subprocess
import sys
import types
import typing
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from conftest import shared_dir
from marianne_lint.building.models import root_model
from marianne_lint.building.models.introspect import unwrap
from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.kinds import KINDS
from marianne_lint.reading.source import decode
from marianne_lint.report import FORMATS, Report, renderer
from test_sarif import schema_errors

SETTINGS = Settings.from_config(Config(select=["ALL"]))
PATH = "fuzz.yaml"

#: Normal and long runs: examples per test (two mutation tests and one model test).
NORMAL = {"mutations": 500, "specials": 300, "values": 200, "models": 400}
LONG = {"mutations": 5_000, "specials": 3_000, "values": 2_000, "models": 4_000}


def fuzz_settings(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Settings for a fuzz test: a fixed seed (one per size of run) and no example database.

    So CI sees the same inputs on every run and machine, and the long run
    tries other inputs than the normal one.
    """
    configured = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        return seed(20_240_601 + examples)(configured(test))

    return apply


# -- the properties ---------------------------------------------------------------------------------

#: Line breaks as editors and SARIF viewers count them (not YAML 1.1's NEL, LS and PS).
_BREAKS = re.compile("\r\n|\r|\n")


def line_count(data: bytes, text: str | None) -> int:
    shown = text if text is not None else data.decode("utf-8", "replace")
    return len(_BREAKS.split(shown))


def check(data: bytes, kind: str | None = None) -> list[dict[str, Any]]:
    """Lint ``data`` in-process and check every property; returns the JSON diagnostics."""
    source = decode(PATH, data)
    result = lint_source(source, SETTINGS, kind=kind)
    assert result is not None
    lines = {(result.path, number): text for number, text in result.lines.items()}
    report = Report(result.diagnostics, 1, lines)
    rendered = {fmt: renderer(fmt)(report) for fmt in FORMATS}

    again = lint_source(decode(PATH, data), SETTINGS, kind=kind)
    assert again is not None
    again_lines = {(again.path, number): text for number, text in again.lines.items()}
    assert renderer("json")(Report(again.diagnostics, 1, again_lines)) == rendered["json"], "not deterministic"

    document = json.loads(rendered["json"])
    sarif = json.loads(rendered["sarif"])
    (run,) = sarif["runs"]
    assert len(run["results"]) == len(document["diagnostics"])
    assert {r["ruleId"] for r in run["results"]} <= {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    run["tool"]["driver"]["rules"] = []  # test_sarif.py validates them; here only the results vary
    assert schema_errors(sarif) == []
    json.loads(rendered["gitlab"])

    limit = line_count(data, source.text) + 1
    for d in document["diagnostics"]:
        where = f"{d['line']}:{d['column']}-{d['end_line']}:{d['end_column']} {d['rule']} (file of {limit - 1} lines)"
        assert 1 <= d["line"] <= limit, where
        assert d["column"] >= 1, where
        assert (d["end_line"], d["end_column"]) >= (d["line"], d["column"]), where
        assert d["end_line"] <= limit, where
        for related in d["related"]:
            assert 1 <= related["line"] <= limit and related["column"] >= 1, (where, related)
    return list(document["diagnostics"])


# -- (a) mutations of real files --------------------------------------------------------------------


@cache
def seeds() -> tuple[bytes, ...]:
    shared = shared_dir()
    files = sorted((shared / "corpus").rglob("*.yaml")) + sorted((shared / "vectors" / "dev").glob("*/input.yaml"))
    assert len(files) > 300
    return tuple(path.read_bytes() for path in files)


#: Text a mutation may insert: YAML's special characters and constructs, odd Unicode, binary bytes.
SPECIALS: tuple[bytes, ...] = tuple(
    item if isinstance(item, bytes) else item.encode("utf-8")
    for item in (
        "&a ", "*a", "&a [1, 2]\n", "<<: *a\n", "<<: ", "<<: [*a, *b]\n", "&b {x: 1}", "*zz",
        "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!!timestamp ", "!!omap\n",
        "!!set ", "!!pairs ", "!!map ", "!!seq ", "!custom ", "!<tag:yaml.org,2002:str> ",
        "!!python/object/apply:os.system ['true'] ", "!!python/name:os.system ",
        "---\n", "--- ", "...\n", "%YAML 1.1\n", "%TAG ! tag:example.com,2000:\n", "\t", "\t\t- ",
        "\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", "\r", "\r\n", "\x0b", "\x1b[31m", "\x7f",
        "\x85", "\u2028", "\u2029", "\ufeff", "\u200b", "é", "漢字", "😀", "\U0010ffff", "\ufffd",
        "{", "}", "[", "]", '"', "'", "? ", ": ", "- ", ", ", "|\n", "|-\n", ">+\n", "|2\n", "#", " #x",
        "=", "<<", "~", "null", "on", "yes", "No", "0x1F", "0o17", "017", "1_000", "12:30:00",
        "2001-12-14t21:59:43.10-05:00", ".inf", "-.nan", "1e400", "9" * 400,
        "{{ ", " }}", "{% for x in range(10**12) %}", "{% endfor %}", "{{ x.__class__ }}", "{workspace}",
        "{sheet_num}", "# marianne-lint: disable=ALL\n", "# marianne-lint: disable-file=ML201,nope\n",
        "# marianne-lint: disable=\n", "sheet:\n", "prompt:\n", "dependencies:\n  1: [1]\n",
        "fan_out: {2: 3}\n", "validations:\n- type: command_succeeds\n", "  " * 50, "- " * 50, "[" * 300,
        "{a: " * 100,
        # the classes the hardening trial found: huge numbers, pathological regexes, surrogate escapes
        "9" * 4400, "0x" + "f" * 3700, ":".join(["59"] * 2500), "1000000000", "fan_out: {1: 1000000000}\n",
        '"\\udfff"', '"\\ud800x"', "a{4294967296}", "(" * 1000 + ")" * 1000, "pattern: '(?:a+)+$'\n",
    )
)

#: A mutation: (operation, position, size, argument); positions and sizes are taken modulo the input.
Mutation = tuple[str, int, int, int]
OPERATIONS = (
    "flip", "insert", "insert", "insert", "delete-line", "duplicate-line", "swap-lines",
    "indent", "truncate", "long-line", "delete-range", "splice", "number", "number", "word",
)

#: Replacements for a number of the file: the structure stays, the semantic rules see odd values.
NUMBERS = (b"0", b"1", b"-1", b"2", b"3", b"7", b"0.5", b"1e9", b"99999999999999999999", b"-0", b"60", b"86400",
           b"1000000000", b"9" * 4400)
#: Replacements for a plain word of the file.
WORDS = (b"true", b"null", b"on", b"no", b"~", b"", b"x", b"claude-code", b"{{ x }}", b"[]", b"{}", b"1")
_NUMBER = re.compile(rb"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_WORD = re.compile(rb"(?<=: )[A-Za-z_][\w-]*$", re.M)


def _line_bounds(data: bytes, position: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    return start, (len(data) if end == -1 else end + 1)


def mutate(data: bytes, mutations: list[Mutation], donor: bytes = b"") -> bytes:
    for operation, position, size, argument in mutations:
        at = position % (len(data) + 1)
        if operation == "flip" and data:
            index = position % len(data)
            byte = argument % 256 if argument & 0x700 == 0 else 32 + argument % 95  # mostly printable ASCII
            data = data[:index] + bytes([byte]) + data[index + 1 :]
        elif operation == "insert":
            data = data[:at] + SPECIALS[argument % len(SPECIALS)] + data[at:]
        elif operation == "delete-line":
            start, end = _line_bounds(data, at)
            data = data[:start] + data[end:]
        elif operation == "duplicate-line":
            start, end = _line_bounds(data, at)
            data = data[:end] + data[start:end] + data[end:]
        elif operation == "swap-lines":
            lines = data.split(b"\n")
            i, j = position % len(lines), argument % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif operation == "indent":
            start, _ = _line_bounds(data, at)
            shift = argument % 9 - 4
            if shift > 0:
                data = data[:start] + b" " * shift + data[start:]
            else:
                strip = len(data[start : start - shift]) - len(data[start : start - shift].lstrip(b" "))
                data = data[:start] + data[start + strip :]
        elif operation == "truncate":
            data = data[:at]
        elif operation == "long-line":
            start, _ = _line_bounds(data, at)
            data = data[:start] + b"x: " + b"y" * (1_000 + size * 97 % 60_000) + b"\n" + data[start:]
        elif operation == "delete-range":
            data = data[:at] + data[at + size % 200 :]
        elif operation in ("number", "word"):
            found = list((_NUMBER if operation == "number" else _WORD).finditer(data))
            if found:
                match = found[position % len(found)]
                choices = NUMBERS if operation == "number" else WORDS
                new = choices[argument % len(choices)]
                data = data[: match.start()] + new + data[match.end() :]
        elif operation == "splice" and donor:
            begin = argument % len(donor)
            data = data[:at] + donor[begin : begin + size % 400] + data[at:]
    return data


mutation = st.tuples(
    st.sampled_from(OPERATIONS),
    st.integers(0, 1 << 20),
    st.integers(0, 1 << 12),
    st.integers(0, 1 << 16),
)
maybe_kind = st.sampled_from((None, None, None, *KINDS))  # mostly detected, sometimes forced


def _mutated(seed: int, mutations: list[Mutation], donor: int) -> bytes:
    all_seeds = seeds()
    return mutate(all_seeds[seed % len(all_seeds)], mutations, all_seeds[donor % len(all_seeds)])


def _mutations_test(examples: int) -> Callable[..., None]:
    @fuzz_settings(examples)
    @given(
        seed=st.integers(0, 10_000),
        mutations=st.lists(mutation, min_size=1, max_size=4),
        donor=st.integers(0, 10_000),
        kind=maybe_kind,
    )
    def run(seed: int, mutations: list[Mutation], donor: int, kind: str | None) -> None:
        check(_mutated(seed, mutations, donor), kind)

    return run


def _specials_test(examples: int) -> Callable[..., None]:
    """Many YAML specials in one small file: anchors, aliases, merges and tags meet each other."""

    @fuzz_settings(examples)
    @given(
        seed=st.integers(0, 10_000),
        inserts=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, len(SPECIALS) - 1)), min_size=3,
                         max_size=25),
        kind=maybe_kind,
    )
    def run(seed: int, inserts: list[tuple[int, int]], kind: str | None) -> None:
        base = seeds()[seed % len(seeds())][:1_500]
        check(mutate(base, [("insert", at, 0, which) for at, which in inserts]), kind)

    return run


def _values_test(examples: int) -> Callable[..., None]:
    """Only numbers and words change: most files still build their model, so every rule runs on odd values."""

    @fuzz_settings(examples)
    @given(
        seed=st.integers(0, 10_000),
        changes=st.lists(
            st.tuples(st.sampled_from(("number", "number", "word", "duplicate-line")), st.integers(0, 1 << 20),
                      st.just(0), st.integers(0, 1 << 16)),
            min_size=1,
            max_size=3,
        ),
    )
    def run(seed: int, changes: list[Mutation]) -> None:
        check(mutate(seeds()[seed % len(seeds())], changes))

    return run


def test_mutated_real_files() -> None:
    _mutations_test(NORMAL["mutations"])()


def test_yaml_specials_in_real_files() -> None:
    _specials_test(NORMAL["specials"])()


def test_odd_values_in_real_files() -> None:
    _values_test(NORMAL["values"])()


@pytest.mark.long
def test_odd_values_in_real_files_long() -> None:
    _values_test(LONG["values"])()


@pytest.mark.long
def test_mutated_real_files_long() -> None:
    _mutations_test(LONG["mutations"])()


@pytest.mark.long
def test_yaml_specials_in_real_files_long() -> None:
    _specials_test(LONG["specials"])()


# -- (b) documents shaped like the models ------------------------------------------------------------

_SCALAR_TEXT = st.sampled_from(
    [
        "", " ", "x", "hello", "{{ workspace }}", "{{ sheet_num }}", "{{ undefined_thing }}", "{% if x %}y",
        "{{ cycler.__init__.__globals__.os.system('true') }}", "{workspace}/out-{sheet_num}.md",
        "{{ sheet_num - 1 }}", "sheet_num == 1", "stage >= 2 and sheet_num < 9", "../../nowhere",
        "/absolute/path", "~/home", "claude-code", "cli", "http", "fleet", "score", "skill", "mcp",
        "file_exists", "command_succeeds", "content_regex", "(unclosed", "[a-z]+", "run_job", "0", "1",
        "true", "null", "1e3", "60", "-1", "é漢😀", "\t", "line\nbreak",
    ]
)
ANY_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 100_000),
    st.floats(allow_nan=True, allow_infinity=True),
    _SCALAR_TEXT,
    st.text(max_size=20),
)


def _any_value(depth: int) -> st.SearchStrategy[Any]:
    if depth <= 0:
        return ANY_SCALAR
    inner = _any_value(depth - 1)
    return st.one_of(
        ANY_SCALAR,
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_SCALAR_TEXT, st.integers(-2, 12)), inner, max_size=3),
    )


def _typed_scalar(annotation: Any) -> st.SearchStrategy[Any] | None:
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-3, 5_000)
    if annotation is float:
        return st.one_of(st.integers(-3, 5_000), st.floats(-10.0, 1e6))
    if annotation is str or annotation is Path:
        return _SCALAR_TEXT
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from([member.value for member in annotation])
    if typing.get_origin(annotation) is typing.Literal:
        return st.sampled_from(typing.get_args(annotation))
    return None


@st.composite
def shaped(draw: st.DrawFn, annotation: Any, depth: int) -> Any:
    """A value for ``annotation``: usually of its shape, sometimes of any type at all."""
    if depth <= 0 or draw(st.integers(0, 9)) == 0:
        return draw(_any_value(1))
    annotation = unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)] or [type(None)]
        return draw(shaped(draw(st.sampled_from(options)), depth))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = list(annotation.model_fields.items())
        chosen = draw(st.lists(st.sampled_from(fields), max_size=min(len(fields), 7), unique_by=lambda f: f[0]))
        out: dict[Any, Any] = {}
        for name, info in chosen:
            key = info.alias if info.alias is not None and draw(st.booleans()) else name
            out[key] = draw(shaped(info.annotation, depth - 1))
        if draw(st.integers(0, 7)) == 0:
            out[draw(_SCALAR_TEXT)] = draw(_any_value(1))  # an unknown key
        return out
    args = typing.get_args(annotation)
    if origin in (list, set, frozenset, tuple, typing.Sequence) or annotation in (list, set, tuple):
        item = args[0] if args else Any
        return draw(st.lists(shaped(item, depth - 1), max_size=4))
    if origin is dict or annotation is dict:
        key_type, value_type = (args[0], args[1]) if len(args) == 2 else (str, Any)
        keys = st.integers(-1, 12) if key_type is int else _SCALAR_TEXT
        return draw(st.dictionaries(keys, shaped(value_type, depth - 1), max_size=4))
    typed = _typed_scalar(annotation)
    if typed is not None and draw(st.integers(0, 3)) != 0:
        return draw(typed)
    return draw(_any_value(1))


@st.composite
def model_document(draw: st.DrawFn) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(KINDS))
    data = draw(shaped(root_model(kind), draw(st.integers(1, 7))))
    if kind == "fleet" and isinstance(data, dict) and draw(st.booleans()):
        data["type"] = "fleet"
    text = yaml.safe_dump(
        data,
        default_flow_style=draw(st.sampled_from([False, True, None])),
        sort_keys=False,
        allow_unicode=draw(st.booleans()),
        width=draw(st.sampled_from([20, 80, 10_000])),
        indent=draw(st.sampled_from([2, 4])),
    )
    out = text.encode("utf-8")
    extra = draw(st.lists(mutation, max_size=2))
    if extra:
        out = mutate(out, extra)
    return out, draw(st.sampled_from([kind, None]))


def _models_test(examples: int) -> Callable[..., None]:
    @fuzz_settings(examples)
    @given(document=model_document())
    def run(document: tuple[bytes, str | None]) -> None:
        check(*document)

    return run


def test_documents_shaped_like_the_models() -> None:
    _models_test(NORMAL["models"])()


@pytest.mark.long
def test_documents_shaped_like_the_models_long() -> None:
    _models_test(LONG["models"])()


def test_model_documents_are_mostly_valid_yaml_of_the_right_kind() -> None:
    """The generator reaches the rules: most of its documents load and are linted as their kind."""
    loaded = 0

    @fuzz_settings(60)
    @given(document=model_document())
    def run(document: tuple[bytes, str | None]) -> None:
        nonlocal loaded
        diagnostics = check(*document)
        if not any(d["rule"] in ("yaml-syntax", "unreadable-file") for d in diagnostics):
            loaded += 1

    run()
    assert loaded >= 30


# -- line numbers as editors count them ---------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
@pytest.mark.parametrize("where", ["double-quoted", "single-quoted"])
def test_yaml_1_1_line_breaks_do_not_shift_line_numbers(separator: str, where: str) -> None:
    """NEL, LS and PS are line breaks to YAML 1.1 (libyaml) but not to editors: findings stay on the editor's line.

    (A line separator pasted into a quoted prompt used to move every later
    finding, its source excerpt and the line its suppression comment applies
    to, one line down.)
    """
    first = {
        "double-quoted": f'name: "a{separator}b"\n',
        "single-quoted": f"description: 'a{separator}b'\nname: a\n",
    }[where]
    text = first + (
        "sheet: {size: 1, total_items: 1}\nprompt: {template: hi}\nname: again\n"
        "x: 1  # marianne-lint: disable=ML101\ny: 2\n"
    )
    lines = text.split("\n")
    found = {(d["rule"], lines[d["line"] - 1]) for d in check(text.encode("utf-8"), "score")}
    assert ("duplicate-key", "name: again") in found
    assert ("schema-unknown-key", "y: 2") in found
    assert not any(rule == "schema-unknown-key" and line.startswith("x:") for rule, line in found)  # suppressed


@pytest.mark.parametrize("separator", ["\u2028", "\x85"])
def test_syntax_errors_after_a_yaml_1_1_line_break_are_on_the_editor_line(separator: str) -> None:
    text = f'name: "a{separator}b"\nsheet: {{size: 1, total_items: 1}}\nprompt: {{template: hi}}\nbad: [1, 2\n'
    (finding,) = check(text.encode("utf-8"), "score")
    assert finding["rule"] == "yaml-syntax"
    assert finding["line"] == 4  # the end of the file (the end of its last line), where the list is still open


# -- through the command line --------------------------------------------------------------------------


def test_command_line_on_mutated_files(tmp_path: Path) -> None:
    """A folder of mutated files, linted by a few real command-line runs: no traceback, valid reports."""
    rng = random.Random(20_240_601)
    all_seeds = seeds()
    names = []
    for number in range(150):
        mutations = [
            (rng.choice(OPERATIONS), rng.randrange(1 << 20), rng.randrange(1 << 12), rng.randrange(1 << 16))
            for _ in range(rng.randint(1, 5))
        ]
        data = mutate(rng.choice(all_seeds), mutations, rng.choice(all_seeds))
        name = f"case-{number:03d}.yaml"
        (tmp_path / name).write_bytes(data)
        names.append(name)
    (tmp_path / ".marianne-lint.toml").write_text('select = ["ALL"]\n', encoding="utf-8")
    outputs = {}
    for fmt in ("json", "sarif", "full"):
        for kind in ((), ("--kind", "score")):
            proc = subprocess.run(
                [sys.executable, "-m", "marianne_lint", "--format", fmt, *kind, *names],
                cwd=tmp_path,
                capture_output=True,
                timeout=600,
            )
            stderr = proc.stderr.decode("utf-8", "replace")
            assert "Traceback" not in stderr and "internal error" not in stderr, stderr
            assert proc.returncode in (0, 1), stderr
            outputs[(fmt, kind)] = proc.stdout
    report = json.loads(outputs[("json", ())])
    assert report["summary"]["files"] == len(names)
    assert {d["path"] for d in report["diagnostics"]} <= set(names)
    json.loads(outputs[("sarif", ())])
    json.loads(outputs[("json", ("--kind", "score"))])
