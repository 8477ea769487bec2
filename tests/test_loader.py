"""The loader reads YAML exactly as Marianne does: PyYAML's ``yaml.safe_load`` (YAML 1.1) is the reference.

Every snippet must load to the same Python data as PyYAML (same types, NaN
equal to NaN, same key order), and fail exactly when PyYAML fails. The few
deliberate differences are tested on their own at the end.
"""

from __future__ import annotations

import datetime
import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from conftest import shared_dir
from marianne_lint.reading.loader import Limits, load


def same(ours: Any, ref: Any) -> bool:
    """Type-exact, NaN-aware, order-aware equality of loaded data."""
    if type(ours) is not type(ref):
        return False
    if isinstance(ours, float):
        if math.isnan(ours) or math.isnan(ref):
            return math.isnan(ours) and math.isnan(ref)
        return ours == ref and math.copysign(1.0, ours) == math.copysign(1.0, ref)
    if isinstance(ours, datetime.datetime):
        return ours == ref and ours.utcoffset() == ref.utcoffset() and (ours.tzinfo is None) == (ref.tzinfo is None)
    if isinstance(ours, dict):
        if len(ours) != len(ref):
            return False
        return all(
            same(k1, k2) and same(v1, v2) for (k1, v1), (k2, v2) in zip(ours.items(), ref.items(), strict=True)
        )
    if isinstance(ours, (list, tuple)):
        return len(ours) == len(ref) and all(same(a, b) for a, b in zip(ours, ref, strict=True))
    if isinstance(ours, set):
        return ours == ref and {type(x) for x in ours} == {type(x) for x in ref}
    return bool(ours == ref)


def reference(text: str) -> tuple[bool, Any]:
    """(PyYAML accepts, its data). PyYAML raises ValueError/KeyError too, not only YAMLError."""
    try:
        return True, yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - any exception means Marianne cannot load the file
        return False, None


def assert_parity(text: str) -> None:
    accepted, expected = reference(text)
    loaded = load(text)
    if not accepted:
        assert not loaded.ok, f"PyYAML refuses {text!r} but the loader accepted it as {loaded.data!r}"
        assert loaded.findings, "a refused file must carry a finding"
        return
    assert loaded.ok, f"PyYAML accepts {text!r} ({expected!r}) but the loader refused it: {loaded.findings}"
    assert same(loaded.data, expected), f"{text!r}: loader {loaded.data!r} != PyYAML {expected!r}"


SNIPPETS: dict[str, str] = {
    # -- booleans -----------------------------------------------------------------------------
    "bool-words": "a: yes\nb: No\nc: ON\nd: off\ne: True\nf: FALSE\ng: Yes\nh: NO\n",
    "bool-not-words": "a: y\nb: n\nc: Y\nd: N\ne: oN\nf: yES\ng: tRUE\n",
    "bool-keys": "yes: 1\nno: 2\non: 3\nOff: 4\n",
    # -- numbers ------------------------------------------------------------------------------
    "sexagesimal": "a: 1:30\nb: 1:30.5\nc: -1:00\nd: 190:20:30\ne: 1:60\nf: 0:30\ng: 01:20\n",
    "octal-and-bases": "a: 0660\nb: 08\nc: 0x1F\nd: 0b101\ne: 0o17\nf: 09.5\ng: 012_3\nh: -0x1f\ni: +0b1_0\n",
    "underscores": "a: 1_000\nb: 1__000\nc: 1,000\nd: 685_230.15\ne: 685.230_15e+03\nf: _1\n",
    "signs-and-zero": "a: 0\nb: -0\nc: +12\nd: -0.0\ne: 0.\nf: +.5\n",
    "exponents": "a: 1e3\nb: 1.0e+3\nc: 1.0e3\nd: 1.0E-3\ne: .5e+1\nf: 1.e5\ng: 1E3\n",
    "inf-nan": "a: .inf\nb: -.Inf\nc: +.INF\nd: .NaN\ne: .nan\nf: .NAN\ng: .nAn\nh: inf\n",
    "big-int": "a: 123456789012345678901234567890\nb: -99999999999999999999\n",
    "number-keys": "1: a\n'2': b\n3.0: c\n0x10: d\n1:30: e\n",
    # -- dates --------------------------------------------------------------------------------
    "dates": "a: 2024-05-01\nb: 2024-5-1\nc: 2024-05-01T10:20:30Z\nd: 2024-05-01 10:20:30.5 +02:00\n",
    "datetimes": "a: 2001-12-14t21:59:43.10-05:00\nb: 2024-05-01T10:20:30\nc: 2024-5-1 1:02:03\n"
    "d: 2024-01-01T10:00:00.123456789\ne: 2024-01-01 10:00:00 Z\nf: 2024-01-01t10:00:00+5\n",
    "date-like-strings": "a: 2024-01-01T10:00\nb: 2024-01\nc: 20240101\n",
    "date-key": "2024-01-01: x\n",
    # -- null and empty -----------------------------------------------------------------------
    "nulls": "a: ~\nb: null\nc:\nd: Null\ne: NULL\nf: ''\ng: nULL\n",
    "null-keys": "~: a\nnull: b\n",
    "empty-file": "",
    "blank-lines": "\n\n   \n",
    "comment-only": "# just a comment\n# and another\n",
    "document-markers": "---\na: 1\n...\n",
    "empty-document": "---\n",
    # -- tags ---------------------------------------------------------------------------------
    "tags": "a: !!str yes\nb: !!int '42'\nc: !!float '1'\nd: !!bool 'yes'\ne: !!str 1:30\nf: !!null ''\n"
    "g: !!int 0x10\nh: !!float 1e3\ni: !!timestamp 2024-01-01\nj: ! 12\nk: !!str\n",
    "tag-collections": "a: !!set {x, y}\nb: !!omap [x: 1, y: 2]\nc: !!pairs [x: 1, x: 2]\nd: !!map {k: v}\n"
    "e: !!seq [1]\n",
    "binary": "a: !!binary aGVsbG8=\n",
    "bad-int-tag": "a: !!int 1.5\n",
    "bad-float-tag": "a: !!float abc\n",
    "bad-bool-tag": "a: !!bool maybe\n",
    "bad-binary": "a: !!binary '!!!'\n",
    "bad-date": "a: 2024-13-45\n",
    "bad-datetime": "a: 2024-02-30T10:00:00\n",
    "base-prefix-only": "a: 0b_\n",
    "hex-prefix-only": "a: 0x_\n",
    "str-tag-on-list": "a: !!str [a]\n",
    "python-tag": "a: !!python/object:os.system x\n",
    "python-name-tag": "a: !!python/name:os.system\n",
    "local-tag": "a: !foo x\n",
    "value-key": "=: 1\n",
    "value-value": "a: =\n",
    # -- quoting ------------------------------------------------------------------------------
    "quoted": "a: 'yes'\nb: \"1:30\"\nc: '0660'\nd: \"~\"\ne: 'it''s'\nf: \"a\\tb\\u00e9\"\ng: 'null'\n",
    "escapes": 'a: "\\x41\\u263a\\U0001F600\\N\\_\\L\\P\\/\\ "\nb: "\\0\\e\\a\\b"\n',
    "bad-escape": 'a: "\\q"\n',
    "quoted-multiline": "a: 'multi\n  line'\nb: \"x\\\n  y\"\nc: 'x\n\n  y'\n",
    # -- anchors, aliases, merge keys ---------------------------------------------------------
    "anchors": "base: &b {x: 1, y: [1, 2]}\nuse: *b\nlist: &l [a, b]\nagain: *l\ns: &s hello\nt: *s\n",
    "anchor-on-key": "&k a: 1\nb: *k\n",
    "anchor-odd-name": "a: &anchor-with.dots x\nb: *anchor-with.dots\n",
    "alias-unknown": "a: *nowhere\n",
    "duplicate-anchor": "a: &x 1\nb: &x 2\nc: *x\n",
    "merge-single": "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n",
    "merge-own-key-first": "a: &a {x: 1, y: 1}\nm:\n  y: 9\n  <<: *a\n",
    "merge-list": "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nm:\n  <<: [*a, *b]\n  w: 0\n",
    "merge-several": "a: &a {retries: 1, delay: 5}\nb: &b {retries: 2, jitter: 1}\nm:\n  <<: *a\n  <<: *b\n  z: 3\n",
    "merge-nested": "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nm:\n  <<: *b\n  z: 3\n",
    "merge-inline": "m:\n  <<: {x: 1}\n  y: 2\n",
    "merge-flow": "a: &m {b: 1}\nc: {<<: *m, b: 2}\n",
    "merge-quoted-is-a-key": '"<<": {a: 1}\n',
    "merge-null": "<<: ~\n",
    "merge-scalar": "a: &s x\nb:\n  <<: *s\n",
    "merge-list-of-scalars": "<<: [1]\n",
    "merged-alias-used-twice": "d: &d {timeout: 5}\nx: {<<: *d}\ny: {<<: *d, timeout: 9}\nz: *d\n",
    # -- duplicate keys -----------------------------------------------------------------------
    "duplicate-last-wins": "a: 1\nb: 2\na: 3\n",
    "duplicate-on-true": "on: 1\ntrue: 2\n",
    "duplicate-one-true": "1: a\ntrue: b\n",
    "duplicate-int-float": "1: a\n1.0: b\n",
    "duplicate-quoted-plain": "'a': 1\n\"a\": 2\na: 3\n",
    "duplicate-in-flow": "a: {b: c, b: d}\n",
    "duplicate-null-keys": "~: a\nnull: b\n",
    # -- flow style ---------------------------------------------------------------------------
    "flow": "a: {b: [1, 2, {c: d}], e: f}\ng: [x, y, ]\nh: {}\ni: []\n",
    "flow-single-pairs": "[a: 1, b: 2]\n",
    "flow-key-without-value": "{a: 1, b}\n",
    "flow-colon-in-plain": "a: [http://x, a:b]\nb: {c: d:e}\n",
    "flow-nested": "a: [a, [b, [c, {d: [e]}]]]\nb: {? c, d: e}\n",
    "flow-unclosed": "a: [b\n",
    "flow-unclosed-map": "a: {b: [c}\n",
    "flow-empty-entry": "[a, ,b]\n",
    # -- block scalars ------------------------------------------------------------------------
    "block": "a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  strip\nd: |+\n  keep\n\n"
    "e: >2\n   indented\n",
    "block-keep-trailing": "a: >+\n\n x\n\n",
    "block-strip": "a: >-\n  x\n\n  y\n",
    "block-explicit-indent": "a: |2-\n    x\n",
    "block-more-indented": "a: |\n  x\n   y\n  z\nb: 1\n",
    "block-with-hash": "a: |\n  # not a comment\n  text\n",
    # -- plain scalars ------------------------------------------------------------------------
    "multi-line-plain": "a: this is\n  a multi-line\n  plain scalar\nb: \"quoted\n  multi\"\n",
    "plain-odd-chars": "a: b:c\nb: http://x\nc: -b\nd: x#y\ne: a b # c\nf: key with spaces\n",
    "plain-indicators": "a: +\nb: -\nc: .\nd: ..\ne: _\nf: 0b\ng: 0x\nh: 0o\n",
    # -- unicode, line ends, BOM --------------------------------------------------------------
    "unicode": "名前: 値\nemoji: \"\U0001f600\"\nb: café\nc: \U0001f600 plain\n",
    "unicode-line-separator": "a: b\u2028c: d\n",
    "crlf": "a: 1\r\nb:\r\n  - x\r\n  - y\r\nc: |\r\n  x\r\n  y\r\n",
    "cr-only": "a: 1\rb: 2\r",
    "bom": "\ufeffa: 1\nb: 2\n",
    # -- tabs (PyYAML accepts them only in quoted or block scalars and comments) -----------
    "tab-in-quoted": "a: 'x\ty'\nb: \"x\ty\"\nc: 'x\n\ty'\n",
    "tab-in-block": "a: |\n  x\t\n  \ty\nb: >\n  x\ty\n",
    "tab-first-in-block": "a: |\n  \tx\n",
    "tab-in-comment": "# \tc\na: 1 # c\t\nb: 'x' #\t\nc: | #\tc\n  x\n",
    "tab-indentation": "a:\n\tb: 1\n",
    "tab-after-colon": "a:\tb\n",
    "tab-before-comment": "a: 1\t# c\n",
    "tab-trailing": "a: 1\t\n",
    "tab-in-plain": "a: x y\tz\n",
    "tab-in-flow": "a: [1,\t2]\n",
    "tab-after-quoted": "a: 'x'\t\n",
    "tab-after-block-indicator": "a: |\t\n  x\n",
    "tab-on-blank-line": "a: 1\n\t\nb: 2\n",
    "tab-before-key": "\ta: 1\n",
    "tab-after-anchor": "a: &x\t1\n",
    # -- structure ----------------------------------------------------------------------------
    "root-list": "- a\n- b\n",
    "root-scalar": "hello\n",
    "nested-seq": "- - a\n  - b\n- c\n",
    "seq-in-map-same-indent": "a:\n- 1\n- 2\nb: 3\n",
    "empty-seq-items": "a:\n  - b\n  -\n  - c\n",
    "complex-scalar-key": "? a\n: 1\n? |\n  block key\n: 2\n",
    "key-without-value": "? a\n? b\n: c\n",
    "sequence-as-key": "? [a]\n: 1\n",
    "mapping-as-key": "? {a: 1}\n: 2\n",
    "two-documents": "a: 1\n---\nb: 2\n",
    "two-empty-documents": "---\n---\n",
    "directive-1.1": "%YAML 1.1\n---\na: yes\n",
    "directive-1.2": "%YAML 1.2\n---\na: yes\n",
    "directive-2.0": "%YAML 2.0\n---\na: 1\n",
    "bad-indentation": "a:\n    b: 1\n  c: 2\n",
    "mapping-in-plain": "a: b: c\n",
    "seq-after-key": "key: - a\n",
    "junk-after-quote": "a: 'b'c\n",
    "reserved-indicator": "a: @b\n",
    "control-character": "a: \x07\n",
    "nul-character": "a: b\x00\n",
    "unterminated-quote": 'a: "b\n',
    "long-simple-key": "x" * 1100 + ": 1\n",
}


@pytest.mark.parametrize("text", list(SNIPPETS.values()), ids=list(SNIPPETS))
def test_snippet_loads_like_pyyaml(text: str) -> None:
    assert_parity(text)


def test_snippets_cover_both_outcomes() -> None:
    """The list exercises both accepted and refused texts (a guard against a broken reference)."""
    outcomes = [reference(text)[0] for text in SNIPPETS.values()]
    assert outcomes.count(True) > 75
    assert outcomes.count(False) > 30


# -- values the reference must give: a check that PyYAML really is YAML 1.1 here --------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Off", False),
        ("y", "y"),
        ("1:30", 90),
        ("1:30.5", 90.5),
        ("0660", 432),
        ("08", "08"),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("1e3", "1e3"),
        ("1.0e+3", 1000.0),
        ("0o17", "0o17"),
        ("2024-05-01", datetime.date(2024, 5, 1)),
        ("~", None),
    ],
)
def test_yaml11_values(text: str, value: Any) -> None:
    loaded = load(f"v: {text}\n")
    assert loaded.ok
    assert same(loaded.data["v"], value)
    assert same(yaml.safe_load(f"v: {text}\n")["v"], value)


def test_nan_is_read_as_nan() -> None:
    loaded = load("v: .NaN\n")
    assert isinstance(loaded.data["v"], float) and math.isnan(loaded.data["v"])


def test_duplicate_keys_keep_the_last_value_and_are_reported() -> None:
    loaded = load("a: 1\nb: 2\na: 3\n")
    assert loaded.data == {"a": 3, "b": 2}
    assert list(loaded.data) == ["a", "b"]  # the key keeps its first place, as a dict assignment does
    assert [(f.rule, f.span.line) for f in loaded.findings] == [("duplicate-key", 3)]


def test_yaml11_equal_keys_are_duplicates() -> None:
    loaded = load("on: 1\ntrue: 2\n")
    assert loaded.data == {True: 2}
    (finding,) = loaded.findings
    assert finding.rule == "duplicate-key" and "same key" in finding.message


def test_merge_override_is_not_a_duplicate() -> None:
    loaded = load("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n")
    assert loaded.data["b"] == {"x": 2}
    assert loaded.findings == []


# -- deliberate differences from PyYAML ---------------------------------------------------------


def test_merge_list_earlier_mapping_wins() -> None:
    """``<<: [*a, *b]``: the YAML merge spec and PyYAML up to 6.0.3 keep the value of the earlier mapping.

    PyYAML 6.0.4 keeps the later one for keys longer than one character
    (yaml/pyyaml#953, a regression); the loader follows the specification.
    """
    text = "a: &a {retries: 1, k: 1}\nb: &b {retries: 2, y: 2}\nm:\n  <<: [*a, *b]\n"
    assert load(text).data["m"] == {"retries": 1, "k": 1, "y": 2}


def test_several_merge_keys_later_wins() -> None:
    """Several ``<<`` keys in one mapping: PyYAML concatenates them, so the later one wins."""
    text = "a: &a {retries: 1, x: 1}\nb: &b {retries: 2}\nm:\n  <<: *a\n  <<: *b\n"
    assert load(text).data["m"] == {"retries": 2, "x": 1}


@pytest.mark.parametrize("text", ["&a [*a]\n", "&a {x: *a}\n", "a: &a [1, *a]\n"])
def test_recursive_alias_is_a_resource_limit(text: str) -> None:
    """PyYAML builds a recursive structure; no Marianne config can be one, so the loader stops."""
    loaded = load(text)
    assert not loaded.ok
    assert [f.rule for f in loaded.findings] == ["resource-limit"]


# -- limits ---------------------------------------------------------------------------------------


def _alias_bomb(levels: int) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_stops_quickly() -> None:
    started = time.monotonic()
    loaded = load(_alias_bomb(10))
    assert time.monotonic() - started < 2
    assert not loaded.ok
    assert [f.rule for f in loaded.findings] == ["resource-limit"]


def test_alias_limit_is_configurable() -> None:
    text = _alias_bomb(3)  # 9 + 81 + 729 nodes through aliases
    assert load(text).ok
    assert not load(text, Limits(max_alias_nodes=100)).ok


@pytest.mark.parametrize(
    "text",
    ["a: " + "[" * 10_000 + "]" * 10_000 + "\n", "- " * 10_000 + "x\n", "a: " + "{b: " * 10_000 + "1" + "}" * 10_000],
    ids=["flow-seq", "block-seq", "flow-map"],
)
def test_deep_nesting_stops_without_recursion(text: str) -> None:
    started = time.monotonic()
    loaded = load(text)
    assert time.monotonic() - started < 2
    assert not loaded.ok
    assert [f.rule for f in loaded.findings] == ["resource-limit"]


def test_depth_limit_is_configurable() -> None:
    text = "a: " + "[" * 50 + "]" * 50 + "\n"
    assert load(text).ok
    assert not load(text, Limits(max_depth=10)).ok


# -- the real files -------------------------------------------------------------------------------


def _parity_failures(files: list[Path]) -> list[str]:
    failures = []
    for path in files:
        text = path.read_bytes().decode("utf-8")
        accepted, expected = reference(text)
        loaded = load(text.removeprefix("\ufeff"))
        if accepted != loaded.ok:
            failures.append(f"{path}: PyYAML {'accepts' if accepted else 'refuses'} it, the loader does not")
        elif accepted and not same(loaded.data, expected):
            failures.append(f"{path}: the data differs from PyYAML's")
    return failures


def test_corpus_loads_like_pyyaml() -> None:
    files = sorted((shared_dir() / "corpus").rglob("*.yaml")) + sorted((shared_dir() / "corpus").rglob("*.yml"))
    assert len(files) >= 50
    assert _parity_failures(files) == []


def test_vectors_load_like_pyyaml() -> None:
    files = sorted((shared_dir() / "vectors" / "dev").glob("*/input.yaml"))
    assert len(files) >= 300
    assert _parity_failures(files) == []
