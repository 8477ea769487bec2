"""ML5xx: templates and variables (what the golden fixtures do not show well)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import jinja2
import jinja2.parser
import pytest

from conftest import lint_text, shared_dir
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path
from marianne_lint.rules.support import format_fields, template_parse

VALIDATIONS = """validations:
  - type: file_exists
    path: "{workspace}/out.md"
  - type: content_contains
    path: "{workspace}/out.md"
    pattern: "Done"
"""


def score(prompt: str, sheet: str = "", extra: str = "", validations: str = VALIDATIONS) -> str:
    head = "name: t\nworkspace: ./ws\nsheet:\n  size: 1\n  total_items: 2\n"
    return f"{head}{sheet}prompt:\n{prompt}{extra}{validations}"


def of(diagnostics: list[Diagnostic], rule: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.rule == rule]


def lint_file(path: Path) -> list[Diagnostic]:
    settings = Settings.from_config(Config(select=["ALL"], root=path.parent))
    result = lint_source(read_path(str(path), path.name), settings, file_path=path)
    assert result is not None
    return result.diagnostics


EVERYWHERE = score(
    '  variables: {topic: "tides"}\n'
    "  template: |\n"
    "    {{ topic | capitalise }} {{ topik }} {sheet_num} {{ range(10**12) | list | length }}\n",
    sheet='  prelude:\n    - file: "{{ workspace }}/{{ doc }}.md"\n      as: context\n',
    extra='cross_sheet:\n  capture_files: ["{{ workspace }}/{{ sheet_num - 1 }}.md"]\n',
)


# -- nothing is ever rendered -----------------------------------------------------------------


def test_no_template_is_ever_rendered_or_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def refuse(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} must not be called")

        return call

    for name in ("render", "render_async", "generate", "stream", "make_module", "module"):
        if hasattr(jinja2.Template, name):
            monkeypatch.setattr(jinja2.Template, name, refuse(f"Template.{name}"), raising=False)
    for name in ("from_string", "get_template", "compile", "compile_expression"):
        monkeypatch.setattr(jinja2.Environment, name, refuse(f"Environment.{name}"))
    diagnostics = lint_text(EVERYWHERE)
    assert calls == []
    rules = {d.rule for d in diagnostics}
    assert {
        "undefined-template-variable",
        "unknown-template-filter",
        "format-braces-in-template",
        "injection-path-template",
        "capture-files-expression",
    } <= rules


def test_a_template_that_would_take_forever_to_render_is_linted_at_once() -> None:
    start = time.perf_counter()
    lint_text(EVERYWHERE)  # rendering range(10**12) | list would never finish
    assert time.perf_counter() - start < 5


def test_each_template_is_parsed_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = template_parse.reduce

    def counting(text: str) -> template_parse.Reduced:
        parsed.append(text)
        return original(text)

    parses: list[int] = []
    original_init = jinja2.parser.Parser.__init__

    def counting_parser(self: jinja2.parser.Parser, *args: Any, **kwargs: Any) -> None:
        parses.append(1)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(template_parse, "reduce", counting)
    monkeypatch.setattr(jinja2.parser.Parser, "__init__", counting_parser)
    template_parse.clear_caches()
    lint_text(EVERYWHERE)
    assert sorted(parsed) == sorted(set(parsed))
    assert len(parsed) == 2  # the prompt and the one prelude path
    assert len(parses) == 2  # each by one Jinja parser
    lint_text(EVERYWHERE)  # the same texts in another document: not parsed again
    assert len(parsed) == 2
    assert len(parses) == 2


def test_template_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "p.j2").write_text("Hi {{ topik }} {sheet_num} {{ x | nope }}\n", encoding="utf-8")
    target = tmp_path / "s.yaml"
    target.write_text(score("  template_file: p.j2\n"), encoding="utf-8")
    from marianne_lint.reading import bounded

    reads: list[Path] = []
    original = bounded.read_regular

    def counting(path: str | os.PathLike[str], max_bytes: int) -> bytes:
        reads.append(Path(path))
        return original(path, max_bytes)

    monkeypatch.setattr(bounded, "read_regular", counting)
    diagnostics = lint_file(target)
    assert [p.name for p in reads].count("p.j2") == 1
    assert len(of(diagnostics, "undefined-template-variable")) == 2  # topik and x
    assert len(of(diagnostics, "format-braces-in-template")) == 1
    assert len(of(diagnostics, "unknown-template-filter")) == 1


# -- template-syntax --------------------------------------------------------------------------


def test_syntax_error_in_template_file_points_at_the_key_with_the_file_line(tmp_path: Path) -> None:
    (tmp_path / "p.j2").write_text("a\nb\n{% if sheet_num %}\nc\n", encoding="utf-8")
    target = tmp_path / "s.yaml"
    target.write_text(score("  template_file: p.j2\n"), encoding="utf-8")
    [finding] = of(lint_file(target), "template-syntax")
    assert (finding.line, finding.column) == (7, 3)
    assert finding.severity is Severity.ERROR
    assert "line 3 of template file 'p.j2'" in finding.message


@pytest.mark.parametrize("setup", ["missing", "folder", "binary"])
def test_unusable_template_file_is_left_to_the_paths_rules(tmp_path: Path, setup: str) -> None:
    if setup == "folder":
        (tmp_path / "p.j2").mkdir()
    elif setup == "binary":
        (tmp_path / "p.j2").write_bytes(b"\xff\xfe{% if")
    target = tmp_path / "s.yaml"
    target.write_text(score("  template_file: p.j2\n"), encoding="utf-8")
    diagnostics = lint_file(target)
    assert not [d for d in diagnostics if d.code.startswith("ML5")]


def test_relative_template_file_without_a_file_on_disk_is_skipped() -> None:
    diagnostics = lint_text(score("  template_file: prompts/p.j2\n"))
    assert not [d for d in diagnostics if d.code.startswith("ML5")]


@pytest.mark.parametrize(
    ("block", "line", "column"),
    [
        ("  template: |\n    a\n\n    {{ x }\n", 10, 5),  # literal block: the template's own line
        ("  template: |-\n\n    a\n    {{ x }\n", 10, 5),  # leading empty line counts
        ("  template:\n    |\n      a\n      {{ x }\n", 10, 7),  # indicator on its own line: the content's own column
        ("  template: >\n    a\n\n    {{ x }\n", 7, 3),  # folded: lines do not map, the key
        ('  template: "a\\n{{ x }"\n', 7, 3),  # quoted: the key
    ],
)
def test_syntax_error_position(block: str, line: int, column: int) -> None:
    [finding] = of(lint_text(score(block)), "template-syntax")
    assert (finding.line, finding.column) == (line, column)


def test_compile_time_errors_count_as_syntax_errors() -> None:
    text = score('  template: "{% block a %}{% endblock %}{% block a %}{% endblock %}"\n')
    [finding] = of(lint_text(text), "template-syntax")
    assert "defined twice" in finding.message


# -- undefined-template-variable --------------------------------------------------------------


def test_defined_names_follow_the_live_renderer_not_v101() -> None:
    text = score(
        "  template: |\n"
        "    {{ skipped_upstream }} {{ injected_context }} {{ injected_skills }} {{ injected_tools }}\n"
        "    {{ stakes }} {{ thinking_method }} {{ previous_outputs }} {{ previous_files }}\n"
        "    {{ instrument_name }}\n"
    )
    [finding] = of(lint_text(text), "undefined-template-variable")
    assert "'instrument_name'" in finding.message and "V101" in finding.message
    assert finding.line == 10


def test_names_bound_in_the_template_are_defined() -> None:
    text = score(
        "  template: |\n"
        "    {% for a, b in [(1, 2)] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}\n"
        "    {% if sheet_num == 1 %}{% set c = 1 %}{% elif sheet_num == 2 %}{% set c = 2 %}{% endif %}{{ c }}\n"
        "    {% macro m(d, e=1) %}{{ d }}{{ e }}{{ caller() if caller }}{% endmacro %}{{ m(1) }}\n"
        "    {% with f = 3 %}{{ f }}{% endwith %}{{ cycler(1, 2).next() }}{{ joiner() }}{{ lipsum(1) }}\n"
        "    {{ dict(a=1) }}{{ namespace(x=1).x }}\n"
    )
    assert of(lint_text(text), "undefined-template-variable") == []


def test_one_finding_per_name_at_its_first_use_in_name_order() -> None:
    text = score("  template: |\n    {{ zeta }} {{ alpha }}\n    {{ alpha }} {{ zeta }}\n")
    found = of(lint_text(text), "undefined-template-variable")
    assert [(d.line, d.column) for d in found] == [(8, 8), (8, 19)]
    assert ["'zeta'" in found[0].message, "'alpha'" in found[1].message] == [True, True]


def test_corpus_simple_sheet_reports_the_v101_variable() -> None:
    path = shared_dir() / "corpus" / "examples" / "getting-started" / "simple-sheet.yaml"
    found = of(lint_file(path), "undefined-template-variable")
    assert len(found) == 1
    assert "'_undefined_var'" in found[0].message and "default filter" in found[0].message


# -- validation placeholders ------------------------------------------------------------------


def test_format_fields_reads_nested_specs_and_raises_on_bad_strings() -> None:
    assert format_fields.fields("{a:{w}}-{b[0]}-{{c}}") == (("a", "{w}", None), ("w", "", None), ("b[0]", "", None))
    with pytest.raises(ValueError):
        format_fields.fields("{a")


def test_jinja_validation_paths_are_left_to_ml407() -> None:
    text = score(
        '  template: "x"\n',
        validations='validations:\n  - type: file_exists\n    path: "{{ workspace }}/{start_item}.md"\n'
        '  - type: content_contains\n    path: "{workspace}/o.md"\n    pattern: "D"\n',
    )
    diagnostics = lint_text(text)
    assert of(diagnostics, "validation-path-placeholder") == []
    assert len(of(diagnostics, "jinja-in-validation-path")) == 1


def test_user_variable_wins_nothing_in_validations_but_is_known() -> None:
    text = score(
        '  variables: {chapter: "intro", start_item: 3}\n  template: "x"\n',
        validations='validations:\n  - type: file_exists\n    path: "{workspace}/{chapter}-{start_item}.md"\n'
        '  - type: content_contains\n    path: "{workspace}/o.md"\n    pattern: "D"\n',
    )
    assert of(lint_text(text), "validation-path-placeholder") == []


def test_instance_on_a_score_without_fan_out_names_every_sheet() -> None:
    text = score(
        '  template: "x"\n',
        validations='validations:\n  - type: file_exists\n    path: "{workspace}/{voice}.md"\n'
        '  - type: content_contains\n    path: "{workspace}/o.md"\n    pattern: "D"\n',
    )
    [finding] = of(lint_text(text), "validation-path-placeholder")
    assert "sheets 1-2" in finding.message and "'None'" in finding.message


def test_format_pieces_and_roots() -> None:
    assert format_fields.pieces("{workspace}/a-{n:02d}.md") == (
        ("", "workspace", "", None),
        ("/a-", "n", "02d", None),
        (".md", None, None, None),
    )
    assert format_fields.pieces("{a") is None
    assert format_fields.root("a.b[0]") == "a"
    assert format_fields.root("[0]") == ""
