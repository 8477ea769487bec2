"""ML0xx: reading the file (syntax, duplicate keys, YAML 1.1 surprises, suppressions).

The loader reports most of these while it reads; the YAML 1.1 value rules run
here on the notes the loader kept, with the models telling which type the
value was meant to have.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.reading.edits import index_of
from marianne_lint.reading.positions import Span
from marianne_lint.rules.base import KINDS, Context, Rule


class YamlSyntax(Rule):
    """The file is not YAML that Marianne's loader can read.

    Marianne refuses the whole file, so nothing else is checked. Tabs used for
    indentation, unterminated quotes, unclosed brackets, a second document
    (``---``), an alias without its anchor and tags such as ``!!python/object``
    all end up here.

    Failing::

        sheet:
        <TAB>size: 1     # a tab character before 'size'

    Passing::

        sheet:
          size: 1
    """

    code = "ML001"
    name = "yaml-syntax"
    severity = Severity.ERROR
    summary = "the file is not well-formed YAML"
    kinds = KINDS
    reported_by = "the loader"


class DuplicateKey(Rule):
    """A key appears twice in one mapping.

    Marianne's loader silently keeps the last value, so the first one is lost
    without a word. YAML 1.1 also treats ``on:`` and ``true:`` (or ``1:`` and
    ``true:``) as the same key. The finding sits on the second occurrence; the
    first is a related location. Keys brought in by a merge key (``<<``) and
    overridden on purpose are not duplicates.

    Failing::

        retry:
          max_retries: 3
          max_retries: 5

    Passing::

        retry:
          max_retries: 5
    """

    code = "ML002"
    name = "duplicate-key"
    severity = Severity.WARNING
    summary = "a key appears twice in one mapping; only the last value counts"
    kinds = KINDS
    reported_by = "the loader"
    fixable = "safe"
    fix_summary = "delete the earlier occurrence (the one Marianne drops)"


class Yaml11BooleanKey(Rule):
    """An unquoted key such as ``on``, ``off``, ``yes`` or ``no`` is read as a boolean.

    Marianne reads YAML 1.1, where these words are booleans, also as keys.
    Where a string key is required (any setting, ``prompt.variables``,
    ``instrument_config``) Marianne rejects the file; elsewhere the key
    silently becomes ``True``/``False``. Old notification templates fail this
    way with ``on: [completed]``.

    Failing::

        prompt:
          variables:
            on: "launch day"

    Passing::

        prompt:
          variables:
            "on": "launch day"
    """

    code = "ML003"
    name = "yaml11-boolean-key"
    severity = Severity.ERROR
    summary = "an unquoted key like 'on' or 'yes' is read as a boolean by YAML 1.1"
    kinds = KINDS

    fixable = "sometimes"
    fix_summary = "quote the key; a notification's legacy `on:` becomes `on_events:` (unsafe)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for note in ctx.loaded.notes:
            if not note.is_key or note.node.note != "bool":
                continue
            written = note.node.text
            yield Finding(
                self.name,
                note.node.span,
                f"the key '{written}' is read as the boolean {str(note.value).lower()} by YAML 1.1, "
                "which Marianne uses, not as the text '" + str(written) + "'",
                suggestion=f'quote the key: "{written}":',
                severity=Severity.WARNING,
                fix=self._fix(ctx, note.path, note.node.span, written),
            )

    @staticmethod
    def _fix(ctx: Context, path: tuple[Any, ...], span: Span, written: str | None) -> Fix | None:
        from marianne_lint.building.structure import boolean_key_fix

        return None if written is None else boolean_key_fix(ctx.text, ctx.kind, path, span, written, ctx.data)


class Yaml11BooleanValue(Rule):
    """An unquoted ``yes``, ``no``, ``on`` or ``off`` is read as a boolean where text or a number is meant.

    Marianne reads YAML 1.1, where these words are booleans. For a true/false
    setting that is what you want, and nothing is reported. In a template
    variable the value becomes ``True``/``False`` instead of the word; in a
    number setting it silently becomes 1 or 0 (a text setting rejects it and
    is reported as a schema error).

    Failing::

        prompt:
          variables:
            answer: yes          # the template sees True

    Passing::

        prompt:
          variables:
            answer: "yes"
    """

    code = "ML004"
    name = "yaml11-boolean-value"
    severity = Severity.WARNING
    summary = "an unquoted yes/no/on/off value becomes a boolean where text or a number is meant"
    kinds = KINDS
    fixable = "sometimes"
    fix_summary = "quote the word (unsafe where any value goes, such as a template variable)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.building.models.introspect import annotation_at

        root = type(ctx.model)
        for note in ctx.loaded.notes:
            if note.is_key or note.node.note != "bool":
                continue
            expected = annotation_at(root, note.path)
            if expected is bool:
                continue
            written = note.node.text
            target = "a number setting" if expected in (int, float) else "a value here"
            # Quoting keeps the word the author wrote where text is meant; in a number setting
            # the word is no number either, so there is nothing safe to write.
            fix = None
            if written is not None and expected not in (int, float):
                # Safe for a text setting; where any value goes (a template variable) the author
                # may have meant the boolean (`{% if flag %}`), so quoting is a guess.
                fix = Fix.of(f'quote the value: "{written}"', "safe" if expected is str else "unsafe",
                             index_of(ctx.text).quote(note.node.span, written))
            yield Finding(
                self.name,
                note.node.span,
                f"'{written}' is read as the boolean {str(note.value).lower()} by YAML 1.1 (Marianne), "
                f"and {target} then holds {_as_value(note.value, expected)}",
                suggestion=f'write "{written}" if you mean the word',
                fix=fix,
            )


def _as_value(value: Any, expected: Any) -> str:
    if expected is int:
        return str(int(value))
    if expected is float:
        return str(float(value))
    return str(value)


class Yaml11Number(Rule):
    """A number or date is read differently by YAML 1.1 (Marianne) and YAML 1.2 (editors, other tools).

    ``1:30`` is the base-60 number 90, ``0660`` is octal (432), ``1_000`` is
    1000 and ``2024-05-01`` is a date in YAML 1.1; ``1e3`` is text there (a
    1.1 float needs a dot). Marianne uses YAML 1.1, so that is what it runs
    with, while your editor's schema check may show something else. Reported
    as information so that the difference is never a surprise.

    Failing::

        stale_detection:
          idle_timeout_seconds: 5:00     # 300 for Marianne, text for an editor

    Passing::

        stale_detection:
          idle_timeout_seconds: 300
    """

    code = "ML005"
    name = "yaml11-number"
    severity = Severity.INFO
    summary = "a number or date reads differently in YAML 1.1 (Marianne) and YAML 1.2"
    kinds = KINDS

    def check(self, ctx: Context) -> Iterator[Finding]:
        for note in ctx.loaded.notes:
            if note.node.note not in ("number", "string", "timestamp") or note.node.style is not None:
                continue
            written = note.node.text
            if note.node.note == "string":
                message = f"'{written}' is text for Marianne (YAML 1.1) but a number in YAML 1.2"
            elif note.node.note == "timestamp":
                kind = "date-time" if isinstance(note.value, datetime.datetime) else "date"
                message = f"'{written}' is a {kind} for Marianne (YAML 1.1), text in YAML 1.2"
            else:
                message = (
                    f"'{written}' is the number {note.value!r} for Marianne (YAML 1.1); YAML 1.2 reads it otherwise"
                )
            yield Finding(
                self.name, note.node.span, message, suggestion="write the plain number or quote the text"
            )


class UnreadableFile(Rule):
    """The file cannot be read as text: missing, unreadable, binary or not UTF-8.

    Marianne reads config files as UTF-8 text; anything else never reaches its
    models.

    Failing: a score saved as UTF-16, or an image named ``score.yaml``.

    Passing: the same score saved as UTF-8.
    """

    code = "ML006"
    name = "unreadable-file"
    severity = Severity.ERROR
    summary = "the file cannot be read as UTF-8 text"
    kinds = KINDS
    reported_by = "the reader"


class ResourceLimit(Rule):
    """The file exceeds a resource bound and is not linted further.

    The bounds protect a commit hook or CI job from hostile or broken input:
    file size (``max-file-size``, bytes, default 5 MiB: a parsed file takes
    about 55 times its size in memory), nesting depth (``max-depth``, default
    200), the nodes that aliases may add
    (``max-alias-nodes``, default 100000; a "billion laughs" file hits it),
    the sheets a score expands to (``max-sheets``, default 100000; a
    ``fan_out`` or ``total_items`` of a billion would take gigabytes) and the
    sheet-to-sheet dependencies they make (10 per allowed sheet: two stages
    fanned out to 40000 and 30000 voices depend all-to-all, 1.2 billion
    edges), and integers too long for Python to print (more than 4300
    digits). A recursive alias is reported here too.

    Failing::

        a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        # ... and so on, ten levels deep

    Passing: any config of a sensible size.
    """

    code = "ML007"
    name = "resource-limit"
    severity = Severity.ERROR
    summary = "the file is too large, too deep, or expands too much (aliases, sheets)"
    kinds = KINDS
    reported_by = "the reader"


class UnusedSuppression(Rule):
    """A ``# marianne-lint: disable=...`` comment silences nothing.

    Either the problem was fixed or the comment names the wrong rule or line.
    Remove it so that it cannot hide a future problem.

    Failing::

        retry:
          max_retries: 3  # marianne-lint: disable=dependency-cycle

    Passing::

        sheet:
          dependencies:
            1: [2]  # marianne-lint: disable=dependency-cycle
            2: [1]
    """

    code = "ML008"
    name = "unused-suppression"
    severity = Severity.WARNING
    summary = "a suppression comment silences nothing"
    kinds = KINDS
    reported_by = "the suppression step"
    fixable = "safe"
    fix_summary = "delete the rule from the comment, or the whole comment"


class UnknownRuleInSuppression(Rule):
    """A suppression comment names a rule that does not exist.

    Failing::

        name: x  # marianne-lint: disable=dependancy-cycle

    Passing::

        name: x  # marianne-lint: disable=dependency-cycle
    """

    code = "ML009"
    name = "unknown-suppressed-rule"
    severity = Severity.WARNING
    summary = "a suppression comment names an unknown rule"
    kinds = KINDS
    reported_by = "the suppression step"
    fixable = "unsafe"
    fix_summary = "rename to the one rule name it is close to"
