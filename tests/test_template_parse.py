"""The reduced copy of a template must tell the rules exactly what the template as written tells them."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import shared_dir
from marianne_lint.rules.support import template_parse
from marianne_lint.rules.support.template_parse import Parsed, reduce

Summary = tuple[bool, int, str, frozenset[str], frozenset[str], dict[str, int], dict[tuple[str, str], int]]


def summary(parsed: Parsed) -> Summary:
    """What the rules read from a parse: errors, names, and the first line of each use."""
    reads: dict[str, int] = {}
    for name, line, how in parsed.reads:
        key = f"{name}/{how}"
        reads[key] = min(reads.get(key, line), line)
    calls: dict[tuple[str, str], int] = {}
    for kind, name, line in parsed.calls:
        calls[(kind, name)] = min(calls.get((kind, name), line), line)
    return (parsed.ok, parsed.error_line, parsed.error, parsed.undeclared, parsed.assigned, reads, calls)


def unreduced(text: str) -> Parsed:
    """The same analysis on the template as written (no reduction)."""
    from jinja2 import nodes

    try:
        return template_parse._facts(template_parse.environment().parse(text), nodes)
    except jinja2.TemplateSyntaxError as exc:
        return Parsed(False, exc.lineno or 1, (exc.message or str(exc)).rstrip("."))


def check_same(text: str) -> None:
    template_parse.clear_caches()
    assert summary(template_parse.parse(text)) == summary(unreduced(text)), text


CASES = [
    "",
    "plain text only\n",
    "{{ a }} and {{ a }} and {{ a }}\n{{ b | upper }}\n{{ a }}",
    "{% if a %}\n{{ b }}\n{% else %}{{ b }}{% endif %}",
    "{% if a %}\n{{ b }}\n",  # unclosed block: Jinja's error at the end
    "{{ a }}\n{{ a\n}}\n{{ a }}\n{{ (b }}\n",  # error in a later tag
    "{{ a }}\n{{ a )}}\n",
    "text {{ '}}' }} {{ \"%}\" }} {{ c }}",
    "{% set x = '{{ not a tag }}' %}{{ x }}{{ y }}",
    "{# a comment {{ z }} #}{{ w }}",
    "{# an unclosed comment {{ z }}\n{{ w }}",
    "{% raw %}{{ not_a_name }}{% endraw %}{{ after }}",
    "{%- raw -%}{{ x }}{%- endraw %}{{ y }}",
    "line\r\nline\r{{ a }}\rline\n{{ b ) }}",  # old-style line breaks count as lines
    "{{ a is defined }}{{ a }}{{ c | default('x') }}\n{{ c | default('x') }}",
    "{{ {'k': v} }}{{ v }}",  # braces in an expression
    "{{ a }}}}{{ b }}",
    "{{}}",
    "{{ 'unclosed string }}\n{{ a }}",
    "{% for loop in items %}{% endfor %}",
    "{% for x in items %}{% set loop = 1 %}{% endfor %}",
    "{% block a %}{% endblock %}\n{% block a %}{% endblock %}",
    "{% macro m(a) %}{{ a }}{{ caller() }}{% endmacro %}{% call m(1) %}{{ b }}{% endcall %}",
    "{{ a }}\n{{- a -}}\n{{+ a }}",
    "{%+ if a -%}x{%- endif +%}",
    "{{ a\n  | upper }}\n{{ a\n  | upper }}\n{{ b }}",
    "{% if a %}{{ x | nofilter }}{% elif b is odd %}{{ y }}{% endif %}",
    "{{ a }}{{ a }{{ b }}",
    "{% if a %}}{% endif %}",
    "{{ a.b[0](c, d=e) }}\n" * 3,
    "{{ true }}{{ None }}{{ not }}{{ in }}{{ x.if }}{{ y.1 }}{{ z +}}{{+ w -}}{{- v }}",
    "{{ x }}\n{{\n\n x }}\n{{ caller }}{% macro m() %}{{ caller }}{% endmacro %}",
]


@pytest.mark.parametrize("text", CASES)
def test_reduced_and_written_templates_agree(text: str) -> None:
    check_same(text)


def test_reduction_keeps_lines_and_drops_plain_text_repeats_and_placeholders() -> None:
    text = "Intro {{ a | upper }}\nmore {{ a | upper }}\n{% if b %}x{{ c }}{% endif %}\n{# note #}{{\n d.e }}end"
    reduced = reduce(text)
    assert reduced.text == "{{ a | upper }}\n\n{% if b %}{% endif %}\n\n"
    assert reduced.text.count("\n") == text.count("\n")
    assert reduced.reads == (("c", 3), ("d", 5))


def test_words_jinja_does_not_read_as_names_are_left_to_jinja() -> None:
    reduced = reduce("{{ true }}{{ none }}{{ not }}{{ x }}{{ a +}}")
    assert reduced.text == "{{ true }}{{ none }}{{ not }}{{ a +}}"
    assert reduced.reads == (("x", 1),)


def test_reduction_stops_where_a_tag_is_not_certain() -> None:
    text = "a {{ x | e }}\n {% raw %}{{ b }}{% endraw %} c {{ d }}"
    reduced = reduce(text)
    assert reduced.text == "{{ x | e }}\n{% raw %}{{ b }}{% endraw %} c {{ d }}"
    assert reduced.rest == "{% raw %}{{ b }}{% endraw %} c {{ d }}"


def test_a_syntax_error_is_jinjas_own() -> None:
    template_parse.clear_caches()
    parsed = template_parse.parse("ok {{ a }}\n\n{% if b %}\n{{ a }} and {{ c ) }}\n")
    assert not parsed.ok
    assert parsed.error_line == 4
    assert "unexpected ')'" in parsed.error


def test_compile_errors_are_reported() -> None:
    assert template_parse.parse("{% for x in y %}\n{% set loop = 2 %}{% endfor %}").error_line == 2
    assert "defined twice" in template_parse.parse("{% block a %}{% endblock %}{% block a %}{% endblock %}").error


FRAGMENTS = [
    "{{ a }}",
    "{{- a.b +}}",
    "{{+ c\n-}}",
    "{{ true }}",
    "{{ b | upper }}",
    "{{ c is defined }}",
    "{{ d | default(1) }}",
    "{{ a\n}}",
    "{% if a %}",
    "{% elif b %}",
    "{% else %}",
    "{% endif %}",
    "{% for x in items %}",
    "{% endfor %}",
    "{% set y = '}}' %}",
    "{% raw %}",
    "{% endraw %}",
    "{#",
    "#}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{",
    "}",
    "'",
    '"',
    "(",
    ")",
    "-",
    "text",
    " ",
    "\n",
    "\r\n",
    "\r",
]


@seed(20_261_127)
@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_random_templates_agree(parts: list[str]) -> None:
    check_same("".join(parts))


def _corpus_templates() -> list[str]:
    corpus = shared_dir() / "corpus"
    texts: list[str] = []
    for path in sorted(corpus.rglob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if isinstance(prompt, dict):
            if isinstance(prompt.get("template"), str):
                texts.append(prompt["template"])
            written = prompt.get("template_file")
            if isinstance(written, str) and (path.parent / written).is_file():
                texts.append(Path(path.parent / written).read_text(encoding="utf-8"))
    for path in sorted(corpus.rglob("*.j2")) + sorted(corpus.rglob("*.jinja")):
        texts.append(path.read_text(encoding="utf-8"))
    return texts


def test_corpus_templates_agree() -> None:
    texts = _corpus_templates()
    assert len(texts) >= 40
    for text in texts:
        check_same(text)


def jinja_tokens(text: str) -> list[tuple[int, str, object]]:
    """The tokens Jinja's own lexer gives the parser, minus plain text."""
    stream = template_parse.environment()._tokenize(text, None)
    return [
        # '-%}' also takes the white space after it (the parser never reads these values).
        (token.lineno, token.type, token.value.rstrip() if token.type.endswith("_end") else token.value)
        for token in stream
        if token.type != "data"
    ]


def check_tokens(text: str) -> bool:
    """Our tokens for the reduced copy equal Jinja's; returns whether our lexer took the template."""
    reduced = reduce(text)
    ours = template_parse.tokens(reduced.tags) if reduced.rest is None else None
    if ours is None:
        return False
    try:
        theirs = jinja_tokens(reduced.text)
    except jinja2.TemplateSyntaxError:
        # Jinja's lexer refuses it: then the parser must refuse our tokens too.
        from jinja2.lexer import TokenStream
        from jinja2.parser import Parser

        parser = Parser(template_parse.environment(), "")
        parser.stream = TokenStream(iter(ours), None, None)
        with pytest.raises(jinja2.TemplateSyntaxError):
            parser.parse()
        return True
    assert [(t.lineno, t.type, t.value) for t in ours] == theirs, text
    return True


TOKEN_CASES = [
    "{% if a == 1 %}x{% elif b.c[0] != 'y' %}{{ f(a, b=2) | join(', ') }}{% endif %}",
    '{%- for x in items -%}\n  {{- x ~ "\n" -}}\n{%+ endfor +%}',
    "{{ a ** 2 // 3 % 4 }}{{ [1, 2] }}{{ (a, b) }}{% set c = d if e else f %}",
    "{{ a.0 }}{{ 1.5 }}{{ 1e3 }}{{ 0x1F }}{{ 1_000 }}{{ 01 }}{{ 'a\\'b' }}{{ naïve }}",
    "{{ a\f}}{{ a\v}}{{ a !b }}{{ (a] }}{{ a[b) }}{{ a +}}",
    "{% macro m(a, b=1) %}{{ caller() }}{% endmacro %}",
    "{{-}}{%-%}{{ }}",
]


@pytest.mark.parametrize("text", TOKEN_CASES)
def test_our_tokens_are_jinjas(text: str) -> None:
    check_tokens(text)


def test_our_lexer_gives_up_on_what_it_cannot_read_exactly() -> None:
    for text in ["{{ 1.5 }}", "{{ a.0 }}", "{{ 'a\\'b' }}", "{{ naïve }}", "{{ a\f}}", "{{ 0x1F }}", "{{ !a }}"]:
        reduced = reduce(text)
        assert reduced.rest is None
        assert template_parse.tokens(reduced.tags) is None, text


@seed(20_261_128)
@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from([*FRAGMENTS, "{{ a == 1 }}", "{% if x.y[0] %}", "{{ f(1, 'x') }}", "2", "."]), max_size=40)
)
def test_random_tokens_are_jinjas(parts: list[str]) -> None:
    check_tokens("".join(parts))


def test_corpus_tokens_are_jinjas() -> None:
    taken = sum(check_tokens(text) for text in _corpus_templates())
    assert taken >= 30  # our lexer reads most real templates


INSIDE = [
    " ",
    "\n",
    "\t",
    "\f",
    "a",
    "b1",
    "_x",
    "if",
    "elif",
    "else",
    "endif",
    "for",
    "in",
    "endfor",
    "set",
    "is",
    "not",
    "and",
    "true",
    "none",
    "1",
    "0",
    "10",
    "01",
    "1.5",
    "1e3",
    ".",
    "(",
    ")",
    "[",
    "]",
    ",",
    "|",
    "==",
    "=",
    "!=",
    "!",
    "+",
    "-",
    "*",
    "**",
    "/",
    "//",
    "%",
    "~",
    ":",
    ";",
    "<",
    ">=",
    "'s'",
    '"d\n"',
    "'",
    "é",
]
TAGS = st.tuples(
    st.sampled_from(["{{", "{{-", "{{+", "{%", "{%-", "{%+"]),
    st.lists(st.sampled_from(INSIDE), max_size=8),
    st.sampled_from(["}}", "-}}", "%}", "-%}", "+%}"]),
).map(lambda parts: parts[0] + "".join(parts[1]) + parts[2])


@seed(20_261_129)
@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            TAGS,
            st.sampled_from(["x", "\n", "{% if a %}", "{% endif %}", "{% for a in b %}", "{% endfor %}", "{{ a }}"]),
        ),
        max_size=12,
    )
)
def test_random_tags_agree(parts: list[str]) -> None:
    text = "".join(parts)
    check_tokens(text)
    check_same(text)


def test_the_parse_cache_is_bounded() -> None:
    template_parse.clear_caches()
    for number in range(template_parse._CACHED_TEMPLATES + 10):
        template_parse.parse(f"{{{{ a{number} }}}}")
    assert len(template_parse._PARSED) == template_parse._CACHED_TEMPLATES
    huge = "{{ a }}" + "x" * template_parse._CACHED_TEXT_LIMIT
    assert template_parse.parse(huge).ok
    assert huge not in template_parse._PARSED
