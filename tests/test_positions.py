"""Positions: where ``PNode.locate`` finds keys and values, and where findings point (conventions.md)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import lint_text
from marianne_lint.reading.loader import load
from marianne_lint.reading.positions import Located, PNode


def root_of(text: str) -> PNode:
    loaded = load(text)
    assert loaded.ok and loaded.root is not None, loaded.findings
    return loaded.root


def key_at(found: Located) -> tuple[int, int]:
    assert found.key is not None
    return found.key.span.line, found.key.span.column


def value_at(found: Located) -> tuple[int, int]:
    return found.node.span.line, found.node.span.column


NESTED = """\
name: demo
sheet:
  size: 1
  dependencies:
    2: [1]
    "3": [1, 2]
retry:
  max_retries: 3
validations:
  - type: file_exists
    path: out.md
  - {type: content_contains, path: out.md, pattern: Done}
flow: {a: [10, 20, {b: 30}]}
"""


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (("name",), (1, 1), (1, 7)),
        (("sheet", "size"), (3, 3), (3, 9)),
        (("retry", "max_retries"), (8, 3), (8, 16)),
        (("sheet", "dependencies", 2), (5, 5), (5, 8)),
        (("sheet", "dependencies", 3), (6, 5), (6, 10)),  # written "3": found by the int pydantic reports
        (("sheet", "dependencies", "3"), (6, 5), (6, 10)),
        (("validations", 0, "path"), (11, 5), (11, 11)),
        (("validations", 1, "pattern"), (12, 44), (12, 53)),
        (("flow", "a"), (13, 8), (13, 11)),
    ],
)
def test_locate_key_and_value(path: tuple[Any, ...], key: tuple[int, int], value: tuple[int, int]) -> None:
    found = root_of(NESTED).locate(path)
    assert found.exact and found.depth == len(path)
    assert key_at(found) == key
    assert value_at(found) == value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("validations", 0), (10, 5)),  # a list item: its value starts at its first key
        (("validations", 1), (12, 5)),
        (("sheet", "dependencies", 3, 1), (6, 14)),
        (("flow", "a", 1), (13, 16)),
        (("flow", "a", 2, "b"), (13, 24)),
    ],
)
def test_locate_list_items(path: tuple[Any, ...], value: tuple[int, int]) -> None:
    found = root_of(NESTED).locate(path)
    assert found.exact
    assert found.key is None or path[-1] == "b"
    assert value_at(found) == value


def test_locate_stops_at_the_deepest_existing_node() -> None:
    found = root_of(NESTED).locate(("retry", "base_delay_seconds"))
    assert not found.exact and found.depth == 1
    assert key_at(found) == (7, 1)  # the 'retry' key
    assert found.key_or_value.line == 7

    deeper = root_of(NESTED).locate(("validations", 5, "path"))
    assert not deeper.exact and deeper.depth == 1
    assert key_at(deeper) == (9, 1)

    nothing = root_of(NESTED).locate(("missing", "x"))
    assert not nothing.exact and nothing.depth == 0 and nothing.key is None


ANCHORS = """\
defaults: &defaults
  max_retries: 3
  base_delay_seconds: 10
retry: *defaults
other:
  <<: *defaults
  base_delay_seconds: 20
list: &items [a, b]
again: *items
"""


def test_value_through_an_alias_points_at_the_anchored_text() -> None:
    found = root_of(ANCHORS).locate(("retry", "max_retries"))
    assert found.exact
    assert key_at(found) == (2, 3)
    assert value_at(found) == (2, 16)
    item = root_of(ANCHORS).locate(("again", 1))
    assert value_at(item) == (8, 18)


def test_value_through_a_merge_key_points_at_the_anchored_text() -> None:
    root = root_of(ANCHORS)
    merged = root.locate(("other", "max_retries"))
    assert merged.exact and key_at(merged) == (2, 3)
    own = root.locate(("other", "base_delay_seconds"))
    assert key_at(own) == (7, 3)  # the mapping's own key overrides the merged one
    other = root.child("other")[1]
    assert other is not None and other.merged == frozenset({"max_retries"})


def test_crlf_and_unicode_columns() -> None:
    root = root_of("名前: 値\r\nsheet:\r\n  size: 1\r\n")
    assert key_at(root.locate(("sheet", "size"))) == (3, 3)
    assert value_at(root.locate(("名前",))) == (1, 5)


def test_bool_and_int_keys_are_found_loosely() -> None:
    root = root_of("deps:\n  1: a\n  true: b\n")
    assert key_at(root.locate(("deps", 1))) == (3, 3)  # 1 and true are one key; the last is kept
    assert key_at(root.locate(("deps", "1"))) == (3, 3)


# -- where findings point ---------------------------------------------------------------------------

SCORE = """\
name: pos
workspace: ./workspace
sheet:
  size: 1
  total_items: 2
prompt:
  template: "Write {{ sheet_num }}"
validations:
  - type: file_exists
    path: "{workspace}/x.md"
  - type: content_contains
    path: "{workspace}/x.md"
    pattern: "Done"
"""


def where(text: str, rule: str) -> list[tuple[int, int]]:
    return [(d.line, d.column) for d in lint_text(text) if d.rule == rule]


def test_unknown_key_points_at_the_key() -> None:
    text = SCORE.replace("  total_items: 2\n", "  total_items: 2\n  totl: 3\n")
    assert where(text, "schema-unknown-key") == [(6, 3)]


def test_wrong_type_points_at_the_key() -> None:
    text = SCORE + "retry:\n  max_retries: three\n"
    assert where(text, "schema-type") == [(15, 3)]


def test_out_of_bounds_points_at_the_key() -> None:
    text = SCORE + "parallel:\n  max_concurrent: 50\n"
    assert where(text, "schema-range") == [(15, 3)]


def test_bad_enum_points_at_the_key() -> None:
    text = SCORE + "logging:\n  level: info\n"
    assert where(text, "schema-enum") == [(15, 3)]


def test_bad_list_element_points_at_the_element() -> None:
    text = SCORE.replace("  total_items: 2\n", "  total_items: 3\n  dependencies:\n    3: [1, two]\n")
    assert where(text, "schema-type") == [(7, 12)]


def test_missing_key_points_at_the_parent_key() -> None:
    text = SCORE.replace("  size: 1\n", "")
    assert where(text, "schema-missing-key") == [(3, 1)]


def test_missing_top_level_key_points_at_line_one() -> None:
    text = SCORE.replace("name: pos\n", "")
    assert where(text, "schema-missing-key") == [(1, 1)]


def test_list_item_missing_key_points_at_the_item_start() -> None:
    text = SCORE.replace('    path: "{workspace}/x.md"\n  - type: content', "  - type: content", 1)
    found = [d for d in lint_text(text) if d.rule.startswith("schema-")]
    assert [(d.line, d.column) for d in found] == [(9, 5)]


def test_cross_field_points_at_the_first_key_with_the_others_related() -> None:
    text = SCORE + "retry:\n  base_delay_seconds: 120\n  max_delay_seconds: 60\n"
    (finding,) = [d for d in lint_text(text) if d.rule == "schema-constraint"]
    assert (finding.line, finding.column) == (15, 3)
    assert [(r.line, r.column) for r in finding.related] == [(16, 3)]


def test_finding_through_a_merge_key_points_at_the_anchored_text() -> None:
    text = SCORE + "x-defaults: &d\n  max_retries: three\nretry:\n  <<: *d\n"
    found = [d for d in lint_text(text) if d.rule.startswith("schema-")]
    # the unknown top-level 'x-defaults' key, and the bad value where it is written (line 15)
    assert [(d.line, d.column, d.rule) for d in found] == [(14, 1, "schema-unknown-key"), (15, 3, "schema-type")]


def test_dependency_cycle_points_at_the_first_edge_with_the_others_related() -> None:
    text = SCORE.replace("  total_items: 2\n", "  total_items: 3\n  dependencies:\n    2: [3]\n    3: [2]\n")
    (finding,) = [d for d in lint_text(text) if d.rule == "dependency-cycle"]
    assert (finding.line, finding.column) == (7, 9)
    assert [(r.line, r.column) for r in finding.related] == [(8, 9)]


def test_raw_finds_keys_by_their_text() -> None:
    from marianne_lint.rules.base import Context

    text = "3: three\ntrue: yes\n.inf: big\nword: w\n"
    loaded = load(text)
    assert loaded.root is not None
    ctx = Context(path="t.yaml", kind="score", model=None, data=loaded.data, root=loaded.root, loaded=loaded)  # type: ignore[arg-type]
    assert ctx.raw(3) == "three" and ctx.raw("3") == "three"
    assert ctx.raw("True") is True  # YAML 1.1: 'yes' is a boolean; the key true reads as 'True'
    assert ctx.raw("inf") == "big"
    assert ctx.raw("word") == "w"
    assert ctx.raw("missing") is None and ctx.raw("nested", "deeper") is None


def test_editor_lines_fast_path_matches_the_general_one() -> None:
    """Text without a carriage return is split by ``str.split``; it must break lines exactly as the
    general scan does (and a repeated call on the same text gives the same lines)."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from marianne_lint.reading import positions

    breaks = re.compile(r"\r\n|\r|\n")

    def reference(text: str) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        start = 0
        for match in breaks.finditer(text):
            out.append((start, text[start:match.start()]))
            start = match.end()
        if start < len(text) or not out:
            out.append((start, text[start:]))
        return out

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet="ab\n\r\u2028\x85 ", max_size=40))
    def same(text: str) -> None:
        assert positions.editor_lines(text) == reference(text)
        assert positions.editor_lines(text) == reference(text)

    same()
