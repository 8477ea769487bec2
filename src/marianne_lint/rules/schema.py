"""ML1xx: the structure of a config, as Marianne's models define it.

A ``schema-*`` finding means Marianne rejects the file. The structure step
reports all of them (see :mod:`marianne_lint.building.structure`); this module holds
their documentation and the one structural rule that is only a warning:
keys Marianne accepts and then ignores.
"""

from __future__ import annotations

from collections.abc import Iterator

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.rules.base import KINDS, Context, Rule


class _SchemaRule(Rule):
    severity = Severity.ERROR
    kinds = KINDS
    reported_by = "the structure step"


class SchemaUnknownKey(_SchemaRule):
    """A key that Marianne's models do not know; Marianne rejects the file.

    Every Marianne setting forbids unknown keys. The message suggests the
    closest allowed key, or the section where a key of that name belongs.

    Failing::

        retry:
          retries: 3

    Passing::

        retry:
          max_retries: 3
    """

    code = "ML101"
    name = "schema-unknown-key"
    summary = "an unknown key; Marianne rejects the file"
    fixable = "unsafe"
    fix_summary = "rename to the one allowed key it is close to, when that key is not there yet"


class SchemaMissingKey(_SchemaRule):
    """A required key is missing; Marianne rejects the file.

    Reported at the section that lacks the key (line 1 for a top-level key).

    Failing::

        name: report
        sheet:
          total_items: 3
        prompt:
          template: "Write part {{ sheet_num }}"

    Passing::

        name: report
        sheet:
          size: 1
          total_items: 3
        prompt:
          template: "Write part {{ sheet_num }}"
    """

    code = "ML102"
    name = "schema-missing-key"
    summary = "a required key is missing; Marianne rejects the file"


class SchemaType(_SchemaRule):
    """A value has the wrong type; Marianne rejects the file.

    Text settings reject numbers and booleans (``name: 2024`` fails: quote
    it), number settings reject text that is not a number, and an empty
    section such as ``retry:`` with nothing under it is null, not "the
    defaults".

    Failing::

        retry:
          max_retries: three

    Passing::

        retry:
          max_retries: 3
    """

    code = "ML103"
    name = "schema-type"
    summary = "a value has the wrong type; Marianne rejects the file"


class SchemaRange(_SchemaRule):
    """A number or length is outside the allowed bounds; Marianne rejects the file.

    Failing::

        parallel:
          max_concurrent: 50      # at most 20

    Passing::

        parallel:
          max_concurrent: 20
    """

    code = "ML104"
    name = "schema-range"
    summary = "a value is out of its allowed range; Marianne rejects the file"


class SchemaEnum(_SchemaRule):
    """A value is not one of the allowed choices (exact case); Marianne rejects the file.

    Failing::

        logging:
          level: info

    Passing::

        logging:
          level: INFO
    """

    code = "ML105"
    name = "schema-enum"
    summary = "a value is not one of the allowed choices; Marianne rejects the file"
    fixable = "unsafe"
    fix_summary = "replace with the one allowed value it is close to"


class SchemaPattern(_SchemaRule):
    """A text value does not match the pattern it must follow; Marianne rejects the file.

    Failing::

        isolation:
          branch_prefix: "2024/runs"

    Passing::

        isolation:
          branch_prefix: runs
    """

    code = "ML106"
    name = "schema-pattern"
    summary = "a value does not match its required pattern; Marianne rejects the file"


class SchemaRegex(_SchemaRule):
    """A regular expression does not compile; Marianne rejects the file.

    Applies to ``rate_limit.detection_patterns``, the ``pattern`` of a
    ``content_regex`` validation and ``feedback.pattern``. Covers ``mzt
    validate`` check V007, which in practice never fires there because the
    models reject the file first.

    Failing::

        rate_limit:
          detection_patterns: ["rate(limit"]

    Passing::

        rate_limit:
          detection_patterns: ["rate\\\\(limit"]
    """

    code = "ML107"
    name = "schema-regex"
    summary = "a regular expression does not compile; Marianne rejects the file"


class SchemaKeyType(_SchemaRule):
    """A mapping key has the wrong type; Marianne rejects the file.

    Sheet-numbered maps (``dependencies``, ``cadenzas``, ...) need integer
    keys; named maps (``prompt.variables``, ``instruments``) need text keys.

    Failing::

        sheet:
          dependencies:
            second: [1]

    Passing::

        sheet:
          dependencies:
            2: [1]
    """

    code = "ML108"
    name = "schema-key-type"
    summary = "a mapping key has the wrong type; Marianne rejects the file"


class SchemaConstraint(_SchemaRule):
    """A rule linking several keys is broken; Marianne rejects the file.

    Marianne's models check combinations: retry ``base_delay_seconds`` at most
    ``max_delay_seconds``, stale detection ``check_interval_seconds`` below
    ``idle_timeout_seconds`` (even when disabled), cost limits enabled with a
    limit, a validation's required fields for its type, fan-out with
    ``size: 1``, dependencies within the sheet range and never on themselves,
    and more. The finding sits on the first key involved; the others are
    related locations.

    Failing::

        retry:
          base_delay_seconds: 120
          max_delay_seconds: 60

    Passing::

        retry:
          base_delay_seconds: 30
          max_delay_seconds: 60
    """

    code = "ML109"
    name = "schema-constraint"
    summary = "a cross-field rule of Marianne's models is broken; Marianne rejects the file"


class SchemaRootType(_SchemaRule):
    """The file is empty or its top level is not a mapping; Marianne rejects it.

    (An empty conductor config is fine: it means all defaults.)

    Failing::

        - name: report

    Passing::

        name: report
    """

    code = "ML110"
    name = "schema-root-type"
    summary = "the file is empty or not a mapping; Marianne rejects it"


class IgnoredKey(Rule):
    """A key Marianne accepts and then ignores.

    ``sheet.total_sheets`` is dropped silently (the count always comes from
    ``total_items``, ``size`` and ``start_item``), and the conductor drops
    ``use_baton``. The value has no effect, so it can only mislead a reader.

    Failing::

        sheet:
          size: 1
          total_items: 4
          total_sheets: 6

    Passing::

        sheet:
          size: 1
          total_items: 4
    """

    code = "ML111"
    name = "ignored-key"
    severity = Severity.WARNING
    summary = "a legacy key that Marianne accepts but ignores"
    kinds = ("score", "conductor")
    fixable = "safe"
    fix_summary = "delete the key"

    def check(self, ctx: Context) -> Iterator[Finding]:
        data = ctx.data if isinstance(ctx.data, dict) else {}
        if ctx.kind == "score":
            sheet = data.get("sheet")
            if isinstance(sheet, dict) and "total_sheets" in sheet:
                actual = ctx.score.sheet.total_sheets
                yield Finding(
                    self.name,
                    ctx.key_span("sheet", "total_sheets"),
                    f"sheet.total_sheets is ignored by Marianne (the score has {actual} sheets, "
                    "computed from total_items, size and start_item)",
                    suggestion="remove sheet.total_sheets",
                    fix=Fix.of("remove sheet.total_sheets", "safe", ctx.remove_key("sheet", "total_sheets")),
                )
        elif "use_baton" in data:
            yield Finding(
                self.name,
                ctx.key_span("use_baton"),
                "use_baton is a removed setting that the conductor drops (and `mzt config check` rejects)",
                suggestion="remove use_baton",
                fix=Fix.of("remove use_baton", "safe", ctx.remove_key("use_baton")),
            )
