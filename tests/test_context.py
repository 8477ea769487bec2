"""The rule context: one accessor gives a value and its spans; shared results are computed once."""

from __future__ import annotations

from marianne_lint.building.structure import build
from marianne_lint.reading.loader import load
from marianne_lint.rules.base import Context, per_document

TEXT = """\
name: demo
workspace: ./ws
sheet:
  size: 1
  total_items: 2
prompt:
  template_file: prompts/missing.md
  variables: {a: 1}
"""


def context(text: str = TEXT) -> Context:
    loaded = load(text)
    assert loaded.root is not None
    built = build("score", loaded.data, loaded.root)
    assert built.model is not None, built.findings
    return Context("s.yaml", "score", built.model, loaded.data, loaded.root, loaded, text=text)


def test_at_gives_the_value_with_its_key_and_value_spans() -> None:
    found = context().at("prompt", "template_file")
    assert found.exists and found.value == "prompts/missing.md"
    assert (found.key.line, found.key.column, found.key.end_column) == (7, 3, 16)
    assert (found.span.line, found.span.column) == (7, 18)


def test_at_a_misspelled_path_has_no_value_so_no_rule_reports_at_an_ancestor() -> None:
    found = context().at("prompt", "template_fil")
    assert not found.exists and found.value is None
    assert found.key.line == 6  # the nearest written ancestor, for a "missing key" message


def test_at_the_root() -> None:
    found = context().at()
    assert found.exists and isinstance(found.value, dict)
    assert (found.key.line, found.key.column) == (1, 1)


def test_per_document_computes_once_per_context_and_keeps_results_apart() -> None:
    calls: list[str] = []

    @per_document
    def name_of(ctx: Context) -> str:
        calls.append(ctx.path)
        return str(ctx.raw("name"))

    one, two = context(), context(TEXT.replace("demo", "other"))
    assert [name_of(one), name_of(one), name_of(two)] == ["demo", "demo", "other"]
    assert len(calls) == 2


def test_line_text() -> None:
    ctx = context(TEXT.replace("\n", "\r\n"))
    assert ctx.line_text(1) == "name: demo"
    assert ctx.line_text(0) == "" and ctx.line_text(99) == ""
