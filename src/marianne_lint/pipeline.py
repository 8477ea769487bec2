"""The pipeline for one file: read -> load with positions -> detect the kind -> build the model
-> run the rules -> apply selection and suppressions.

Each step is a function a front end composes (the command line, the public API, ``graph``);
:func:`lint_source` runs them all. Each step runs once per file; the rules share the one
parse and the one model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any

from marianne_lint import rules as registry
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Finding, Related, Severity
from marianne_lint.reading import kinds as kind_detection
from marianne_lint.reading.loader import Limits, Loaded, load
from marianne_lint.reading.positions import Span, line_texts, place
from marianne_lint.reading.source import Source, read_path, read_stdin, too_big
from marianne_lint.rules.base import Context
from marianne_lint.suppression import parse as parse_suppressions

#: See :func:`_rule_facts`.
RuleFacts = tuple[str, str, Severity | None, Severity] | None


@dataclass(frozen=True, slots=True)
class Settings:
    """What a run lints with: the configuration and the rules it enables."""

    config: Config
    enabled: frozenset[str]
    rule_facts: dict[str, RuleFacts] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """Per rule name, what its findings need (see :func:`_rule_facts`), filled as findings come."""

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """Raises :class:`~marianne_lint.config.ConfigError` when the configuration names an unknown rule."""
        return cls(config, frozenset(registry.enabled_rules(config)))

    def option(self, name: str) -> object:
        options = self.config.options
        return options[name] if name in options else registry.option_default(name)

    @property
    def options(self) -> dict[str, Any]:
        """Every option, the configured value or the default."""
        return {**registry.option_defaults(), **self.config.options}

    @property
    def max_bytes(self) -> int:
        return int(str(self.option("max-file-size")))

    @property
    def limits(self) -> Limits:
        return Limits(
            max_alias_nodes=int(str(self.option("max-alias-nodes"))),
            max_depth=int(str(self.option("max-depth"))),
        )


# -- step 1: read ----------------------------------------------------------------------------------


def read(path: str, settings: Settings, display: str | None = None) -> Source:
    """The text of a file on disk (``-`` is standard input), within the configured size limit."""
    shown = display if display is not None else path
    if path == "-":
        return read_stdin(shown, settings.max_bytes)
    return read_path(path, shown, settings.max_bytes)


def text_source(text: str, path: str, settings: Settings) -> Source:
    """A text held in memory (an editor's buffer), checked as a file of ``path`` would be."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no file could hold it as UTF-8
        line, column = place(text, exc.start)
        return Source(path, None, Finding(
            "unreadable-file",
            Span(line, column, line, column + 1),
            f"the text holds U+{ord(text[exc.start]):04X}, half of a surrogate pair, which is not a character: "
            "it cannot be saved as UTF-8, the encoding Marianne reads",
            suggestion="remove the character or complete the pair",
        ))
    if len(data) > settings.max_bytes:
        return too_big(path, len(data), settings.max_bytes)
    return Source(path, text)


# -- steps 2-4: load, detect the kind, build -------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """One input after loading and building: what the rules run on."""

    source: Source
    kind: str
    loaded: Loaded | None
    """None when the input could not be read."""
    findings: list[Finding] = field(default_factory=list)
    """What reading, loading and building found."""
    context: Context | None = None
    """The validated document the rules look at; None when it did not validate."""
    ran: frozenset[str] = frozenset()
    """The rules that had their say on this input so far."""


#: Rules reported while reading and building: they run on every readable file.
_LOAD_RULES = frozenset(rule.name for rule in registry.RULES if rule.reported_by is not None)
#: The rules that ran when the file could not even be loaded (no structure step).
_READ_RULES = frozenset(
    rule.name for rule in registry.RULES if rule.reported_by in ("the loader", "the reader", "the suppression step")
)


def prepare(
    source: Source,
    settings: Settings,
    *,
    kind: str | None = None,
    walked: bool = False,
    file_path: FsPath | None = None,
) -> Prepared | None:
    """Load, detect the kind and build the model of one input.

    ``kind`` forces the kind (else the configuration's ``kinds`` and then the content decide).
    Returns None when ``walked`` (a folder walk found the file) and it is not a Marianne file.
    """
    kind = kind or settings.config.kind_for(source.path)
    if source.text is None:
        assert source.finding is not None
        return Prepared(source, kind or "score", None, [source.finding])
    loaded = load(source.text, settings.limits)
    findings: list[Finding] = list(loaded.findings)
    if not loaded.ok:
        if kind is None:
            kind = kind_detection.detect_text(source.text, source.path)
            if kind is None and walked:
                return None
        return Prepared(source, kind or "score", loaded, findings, ran=_READ_RULES)
    if kind is None:
        kind = kind_detection.detect(loaded.data, source.path)
        if kind is None:
            if walked:
                return None
            kind = "score"

    too_many = _too_many_sheets(kind, loaded, settings)
    if too_many is not None:
        return Prepared(source, kind, loaded, [*findings, too_many], ran=_LOAD_RULES)

    from marianne_lint.building.structure import build

    built = build(kind, loaded.data, loaded.root, source.text)
    findings.extend(built.findings)
    context = None
    if built.model is not None and loaded.root is not None:
        context = Context(
            path=source.path,
            kind=kind,
            model=built.model,
            data=loaded.data,
            root=loaded.root,
            loaded=loaded,
            options=settings.options,
            file_path=file_path,
            text=source.text,
        )
    return Prepared(source, kind, loaded, findings, context, _LOAD_RULES)


def _too_many_sheets(kind: str, loaded: Loaded, settings: Settings) -> Finding | None:
    """A resource-limit finding when a score would expand to more sheets than ``max-sheets``."""
    if kind != "score" or not isinstance(loaded.data, dict) or loaded.root is None:
        return None
    from marianne_lint.building.expansion import planned_sheets

    planned = planned_sheets(loaded.data.get("sheet"))
    limit = int(str(settings.option("max-sheets")))
    if planned is None or planned[0] <= limit:
        return _too_many_edges(loaded, limit)
    count, path = planned
    found = loaded.root.locate(path)
    span = found.node.span if found.exact else found.key_or_value
    shown = f"{count:,}" if count < 10**30 else f"about 10^{len(str(count)) - 1}"
    return Finding(
        "resource-limit",
        span,
        f"the score expands to {shown} sheets, more than the {limit:,} the linter checks; "
        "it is not linted further (option max-sheets)",
    )


#: How many sheet-to-sheet dependencies the linter follows, per allowed sheet: two stages fanned out
#: to different counts depend all-to-all, so 20,000 voices waiting on 20,000 others are 400 million.
EDGES_PER_SHEET = 10


def _too_many_edges(loaded: Loaded, sheet_limit: int) -> Finding | None:
    from marianne_lint.building.expansion import planned_edges

    assert isinstance(loaded.data, dict) and loaded.root is not None
    planned = planned_edges(loaded.data.get("sheet"))
    limit = sheet_limit * EDGES_PER_SHEET
    if planned is None or planned[0] <= limit:
        return None
    count, path = planned
    found = loaded.root.locate(path)
    span = found.key_or_value
    shown = f"{count:,}" if count < 10**30 else f"about 10^{len(str(count)) - 1}"
    return Finding(
        "resource-limit",
        span,
        f"the dependencies expand to {shown} sheet-to-sheet edges (fanned-out stages of different sizes "
        f"depend all-to-all), more than the {limit:,} the linter follows; it is not linted further "
        f"(option max-sheets, {EDGES_PER_SHEET} edges per sheet)",
    )


# -- step 5: rules ---------------------------------------------------------------------------------


def check(prepared: Prepared, settings: Settings) -> Prepared:
    """Run the enabled rules of the input's kind on its validated document."""
    ctx = prepared.context
    if ctx is None:
        return prepared
    ran = set(prepared.ran)
    findings = list(prepared.findings)
    for rule in registry.checking_rules(prepared.kind, settings.enabled):
        ran.add(rule.name)
        findings.extend(rule.check(ctx))
    return Prepared(prepared.source, prepared.kind, prepared.loaded, findings, ctx, frozenset(ran))


# -- step 6: selection, severities and suppression comments ----------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    """The findings for one file, and the kind it was linted as."""

    path: str
    kind: str | None
    diagnostics: list[Diagnostic]
    lines: dict[int, str]
    """The text of each line a finding points at (for the ``full`` format)."""


def finish(prepared: Prepared, settings: Settings) -> Result:
    """Apply selection, per-file ignores, severities and suppression comments."""
    source = prepared.source
    config = settings.config
    ran = prepared.ran
    text_spans = prepared.loaded.text_spans if prepared.loaded is not None else []
    ignored = registry.expand(config.file_ignores(source.path), "per-file-ignores")
    suppressions = parse_suppressions(source.text, text_spans) if source.text is not None else None
    # The file's lines (to keep positions inside it and quote them), split only when needed.
    needed = prepared.findings or (suppressions is not None and suppressions.directives)
    table = line_texts(source.text) if source.text is not None and needed else None
    out: list[Diagnostic] = []
    for finding in prepared.findings:
        diagnostic = _diagnostic(source.path, finding, settings, table)
        if diagnostic is None or diagnostic.rule in ignored:
            continue
        if suppressions is not None and suppressions.silences(diagnostic.line, diagnostic.code, diagnostic.rule):
            continue
        out.append(diagnostic)
    if suppressions is not None:
        def was_checked(token: str) -> bool:
            rule = registry.lookup(token)
            return rule is not None and rule.name in ran and rule.name in settings.enabled

        for finding in suppressions.leftovers(registry.is_known, was_checked, registry.RULE_NAMES):
            diagnostic = _diagnostic(source.path, finding, settings, table)
            if (
                diagnostic is not None
                and diagnostic.rule not in ignored
                and not suppressions.silences(-1, diagnostic.code, diagnostic.rule)
            ):
                out.append(diagnostic)
    lines: dict[int, str] = {}
    if table is not None:
        for d in out:
            lines[d.line] = table[d.line - 1]
    out.sort(key=Diagnostic.sort_key)
    return Result(source.path, prepared.kind, out, lines)


def _inside_file(d: Diagnostic, table: list[str]) -> Diagnostic:
    """``d`` with every position inside the file as an editor shows it (an end-of-file error is
    at the end of the last line, not on a line after it)."""

    if d.end_line <= len(table) and 1 <= d.line <= d.end_line and d.column >= 1 and (
        d.end_column <= len(table[d.end_line - 1]) + 1 and d.column <= len(table[d.line - 1]) + 1
    ) and (d.end_line > d.line or d.end_column >= d.column):
        return d  # the usual case: already inside the file

    def clamp(line: int, column: int) -> tuple[int, int]:
        if line > len(table):
            return len(table), len(table[-1]) + 1
        line = max(line, 1)
        return line, min(max(column, 1), len(table[line - 1]) + 1)

    line, column = clamp(d.line, d.column)
    end_line, end_column = clamp(d.end_line, d.end_column)
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    if (line, column, end_line, end_column) == (d.line, d.column, d.end_line, d.end_column):
        return d
    return replace(d, line=line, column=column, end_line=end_line, end_column=end_column)


def _rule_facts(name: str, settings: Settings) -> RuleFacts:
    """A rule's code and name, the severity the configuration gives it (None: the rule's own or the
    finding's) and its own severity; None when it is not enabled. Looked up once per rule and run
    (a file may hold 200,000 findings of one rule)."""
    known = settings.rule_facts
    if name in known:
        return known[name]
    rule = registry.BY_NAME[name]
    facts: RuleFacts = None
    if rule.name in settings.enabled:
        configured = settings.config.severity
        facts = (rule.code, rule.name, configured.get(rule.name, configured.get(rule.code)), rule.severity)
    known[name] = facts
    return facts


def _diagnostic(path: str, finding: Finding, settings: Settings, table: list[str] | None) -> Diagnostic | None:
    facts = _rule_facts(finding.rule, settings)
    if facts is None:
        return None
    code, name, configured_severity, default = facts
    severity = configured_severity
    if severity is None:
        severity = finding.severity if finding.severity is not None else default
    related = (
        tuple(Related(path, span.line, span.column, message) for span, message in finding.related)
        if finding.related else ()
    )
    made = Diagnostic.at(path, finding.span, code, name, severity, finding.message, related,
                         finding.suggestion, finding.fix)
    return made if table is None else _inside_file(made, table)


# -- all steps -------------------------------------------------------------------------------------


def lint_source(
    source: Source,
    settings: Settings,
    *,
    kind: str | None = None,
    walked: bool = False,
    file_path: FsPath | None = None,
) -> Result | None:
    """Lint one input. Returns None when a folder walk found a file that is not a Marianne config."""
    prepared = prepare(source, settings, kind=kind, walked=walked, file_path=file_path)
    if prepared is None:
        return None
    return finish(check(prepared, settings), settings)


__all__ = ["Prepared", "Result", "Settings", "check", "finish", "lint_source", "prepare", "read",
           "text_source"]
