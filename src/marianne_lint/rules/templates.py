"""ML5xx: templates and variables (prompt templates, placeholders in paths and commands).

Marianne fills text in several ways, each with its own set of names:

* the prompt (``prompt.template`` or the file ``prompt.template_file``) is a
  Jinja2 template rendered with a strict Undefined: a name that is not
  defined makes the render fail;
* prelude and cadenza ``file``/``directory`` paths are Jinja2 rendered with
  a lenient Undefined: an unknown name becomes an empty string;
* ``cross_sheet.capture_files`` only has four exact spellings replaced;
* validation ``path``/``working_directory`` use Python ``str.format``;
  validation ``command`` and ``on_success`` hooks replace known ``{name}``
  placeholders as plain text and leave the others.

Templates are only parsed (never rendered), once each, by ``template_parse``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from marianne_lint.building.structure import MAX_GUESSES
from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.reading.positions import Span
from marianne_lint.rules.base import Context, Rule
from marianne_lint.rules.support import format_fields, template_parse
from marianne_lint.rules.support.branches import BranchStages
from marianne_lint.rules.support.prompt_sources import PromptSource, prompt_sources, template_file_unread
from marianne_lint.rules.support.sheets import (
    VALIDATION_BUILTINS,
    Injection,
    injections,
    sheet_facts,
    sheet_list,
    sheets_phrase,
    validation_names,
)
from marianne_lint.rules.support.template_parse import Parsed, known_filters
from marianne_lint.rules.validations import path_keys

# -- the names Marianne defines ----------------------------------------------------------------

#: The 14 built-ins of Marianne's V202/V208 checks, in their order.
FORMAT_BUILTINS: tuple[str, ...] = (
    "workspace",
    "sheet_num",
    "total_sheets",
    "start_item",
    "end_item",
    "instrument_name",
    "stage",
    "instance",
    "fan_count",
    "total_stages",
    "movement",
    "voice",
    "voice_count",
    "total_movements",
)

#: Set A: what the live prompt renderer defines (before and after the score's variables).
PROMPT_BUILTINS: tuple[str, ...] = (
    "sheet_num",
    "total_sheets",
    "start_item",
    "end_item",
    "workspace",
    "stage",
    "movement",
    "instance",
    "voice",
    "fan_count",
    "voice_count",
    "total_stages",
    "total_movements",
    "previous_outputs",
    "previous_files",
    "skipped_upstream",
    "injected_context",
    "injected_skills",
    "injected_tools",
    "stakes",
    "thinking_method",
)


#: Names Jinja itself provides in any template.
JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "self"})

#: The only placeholders ``on_success`` hooks fill.
HOOK_NAMES: tuple[str, ...] = ("workspace", "job_id", "sheet_count")

#: The only texts ``cross_sheet.capture_files`` has replaced.
CAPTURE_LITERALS: tuple[str, ...] = ("{{ workspace }}", "{{workspace}}", "{{ sheet_num }}", "{{sheet_num}}")

_CROSS_SHEET = frozenset({"previous_outputs", "previous_files", "skipped_upstream"})
_INJECTED = frozenset({"injected_context", "injected_skills", "injected_tools"})
_PROMPT_TEXTS = frozenset({"stakes", "thinking_method"})
_JINJA_MARKERS = ("{{", "{%", "{#")
_PLACEHOLDER = re.compile(r"(?<![{$])\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
_JINJA_EXPR = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _close(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=cutoff)
    return found[0] if found else None


def _variables(ctx: Context) -> dict[str, Any]:
    variables = ctx.score.prompt.variables
    return variables if isinstance(variables, dict) else {}


# -- positions inside a template ---------------------------------------------------------------


def template_span(
    ctx: Context, source: PromptSource, line: int, column: int | None = None, width: int = 1, needle: str | None = None
) -> Span:
    """Where line ``line`` (1-based) of a template is in the YAML file.

    Only a literal block scalar (``|``) keeps the template's lines one to one;
    for every other way of writing the value, and for a template file, the
    key is the position. ``column`` (0-based in the template line) or
    ``needle`` (searched in that line) narrow the span.
    """
    key = ctx.key_span(*source.key)
    node = ctx.node(*source.key)
    if not source.inline or node is None or node.style != "|":
        return key
    line = max(1, min(line, source.last))
    text = source.lines[line - 1]
    yaml_line = node.span.line + line
    # A literal block's line in the file is its indentation followed by the template line.
    written = ctx.line_text(yaml_line)
    if text and written.endswith(text):
        indent = len(written) - len(text) + 1
    else:
        indent = len(written) - len(written.lstrip()) + 1 if written.strip() else key.column + 2
    if column is None and needle is not None:
        found = _word_at(text, needle)
        if found is not None:
            column, width = found, len(needle)
    if column is None:
        column = len(text) - len(text.lstrip())
        width = max(1, len(text.rstrip()) - column)
    return Span(yaml_line, indent + column, yaml_line, indent + column + max(1, width))


def _word_at(text: str, word: str) -> int | None:
    """Where ``word`` first stands in ``text`` as a whole name (not inside a longer name, not after a
    dot); a plain search, since a template may name 20,000 words and each regex would be compiled."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if not (before == "." or _is_word_char(before)) and not _is_word_char(after):
            return start
        start = text.find(word, start + 1)
    return None


def _is_word_char(char: str) -> bool:
    """What ``\\w`` matches (a letter, digit or underscore of any script)."""
    return bool(char) and (char.isalnum() or char == "_")


# -- what a template uses ----------------------------------------------------------------------


@dataclass(slots=True)
class NameUse:
    first_line: int
    guard: str | None
    """How the template guards it (an ``is defined`` test, or every use through ``default``), if it does."""


def undefined_names(parsed: Parsed, defined: set[str]) -> dict[str, NameUse]:
    """Names the template reads from its context that are not in ``defined``, in name order."""
    if not parsed.ok:
        return {}
    missing = set(parsed.undeclared) - defined - JINJA_GLOBALS - parsed.assigned
    if not missing:
        return {}
    uses: dict[str, NameUse] = {}
    plain: set[str] = set()
    tested: set[str] = set()
    for name, line, how in parsed.reads:
        if name not in missing:
            continue
        use = uses.setdefault(name, NameUse(line, None))
        use.first_line = min(use.first_line, line)
        if how == "tested":
            tested.add(name)
        elif how == "plain":
            plain.add(name)
    for name, use in uses.items():
        if name in tested:
            use.guard = "an 'is defined' test"
        elif name not in plain:
            use.guard = "the default filter"
    return {name: uses[name] for name in sorted(uses)}


def unknown_filters(parsed: Parsed) -> list[tuple[str, str, int, str]]:
    """(kind, name, first line, suggestion) of filters and tests Jinja does not know, in order of first use."""
    filters, tests = known_filters()
    seen: dict[tuple[str, str], int] = {}
    for kind, name, line in parsed.calls:
        if name in (filters if kind == "filter" else tests):
            continue
        seen[(kind, name)] = min(seen.get((kind, name), line), line)
    out = []
    for number, ((kind, name), line) in enumerate(sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))):
        # a generated template may call 20,000 unknown filters: guesses for the first few only
        close = _close(name, filters if kind == "filter" else tests) if number < MAX_GUESSES else None
        suggestion = f"did you mean '{close}'?" if close else f"use one of Jinja's built-in {kind}s"
        out.append((kind, name, line, suggestion))
    return out


# -- rules: the prompt template ----------------------------------------------------------------


class TemplateSyntax(Rule):
    """The prompt template is not valid Jinja, so no sheet prompt can be built.

    Marianne renders ``prompt.template`` (or the contents of
    ``prompt.template_file``, looked up next to the score) with Jinja2 for
    every sheet; a syntax error (an unclosed ``{{`` or ``{% if %}``, an
    unknown tag such as ``{% do %}``, a stray ``{% endfor %}``) stops every
    sheet. Errors Jinja only raises when it compiles the template (a block
    defined twice, assigning to ``loop``) are reported too; ``mzt validate``
    misses those. For an inline template written as a literal block (``|``) the
    finding points at the template's line; otherwise at the key, with the
    template line in the message. A template file that does not exist or
    cannot be read is left to ``template-file-missing``. Covers
    ``mzt validate`` check V001.

    Failing::

        prompt:
          variables: {parts: [intro, body]}
          template: |
            {% for part in parts %}
            Write {{ part }}.

    Passing::

        prompt:
          variables: {parts: [intro, body]}
          template: |
            {% for part in parts %}
            Write {{ part }}.
            {% endfor %}
    """

    code = "ML501"
    name = "template-syntax"
    severity = Severity.ERROR
    summary = "the prompt template has a Jinja syntax error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for source in prompt_sources(ctx):
            parsed = source.parsed
            if parsed.ok or not parsed.error_line:
                continue
            lines = source.text.split("\n")
            shown = lines[parsed.error_line - 1].strip() if 0 < parsed.error_line <= len(lines) else ""
            near = f" (near '{shown[:60]}')" if shown else ""
            where = f"line {parsed.error_line} of {source.label}"
            message = (f"Jinja syntax error at {where}{near}: {parsed.error}; Marianne cannot render the prompt "
                       "of any sheet")
            suggestion = "close every '{{' with '}}' and every '{% if/for %}' with its '{% end... %}'"
            opener = _unclosed_comment(source.text) if "comment" in parsed.error else None
            if opener is not None:
                line_number, column, written = opener
                message = (
                    f"Jinja syntax error at {source.where(line_number)}: {written!r} opens a Jinja comment "
                    "('{#') that is never closed with '#}'; Marianne cannot render the prompt of any sheet"
                )
                suggestion = (
                    "wrap shell text in {% raw %}...{% endraw %}, or write {{ '{#' }} for a literal '{#'"
                )
                span = template_span(ctx, source, line_number, column, len(written))
            else:
                span = template_span(ctx, source, parsed.error_line)
            yield Finding(self.name, span, message, suggestion=suggestion)


_RAW_BLOCK = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}.*?\{%[-+]?\s*endraw\s*[-+]?%\}", re.S)
_COMMENT_OPEN = re.compile(r"\$?\{#")


def _outside_raw(text: str) -> str:
    """The text with ``{% raw %}`` blocks blanked out (same length, same line breaks)."""
    return _RAW_BLOCK.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def _comment_openers(text: str) -> Iterator[tuple[int, int, bool]]:
    """Each Jinja comment of the text outside raw blocks: (start, end or -1 when unclosed, after a '$')."""
    text = _outside_raw(text)
    at = 0
    while True:
        match = _COMMENT_OPEN.search(text, at)
        if match is None:
            return
        start = match.start() + (1 if match.group(0).startswith("$") else 0)
        end = text.find("#}", start + 2)
        yield start, (end + 2 if end >= 0 else -1), match.group(0).startswith("$")
        if end < 0:
            return
        at = end + 2


def _unclosed_comment(text: str) -> tuple[int, int, str] | None:
    """Where a comment that is never closed opens: (line, column, the text that opens it)."""
    for start, end, dollar in _comment_openers(text):
        if end < 0:
            line, column = line_and_column(text, start)
            written = text[start - 1: start + 2] if dollar else "{#"
            return line, column - (1 if dollar else 0), written
    return None


def prompt_defined(ctx: Context) -> set[str]:
    """Every name the live prompt renderer defines: set A plus the score's variables."""
    return set(PROMPT_BUILTINS) | {str(name) for name in _variables(ctx)}


class UndefinedTemplateVariable(Rule):
    """The prompt template uses a name that is not defined when Marianne renders it.

    Marianne renders the prompt with a strict Undefined: a name that is
    neither one of its built-ins (``sheet_num``, ``total_sheets``,
    ``start_item``, ``end_item``, ``workspace``, ``stage``/``movement``,
    ``instance``/``voice``, ``fan_count``/``voice_count``,
    ``total_stages``/``total_movements``, ``previous_outputs``,
    ``previous_files``, ``skipped_upstream``, ``injected_context``,
    ``injected_skills``, ``injected_tools``, ``stakes``,
    ``thinking_method``), nor a key of ``prompt.variables``, nor bound in the
    template (``{% set %}``, ``{% for %}``, macro parameters, ``{% with %}``),
    nor a Jinja global, makes the render fail and the sheet cannot start.
    A name used only behind ``is defined`` or the ``default`` filter renders,
    but is reported too: it is never defined, so the fallback is always
    used (often a typo or a forgotten variable).

    ``instrument_name`` is not defined in the prompt, although
    ``mzt validate`` (V101) accepts it; ``skipped_upstream`` and the
    ``injected_*`` lists are defined, although V101 reports them. Covers
    ``mzt validate`` check V101.

    Failing::

        prompt:
          variables: {topic: "tides"}
          template: "Write about {{ topik }} for sheet {{ sheet_num }}."

    Passing::

        prompt:
          variables: {topic: "tides"}
          template: "Write about {{ topic }} for sheet {{ sheet_num }}."
    """

    code = "ML502"
    name = "undefined-template-variable"
    severity = Severity.WARNING
    summary = "the prompt template uses a name Marianne does not define"

    def check(self, ctx: Context) -> Iterator[Finding]:
        defined = prompt_defined(ctx)
        user = sorted(str(name) for name in _variables(ctx))
        guesses = 0
        for source in prompt_sources(ctx):
            if not source.parsed.ok:
                continue
            for name, use in undefined_names(source.parsed, defined).items():
                where = source.where(use.first_line)
                if use.guard:
                    message = (
                        f"{where} uses '{name}', which is never defined: the template guards it with "
                        f"{use.guard}, so Marianne always renders the fallback"
                    )
                else:
                    message = (
                        f"{where} uses '{name}', which is not defined when Marianne renders the prompt: "
                        "the render fails and the sheet cannot start"
                    )
                if name == "instrument_name":
                    message += (
                        " (mzt validate's V101 wrongly counts instrument_name as built-in; only validations get it)"
                    )
                close = None
                if guesses < MAX_GUESSES:  # a generated template may name 20,000 words: stay linear
                    guesses += 1
                    close = _close(name, defined)  # an undefined name is never among the defined
                if close:
                    suggestion = f"did you mean '{close}'?"
                elif user and len(user) <= 5:
                    suggestion = f"define it under prompt.variables (defined there: {', '.join(user)})"
                else:
                    suggestion = f"define '{name}' under prompt.variables"
                yield Finding(
                    self.name,
                    template_span(ctx, source, use.first_line, needle=name),
                    message,
                    suggestion=suggestion,
                )


_SINGLE_BRACE = re.compile(r"(?<!\{)\{(" + "|".join(FORMAT_BUILTINS) + r")\}(?!\})")
#: The same without the look-around, which would keep the regex engine from skipping ahead to
#: each '{' (15 times faster on long prompts): a quick test before the exact one.
_SINGLE_BRACE_HINT = re.compile(r"\{(?:" + "|".join(FORMAT_BUILTINS) + r")\}")


def _text_pieces(source: PromptSource) -> Iterator[tuple[int, str]]:
    """(offset in the template, text) of each stretch of plain template text (outside Jinja tags)."""
    if _SINGLE_BRACE_HINT.search(source.text) is None or _SINGLE_BRACE.search(source.text) is None:
        return  # nothing to find: spare the lexer
    pieces = template_parse.lex_data(source.text) if source.parsed.ok else None
    yield from pieces if pieces is not None else [(0, source.text)]


class FormatBracesInTemplate(Rule):
    """The prompt template writes a built-in as ``{sheet_num}`` with single braces.

    The prompt is a Jinja template: ``{sheet_num}`` is plain text and
    reaches the instrument as the literal characters ``{sheet_num}``; Jinja
    placeholders take double braces, ``{{ sheet_num }}``. Only Marianne's
    built-in names are reported (other ``{words}`` may be meant literally),
    and only in template text, not inside Jinja tags. Covers ``mzt validate``
    check V202 (which looks at the inline template only; this rule also
    reads ``template_file``).

    Failing::

        prompt:
          template: "Write part {sheet_num} of {{ total_sheets }}."

    Passing::

        prompt:
          template: "Write part {{ sheet_num }} of {{ total_sheets }}."
    """

    code = "ML503"
    name = "format-braces-in-template"
    fixable = "safe"
    fix_summary = "write `{name}` as `{{ name }}` (inline templates)"
    severity = Severity.WARNING
    summary = "a built-in is written {name} with single braces in a Jinja prompt"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for source in prompt_sources(ctx):
            for offset, text in _text_pieces(source):
                for match in _SINGLE_BRACE.finditer(text):
                    before = source.text[: offset + match.start()]
                    line = before.count("\n") + 1
                    column = len(before) - (before.rfind("\n") + 1)
                    name = match.group(1)
                    span = template_span(ctx, source, line, column, match.end() - match.start())
                    yield Finding(
                        self.name,
                        span,
                        f"{source.where(line)} writes '{{{name}}}' with single braces: the prompt is Jinja, so "
                        f"it reaches the instrument as the literal text '{{{name}}}', not the value of {name}",
                        suggestion=f"write '{{{{ {name} }}}}'",
                        fix=_double_braces(ctx, source, span, offset + match.start(), match.group(0), name),
                    )


def _double_braces(ctx: Context, source: PromptSource, span: Span, at: int, written: str, name: str) -> Fix | None:
    """``{name}`` -> ``{{ name }}`` in an inline template (a template file is another file: not touched)."""
    if not source.inline:
        return None
    wanted = f"{{{{ {name} }}}}"
    message = f"write '{wanted}'"
    if ctx.edits.source(span) == written:  # a literal block: the finding is on the very braces
        return Fix.of(message, "safe", ctx.edits.replace(span, wanted))
    node = ctx.node(*source.key)
    if node is None or source.text[at : at + len(written)] != written:
        return None
    rewritten = source.text[:at] + wanted + source.text[at + len(written) :]
    return Fix.of(message, "safe", ctx.edits.replace_scalar(node, source.text, rewritten))


def _shadow_effect(name: str) -> str:
    if name in _PROMPT_TEXTS:
        return (
            f"Marianne sets '{name}' from prompt.{name} (empty when unset) after the variables, so the "
            "prompt never sees this value"
        )
    if name in _CROSS_SHEET or name in _INJECTED:
        return (
            f"in the prompt your value replaces the '{name}' Marianne fills from earlier sheets and injected "
            "files, so the template never sees the real data"
        )
    if name in ("start_item", "end_item"):
        return (
            f"in the prompt your value replaces the sheet's real {name}; validations have no built-in "
            f"'{name}', so they use your value"
        )
    if name == "instrument_name":
        return (
            "the prompt sees your value (it has no built-in instrument_name), but validation paths, "
            "commands and conditions see the sheet's real instrument name"
        )
    return (
        f"in the prompt your value replaces the built-in '{name}', but validation paths, commands and "
        "conditions still see the built-in, so prompt and validations disagree"
    )


class VariableShadowsBuiltin(Rule):
    """A ``prompt.variables`` key has the name of a Marianne built-in.

    The outcome differs by place: in the prompt a score variable replaces
    the built-in of the same name (``sheet_num: 5`` makes every sheet's
    prompt say 5), while in validation paths, commands and conditions the
    built-in wins. ``stakes`` and ``thinking_method`` are the exception: the
    prompt always takes them from ``prompt.stakes`` and
    ``prompt.thinking_method``, so a variable of that name is never seen.
    Reported for Marianne's 14 built-ins and for the other names the prompt
    defines (``previous_outputs``, ``previous_files``, ``skipped_upstream``,
    ``injected_*``, ``stakes``, ``thinking_method``). Covers ``mzt validate``
    check V208.

    Failing::

        prompt:
          variables: {workspace: "/tmp/elsewhere"}
          template: "Write to {{ workspace }}/out.md"

    Passing::

        prompt:
          variables: {output_dir: "/tmp/elsewhere"}
          template: "Write to {{ output_dir }}/out.md"
    """

    code = "ML504"
    name = "variable-shadows-builtin"
    severity = Severity.WARNING
    summary = "a prompt variable has the name of a built-in"

    _NAMES = frozenset(FORMAT_BUILTINS) | frozenset(PROMPT_BUILTINS)

    def check(self, ctx: Context) -> Iterator[Finding]:
        variables = _variables(ctx)
        for name in variables:
            if name not in self._NAMES:
                continue
            yield Finding(
                self.name,
                ctx.key_span("prompt", "variables", name),
                f"prompt.variables.{name} ({_shown(variables[name])}) has the name of a Marianne built-in: "
                f"{_shadow_effect(name)}",
                suggestion=(
                    f"set prompt.{name} instead" if name in _PROMPT_TEXTS else f"rename the variable (e.g. 'my_{name}')"
                ),
            )


class UnknownTemplateFilter(Rule):
    """A Jinja filter or test that Jinja does not have.

    Marianne renders its templates with Jinja's built-in filters and tests
    only; ``{{ name | capitalise }}`` or ``{% if n is positive %}`` makes the
    render fail (for a prompt: the sheet cannot start; for a prelude or
    cadenza path: the file is not injected). ``mzt validate`` only parses
    templates and does not notice.

    Failing::

        prompt:
          variables: {topic: "tides"}
          template: "# {{ topic | capitalise }}"

    Passing::

        prompt:
          variables: {topic: "tides"}
          template: "# {{ topic | capitalize }}"
    """

    code = "ML510"
    name = "unknown-template-filter"
    severity = Severity.WARNING
    summary = "a template uses a Jinja filter or test that does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for source in prompt_sources(ctx):
            if not source.parsed.ok:
                continue
            for kind, name, line, suggestion in unknown_filters(source.parsed):
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, needle=name),
                    f"{source.where(line)} uses the {kind} '{name}', which Jinja does not have: rendering the "
                    "prompt fails",
                    suggestion=suggestion,
                )
        for item in _injection_items(ctx):
            parsed = template_parse.parse(item.written)
            if not parsed.ok:
                continue
            for kind, name, _line, suggestion in unknown_filters(parsed):
                yield Finding(
                    self.name,
                    ctx.key_span(*item.path),
                    f"{item.label} '{item.written}' uses the {kind} '{name}', which Jinja does not have: the "
                    "path cannot be rendered",
                    suggestion=suggestion,
                )


# -- rules: validation paths and commands ------------------------------------------------------


def _stays(found: list[str]) -> str:
    return "stays" if len(set(found)) == 1 else "stay"


def _label(index: int, rule: Any) -> str:
    return f"validation #{index + 1} ({rule.type})"


class ValidationPathPlaceholder(Rule):
    """A validation ``path`` or ``working_directory`` placeholder that fails or misleads.

    Marianne fills these with Python ``str.format`` and a context made of the
    score's ``prompt.variables`` overlaid by the built-ins ``sheet_num``,
    ``total_sheets``, ``workspace``, ``instrument_name``, ``stage``,
    ``movement``, ``instance``, ``voice``, ``fan_count``, ``voice_count``,
    ``total_stages`` and ``total_movements``. So:

    * a name outside that context (classically ``{start_item}`` or
      ``{end_item}``, which prompts have but validations do not) raises a
      KeyError, and the validation fails on every sheet it applies to;
    * ``{instance}`` and ``{voice}`` are None on sheets that are not fanned
      out, so the path contains the text ``None`` there;
    * ``{}`` or ``{0}`` (positional fields) and unbalanced braces make
      ``str.format`` fail; a literal brace must be doubled.

    Paths with Jinja ``{{`` are left to ``jinja-in-validation-path``.

    Failing::

        validations:
          - type: file_exists
            path: "{workspace}/items-{start_item}.md"

    Passing::

        validations:
          - type: file_exists
            path: "{workspace}/sheet-{sheet_num}.md"
    """

    code = "ML505"
    name = "validation-path-placeholder"
    fixable = "unsafe"
    fix_summary = "rename a misspelled placeholder to the one known name it is close to"
    severity = Severity.WARNING
    summary = "a validation path uses a placeholder that fails or renders 'None'"

    def check(self, ctx: Context) -> Iterator[Finding]:
        rules = ctx.score.validations
        if not rules:
            return
        known = set(validation_names(ctx))
        facts = sheet_facts(ctx)
        reach: list[list[int]] | None = None
        for index, rule in enumerate(rules):
            for key in path_keys(rule):
                value = getattr(rule, key, None)
                if not isinstance(value, str) or not value or "{{" in value:
                    continue
                where = f"{_label(index, rule)} {key} '{value}'"
                try:
                    fields = format_fields.fields(value)
                except ValueError as exc:
                    yield Finding(
                        self.name,
                        ctx.key_span("validations", index, key),
                        f"{where} is not a valid format string ({exc}): the validation fails on every sheet",
                        suggestion="balance the braces; write '{{' and '}}' for literal braces",
                    )
                    continue
                reported: set[str] = set()
                for field, spec, conversion in fields:
                    root = format_fields.root(field)
                    if root in reported:
                        continue
                    reported.add(root)
                    if not root or root.isdigit():
                        yield Finding(
                            self.name,
                            ctx.key_span("validations", index, key),
                            f"{where} has the positional field '{{{field}}}': Marianne passes only named values, "
                            "so the validation fails on every sheet",
                            suggestion="name the value, e.g. '{sheet_num}'",
                        )
                    elif root not in known:
                        yield Finding(
                            self.name,
                            ctx.key_span("validations", index, key),
                            f"{where} uses '{{{field}}}', but {_why_unknown(root)}: str.format raises KeyError "
                            "and the validation fails on every sheet it applies to",
                            suggestion=_unknown_suggestion(root, known),
                            fix=_rename_placeholder(ctx, ("validations", index, key), value, root, known),
                        )
                    elif conversion is not None and conversion not in "rsa":
                        yield Finding(
                            self.name,
                            ctx.key_span("validations", index, key),
                            f"{where} uses the conversion '!{conversion}', which str.format does not know: the "
                            "validation fails on every sheet",
                            suggestion="use !r, !s or !a, or no conversion",
                        )
                    elif root in ("instance", "voice"):
                        if reach is None:
                            from marianne_lint.rules.validations import applicability

                            reach = applicability(ctx)
                        solo = [s for s in reach[index] if facts.metas[s].fan_count <= 1]
                        if not solo:
                            continue
                        spec_note = f" (and the format spec ':{spec}' fails on None)" if spec else ""
                        yield Finding(
                            self.name,
                            ctx.key_span("validations", index, key),
                            f"{where} uses '{{{field}}}', which is None on sheets that are not fanned out "
                            f"({'sheet' if len(solo) == 1 else 'sheets'} {sheet_list(solo)}): the path there contains "
                            f"the text 'None'{spec_note}",
                            suggestion="restrict the validation to fanned-out sheets with a condition, or use "
                            "{sheet_num}",
                        )


def _why_unknown(name: str) -> str:
    if name in ("start_item", "end_item"):
        return f"'{name}' is defined in prompts, not when validations run"
    if name in PROMPT_BUILTINS:
        return f"'{name}' is a prompt-only name, not defined when validations run"
    return f"'{name}' is neither a built-in nor a key of prompt.variables"


def _rename_placeholder(ctx: Context, path: tuple[Any, ...], value: str, root: str, known: set[str]) -> Fix | None:
    """Rename a misspelled ``{placeholder}`` to the one known name it is close to (unsafe: a guess)."""
    if root in ("start_item", "end_item"):
        return None
    close = difflib.get_close_matches(root, sorted(known - {"instance", "voice"}), n=2, cutoff=0.75)
    if len(close) != 1:
        return None
    rewritten = re.sub(r"(?<!\{)\{" + re.escape(root) + r"(?=[.\[!:}])", "{" + close[0], value)
    found = ctx.root.locate(path)
    if rewritten == value or not found.exact:
        return None
    return Fix.of(f"write '{{{close[0]}}}'", "unsafe", ctx.edits.replace_scalar(found.node, value, rewritten))


def _unknown_suggestion(name: str, known: set[str]) -> str:
    if name in ("start_item", "end_item"):
        return "use {sheet_num}, or define the value under prompt.variables"
    close = _close(name, known)
    if close:
        return f"did you mean '{{{close}}}'?"
    return f"define '{name}' under prompt.variables, or write '{{{{{name}}}}}' for literal braces"


class ValidationCommandPlaceholder(Rule):
    """A ``{name}`` in a validation command that Marianne leaves as it is.

    Marianne replaces each ``{name}`` of a ``command_succeeds`` command whose
    name is in the validation context (the score's variables and the
    built-ins listed under ``validation-path-placeholder``), shell-quoted,
    and leaves any other ``{name}`` in the command, where the shell sees it
    as literal text. Since braces also belong to shell, awk, jq or Python
    code, only names that are certainly meant as Marianne placeholders are
    reported: names the prompt has but validations do not (``start_item``,
    ``end_item``, ``stakes``, ``previous_outputs``...) and near-misses of
    known names. ``${VAR}`` is the shell's and is never reported.

    Failing::

        validations:
          - type: command_succeeds
            command: "test -s {workspace}/part-{start_item}.md"

    Passing::

        validations:
          - type: command_succeeds
            command: "test -s {workspace}/part-{sheet_num}.md"
    """

    code = "ML506"
    name = "validation-command-placeholder"
    severity = Severity.WARNING
    summary = "a validation command uses a {placeholder} Marianne does not fill"

    def check(self, ctx: Context) -> Iterator[Finding]:
        known = set(validation_names(ctx))
        for index, rule in enumerate(ctx.score.validations):
            command = rule.command
            if not isinstance(command, str):
                continue
            seen: set[str] = set()
            for match in _PLACEHOLDER.finditer(command):
                name = match.group(1)
                if name in known or name in seen:
                    continue
                seen.add(name)
                close = _close(name, known, cutoff=0.8)
                if name in PROMPT_BUILTINS:
                    why = _why_unknown(name)
                elif close:
                    why = f"'{name}' is not a name Marianne fills (did you mean '{close}'?)"
                else:
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "command"),
                    f"{_label(index, rule)} command uses '{{{name}}}', but {why}: Marianne leaves it in the "
                    "command as literal text",
                    suggestion=f"use '{{{close}}}'"
                    if close and name not in PROMPT_BUILTINS
                    else _unknown_suggestion(name, known),
                )


# -- rules: injected files, captured files, hooks ----------------------------------------------


def _injection_items(ctx: Context) -> Iterator[Injection]:
    """Prelude and cadenza paths that contain Jinja markup, as written."""
    return (item for item in injections(ctx) if any(marker in item.written for marker in _JINJA_MARKERS))


class InjectionPathTemplate(Rule):
    """A prelude or cadenza path template that cannot render, or renders a name as empty text.

    ``sheet.prelude[].file``/``directory`` and the same keys under
    ``sheet.cadenzas`` are Jinja templates, rendered with a lenient
    Undefined: a name that is not defined becomes an empty string, so
    ``{{ docs_dir }}/guide.md`` silently turns into ``/guide.md`` and the
    wrong file (or none) is injected. The names defined are the prompt's
    built-ins and, when the job runs, ``prompt.variables`` (the
    ``mzt validate`` preview renders these paths without the variables). A
    Jinja syntax error makes the path unusable. A ``{workspace}``-style
    placeholder (validation paths take those) is literal text here, so the
    path holds the characters ``{workspace}`` and names no file. ``mzt validate`` never
    parses these paths.

    Failing::

        prompt:
          variables: {docs_dir: /srv/docs}
        sheet:
          prelude:
            - file: "{{ doc_dir }}/guide.md"
              as: context

    Passing::

        prompt:
          variables: {docs_dir: /srv/docs}
        sheet:
          prelude:
            - file: "{{ docs_dir }}/guide.md"
              as: context
    """

    code = "ML507"
    name = "injection-path-template"
    severity = Severity.WARNING
    summary = "a prelude or cadenza path has a Jinja error, an undefined name or a {single-brace} placeholder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        defined = prompt_defined(ctx)
        for item in injections(ctx):
            if not any(marker in item.written for marker in _JINJA_MARKERS):
                single = _FORMAT_PLACEHOLDER.search(item.written) if "{" in item.written else None
                if single is not None and single.group(1) in defined:
                    yield self._single_brace(ctx, item, single.group(1))
                continue
            parsed = template_parse.parse(item.written)
            span = ctx.key_span(*item.path)
            if not parsed.ok and parsed.error_line:
                yield Finding(
                    self.name,
                    span,
                    f"{item.label} '{item.written}' is not valid Jinja ({parsed.error}): Marianne cannot render "
                    "the path, so nothing is injected",
                    suggestion="write placeholders as '{{ name }}'",
                )
                continue
            for name in undefined_names(parsed, defined):
                close = _close(name, defined - {name})
                yield Finding(
                    self.name,
                    span,
                    f"{item.label} '{item.written}' uses '{name}', which is neither a built-in nor a key of "
                    "prompt.variables: it renders as an empty string, so the path points somewhere else",
                    suggestion=f"did you mean '{close}'?" if close else f"define '{name}' under prompt.variables",
                )
            single = _FORMAT_PLACEHOLDER.search(item.written)
            if single is not None and single.group(1) in defined:
                yield self._single_brace(ctx, item, single.group(1))

    def _single_brace(self, ctx: Context, item: Injection, name: str) -> Finding:
        return Finding(
            self.name,
            ctx.key_span(*item.path),
            f"{item.label} '{item.written}' writes '{{{name}}}' with single braces: the path is Jinja, where that "
            f"is literal text, so the path holds the characters '{{{name}}}' and names no file: nothing is injected",
            suggestion=f"write '{{{{ {name} }}}}'",
        )


#: A ``{name}`` placeholder of Python's str.format, not inside Jinja's ``{{ }}``.
_FORMAT_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


class CaptureFilesExpression(Rule):
    """A ``cross_sheet.capture_files`` pattern with placeholders Marianne does not replace.

    These globs are not Jinja: Marianne only replaces the exact texts
    ``{{ workspace }}``, ``{{workspace}}``, ``{{ sheet_num }}`` and
    ``{{sheet_num}}``. Any other ``{{ ... }}`` (an expression such as
    ``{{ sheet_num - 1 }}``, another name, other spacing) or a
    ``{workspace}``-style placeholder stays in the pattern as literal text,
    the glob matches no file, and ``previous_files`` stays empty.
    ``mzt validate`` never looks at these patterns.

    Failing::

        cross_sheet:
          capture_files:
            - "{{ workspace }}/sheet-{{ sheet_num - 1 }}.md"

    Passing::

        cross_sheet:
          capture_files:
            - "{{ workspace }}/sheet-*.md"
    """

    code = "ML508"
    name = "capture-files-expression"
    severity = Severity.WARNING
    summary = "a capture_files pattern has a placeholder that is not replaced"

    def check(self, ctx: Context) -> Iterator[Finding]:
        patterns = ctx.raw("cross_sheet", "capture_files")
        if not isinstance(patterns, list):
            return
        for index, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                continue
            rest = pattern
            for literal in CAPTURE_LITERALS:
                rest = rest.replace(literal, "")
            left = [m.group(0) for m in _JINJA_EXPR.finditer(rest)]
            left += [m.group(0) for m in _PLACEHOLDER.finditer(rest) if m.group(1) in PROMPT_BUILTINS + FORMAT_BUILTINS]
            if not left:
                continue
            shown = ", ".join(f"'{text}'" for text in dict.fromkeys(left))
            yield Finding(
                self.name,
                ctx.key_span("cross_sheet", "capture_files", index),
                f"cross_sheet.capture_files[{index}] '{pattern}': {shown} {_stays(left)} literal text (only "
                "'{{ workspace }}' and '{{ sheet_num }}' are replaced, as exact text), so the pattern matches "
                "no file and previous_files stays empty",
                suggestion="use a glob such as '{{ workspace }}/sheet-*.md' instead of an expression",
            )


class HookPlaceholder(Rule):
    """An ``on_success`` hook placeholder that Marianne leaves as it is.

    ``on_success[].job_path`` and ``.command`` only get ``{workspace}``,
    ``{job_id}`` and ``{sheet_count}`` replaced (shell-quoted in commands).
    Any other placeholder (``{sheet_num}``, a score variable, Jinja
    ``{{ workspace }}``) stays as literal text: the chained score is not
    found, or the command gets a wrong argument. In a command, only names
    Marianne uses elsewhere and near-misses are reported (braces also belong
    to shell and other code); ``${VAR}`` is never reported.

    Failing::

        on_success:
          - type: run_command
            command: "cp {workspace}/report.md /srv/reports/{sheet_num}.md"

    Passing::

        on_success:
          - type: run_command
            command: "cp {workspace}/report.md /srv/reports/{job_id}.md"
    """

    code = "ML509"
    name = "hook-placeholder"
    severity = Severity.WARNING
    summary = "an on_success hook uses a placeholder Marianne does not fill"

    def check(self, ctx: Context) -> Iterator[Finding]:
        hooks = ctx.raw("on_success")
        if not isinstance(hooks, list):
            return
        marianne_names = set(PROMPT_BUILTINS) | set(VALIDATION_BUILTINS) | {str(n) for n in _variables(ctx)}
        for index, hook in enumerate(hooks):
            if not isinstance(hook, dict):
                continue
            for key in ("job_path", "command"):
                value = hook.get(key)
                if not isinstance(value, str):
                    continue
                left: list[str] = [m.group(0) for m in _JINJA_EXPR.finditer(value)]
                for match in _PLACEHOLDER.finditer(value):
                    name = match.group(1)
                    if name in HOOK_NAMES:
                        continue
                    if key == "job_path" or name in marianne_names or _close(name, HOOK_NAMES, cutoff=0.8):
                        left.append(match.group(0))
                if not left:
                    continue
                shown = ", ".join(f"'{text}'" for text in dict.fromkeys(left))
                yield Finding(
                    self.name,
                    ctx.key_span("on_success", index, key),
                    f"on_success[{index}].{key} '{value}': {shown} {_stays(left)} literal text; hooks only have "
                    "{workspace}, {job_id} and {sheet_count} replaced",
                    suggestion="use {workspace}, {job_id} or {sheet_count}, or write the value itself",
                )


_LOADER_TAG = re.compile(r"\{%[-+]?\s*(include|extends|import|from)\b")


class TemplateNeedsLoader(Rule):
    """The prompt template uses ``{% include %}``, ``{% extends %}`` or ``{% import %}``.

    Marianne renders the prompt from a string, with no template loader: any tag that reads
    another template fails when the sheet's prompt is rendered, so the sheet never starts. Write
    the shared text into the template, or into ``prompt.variables``, or inject a file with a
    prelude or cadenza.

    Source: the common pitfalls of Marianne's plugin reference (include and extends in prompts).

    Failing::

        prompt:
          template: "{% include 'header.j2' %} Write part {{ sheet_num }}."

    Passing::

        prompt:
          template: "Write part {{ sheet_num }}."
    """

    code = "ML511"
    name = "template-needs-loader"
    severity = Severity.ERROR
    summary = "the prompt template includes, extends or imports another template, which cannot be loaded"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for source in prompt_sources(ctx):
            if _LOADER_TAG.search(source.text) is None:
                continue
            for line_number, line in enumerate(source.text.split("\n"), start=1):
                for match in _LOADER_TAG.finditer(line):
                    tag = match.group(1)
                    yield Finding(
                        self.name,
                        template_span(ctx, source, line_number, match.start(), match.end() - match.start()),
                        f"{source.where(line_number)} uses {{% {tag} %}}: Marianne renders prompts without a "
                        "template loader, so rendering fails and the sheet never starts",
                        suggestion="put the shared text in the template or in prompt.variables, or inject a "
                        "file with a prelude",
                    )


def _cross_sheet_reads(ctx: Context, source: PromptSource) -> dict[str, int]:
    """The cross-sheet names (previous_outputs, previous_files) the template reads: name -> first line.

    A name the score defines itself in ``prompt.variables`` is the score's own value, not Marianne's.
    """
    parsed = source.parsed
    if not parsed.ok:
        return {}
    own = {str(name) for name in _variables(ctx)}
    out: dict[str, int] = {}
    for name, line, _how in parsed.reads:
        if name in ("previous_outputs", "previous_files") and name not in own and name not in parsed.assigned:
            out[name] = min(out.get(name, line), line)
    return out


class PreviousOutputsNotCaptured(Rule):
    """The prompt reads ``previous_outputs`` or ``previous_files``, but nothing is captured for it.

    Marianne fills ``previous_outputs`` with earlier sheets' standard output only when
    ``cross_sheet.auto_capture_stdout`` is true, and ``previous_files`` only with the files that
    ``cross_sheet.capture_files`` names. Without that configuration both are empty mappings: the
    template renders, the loop over them produces nothing, and each sheet works without the
    results it was written to build on. Marianne's score-writing guide names this pitfall.

    Failing::

        prompt:
          template: |
            {% for n, out in previous_outputs.items() %}{{ out }}{% endfor %}
            Summarise the findings above.

    Passing::

        cross_sheet:
          auto_capture_stdout: true
        prompt:
          template: |
            {% for n, out in previous_outputs.items() %}{{ out }}{% endfor %}
            Summarise the findings above.
    """

    code = "ML512"
    name = "previous-outputs-not-captured"
    severity = Severity.WARNING
    summary = "the prompt reads previous_outputs or previous_files, but cross_sheet captures nothing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cross = ctx.score.cross_sheet
        captured = {
            "previous_outputs": bool(cross is not None and cross.auto_capture_stdout),
            "previous_files": bool(cross is not None and cross.capture_files),
        }
        needed = {
            "previous_outputs": "cross_sheet.auto_capture_stdout: true",
            "previous_files": "cross_sheet.capture_files (the files to pass on)",
        }
        for source in prompt_sources(ctx):
            for name, line in sorted(_cross_sheet_reads(ctx, source).items(), key=lambda kv: kv[1]):
                if captured[name]:
                    continue
                why = "the score has no cross_sheet block" if cross is None else (
                    "cross_sheet.auto_capture_stdout is false" if name == "previous_outputs"
                    else "cross_sheet.capture_files is empty")
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, needle=name),
                    f"{source.where(line)} reads {name}, but {why}: Marianne passes it as an empty mapping, "
                    "so every sheet runs without the earlier sheets' results",
                    suggestion=f"set {needed[name]}",
                )


class LookbackMissesFanOut(Rule):
    """A sheet that gathers a fan-out reads fewer earlier sheets than the fan-out has.

    ``cross_sheet.lookback_sheets`` (default 3; 0 means all) is how many of the sheets just
    before a sheet Marianne passes into ``previous_outputs`` and ``previous_files``, counted by
    sheet number. A fan-in sheet that depends on a stage fanned out to more sheets than that
    only sees the last few of them: the synthesis silently leaves the others out.

    Source: Marianne's score-writing guide and plugin reference (cross-sheet context for a fan-in).

    Failing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 5}
          dependencies: {2: [1]}
        cross_sheet:
          auto_capture_stdout: true
        prompt:
          template: "{{ previous_outputs | length }} drafts: merge them."

    Passing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 5}
          dependencies: {2: [1]}
        cross_sheet:
          auto_capture_stdout: true
          lookback_sheets: 0
        prompt:
          template: "{{ previous_outputs | length }} drafts: merge them."
    """

    code = "ML513"
    name = "lookback-misses-fan-out"
    severity = Severity.WARNING
    summary = "cross_sheet.lookback_sheets is smaller than the fan-out a sheet gathers"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cross = ctx.score.cross_sheet
        if cross is None:
            return
        reads: set[str] = set()
        for source in prompt_sources(ctx):
            reads |= set(_cross_sheet_reads(ctx, source))
        captured = ("previous_outputs" in reads and cross.auto_capture_stdout) or (
            "previous_files" in reads and bool(cross.capture_files))
        lookback = cross.lookback_sheets
        if not captured or not isinstance(lookback, int) or lookback <= 0:
            return
        facts = sheet_facts(ctx)
        if not facts.has_fan_out:
            return
        reported: set[int] = set()
        for number, meta in facts.metas.items():
            if meta.stage in reported:
                continue
            for dep_stage in sorted({facts.metas[d].stage for d in facts.sheet_dependencies.get(number, [])
                                     if d in facts.metas}):
                gathered = facts.sheets_of_stage(dep_stage)
                if len(gathered) < 2:
                    continue
                missed = [d for d in gathered if d < number - lookback]
                if not missed:
                    continue
                reported.add(meta.stage)
                where = ("cross_sheet", "lookback_sheets") if ctx.exists("cross_sheet", "lookback_sheets") else (
                    "cross_sheet",)
                written = "" if ctx.exists("cross_sheet", "lookback_sheets") else " (the default)"
                yield Finding(
                    self.name,
                    ctx.key_span(*where),
                    f"sheet {number} (stage {meta.stage}) gathers the {len(gathered)} sheets of stage {dep_stage}, "
                    f"but cross_sheet.lookback_sheets is {lookback}{written}: it only sees sheets "
                    f"{max(1, number - lookback)}-{number - 1}, so {sheet_list(missed)} never reach its prompt",
                    suggestion=f"set cross_sheet.lookback_sheets to {number - min(gathered)} or more, or 0 for all",
                )
                break


#: cross_sheet.max_output_chars when it is not written.
_DEFAULT_OUTPUT_CHARS = 2000


class PreviousOutputsTruncated(Rule):
    """A sheet reads earlier sheets' outputs, but each is cut to 2,000 characters (or fewer).

    Marianne truncates every entry of ``previous_outputs`` and ``previous_files`` to
    ``cross_sheet.max_output_chars`` characters, 2,000 when it is not set: about a page. A sheet
    that reviews or synthesises earlier work then sees the start of each output and silently
    misses the rest. Marianne's own examples that gather earlier sheets raise it (3,000 to 8,000).
    Reported when the prompt reads them and the limit is the default or set below it. Source:
    Marianne's score-writing guide and plugin reference (cross-sheet context).

    Failing::

        cross_sheet:
          auto_capture_stdout: true
        prompt:
          template: "Merge the drafts: {{ previous_outputs }}"

    Passing::

        cross_sheet:
          auto_capture_stdout: true
          max_output_chars: 8000
        prompt:
          template: "Merge the drafts: {{ previous_outputs }}"
    """

    code = "ML521"
    name = "previous-outputs-truncated"
    severity = Severity.WARNING
    summary = "the prompt reads earlier outputs, but cross_sheet.max_output_chars cuts each to 2,000 characters"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cross = ctx.score.cross_sheet
        if cross is None or not (cross.auto_capture_stdout or cross.capture_files):
            return  # previous-outputs-not-captured speaks
        written = ctx.exists("cross_sheet", "max_output_chars")
        limit = cross.max_output_chars
        if limit > _DEFAULT_OUTPUT_CHARS or (written and limit == _DEFAULT_OUTPUT_CHARS):
            return
        captured = {"previous_outputs": bool(cross.auto_capture_stdout), "previous_files": bool(cross.capture_files)}
        for source in prompt_sources(ctx):
            reads = sorted((line, name) for name, line in _cross_sheet_reads(ctx, source).items() if captured[name])
            if not reads:
                continue
            line, name = reads[0]
            shown = f"cross_sheet.max_output_chars is {limit:,}" if written else (
                f"cross_sheet.max_output_chars is not set (default {limit:,})")
            yield Finding(
                self.name,
                ctx.key_span("cross_sheet", "max_output_chars") if written else ctx.key_span("cross_sheet"),
                f"{source.where(line)} reads {name}, and {shown}: each earlier output reaches the sheet cut to its "
                f"first {limit:,} characters, so the rest is silently left out",
                related=[(template_span(ctx, source, line, needle=name), f"reads {name}")],
                suggestion="raise cross_sheet.max_output_chars to what a sheet writes (e.g. 8000)",
            )
            return



class JinjaCommentSwallowsText(Rule):
    """Shell text such as ``${#items[@]}`` opens a Jinja comment that a later ``#}`` closes.

    Jinja reads ``{#`` as the start of a comment, wherever it stands: bash's ``${#name}`` (the
    length of a variable or array) contains one. When a ``#}`` follows somewhere later, the
    template still renders, but everything between the two is dropped from the prompt without a
    word; when none follows, the template does not parse (``template-syntax``).

    Source: Jinja's comment syntax against bash's ``${#name}``, as met in prompts that embed shell.

    Failing::

        prompt:
          template: |
            Count with: echo ${#files[@]}
            Then list each file. {# note for authors #}

    Passing::

        prompt:
          template: |
            Count with: {% raw %}echo ${#files[@]}{% endraw %}
            Then list each file. {# note for authors #}
    """

    code = "ML514"
    name = "jinja-comment-swallows-text"
    severity = Severity.WARNING
    summary = "shell text like ${#var} opens a Jinja comment, and the text up to the next #} is dropped"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for source in prompt_sources(ctx):
            if not source.parsed.ok or "${#" not in source.text:
                continue
            text = source.text
            for start, end, dollar in _comment_openers(text):
                if end < 0 or not dollar:
                    continue
                line, column = line_and_column(text, start - 1)
                dropped = text[start + 2: end - 2]
                lines = dropped.count("\n")
                size = f"{lines + 1} lines" if lines else f"{len(dropped)} characters"
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, column, 3),
                    f"{source.where(line)}: '${{#' opens a Jinja comment that the '#}}' at line "
                    f"{line_and_column(text, end - 2)[0]} closes, so {size} of the prompt are dropped",
                    suggestion="wrap the shell text in {% raw %}...{% endraw %}",
                )


_DICT_METHODS = frozenset({"values", "items", "keys", "get", "pop", "update", "copy", "clear", "setdefault",
                           "popitem"})
_ATTRIBUTE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")


class DictMethodShadowsKey(Rule):
    """The template reads a mapping's key with a dot, and the key is also a dictionary method.

    Jinja looks ``persona.values`` up as an attribute first, and every Python mapping has a
    ``values`` method (likewise ``items``, ``keys``, ``get``, ``update``, ...): the prompt then
    holds ``<built-in method values of dict object ...>`` instead of the text stored under that
    key. Subscript syntax, ``persona['values']``, reads the key. Marianne's own notes list this.

    Failing::

        prompt:
          variables:
            persona: {name: Ada, values: "rigour and kindness"}
          template: "You are {{ persona.name }}; you value {{ persona.values }}."

    Passing::

        prompt:
          variables:
            persona: {name: Ada, values: "rigour and kindness"}
          template: "You are {{ persona.name }}; you value {{ persona['values'] }}."
    """

    code = "ML515"
    name = "dict-method-shadows-key"
    severity = Severity.WARNING
    summary = "the template reads a key such as .values or .items with a dot, which finds the dict method"

    def check(self, ctx: Context) -> Iterator[Finding]:
        variables = _variables(ctx)
        mappings = {str(name): value for name, value in variables.items()
                    if isinstance(value, dict) and not _DICT_METHODS.isdisjoint(value)}
        if not mappings:
            return
        for source in prompt_sources(ctx):
            if not source.parsed.ok:
                continue
            for line_number, line in enumerate(source.text.split("\n"), start=1):
                if "{{" not in line and "{%" not in line:
                    continue
                for match in _ATTRIBUTE.finditer(line):
                    name, key = match.groups()
                    value = mappings.get(name)
                    if value is None or key not in _DICT_METHODS or key not in value:
                        continue
                    yield Finding(
                        self.name,
                        template_span(ctx, source, line_number, match.start(), match.end() - match.start()),
                        f"{source.where(line_number)} reads {name}.{key}: Jinja finds the mapping's {key}() "
                        f"method before the key '{key}' of prompt.variables.{name}, so the prompt shows the "
                        "method instead of the text",
                        suggestion=f"write {name}['{key}']",
                    )


class FoldedTemplate(Rule):
    """``prompt.template`` is written as a folded block (``>``), which joins its lines.

    In a folded block YAML turns each single line break into a space: headings, bullet lists,
    numbered steps and code all run together into one paragraph before Jinja sees the text (only
    blank lines and more-indented lines survive). A literal block (``|``) keeps the lines as
    written.

    Source: the common pitfalls of Marianne's plugin reference (folded prompt blocks).

    Failing::

        prompt:
          template: >
            # Task
            - read {{ workspace }}/brief.md
            - write {{ workspace }}/plan.md

    Passing::

        prompt:
          template: |
            # Task
            - read {{ workspace }}/brief.md
            - write {{ workspace }}/plan.md
    """

    code = "ML516"
    name = "folded-template"
    severity = Severity.INFO
    summary = "prompt.template is a folded block (>), so its lines are joined into one paragraph"
    fixable = "unsafe"
    fix_summary = "write the block as a literal block (`|`)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        node = ctx.node("prompt", "template")
        if node is None or node.style != ">":
            return
        text = ctx.score.prompt.template or ""
        lines = [line for line in ctx.edits.source(node.span).split("\n")[1:] if line.strip()]
        if len(lines) < 2:
            return
        span = ctx.value_span("prompt", "template")
        indicator = ctx.line_text(span.line)[span.column - 1: span.column]
        fix = None
        if indicator == ">":
            edit = ctx.edits.replace_token(Span(span.line, span.column, span.line, span.column + 1), ">", "|")
            fix = Fix.of("write the template as a literal block (|)", "unsafe", edit)
        yield Finding(
            self.name,
            ctx.key_span("prompt", "template"),
            f"prompt.template is a folded block (>): YAML joins its {len(lines)} lines with spaces, so the "
            f"prompt starts '{text[:50].strip()}...' as one paragraph, and lists or steps run together",
            suggestion="write 'template: |' to keep the lines",
            fix=fix,
        )


_SHEET_NUM_TEST = re.compile(r"\bsheet_num\s*(==|!=|<=|>=|<|>)\s*(\d+)\b|\b(\d+)\s*(==|!=)\s*sheet_num\b")
_STAGE_NAMES = re.compile(r"\b(stage|movement|instance|voice)\b")


class SheetNumBranchAfterFanOut(Rule):
    """The prompt branches on ``sheet_num`` with stage numbers, but fan-out renumbers the sheets.

    After ``fan_out`` sheet numbers count sheets, not stages: with ``fan_out: {2: 3}``, stage 2
    is sheets 2-4 and stage 3 is sheet 5. A template written ``{% if sheet_num == 3 %}`` for
    stage 3 gives that text to the second voice of stage 2, and ``sheet_num == 2`` reaches only
    the first voice of stage 2. Reported when every number the template compares ``sheet_num``
    with is at most the stage count and one of them is a sheet of another stage or one voice of
    a fanned-out stage (a test that also names ``stage``, ``instance`` or ``voice`` is left
    alone). Marianne's score-writing guide says to branch on ``stage``.

    Failing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}
        prompt:
          template: |
            {% if sheet_num == 1 %}Plan.{% elif sheet_num == 2 %}Draft.{% else %}Merge.{% endif %}

    Passing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}
        prompt:
          template: |
            {% if stage == 1 %}Plan.{% elif stage == 2 %}Draft.{% else %}Merge.{% endif %}
    """

    code = "ML517"
    name = "sheet-num-branch-after-fan-out"
    severity = Severity.WARNING
    summary = "the template compares sheet_num with stage numbers, but fan-out renumbers the sheets"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        if not facts.has_fan_out or facts.total_sheets <= facts.total_stages:
            return
        if "sheet_num" in _variables(ctx):
            return
        for source in prompt_sources(ctx):
            if not source.parsed.ok or "sheet_num" not in source.text:
                continue
            tests: list[tuple[int, int, int, int]] = []  # (number, line, column, width)
            for line_number, line in enumerate(source.text.split("\n"), start=1):
                for tag in _JINJA_EXPR.finditer(line):
                    if _STAGE_NAMES.search(tag.group(0)):
                        continue  # the test itself looks at the stage or voice
                    for match in _SHEET_NUM_TEST.finditer(tag.group(0)):
                        number = int(match.group(2) or match.group(3))
                        tests.append((number, line_number, tag.start() + match.start(), match.end() - match.start()))
            if not tests or max(t[0] for t in tests) > facts.total_stages:
                continue
            for number, line_number, column, width in tests:
                meta = facts.metas.get(number)
                if meta is None or (meta.stage == number and meta.fan_count <= 1):
                    continue
                voice = f", voice {meta.instance} of {meta.fan_count}" if meta.fan_count > 1 else ""
                stage_sheets = facts.sheets_of_stage(number)
                yield Finding(
                    self.name,
                    template_span(ctx, source, line_number, column, width),
                    f"{source.where(line_number)} compares sheet_num with {number}: after fan-out sheet {number} "
                    f"is stage {meta.stage}{voice}, and stage {number} is {sheets_phrase(stage_sheets)}",
                    suggestion=f"branch on stage: {{% if stage == {number} %}}",
                )
                break


_STRING_KEY = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\|\s*string\s*\]")
#: The end of such a lookup: found fast (it starts at a literal '|'), so long templates are scanned once.
_STRING_KEY_END = re.compile(r"\|\s*string\s*\]")
#: The built-ins Marianne renders into a prompt as integers.
_NUMBER_NAMES = frozenset({"instance", "voice", "stage", "movement", "sheet_num", "fan_count", "voice_count",
                           "total_sheets", "total_stages", "start_item", "end_item"})


def _int_like(key: Any) -> bool:
    return (isinstance(key, int) and not isinstance(key, bool)) or (isinstance(key, str) and key.strip().isdigit())


class StringifiedIntKeyLookup(Rule):
    """The template looks a number up as text (``names[instance|string]``) in a mapping with number keys.

    Marianne turns the keys of mappings inside ``prompt.variables`` that look like integers into
    integers (``{"1": a}`` becomes ``{1: a}``; YAML already reads ``1: a`` that way). Then
    ``angles[instance|string]`` looks up the text ``"1"``, which is not a key: the prompt is
    rendered with a strict Undefined, so every sheet that reaches the lookup fails. Look the
    number up as it is: ``angles[instance]``. Marianne's plugin reference names this pitfall.

    Failing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 2}
        prompt:
          variables:
            angles: {1: cost, 2: risk}
          template: "Review for {{ angles[instance|string] }}."

    Passing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 2}
        prompt:
          variables:
            angles: {1: cost, 2: risk}
          template: "Review for {{ angles[instance] }}."
    """

    code = "ML518"
    name = "stringified-int-key-lookup"
    severity = Severity.ERROR
    summary = "the template looks up name[x|string] in a mapping whose keys Marianne makes integers"

    def check(self, ctx: Context) -> Iterator[Finding]:
        variables = _variables(ctx)
        numbered = {str(name) for name, value in variables.items()
                    if isinstance(value, dict) and value and all(_int_like(k) for k in value)}
        if not numbered:
            return
        for source in prompt_sources(ctx):
            if not source.parsed.ok or _STRING_KEY_END.search(source.text) is None:
                continue
            for line_number, line in enumerate(source.text.split("\n"), start=1):
                for match in _STRING_KEY.finditer(line):
                    name, index = match.groups()
                    if name not in numbered or (index not in _NUMBER_NAMES and index not in variables):
                        continue
                    yield Finding(
                        self.name,
                        template_span(ctx, source, line_number, match.start(), match.end() - match.start()),
                        f"{source.where(line_number)} looks up {name}[{index}|string]: the keys of "
                        f"prompt.variables.{name} are integers once Marianne loads them, so the text key is "
                        "never found and rendering fails with an undefined value",
                        suggestion=f"write {name}[{index}]",
                    )


#: Names whose value differs between the voices of one fanned-out stage.
_PER_VOICE = frozenset({"instance", "voice", "sheet_num", "start_item", "end_item"})


class IdenticalFanOutPrompts(Rule):
    """A stage is fanned out, but the prompt never reads anything that differs between its voices.

    Every voice of a fanned-out stage gets the prompt rendered with its own ``instance`` (alias
    ``voice``) and ``sheet_num``. A template that reads none of them gives every voice the same
    text, so the parallel sheets do the same work (or race to write the same file) instead of
    splitting it. Use ``{{ instance }}`` to pick each voice's share, e.g. from a mapping in
    ``prompt.variables``.

    Source: Marianne's plugin reference (fan-out voices that get the same prompt).

    Failing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
        prompt:
          template: "Review the draft in {{ workspace }}/draft.md."

    Passing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
        prompt:
          variables:
            lenses: {1: accuracy, 2: style, 3: structure}
          template: "Review {{ workspace }}/draft.md for {{ lenses[instance] }}."
    """

    code = "ML519"
    name = "identical-fan-out-prompts"
    severity = Severity.INFO
    summary = "a stage is fanned out, but the prompt reads no instance, voice or sheet_num"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        fanned = sorted(stage for stage, count in facts.fan_out.items() if isinstance(count, int) and count > 1)
        if not fanned:
            return
        sources = prompt_sources(ctx)
        if not sources or not all(source.parsed.ok for source in sources):
            return
        if template_file_unread(ctx):
            return
        if any(_PER_VOICE & set(source.parsed.undeclared) for source in sources):
            return
        shown = f"stage {fanned[0]}" if len(fanned) == 1 else f"stages {sheet_list(fanned)}"
        yield Finding(
            self.name,
            ctx.key_span(*sources[0].key),
            f"{shown} {'is' if len(fanned) == 1 else 'are'} fanned out, but the prompt reads no instance, voice "
            "or sheet_num: every voice gets the same prompt and does the same work",
            suggestion="give each voice its share with {{ instance }} (e.g. a mapping in prompt.variables)",
        )


_BRANCH_TEST = re.compile(r"\{%-?\s*(?:if|elif)\s+(stage|movement|sheet_num)\s*(==|>=|>)\s*(\d+)\s*-?%\}")


class TemplateBranchUnreachable(Rule):
    """A template branch tests for a stage or sheet number the score does not have.

    ``{% if stage == 4 %}`` in a score with three stages is never taken: the work written there
    is never asked for. Often ``total_items`` was not raised when a stage was added, or
    ``sheet.size`` is above 1 in a score whose stages are its items (``size: 2, total_items: 4``
    makes two sheets, so stages 3 and 4 do not exist). Marianne's score-reviewer checklist asks for
    ``total_items`` to match the stages, with ``size: 1``.

    Failing::

        sheet:
          size: 1
          total_items: 3
        prompt:
          template: |
            {% if stage == 1 %}Plan.{% elif stage == 4 %}Publish.{% else %}Write.{% endif %}

    Passing::

        sheet:
          size: 1
          total_items: 4
        prompt:
          template: |
            {% if stage == 1 %}Plan.{% elif stage == 4 %}Publish.{% else %}Write.{% endif %}
    """

    code = "ML520"
    name = "template-branch-unreachable"
    severity = Severity.WARNING
    summary = "a template branch tests for a stage or sheet number beyond the score's"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        if facts.total_sheets < 1:
            return  # no-sheets speaks
        own = {str(name) for name in _variables(ctx)}
        size = ctx.raw("sheet", "size")
        for source in prompt_sources(ctx):
            if not source.parsed.ok:
                continue
            text = source.text
            for match in _BRANCH_TEST.finditer(text):  # one pass; lines are counted only for a finding
                name, operator, written = match.group(1), match.group(2), int(match.group(3))
                if name in own:
                    continue
                top = facts.total_sheets if name == "sheet_num" else facts.total_stages
                wanted = written + 1 if operator == ">" else written
                if wanted <= top:
                    continue
                line_number, column = line_and_column(text, match.start())
                what = "sheets" if name == "sheet_num" else "stages"
                note = ""
                if isinstance(size, int) and not isinstance(size, bool) and size > 1 and name != "sheet_num":
                    note = f" (sheet.size is {size}: each sheet takes {size} items, so there are fewer stages)"
                yield Finding(
                    self.name,
                    template_span(ctx, source, line_number, column, match.end() - match.start()),
                    f"{source.where(line_number)} tests {name} {operator} {written}, but the score has {top} "
                    f"{what}{note}: the branch is never rendered",
                    suggestion="raise sheet.total_items to cover every stage (with size: 1), or remove the branch",
                )


class BatchRangeCollapses(Rule):
    """A batched sheet's prompt reads ``start_item``/``end_item``, which the conductor sets to the sheet number.

    With ``sheet.size`` above 1 each sheet stands for a range of items, and ``mzt validate``'s
    preview renders ``{{ start_item }}`` to ``{{ end_item }}`` as that range. The conductor's live
    prompt renderer sets both to ``sheet_num`` instead: sheet 2 of a size-10 score is told to
    handle item 2 only, and items 11 to 20 are never handled. Use ``size: 1`` with one sheet per
    item, or compute the range from ``sheet_num`` in the template. Source: the live prompt
    renderer's behaviour recorded in Marianne's schema notes (batch scores in the movement and
    composition guides).

    Failing::

        sheet:
          size: 10
          total_items: 30
        prompt:
          template: "Review items {{ start_item }} to {{ end_item }}."

    Passing::

        sheet:
          size: 10
          total_items: 30
        prompt:
          template: "Review items {{ (sheet_num - 1) * 10 + 1 }} to {{ sheet_num * 10 }}."
    """

    code = "ML522"
    name = "batch-range-collapses"
    severity = Severity.WARNING
    summary = "a batched sheet reads start_item/end_item, which the live conductor sets to the sheet number"

    def check(self, ctx: Context) -> Iterator[Finding]:
        size = ctx.score.sheet.size
        if not isinstance(size, int) or size <= 1:
            return
        own = {str(name) for name in _variables(ctx)}
        for source in prompt_sources(ctx):
            parsed = source.parsed
            if not parsed.ok:
                continue
            reads = sorted((line, name) for name, line, _how in parsed.reads
                           if name in ("start_item", "end_item") and name not in own and name not in parsed.assigned)
            if not reads:
                continue
            line, name = reads[0]
            yield Finding(
                self.name,
                ctx.key_span("sheet", "size"),
                f"sheet.size is {size}, and {source.where(line)} reads {name}: the conductor renders start_item and "
                f"end_item as the sheet number, not the sheet's {size} items, so most items are never handled",
                related=[(template_span(ctx, source, line, needle=name), f"reads {name}")],
                suggestion="use size: 1 (one sheet per item), or compute the range from sheet_num in the template",
            )
            return


#: Those names as a pattern (Jinja's ``+`` of a text and one of them is a TypeError).
_NUMBER_NAMES_RE = "(?:" + "|".join(sorted(_NUMBER_NAMES, key=len, reverse=True)) + ")"
_TEXT_PLUS_NUMBER = re.compile(
    rf"""(?:(?:"[^"\n]*"|'[^'\n]*')\s*\+\s*{_NUMBER_NAMES_RE}\b(?!\s*\|)|\b{_NUMBER_NAMES_RE}\s*\+\s*(?:"|'))""")
_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_NUMBER_AFTER = re.compile(rf"\s*{_NUMBER_NAMES_RE}\b")
_NUMBER_BEFORE = re.compile(rf"\b{_NUMBER_NAMES_RE}\s*$")


def _plus_near_number(text: str) -> bool:
    """Whether some ``+`` of ``text`` stands next to one of those names (each '+' looked at once)."""
    at = text.find("+")
    while at != -1:
        if _NUMBER_AFTER.match(text, at + 1) or _NUMBER_BEFORE.search(text, max(0, at - 40), at):
            return True
        at = text.find("+", at + 1)
    return False


class TextPlusNumber(Rule):
    """The template adds a text and a number with ``+``, which fails when the prompt is rendered.

    ``sheet_num``, ``stage``, ``instance`` and the other counters are integers in the prompt's
    context. Jinja's ``+`` adds numbers or joins two texts; ``"chapter-" + sheet_num`` raises a
    type error and the sheet cannot start. Join with ``~`` (which turns both sides into text) or
    write the number inside the text. Source: the templating patterns of Marianne's plugin
    reference (string building in templates).

    Failing::

        prompt:
          template: "Write {{ workspace + '/chapter-' + sheet_num }}.md"

    Passing::

        prompt:
          template: "Write {{ workspace ~ '/chapter-' ~ sheet_num }}.md"
    """

    code = "ML523"
    name = "text-plus-number"
    severity = Severity.ERROR
    summary = "the template joins a text and a number with +, a type error when the prompt is rendered"

    def check(self, ctx: Context) -> Iterator[Finding]:
        own = {str(name) for name in _variables(ctx)}
        for source in prompt_sources(ctx):
            text = source.text
            if "+" not in text or not source.parsed.ok or not _plus_near_number(text):
                continue
            for block in _EXPRESSION.finditer(text):
                match = _TEXT_PLUS_NUMBER.search(block.group(0))
                if match is None:
                    continue
                number = re.search(_NUMBER_NAMES_RE, match.group(0))
                if number is not None and number.group(0) in own:
                    continue
                line, column = line_and_column(text, block.start() + match.start())
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, column, match.end() - match.start()),
                    f"{source.where(line)} adds a text and a number ('{match.group(0).strip()}'): "
                    f"{number.group(0) if number else 'the number'} is an integer, so rendering fails with a type "
                    "error and the sheet cannot start",
                    suggestion="join with ~ instead of + (it turns both sides into text)",
                )
                return


#: ``[instance]`` / ``[voice]``, found from its bracket (fast); the name before it is read backwards.
_BY_VOICE = re.compile(r"\[\s*(?:instance|voice)\s*\]")
_NAME_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")
class FanOutLookupMissesVoice(Rule):
    """A template looks up a mapping by ``instance``, but the mapping has no entry for some voice.

    A stage fanned out to N voices renders its prompt with ``instance`` 1 to N. A lookup such as
    ``lenses[instance]`` in ``prompt.variables.lenses`` needs a key for every voice: the voice
    without one renders an undefined value, which Marianne's strict rendering refuses, and that
    sheet cannot start. Source: the data-structure fan-out pattern of Marianne's plugin reference.

    Failing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 4}
        prompt:
          variables:
            lenses: {1: cost, 2: risk, 3: speed}
          template: "Review for {{ lenses[instance] }}."

    Passing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 4}
        prompt:
          variables:
            lenses: {1: cost, 2: risk, 3: speed, 4: safety}
          template: "Review for {{ lenses[instance] }}."
    """

    code = "ML524"
    name = "fan-out-lookup-misses-voice"
    severity = Severity.ERROR
    summary = "a template looks up a mapping by instance, but the mapping has no key for every voice"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.sheets import sheet_facts

        variables = _variables(ctx)
        mappings = {str(name): value for name, value in variables.items() if isinstance(value, dict) and value}
        if not mappings:
            return
        by_stage = {meta.stage: meta.fan_count for meta in sheet_facts(ctx).metas.values()}
        for source in prompt_sources(ctx):
            if "[" not in source.text or not source.parsed.ok:
                continue
            text = source.text
            branches = BranchStages(text)
            for bracket in _BY_VOICE.finditer(text):
                before = _NAME_BEFORE.search(text, max(0, bracket.start() - 100), bracket.start())
                if before is None:
                    continue
                name = before.group(1)
                mapping = mappings.get(name)
                if mapping is None or name in source.parsed.assigned:
                    continue
                keys = {k for k in mapping if isinstance(k, int) and not isinstance(k, bool)}
                if not keys:
                    continue  # text keys: stringified-int-key-lookup and undefined lookups speak
                stage = branches.at(before.start())
                if stage == "unknown":
                    continue
                voices = by_stage.get(stage, 1) if isinstance(stage, int) else max(by_stage.values(), default=1)
                missing = [n for n in range(1, voices + 1) if n not in keys]
                if not missing:
                    continue
                line, column = line_and_column(text, before.start())
                lookup = text[before.start():bracket.end()]
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, column, len(lookup)),
                    f"{source.where(line)} looks up {lookup}, but prompt.variables.{name} has no key "
                    f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''} while "
                    f"{f'stage {stage}' if isinstance(stage, int) else 'a stage'} has {voices} voices: that voice "
                    "renders an undefined value and cannot start",
                    related=[(ctx.key_span("prompt", "variables", name), f"the keys of {name}")],
                    suggestion=f"give prompt.variables.{name} an entry for every voice (1 to {voices})",
                )
                break


_FAN_COUNT = re.compile(r"\bfan_count\b")


class FanCountOutsideFanOut(Rule):
    """A branch for a stage that is not fanned out reads ``fan_count``, which is 1 there.

    ``fan_count`` is the number of voices of the rendering sheet's *own* stage. In the synthesis
    stage after a fan-out it is 1, not the size of the fan-out it gathers: ``{% for i in
    range(1, fan_count + 1) %}`` in that stage's branch lists only the first voice's file, and
    the synthesis silently leaves the others out. Write the count (or a variable) instead.
    Reported for ``{% if stage == N %}`` branches of a stage with one voice while another stage
    is fanned out. Source: the fan-out with synthesis pattern of Marianne's plugin reference and
    the fan-out variables of its score-writing guide.

    Failing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
          dependencies: {2: [1]}
        prompt:
          template: |
            {% if stage == 1 %}Write draft {{ instance }}.{% else %}{% endif %}
            {% if stage == 2 %}{% for i in range(1, fan_count + 1) %}Read draft {{ i }}. {% endfor %}{% endif %}

    Passing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
          dependencies: {2: [1]}
        prompt:
          template: |
            {% if stage == 1 %}Write draft {{ instance }}.{% else %}{% endif %}
            {% if stage == 2 %}{% for i in range(1, 4) %}Read draft {{ i }}. {% endfor %}{% endif %}
    """

    code = "ML525"
    name = "fan-count-outside-fan-out"
    severity = Severity.WARNING
    summary = "a branch for a stage with one voice reads fan_count, which counts that stage's own voices: 1"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.sheets import sheet_facts

        facts = sheet_facts(ctx)
        if not facts.has_fan_out or "fan_count" in {str(name) for name in _variables(ctx)}:
            return
        by_stage = {meta.stage: meta.fan_count for meta in facts.metas.values()}
        widest = max(by_stage.values())
        for source in prompt_sources(ctx):
            if "fan_count" not in source.text or not source.parsed.ok or "fan_count" in source.parsed.assigned:
                continue
            branches = BranchStages(source.text)
            for block in _EXPRESSION.finditer(source.text):
                match = _FAN_COUNT.search(block.group(0))
                if match is None:
                    continue
                offset = block.start() + match.start()
                stage = branches.at(offset)
                if not isinstance(stage, int) or by_stage.get(stage, 0) != 1:
                    continue
                line, column = line_and_column(source.text, offset)
                yield Finding(
                    self.name,
                    template_span(ctx, source, line, column, len("fan_count")),
                    f"{source.where(line)} reads fan_count in the branch for stage {stage}, which has one voice: "
                    f"fan_count is 1 there (it counts the rendering stage's own voices), not the {widest} of the "
                    "fan-out before it",
                    suggestion=f"write the number of voices ({widest}) or a prompt variable instead of fan_count",
                )
                return
