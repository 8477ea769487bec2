"""ML4xx: validations (which sheets they apply to, stages, conditions, required fields)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.reading.positions import Span
from marianne_lint.rules.base import Context, Rule, per_document
from marianne_lint.rules.support.branches import CHAIN_TAG, SIMPLE_TEST
from marianne_lint.rules.support.conditions import sheets_where, split
from marianne_lint.rules.support.sheets import SheetFacts, sheet_facts, sheets_phrase, validation_names
from marianne_lint.rules.support.workspace import workspace

_FILE_TYPES = ("file_exists", "file_modified", "content_contains", "content_regex")
_CONTENT_TYPES = ("content_contains", "content_regex")


def path_keys(rule: Any) -> list[str]:
    """The keys of a validation that Marianne fills with ``str.format`` and reads as paths."""
    keys = ["path"] if rule.type in _FILE_TYPES else []
    if rule.type == "command_succeeds":
        keys.append("working_directory")
    return keys


def _raw_rule(ctx: Context, index: int) -> dict[Any, Any]:
    item = ctx.raw("validations", index)
    return item if isinstance(item, dict) else {}


def commands(ctx: Context) -> Iterator[tuple[int, Any, str]]:
    """Each ``command_succeeds`` validation with a command: (index, rule, command)."""
    for index, rule in enumerate(ctx.score.validations):
        if rule.type == "command_succeeds" and isinstance(rule.command, str):
            yield index, rule, rule.command


def patterns(ctx: Context, *types: str) -> Iterator[tuple[int, str]]:
    """Each content validation of ``types`` (default: both) with a text pattern: (index, pattern)."""
    wanted = types or _CONTENT_TYPES
    for index, rule in enumerate(ctx.score.validations):
        if rule.type in wanted and isinstance(rule.pattern, str):
            yield index, rule.pattern


def _condition_span(ctx: Context, index: int) -> Span:
    """Where a validation's applicability is written: its condition, else its sheet, else the item."""
    raw = _raw_rule(ctx, index)
    if "condition" in raw and raw["condition"] is not None:
        return ctx.key_span("validations", index, "condition")
    if "sheet" in raw:
        return ctx.key_span("validations", index, "sheet")
    return ctx.value_span("validations", index)


def _label(ctx: Context, index: int, rule: Any) -> str:
    text = f"validation #{index + 1} ({rule.type}"
    if rule.description:
        shown = rule.description if len(rule.description) <= 40 else rule.description[:37] + "..."
        text += f", {shown!r}"
    return text + ")"


@per_document
def applicability(ctx: Context) -> list[list[int]]:
    """For each validation, the sheets it applies to at run time."""
    facts = sheet_facts(ctx)
    contexts = list(facts.contexts())
    by_condition: dict[str | None, list[int]] = {}  # scores repeat conditions: evaluate each once
    out = []
    for rule in ctx.score.validations:
        if rule.condition not in by_condition:
            by_condition[rule.condition] = sheets_where(rule.condition, contexts)
        out.append(by_condition[rule.condition])
    return out


def _why_never(rule: Any, raw: dict[Any, Any], facts: SheetFacts) -> str:
    total = facts.total_sheets
    if "sheet" in raw and raw.get("condition") is None and rule.sheet is not None:
        return f"it is restricted to sheet {rule.sheet}, but the score has {total} sheet(s)"
    return f"its condition '{rule.condition}' holds for none of the {total} sheet(s)"


class UnreachableValidationStage(Rule):
    """A validation, or a whole validation stage, applies to no sheet.

    Marianne decides per sheet which validations apply: ``sheet: N`` means
    ``condition: "sheet_num == N"``, and a ``condition`` is evaluated with
    Marianne's own small grammar (see ``misread-condition``) over each sheet's
    number, stage, instance, fan count, totals and the score's integer
    variables. A validation that holds for no sheet never runs, so whatever it
    was meant to guard goes unchecked. By the documented stage semantics a
    failed stage skips all higher stages; a stage none of whose validations
    applies to any sheet never runs at all. The findings name the sheets the
    score does have.

    Failing::

        sheet: {size: 1, total_items: 3}
        validations:
          - type: file_exists
            path: "{workspace}/summary.md"
            sheet: 4

    Passing::

        sheet: {size: 1, total_items: 3}
        validations:
          - type: file_exists
            path: "{workspace}/summary.md"
            sheet: 3
    """

    code = "ML401"
    name = "unreachable-validation-stage"
    severity = Severity.WARNING
    summary = "a validation or validation stage applies to no sheet"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        rules = ctx.score.validations
        if not rules or facts.total_sheets <= 0:
            return
        reach = applicability(ctx)
        stages: dict[int, list[int]] = {}
        for index, rule in enumerate(rules):
            stages.setdefault(rule.stage, []).append(index)
            if reach[index]:
                continue
            raw = _raw_rule(ctx, index)
            yield Finding(
                self.name,
                _condition_span(ctx, index),
                f"{_label(ctx, index, rule)} never runs: {_why_never(rule, raw, facts)}",
                suggestion="fix the sheet number or condition, or remove the validation",
            )
        for stage, members in sorted(stages.items()):
            if len(members) < 2 or any(reach[i] for i in members):
                continue
            spans: list[tuple[Span, str]] = []
            for index in members:
                if "stage" in _raw_rule(ctx, index):
                    spans.append((ctx.key_span("validations", index, "stage"), f"validation #{index + 1}"))
                spans.append((_condition_span(ctx, index), f"validation #{index + 1} applies to no sheet"))
            higher = sorted(s for s in stages if s > stage)
            after = f"; stages {', '.join(map(str, higher))} come after it" if higher else ""
            yield Finding(
                self.name,
                spans[0][0],
                f"validation stage {stage} never runs: none of its {len(members)} validations "
                f"(#{', #'.join(str(i + 1) for i in members)}) applies to any of the {facts.total_sheets} "
                f"sheet(s){after}",
                related=spans[1:],
            )


_KEYWORDS = (
    (" or ", "'or' (Marianne has no 'or'; only the first comparison counts)"),
    (" OR ", "'OR' (Marianne has no 'or'; only the first comparison counts)"),
    ("||", "'||' (Marianne has no 'or'; only the first comparison counts)"),
    ("&&", "'&&' (Marianne only splits on a lower-case ' and ')"),
    (" AND ", "'AND' (Marianne only splits on a lower-case ' and ')"),
    ("not ", "'not' (Marianne has no negation)"),
    ("(", "parentheses (Marianne does not group)"),
)


class MisreadCondition(Rule):
    """A validation condition that Marianne reads differently from how it looks.

    Marianne's grammar is tiny: the condition is split on the exact text
    ``" and "``; each part must start with ``NAME OP NUMBER`` (OP one of
    ``>= <= == != > <``, NUMBER a non-negative integer). Anything after that
    comparison is silently ignored, a part that does not parse counts as
    true, and a name that is not an integer when validations run (for
    example ``start_item``, a text variable, or ``instance`` on a solo sheet)
    makes its part true. So ``sheet_num == 2 or sheet_num == 3`` means
    ``sheet_num == 2``, and ``sheet_num >= 2 AND sheet_num <= 4`` means
    ``sheet_num >= 2``.

    Failing::

        validations:
          - type: file_exists
            path: "{workspace}/out.md"
            condition: "sheet_num == 2 or sheet_num == 3"

    Passing::

        validations:
          - type: file_exists
            path: "{workspace}/out.md"
            condition: "sheet_num >= 2 and sheet_num <= 3"
    """

    code = "ML402"
    name = "misread-condition"
    severity = Severity.WARNING
    summary = "a validation condition means something else to Marianne than it seems"
    fixable = "safe"
    fix_summary = "write `AND` and `&&` as the lower-case ` and ` Marianne splits on"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        known = _known_numbers(facts)
        for index in range(len(ctx.score.validations)):
            raw = _raw_rule(ctx, index)
            condition = raw.get("condition")
            if not isinstance(condition, str):
                continue
            problem = _condition_problem(condition, known, facts)
            if problem is not None:
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "condition"),
                    f"condition '{condition.strip()}' of validation #{index + 1}: {problem}",
                    suggestion="write comparisons 'NAME OP NUMBER' joined by ' and ', e.g. "
                    "'sheet_num >= 2 and sheet_num <= 4'",
                    fix=_and_fix(ctx, index, condition, known, facts),
                )


_JINJA_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _single_braces(ctx: Context, index: int, path: str, key: str = "path") -> Fix | None:
    """``{{ name }}`` -> ``{name}`` in a validation path or command, when every one is a name
    validations fill."""
    known = validation_names(ctx)
    rewritten = _JINJA_NAME.sub(r"{\1}", path)
    if "{{" in rewritten or "}}" in rewritten or any(m.group(1) not in known for m in _JINJA_NAME.finditer(path)):
        return None
    if any(m.group(1) in ("instance", "voice") for m in _JINJA_NAME.finditer(path)):
        return None  # None on sheets that are not fanned out: the rewrite would only move the problem
    found = ctx.root.locate(("validations", index, key))
    if not found.exact:
        return None
    return Fix.of(f"write '{rewritten}'", "safe", ctx.edits.replace_scalar(found.node, path, rewritten))


_UPPER_AND = re.compile(r"\s+AND\s+|\s*&&\s*")


def _and_fix(ctx: Context, index: int, condition: str, known: set[str], facts: SheetFacts) -> Fix | None:
    """``AND``/``&&`` -> `` and `` when that is the condition's only problem (the intent is plain)."""
    if not _UPPER_AND.search(condition):
        return None
    rewritten = _UPPER_AND.sub(" and ", condition)
    if _condition_problem(rewritten, known, facts) is not None:
        return None
    found = ctx.root.locate(("validations", index, "condition"))
    if not found.exact:
        return None
    return Fix.of(f"write '{rewritten.strip()}'", "safe", ctx.edits.replace_scalar(found.node, condition, rewritten))


def _known_numbers(facts: SheetFacts) -> set[str]:
    names = {"sheet_num", "total_sheets", "movement", "voice_count", "total_movements", "stage", "fan_count",
             "total_stages"}
    if any(meta.fan_count > 1 for meta in facts.metas.values()):
        names |= {"instance", "voice"}
    for name, value in facts.variables.items():
        if isinstance(value, int) and name not in ("workspace", "instrument_name", "instance", "voice"):
            names.add(name)
    return names


def _condition_problem(condition: str, known: set[str], facts: SheetFacts) -> str | None:
    padded = f" {condition} "
    for needle, what in _KEYWORDS:
        if needle in padded:
            return f"it uses {what}; Marianne reads it as '{_as_read(condition)}'"
    for part in split(condition):
        if not part.parsed:
            shown = part.text or "(empty)"
            return f"'{shown}' is not a comparison Marianne can read, so that part always counts as true"
        tail = part.ignored_tail.strip()
        if tail:
            return f"Marianne ignores '{tail}' after '{part.text[: len(part.text) - len(part.ignored_tail)]}'"
        if part.name not in known:
            why = _unknown_name(part.name or "", facts)
            return f"{why}, so '{part.text}' always counts as true"
    return None


def _as_read(condition: str) -> str:
    parts = []
    for part in split(condition):
        if part.parsed:
            parts.append(part.text[: len(part.text) - len(part.ignored_tail)].strip())
        else:
            parts.append("true")
    return " and ".join(parts)


def _unknown_name(name: str, facts: SheetFacts) -> str:
    if name in ("start_item", "end_item"):
        return f"'{name}' is not defined when validations run"
    if name in ("instance", "voice"):
        return f"'{name}' is None on sheets that are not fanned out (all of them here)"
    if name in facts.variables:
        return f"the variable '{name}' is not an integer"
    return f"'{name}' is not a variable Marianne knows when validations run"


class BlankValidationField(Rule):
    """A validation's required field is empty or only spaces (Marianne's V008).

    The models only reject a missing field; an empty ``path``, ``pattern`` or
    ``command`` passes them and fails at run time. Covers ``mzt validate``
    check V008.

    Failing::

        validations:
          - type: command_succeeds
            command: "  "

    Passing::

        validations:
          - type: command_succeeds
            command: "pytest -q"
    """

    code = "ML403"
    name = "blank-validation-field"
    severity = Severity.ERROR
    summary = "a validation's path, pattern or command is empty"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, rule in enumerate(ctx.score.validations):
            needed = []
            if rule.type in _FILE_TYPES:
                needed.append("path")
            if rule.type in _CONTENT_TYPES:
                needed.append("pattern")
            if rule.type == "command_succeeds":
                needed.append("command")
            for key in needed:
                value = getattr(rule, key)
                if isinstance(value, str) and not value.strip():
                    yield Finding(
                        self.name,
                        ctx.key_span("validations", index, key),
                        f"validation #{index + 1} ({rule.type}) has an empty {key}; it cannot work",
                    )


class EmptyPattern(Rule):
    """A content validation's pattern is empty and matches anything (Marianne's V106).

    Failing::

        validations:
          - type: content_contains
            path: "{workspace}/report.md"
            pattern: ""

    Passing::

        validations:
          - type: content_contains
            path: "{workspace}/report.md"
            pattern: "## Summary"
    """

    code = "ML404"
    name = "empty-pattern"
    severity = Severity.WARNING
    summary = "a content validation's pattern is empty and always matches"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, rule in enumerate(ctx.score.validations):
            if rule.type in _CONTENT_TYPES and rule.pattern is not None and not rule.pattern.strip():
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "pattern"),
                    f"validation #{index + 1} ({rule.type}) has an empty pattern, which matches any file",
                )


class NoValidations(Rule):
    """The score has no validations, so any output counts as success (Marianne's V203).

    Failing::

        name: draft
        sheet: {size: 1, total_items: 1}
        prompt: {template: "Write a draft"}

    Passing::

        name: draft
        sheet: {size: 1, total_items: 1}
        prompt: {template: "Write {{ workspace }}/draft.md"}
        validations:
          - type: file_exists
            path: "{workspace}/draft.md"
    """

    code = "ML405"
    name = "no-validations"
    severity = Severity.WARNING
    summary = "the score has no validations"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.score.validations:
            span = ctx.key_span("validations") if ctx.exists("validations") else Span(1, 1, 1, 2)
            yield Finding(
                self.name,
                span,
                "the score has no validations, so a sheet succeeds whatever it produces",
                suggestion="add a validation such as file_exists or content_contains",
            )


#: A command that only tests that files exist: ``test -f``, ``[ -s ... ]``, ``ls``, joined by ``&&``.
#: (Each token is a run of characters that are not blanks or shell operators, so no text can be
#: split two ways and a long command is matched in linear time.)
_EXISTENCE_TEST = r"(?:test\s+-[edfrs]\s+[^\s;&|<>]+|\[\s+-[edfrs]\s+[^\s;&|<>]+\s+\]|ls(?:\s+[^\s;&|<>]+)+)"
_EXISTENCE_COMMAND = re.compile(rf"\s*{_EXISTENCE_TEST}(?:\s*&&\s*{_EXISTENCE_TEST})*\s*")


def _existence_only(rule: Any) -> bool:
    """Whether a validation proves no more than that a file exists."""
    if rule.type in ("file_exists", "file_modified"):
        return True
    return (rule.type == "command_succeeds" and isinstance(rule.command, str)
            and _EXISTENCE_COMMAND.fullmatch(rule.command) is not None)


class FileExistsOnly(Rule):
    """Every validation only checks that a file exists (Marianne's V205, widened).

    An empty or truncated file passes. `content_contains` or
    `content_regex` checks what the sheet actually wrote. Marianne's V205 counts
    ``file_exists`` checks; this rule also counts ``file_modified`` (which passes for any file
    that exists, see file-modified-always-passes) and commands that only test for a file
    (``test -f``, ``[ -s ... ]``, ``ls``): validations that prove the process ran, not that its
    outcome is right, which Marianne's score-reviewer checklist warns about.

    Failing::

        validations:
          - type: file_exists
            path: "{workspace}/report.md"
          - type: command_succeeds
            command: "test -s {workspace}/report.md"

    Passing::

        validations:
          - type: file_exists
            path: "{workspace}/report.md"
          - type: content_contains
            path: "{workspace}/report.md"
            pattern: "## Findings"
    """

    code = "ML406"
    name = "file-exists-only"
    severity = Severity.INFO
    summary = "all validations only check that files exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        rules = ctx.score.validations
        if rules and all(_existence_only(rule) for rule in rules):
            yield Finding(
                self.name,
                ctx.key_span("validations"),
                f"all {len(rules)} validation(s) only check that a file exists; an empty file passes",
                suggestion="add a content_contains or content_regex validation",
            )


class FileModifiedAlwaysPasses(Rule):
    """A ``file_modified`` validation passes for any file that exists, even one left by an earlier run.

    ``file_modified`` is meant to compare the file's modification time with a snapshot taken
    before the sheet ran. Marianne's conductor takes no such snapshot, so every existing file
    counts as modified: a report from yesterday's run, or a file the score's own setup wrote,
    passes while the sheet did nothing. Check the content the sheet must write instead (a marker
    with the sheet's number, a section the prompt asks for). Source: the runtime behaviour recorded
    in Marianne's validation engine (no pre-execution snapshot in the conductor's path), and the
    validation-patterns guide's advice to prove the outcome.

    Failing::

        validations:
          - type: file_modified
            path: "{workspace}/notes.md"

    Passing::

        validations:
          - type: content_contains
            path: "{workspace}/notes.md"
            pattern: "Reviewed in sheet"
    """

    code = "ML419"
    name = "file-modified-always-passes"
    severity = Severity.WARNING
    summary = "file_modified passes for any existing file: the conductor takes no snapshot before the sheet"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, rule in enumerate(ctx.score.validations):
            if rule.type != "file_modified":
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "type"),
                f"validation #{index + 1} is file_modified, but the conductor takes no snapshot before the sheet: "
                f"any existing {rule.path or 'file'} passes, even one an earlier run left behind",
                suggestion="check the content the sheet writes (content_contains or content_regex) instead",
            )


class JinjaInValidationPath(Rule):
    """A validation path uses Jinja ``{{ ... }}`` (Marianne's V201).

    Validation paths are filled with Python ``str.format`` placeholders such
    as ``{workspace}``; ``{{`` there means a literal brace, so the path never
    names the intended file.

    Failing::

        validations:
          - type: file_exists
            path: "{{ workspace }}/out.md"

    Passing::

        validations:
          - type: file_exists
            path: "{workspace}/out.md"
    """

    code = "ML407"
    name = "jinja-in-validation-path"
    fixable = "safe"
    fix_summary = "write `{{ name }}` as the `{name}` placeholder"
    severity = Severity.WARNING
    summary = "a validation path uses Jinja {{ }} instead of {placeholders}"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, rule in enumerate(ctx.score.validations):
            if rule.path and "{{" in rule.path:
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "path"),
                    f"validation #{index + 1} path '{rule.path}' uses Jinja braces; validation paths use "
                    "single-brace placeholders, so '{{' stays a literal brace",
                    suggestion="write {workspace} instead of {{ workspace }}",
                    fix=_single_braces(ctx, index, rule.path),
                )


# -- pitfalls of validation commands and patterns ---------------------------------------------------

#: Shell words that start compound commands, whose status this simple reading cannot follow.
_COMPOUND = frozenset({"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
                       "{", "}", "(", ")", "function"})
#: Programs that, last in a pipeline, hide the status of what feeds them (without pipefail).
_PIPE_SINKS = frozenset({"tail", "head", "tee", "cat", "less", "more", "sort", "uniq", "wc", "cut", "column"})


def _shell_tokens(command: str) -> list[str] | None:
    """The words and operators of a shell command (stdlib shlex; None when it does not lex)."""
    import shlex

    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return None


def masked_status(command: str) -> str | None:
    """Why ``command``'s exit status cannot report a failure, or None.

    ``... || true`` (or ``|| :``, ``|| exit 0``, ``; true``, ``; exit 0`` at the end) always
    succeeds; a pipeline ending in ``tail``/``head``/``tee``... reports the status of that last
    program unless ``pipefail`` is set.
    """
    if any(part in command for part in ("$(", "`", "\n")):
        return None  # a script or a command substitution: its last pipe need not be the status
    tokens = _shell_tokens(command)
    if not tokens or _COMPOUND.intersection(tokens):
        return None
    words = tokens
    for operator in ("||", ";"):
        if operator in words:
            position = len(words) - 1 - words[::-1].index(operator)
            tail = words[position + 1 :]
            if tail in (["true"], [":"], ["exit", "0"]):
                shown = " ".join(tail)
                if operator == "||":
                    return f"'|| {shown}' turns every failure into success"
                return f"it ends with '; {shown}', so its status is always 0"
    if "pipefail" in words:
        return None
    last = [i for i, t in enumerate(words) if t in ("|", "||", "&&", ";", "&")]
    if last and words[last[-1]] == "|" and last[-1] + 1 < len(words):
        sink = words[last[-1] + 1].rsplit("/", 1)[-1]
        if sink in _PIPE_SINKS:
            return (f"it ends with a pipe into '{sink}', whose status (0) is the pipeline's: the command "
                    "before it can fail unseen")
    return None


class CommandCannotFail(Rule):
    """A ``command_succeeds`` validation whose command always succeeds.

    Marianne runs the command through the shell and checks its exit status. ``pytest || true``
    succeeds whatever the tests do, and so does a pipeline ending in ``tail``, ``head`` or
    ``tee`` (the shell reports the status of the last program of a pipeline unless
    ``set -o pipefail`` is on). The validation then passes a sheet whose work failed. The
    command is read with a shell lexer, never run.

    Source: Marianne's validation-patterns guide (commands that cannot fail).

    Failing::

        validations:
          - type: command_succeeds
            command: "pytest -q | tail -5"

    Passing::

        validations:
          - type: command_succeeds
            command: "set -o pipefail; pytest -q | tail -5"
    """

    code = "ML408"
    name = "command-cannot-fail"
    severity = Severity.WARNING
    summary = "a command_succeeds command always exits 0 (|| true, a pipe into tail or head)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, _rule, command in commands(ctx):
            why = masked_status(command)
            if why is not None:
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "command"),
                    f"validation #{index + 1} command '{command.strip()}' cannot fail: {why}",
                    suggestion="drop the '|| true', or start the command with 'set -o pipefail;'",
                )


class JinjaInValidationCommand(Rule):
    """A validation command uses Jinja ``{{ name }}`` where Marianne fills ``{name}``.

    Marianne replaces each single-brace ``{name}`` of a validation command (shell-quoted);
    ``{{ workspace }}`` is left as it is and reaches the shell as literal text, so
    ``cd {{ workspace }}`` fails. Only names Marianne fills are reported (``{{.State}}`` of a Go
    template, for instance, is not).

    Source: Marianne's validation-patterns guide (placeholders in commands).

    Failing::

        validations:
          - type: command_succeeds
            command: "cd {{ workspace }} && make test"

    Passing::

        validations:
          - type: command_succeeds
            command: "cd {workspace} && make test"
    """

    code = "ML409"
    name = "jinja-in-validation-command"
    severity = Severity.WARNING
    summary = "a validation command uses Jinja {{ }} instead of {placeholders}"
    fixable = "safe"
    fix_summary = "write `{{ name }}` as the `{name}` placeholder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        known = validation_names(ctx)
        for index, rule in enumerate(ctx.score.validations):
            command = rule.command
            if not isinstance(command, str):
                continue
            names = [m.group(1) for m in _JINJA_NAME.finditer(command) if m.group(1) in known]
            if not names:
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "command"),
                f"validation #{index + 1} command '{command.strip()}' writes '{{{{ {names[0]} }}}}': Marianne "
                f"fills only '{{{names[0]}}}', so the shell gets the braces as literal text",
                suggestion="write {workspace} instead of {{ workspace }}",
                fix=_single_braces(ctx, index, command, "command"),
            )


class RegexMatchesAnything(Rule):
    """A ``content_regex`` pattern that matches any file, an empty one included.

    A pattern that matches the empty string (``.*``, ``^``, ``(done)?``, ``a*``) is found in every
    file, so the validation always passes. An empty pattern is ``empty-pattern``.

    Source: the common pitfalls of Marianne's plugin reference (patterns that match anything).

    Failing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: ".*"

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: "^## Summary"
    """

    code = "ML410"
    name = "regex-matches-anything"
    severity = Severity.WARNING
    summary = "a content_regex pattern matches the empty string, so any file passes"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx, "content_regex"):
            if not pattern.strip():
                continue
            try:
                matches_empty = re.search(pattern, "") is not None
            except (re.error, OverflowError, RecursionError):
                continue  # schema-regex reports it
            if matches_empty:
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "pattern"),
                    f"validation #{index + 1} pattern '{pattern}' matches the empty string, so it is found in "
                    "any file and the validation always passes",
                    suggestion="match text the output must contain, e.g. '^## Summary'",
                )


#: grep patterns that a test runner's summary of a failed run contains too ("1 failed, 41 passed").
_PASS_WORDS = re.compile(r"(?:(?:[0-9]+|\\d\+|\[0-9\]\+) )?(?:pass(?:ed|es|ing)?|ok|success(?:ful)?|succeeded)", re.I)
_ANCHORS = re.compile(r"^\^|\$$|\\b|\\<|\\>")
_GREP = frozenset({"grep", "egrep", "fgrep", "rg"})


def passing_grep(command: str) -> str | None:
    """The pattern of a ``grep`` in ``command`` that a failed test run's summary also matches, or None."""
    if "grep" not in command and "rg" not in command:
        return None  # the shell lexer is the costly part: most commands have no grep at all
    lowered = command.lower()
    if "fail" in lowered or "error" in lowered:
        return None  # the command looks at failures too
    tokens = _shell_tokens(command)
    if not tokens:
        return None
    for index, token in enumerate(tokens):
        if token.rsplit("/", 1)[-1] not in _GREP:
            continue
        if index > 0 and tokens[index - 1] == "!":
            continue
        rest = tokens[index + 1:]
        inverted = False
        pattern: str | None = None
        for position, word in enumerate(rest):
            if word in ("|", "||", "&&", ";", "&"):
                break
            if word in ("-e", "--regexp") and position + 1 < len(rest):
                pattern = rest[position + 1]
                break
            if word.startswith("-") and len(word) > 1:
                inverted = inverted or word == "--invert-match" or (not word.startswith("--") and "v" in word)
                continue
            pattern = word
            break
        if pattern is not None and not inverted and _PASS_WORDS.fullmatch(_ANCHORS.sub("", pattern.strip())):
            return pattern
    return None


class GrepMatchesFailures(Rule):
    """A ``command_succeeds`` validation greps for ``passed`` (or ``ok``, ``success``) alone.

    A test runner's summary names what passed even when something failed: pytest prints
    ``1 failed, 41 passed``, and ``grep passed`` finds that line, so the validation passes a sheet
    whose tests fail. Marianne's validation guide recommends checking the runner's exit status
    instead, or matching the whole success line. The command is read with a shell lexer, never run.

    Failing::

        validations:
          - type: command_succeeds
            command: "pytest -q 2>&1 | grep passed"

    Passing::

        validations:
          - type: command_succeeds
            command: "pytest -q"
    """

    code = "ML411"
    name = "grep-matches-failures"
    severity = Severity.WARNING
    summary = "a validation command greps for 'passed', which a summary with failures also contains"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, _rule, command in commands(ctx):
            pattern = passing_grep(command)
            if pattern is None:
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "command"),
                f"validation #{index + 1} command '{command.strip()}' greps for {pattern!r}, which a "
                "summary of a failed run also contains ('1 failed, 41 passed'), so the validation passes "
                "when tests fail",
                suggestion="rely on the test runner's exit status (drop the grep), or also check that "
                "nothing failed: '! grep -q failed'",
            )


_BACKSPACE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


class BackspaceInPattern(Rule):
    """A validation pattern holds a backspace because ``\\b`` was written in double quotes.

    In a double-quoted YAML string ``\\b`` is an escape for the backspace character (U+0008),
    not the two characters a regular expression reads as a word boundary. ``"\\bAPPROVED\\b"``
    becomes ``<BS>APPROVED<BS>``, which no output contains: a ``content_regex`` or
    ``content_contains`` check with it never passes. Write ``\\\\b`` in double quotes, or use
    single quotes (no escapes). Marianne's validation guide warns about this.

    Failing::

        validations:
          - type: content_regex
            path: "{workspace}/review.md"
            pattern: "\\bAPPROVED\\b"

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/review.md"
            pattern: '\\bAPPROVED\\b'
    """

    code = "ML412"
    name = "backspace-in-pattern"
    severity = Severity.ERROR
    summary = 'a double-quoted pattern writes "\\b", which YAML turns into a backspace, so it never matches'
    fixable = "safe"
    fix_summary = 'write "\\\\b" (a word boundary) for each "\\b" in the double-quoted pattern'

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx):
            if "\b" not in pattern:
                continue
            shown = pattern.replace("\b", "\\b")
            yield Finding(
                self.name,
                ctx.value_span("validations", index, "pattern"),
                f"validation #{index + 1} pattern holds a backspace character (U+0008) where '\\b' is written: "
                f"in double quotes YAML reads '\\b' as a backspace, so the pattern '{shown}' never matches and "
                "the validation always fails",
                suggestion="write '\\\\b' inside double quotes, or put the pattern in single quotes",
                fix=backspace_fix(ctx, ("validations", index, "pattern")),
            )


def backspace_fix(ctx: Context, path: tuple[Any, ...]) -> Fix | None:
    """Double each ``\\b`` escape of the double-quoted scalar at ``path`` (None if it is not one)."""
    node = ctx.node(*path)
    if node is None:
        return None
    written = ctx.edits.source(node.span)
    if not written.startswith('"') or "\n" in written:
        return None
    fixed = _BACKSPACE_ESCAPE.sub(lambda m: m.group(1) + "\\\\b", written)
    if fixed == written:
        return None
    return Fix.of("write '\\\\b' for the word boundary", "safe", ctx.edits.replace(node.span, fixed))


class SheetNumAfterFanOut(Rule):
    """Validations select sheets by ``sheet_num`` as if sheets were still numbered by stage.

    After ``fan_out`` the sheets are numbered anew: with ``fan_out: {2: 3}`` stage 2 is sheets
    2-4 and stage 3 is sheet 5. A validation written ``sheet: 3`` (or ``condition: "sheet_num ==
    3"``) for stage 3 applies to one voice of stage 2 instead, and stage 3 goes unchecked.
    Reported when the score's sheet-number selections never go past the number of stages (so
    they read as stage numbers), no conditional validation reaches the last stage's sheets, and
    a selected number lands in another stage. Selecting by ``stage`` says what is meant.

    Source: Marianne's score-writing and movement-design guides (sheet numbers against stage
    numbers).

    Failing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}
        validations:
          - type: file_exists
            path: "{workspace}/final.md"
            condition: "sheet_num == 3"

    Passing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}
        validations:
          - type: file_exists
            path: "{workspace}/final.md"
            condition: "stage == 3"
    """

    code = "ML413"
    name = "sheet-num-after-fan-out"
    severity = Severity.WARNING
    summary = "validations select sheet numbers as if they were stages, but fan-out renumbers the sheets"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        if not facts.has_fan_out or facts.total_sheets <= facts.total_stages:
            return
        sheets_by_rule = applicability(ctx)
        by_number: list[tuple[int, str, set[int]]] = []
        others: set[int] = set()  # sheets that validations selected some other way (by stage) apply to
        for index, rule in enumerate(ctx.score.validations):
            raw = _raw_rule(ctx, index)
            condition = rule.condition if isinstance(rule.condition, str) else ""
            if "sheet" in raw and raw.get("condition") is None:
                written = f"sheet: {rule.sheet}"
            elif re.search(r"\bsheet_num\b", condition) and not re.search(r"\b(stage|movement|instance|voice)\b",
                                                                         condition):
                written = f"condition '{condition}'"
            else:
                if condition:
                    others.update(sheets_by_rule[index])
                continue
            chosen = set(sheets_by_rule[index])
            if chosen:
                by_number.append((index, written, chosen))
        if not by_number:
            return
        selected = set().union(*(chosen for _i, _w, chosen in by_number))
        last_stage_sheets = facts.sheets_of_stage(facts.total_stages)
        if max(selected) > facts.total_stages or set(last_stage_sheets) & (selected | others):
            return  # the selections reach past the stage count, or the last stage is checked: sheets are counted
        for index, written, chosen in by_number:
            moved = sorted(n for n in chosen if facts.metas[n].stage != n)
            if not moved:
                continue
            number = moved[0]
            meta = facts.metas[number]
            voice = f", voice {meta.instance} of {meta.fan_count}" if meta.fan_count > 1 else ""
            stage_sheets = facts.sheets_of_stage(number)
            yield Finding(
                self.name,
                _condition_span(ctx, index),
                f"validation #{index + 1} {written} selects sheet {number}, which after fan-out is stage "
                f"{meta.stage}{voice}; stage {number} is {sheets_phrase(stage_sheets)}, and no validation reaches "
                f"the last stage ({sheets_phrase(last_stage_sheets)}) by number or condition",
                suggestion=f"select by stage: condition: \"stage == {number}\"",
            )


def _quoted_placeholders(command: str) -> Iterator[tuple[str, str]]:
    """Each ``{name}`` of a shell command that stands inside quotes: (name, the quote character)."""
    quote = ""
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if quote:
            if char == quote:
                quote = ""
            elif char == "{":
                match = _PLACEHOLDER_AT.match(command, index)
                if match:
                    yield match.group(1), quote
                    index = match.end()
                    continue
        elif char in "\"'":
            quote = char
        index += 1


_PLACEHOLDER_AT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class QuotedCommandPlaceholder(Rule):
    """A validation command puts ``{workspace}`` (or a variable) inside quotes, and its value needs quoting.

    Marianne fills each ``{name}`` of a command with the value already quoted for the shell
    (``shlex.quote``): a workspace ``/srv/my runs/x`` becomes ``'/srv/my runs/x'``. Written inside
    double quotes, ``"{workspace}/out.md"``, those single quotes stay in the path, which then does
    not exist, and the check fails every time. Leave placeholders outside quotes: Marianne
    quotes them. Only reported when the value is known here and needs quoting.

    Source: Marianne's validation-patterns guide (quoting placeholders in commands).

    Failing::

        workspace: "/tmp/my runs/report"
        validations:
          - type: command_succeeds
            command: 'test -s "{workspace}/report.md"'

    Passing::

        workspace: "/tmp/my runs/report"
        validations:
          - type: command_succeeds
            command: 'test -s {workspace}/report.md'
    """

    code = "ML414"
    name = "quoted-command-placeholder"
    severity = Severity.ERROR
    summary = "a command writes a {placeholder} inside quotes, but Marianne inserts it already quoted"

    def check(self, ctx: Context) -> Iterator[Finding]:
        import shlex

        variables = ctx.score.prompt.variables if isinstance(ctx.score.prompt.variables, dict) else {}
        for index, _rule, command in commands(ctx):
            for name, quote in _quoted_placeholders(command):
                value: str | None
                if name == "workspace":
                    found = workspace(ctx)
                    resolved = found.resolved
                    if resolved is None and found.written is not None and found.written.startswith("/"):
                        resolved = FsPath(os.path.normpath(found.written))  # absolute: no file needed
                    value = str(resolved) if resolved is not None else None
                elif name in variables and name not in VALIDATION_NAMES_FILLED_BY_MARIANNE:
                    value = str(variables[name])
                else:
                    continue
                if value is None or shlex.quote(value) == value:
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "command"),
                    f"validation #{index + 1} command writes {{{name}}} inside {quote}...{quote}: Marianne inserts "
                    f"it shell-quoted ({shlex.quote(value)}), and inside the quotes those quote marks become part "
                    "of the text, so the command reads the wrong path",
                    suggestion=f"remove the {quote} around {{{name}}}: Marianne quotes the value itself",
                )
                break


#: Built-ins that win over ``prompt.variables`` in a validation's context (their values are numbers).
VALIDATION_NAMES_FILLED_BY_MARIANNE = frozenset({
    "sheet_num", "total_sheets", "workspace", "instrument_name", "movement", "voice", "voice_count",
    "total_movements", "stage", "instance", "fan_count", "total_stages"})


_FIELD = re.compile(r"\{[^{}]*\}")


def _prompt_texts(ctx: Context) -> str | None:
    """Everything the author wrote into the prompt (template, template file, variables), or None when
    part of it cannot be read here (a template file that is missing, text injected from files)."""
    from marianne_lint.rules.support.prompt_sources import prompt_sources, template_file_unread

    if template_file_unread(ctx):
        return None
    prompt = ctx.score.prompt
    sources = prompt_sources(ctx)
    sheet = ctx.score.sheet
    if getattr(sheet, "prelude", None) or getattr(sheet, "cadenzas", None):
        return None
    parts = [source.text for source in sources]
    variables = prompt.variables if isinstance(prompt.variables, dict) else {}
    parts += [str(value) for value in variables.values()]
    parts += [str(getattr(prompt, name, "") or "") for name in ("stakes", "thinking_method")]
    return "\n".join(parts)


class ValidationTargetNotInPrompt(Rule):
    """A validation checks for a file or a marker that the prompt never mentions.

    The agent only knows what the prompt tells it. A validation that looks for
    ``{workspace}/result-1.md`` while the prompt asks for ``findings-1.md``, or for the marker
    ``SETUP_COMPLETE`` that the prompt never asks for, fails every attempt although the work may
    be done, and the sheet exhausts its retries. Marianne's troubleshooting and validation guides
    describe this loop. The file name (its longest part between placeholders) and a
    ``content_contains`` pattern are looked for in the template, the template file and the
    values of ``prompt.variables``; scores that inject text from files (prelude, cadenzas) are
    not checked.

    Failing::

        prompt:
          template: "Write your findings to {{ workspace }}/findings-{{ sheet_num }}.md."
        validations:
          - type: file_exists
            path: "{workspace}/result-{sheet_num}.md"

    Passing::

        prompt:
          template: "Write your findings to {{ workspace }}/findings-{{ sheet_num }}.md."
        validations:
          - type: file_exists
            path: "{workspace}/findings-{sheet_num}.md"
    """

    code = "ML415"
    name = "validation-target-not-in-prompt"
    severity = Severity.INFO
    summary = "a validation checks for a file name or marker the prompt never mentions"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not any(rule.type in _FILE_TYPES for rule in ctx.score.validations):
            return
        texts = _prompt_texts(ctx)
        if texts is None:
            return
        lowered = texts.lower()
        seen: dict[str, bool] = {}  # scores repeat a few file names over hundreds of validations

        def mentioned(word: str) -> bool:
            found = seen.get(word)
            if found is None:
                found = seen[word] = word in lowered
            return found

        missing: dict[str, list[str]] = {}  # the words of a file name the prompt never mentions

        def unmentioned(path: str) -> list[str]:
            words = missing.get(path)
            if words is None:
                name = path.replace("\\", "/").rsplit("/", 1)[-1]
                words = [w for w in _WORD.findall(_FIELD.sub(" ", name).lower()) if w not in _EXTENSIONS]
                if "*" in name or any(mentioned(word) for word in words):
                    words = []
                missing[path] = words
            return words

        for index, rule in enumerate(ctx.score.validations):
            if rule.type not in _FILE_TYPES or not isinstance(rule.path, str):
                continue
            words = unmentioned(rule.path)
            if words:
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "path"),
                    f"validation #{index + 1} checks '{rule.path}', but the prompt never mentions "
                    f"{' or '.join(repr(w) for w in words)}: the agent is not told to write that file",
                    suggestion="name the file in the prompt exactly as the validation expects it",
                )
                continue
            pattern = rule.pattern
            if rule.type != "content_contains" or not isinstance(pattern, str) or "{" in pattern:
                continue
            marker = pattern.strip()
            if len(marker) < 4 or mentioned(marker.lower()) or looks_like_regex(marker):
                continue
            marker_words = _WORD.findall(marker.lower())
            if len(marker_words) > 1 and all(mentioned(word) for word in marker_words):
                continue  # the words are there; the prompt may build the text from them
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "pattern"),
                f"validation #{index + 1} looks for '{marker}' in {rule.path}, but the prompt never mentions "
                "that text: the agent is not told to write it",
                suggestion="ask for the marker in the prompt, word for word",
            )


_WORD = re.compile(r"[a-z][a-z]{3,}")
_EXTENSIONS = frozenset({"yaml", "json", "html", "jsonl", "toml", "text", "markdown"})
#: What only a regular expression means: a character class, an alternation, a wildcard, an escape, a flag.
_REGEX_SIGNS = re.compile(
    r"\[[^\]]*\w-\w[^\]]*\]|\[([A-Za-z])(?!\1)(?i:\1)\]|\w\|\w|\\\||\.\*|\.\+|\(\?[aiLmsux]+\)|\\[dwsbDWSB]|^\^|\$$")


def looks_like_regex(pattern: str) -> bool:
    """Whether ``pattern`` is written as a regular expression rather than as literal text."""
    return _REGEX_SIGNS.search(pattern) is not None


class RegexInContentContains(Rule):
    """A ``content_contains`` pattern is written as a regular expression, but it is compared as text.

    ``content_contains`` looks for its pattern as a plain, case-sensitive substring. A pattern
    such as ``[Ee]nvironment``, ``PASS|FAIL``, ``(?i)summary`` or ``Total: \\d+`` is searched for
    letter by letter, brackets and bars included, which no report contains: the validation fails
    every time. ``content_regex`` is the check that reads a regular expression.

    Source: Marianne's validation semantics (content_contains is a case-sensitive substring check);
    Marianne's own examples hold 63 such checks.

    Failing::

        validations:
          - type: content_contains
            path: "{workspace}/analysis.md"
            pattern: "[Ee]nvironment"

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/analysis.md"
            pattern: "[Ee]nvironment"
    """

    code = "ML416"
    name = "regex-in-content-contains"
    severity = Severity.WARNING
    summary = "a content_contains pattern is a regular expression, but content_contains compares plain text"
    fixable = "unsafe"
    fix_summary = "make the validation a `content_regex`"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx, "content_contains"):
            if not looks_like_regex(pattern):
                continue
            try:
                re.compile(pattern)
            except (re.error, OverflowError, RecursionError):
                continue  # not a regex either
            fix = None
            node = ctx.node("validations", index, "type")
            if node is not None:
                fix = Fix.of("use content_regex", "unsafe",
                             ctx.edits.replace_scalar(node, "content_contains", "content_regex"))
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "pattern"),
                f"validation #{index + 1} is content_contains with the pattern '{pattern}', which reads as a "
                "regular expression: content_contains looks for it as plain text, brackets and bars included, "
                "so the check fails every time",
                suggestion="use type: content_regex for a regular expression",
                fix=fix,
            )


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def _first_sheet_branches(template: str) -> tuple[str, str] | None:
    """The template's top-level ``{% if %}`` chains split in two: the text sheet 1 renders, and the
    text only other sheets render. None when a test is not a plain stage/sheet_num comparison."""
    taken: list[str] = []
    other: list[str] = []
    depth = 0
    at = 0
    state: list[str] = []  # per open top-level chain: "taking", "skipping", "done"
    for match in CHAIN_TAG.finditer(template):
        word, rest = match.group(1), match.group(2)
        piece = template[at:match.start()]
        at = match.end()
        if depth == 0:
            taken.append(piece)
        elif depth == 1 and state and state[-1] != "taking":
            other.append(piece)
        elif depth == 1:
            taken.append(piece)
        else:
            (taken if all(s == "taking" for s in state) else other).append(piece)
        if word in ("if", "for"):
            depth += 1
            if depth == 1 and word == "if":
                test = SIMPLE_TEST.match(rest)
                if test is None:
                    return None
                state.append("taking" if _COMPARE[test.group(2)](1, int(test.group(3))) else "skipping")
            elif depth == 1:
                state.append("taking")  # a loop: its text is rendered for sheet 1 as well
            else:
                state.append(state[-1] if state else "taking")
        elif word in ("elif", "else") and depth == 1:
            if state[-1] in ("taking", "done"):
                state[-1] = "done"
            elif word == "else":
                state[-1] = "taking"
            else:
                test = SIMPLE_TEST.match(rest)
                if test is None:
                    return None
                state[-1] = "taking" if _COMPARE[test.group(2)](1, int(test.group(3))) else "skipping"
        elif word in ("endif", "endfor"):
            depth = max(depth - 1, 0)
            if state:
                state.pop()
    taken.append(template[at:])
    return "".join(taken), "".join(other)


class ValidationBeforeItsStage(Rule):
    """A validation with no condition checks a file that only a later stage's prompt asks for.

    A validation without ``condition`` (or ``sheet``) runs after every sheet. When the prompt
    branches by stage (``{% if stage == 1 %} ... {% else %} ... {% endif %}``) and the file the
    validation checks is named only in a branch the first sheet does not render, sheet 1 is not
    asked to write it: its validation fails, the sheet is retried until it gives up, and the
    later stage is never reached. Give the validation the condition of its stage. Marianne's
    score-writing guide lists this.

    Failing::

        sheet:
          size: 1
          total_items: 2
        prompt:
          template: |
            {% if stage == 1 %}Draft {{ workspace }}/draft.md.
            {% else %}Polish it into {{ workspace }}/final.md.{% endif %}
        validations:
          - type: file_exists
            path: "{workspace}/final.md"

    Passing::

        sheet:
          size: 1
          total_items: 2
        prompt:
          template: |
            {% if stage == 1 %}Draft {{ workspace }}/draft.md.
            {% else %}Polish it into {{ workspace }}/final.md.{% endif %}
        validations:
          - type: file_exists
            path: "{workspace}/final.md"
            condition: "stage == 2"
    """

    code = "ML417"
    name = "validation-before-its-stage"
    severity = Severity.WARNING
    summary = "a validation without a condition checks a file only a later stage is asked to write"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.prompt_sources import prompt_sources

        if sheet_facts(ctx).total_sheets < 2:
            return
        sources = [source for source in prompt_sources(ctx) if source.parsed.ok]
        if len(sources) != 1:
            return
        split_text = _first_sheet_branches(sources[0].text)
        if split_text is None:
            return
        first, later = split_text
        for index, rule in enumerate(ctx.score.validations):
            raw = _raw_rule(ctx, index)
            if rule.type not in _FILE_TYPES or not isinstance(rule.path, str):
                continue
            if rule.condition is not None or "sheet" in raw:
                continue
            name = rule.path.replace("\\", "/").rsplit("/", 1)[-1]
            if not name or "{" in name or "*" in name or len(name) < 4:
                continue
            if name in first or name not in later:
                continue
            yield Finding(
                self.name,
                ctx.value_span("validations", index),
                f"validation #{index + 1} checks '{rule.path}' after every sheet, but only the prompt of later "
                f"stages asks for '{name}': sheet 1 is not told to write it, so its validation fails and the "
                "score never gets past it",
                suggestion="add the condition of the stage that writes it, e.g. condition: \"stage == N\"",
            )


def top_level_alternatives(pattern: str) -> list[str]:
    """The alternatives of a regex's top-level ``|`` (one item when there is none)."""
    parts: list[str] = []
    depth = 0
    in_class = False
    start = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    parts.append(pattern[start:])
    return parts


_LITERAL_HEADING = re.compile(r"^\^?#{1,6} ?[\w ,:'&/-]+$")


class RegexAlternationOfSections(Rule):
    """A ``content_regex`` pattern is an alternation of headings: any one of them passes.

    ``## Strengths|## Weaknesses`` is found in a report that has only one of the sections, so a
    validation meant to require every section passes when one is there. Write one validation per
    required heading. Marianne's score-reviewer checklist asks for this ("AND, not OR").

    Failing::

        validations:
          - type: content_regex
            path: "{workspace}/review.md"
            pattern: "## Strengths|## Weaknesses"

    Passing::

        validations:
          - type: content_contains
            path: "{workspace}/review.md"
            pattern: "## Strengths"
          - type: content_contains
            path: "{workspace}/review.md"
            pattern: "## Weaknesses"
    """

    code = "ML418"
    name = "regex-alternation-of-sections"
    severity = Severity.INFO
    summary = "a content_regex is 'A|B' of headings, so one section is enough to pass"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx, "content_regex"):
            parts = [part.strip() for part in top_level_alternatives(pattern)]
            if len(parts) < 2 or not all(_LITERAL_HEADING.match(part) for part in parts):
                continue  # alternatives that are patterns themselves ('### Step \\d|### [A-Z]\\w+') are one section
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "pattern"),
                f"validation #{index + 1} pattern '{pattern}' passes when any one of its {len(parts)} headings is "
                "there, not when all are",
                suggestion="write one validation per heading that must be present",
            )


_PATTERN_PLACEHOLDER = re.compile(
    r"(?<!\\)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|(?<![\\{])\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PlaceholderInPattern(Rule):
    """A content check's ``pattern`` holds a placeholder, which Marianne never fills.

    Marianne fills ``{workspace}``, ``{sheet_num}`` and the other placeholders in a validation's
    ``path``, ``command`` and ``working_directory`` only. ``pattern`` is used as written: a
    ``content_contains`` for ``"CHAPTER {sheet_num} DONE"`` looks for those braces, never finds
    them in what the agent wrote (``CHAPTER 3 DONE``), and the sheet fails every attempt. In a
    ``content_regex``, ``{sheet_num}`` is literal braces too. Use a marker without the number, or
    a regex that accepts any number. Source: Marianne's troubleshooting guide (markers with sheet
    numbers in validations) and its validation engine's behaviour.

    Failing::

        validations:
          - type: content_contains
            path: "{workspace}/chapter-{sheet_num}.md"
            pattern: "CHAPTER {sheet_num} DONE"

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/chapter-{sheet_num}.md"
            pattern: "CHAPTER \\d+ DONE"
    """

    code = "ML420"
    name = "placeholder-in-pattern"
    severity = Severity.ERROR
    summary = "a content check's pattern holds a {placeholder}, which Marianne never fills: it can never match"

    def check(self, ctx: Context) -> Iterator[Finding]:
        names: frozenset[str] | None = None
        for index, pattern in patterns(ctx):
            if "{" not in pattern:
                continue
            if names is None:
                names = validation_names(ctx)
            for match in _PATTERN_PLACEHOLDER.finditer(pattern):
                name = match.group(1) or match.group(2)
                if name not in names:
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, "pattern"),
                    f"validation #{index + 1}'s pattern contains '{match.group(0)}', but Marianne fills placeholders "
                    "only in path, command and working_directory: the pattern is searched for with the braces, so "
                    "it never matches what the sheet writes",
                    suggestion="use a marker without the placeholder, or a content_regex such as '\\d+' for the number",
                )
                break


class SheetWithoutValidation(Rule):
    """Some sheets have no validation that applies to them, so they pass whatever they produce.

    Each validation runs only on the sheets its ``condition`` (or ``sheet``) selects; a sheet that
    none selects counts as fully validated and passes at once, empty output included. This is
    the per-sheet form of no-validations: usually a stage added later, or a condition written for
    stage numbers the fan-out changed. Source: the validation-patterns guide of Marianne (a
    validation for every sheet) and the pre-flight checklist of its plugin reference.

    Failing::

        sheet:
          size: 1
          total_items: 2
        validations:
          - type: content_contains
            path: "{workspace}/plan.md"
            pattern: "## Plan"
            condition: "sheet_num == 1"

    Passing::

        sheet:
          size: 1
          total_items: 2
        validations:
          - type: content_contains
            path: "{workspace}/plan.md"
            pattern: "## Plan"
            condition: "sheet_num == 1"
          - type: content_contains
            path: "{workspace}/report.md"
            pattern: "## Report"
            condition: "sheet_num == 2"
    """

    code = "ML421"
    name = "sheet-without-validation"
    severity = Severity.WARNING
    summary = "some sheets have no validation that applies to them: they pass whatever they produce"

    def check(self, ctx: Context) -> Iterator[Finding]:
        rules = ctx.score.validations
        if not rules:
            return  # no-validations speaks
        facts = sheet_facts(ctx)
        covered: set[int] = set()
        for sheets in applicability(ctx):
            covered.update(sheets)
        uncovered = [number for number in sorted(facts.metas) if number not in covered]
        if not uncovered or len(uncovered) == len(facts.metas):
            return  # every sheet is covered, or none is (unreachable-validation-stage and misread-condition speak)
        stages = sorted({facts.metas[number].stage for number in uncovered})
        where = ""
        if facts.has_fan_out:
            where = f" (stage{'s' if len(stages) > 1 else ''} {', '.join(map(str, stages))})"
        one = len(uncovered) == 1
        yield Finding(
            self.name,
            ctx.key_span("validations"),
            f"no validation applies to {sheets_phrase(uncovered)}{where}: "
            f"{'it passes' if one else 'they pass'} whatever {'it produces' if one else 'they produce'}",
            suggestion="add a validation whose condition selects those sheets",
        )


class OverEscapedRegex(Rule):
    """A ``content_regex`` escapes its backslashes twice, so ``\\\\d`` looks for a backslash and a 'd'.

    In single quotes (or a plain scalar) YAML keeps backslashes as written: ``'\\\\d+'`` is the
    regex ``\\\\d+``, a literal backslash followed by ``d`` characters, never a digit. Only a
    double-quoted YAML string needs doubled backslashes. The check can then never pass (or, inside
    an alternation, never takes that branch). Source: the "double-escape regex in YAML" pitfall of
    Marianne's plugin reference.

    Failing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: 'Total: \\\\d+'

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: 'Total: \\d+'
    """

    code = "ML422"
    name = "over-escaped-regex"
    severity = Severity.WARNING
    summary = "a content_regex escapes a backslash where it meant a regex escape (\\\\d instead of \\d)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx, "content_regex"):
            if "\\\\" not in pattern:
                continue
            match = re.search(r"\\\\[dswbDSW]", pattern)
            if match is None:
                continue
            shown = match.group(0)
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "pattern"),
                f"validation #{index + 1}'s regex holds '{shown}': a literal backslash followed by "
                f"'{shown[-1]}', not the class \\{shown[-1]}, so it never matches what was meant",
                suggestion=f"write \\{shown[-1]} (single quotes keep one backslash as it is)",
            )


_HEADING_SPAN = re.compile(r"#{1,6} [^\n]*?(?<!\\)\.[*+]\??[^\n]*#{1,6} ")


class RegexDotAcrossLines(Rule):
    """A ``content_regex`` joins two headings with ``.*``, but ``.`` does not cross line breaks.

    Marianne searches with ``re.MULTILINE`` only: ``.`` matches any character except a line
    break. ``"## Summary.*## Recommendations"`` looks for both headings on one line and never
    matches a document where they stand on lines of their own. Add ``(?s)`` at the start, or use
    ``[\\s\\S]*``, or check each heading with its own validation. Source: the validation
    anti-patterns of Marianne's plugin reference and the validation engine's flags.

    Failing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: "## Summary.*## Recommendations"

    Passing::

        validations:
          - type: content_regex
            path: "{workspace}/report.md"
            pattern: "(?s)## Summary.*## Recommendations"
    """

    code = "ML423"
    name = "regex-dot-across-lines"
    severity = Severity.WARNING
    summary = "a content_regex spans two headings with .*, but . does not match line breaks"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, pattern in patterns(ctx, "content_regex"):
            if "#" not in pattern:
                continue
            if len(pattern) > 2000:
                continue  # not a pair of headings; and the search below is quadratic in the length
            if "(?s" in pattern or re.search(r"\(\?[a-zA-Z]*s", pattern) or "\\n" in pattern or "\n" in pattern:
                continue
            if _HEADING_SPAN.search(pattern) is None:
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "pattern"),
                f"validation #{index + 1}'s regex '{pattern}' spans two headings with '.*', but Marianne searches "
                "line by line ('.' does not match a line break): headings on lines of their own never match",
                suggestion="start the pattern with (?s), or check each heading with its own validation",
            )
