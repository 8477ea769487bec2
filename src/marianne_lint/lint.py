"""The pipeline for one file: read -> load with positions -> build the model -> run rules -> filter.

Each step runs once per file; the rules share the one parse and the one model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath

from marianne_lint import kinds as kind_detection
from marianne_lint import rules as registry
from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Finding, Related
from marianne_lint.loader import Limits, load
from marianne_lint.rules.base import Context
from marianne_lint.source import Source
from marianne_lint.suppression import parse as parse_suppressions


@dataclass(frozen=True, slots=True)
class Settings:
    """What a run lints with: the configuration and the rules it enables."""

    config: Config
    enabled: frozenset[str]

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(config, frozenset(registry.enabled_rules(config)))

    def option(self, name: str) -> object:
        return self.config.options.get(name, registry.option_defaults()[name])


@dataclass(frozen=True, slots=True)
class Result:
    """The findings for one file, and the kind it was linted as."""

    path: str
    kind: str | None
    diagnostics: list[Diagnostic]
    lines: dict[int, str]
    """The text of each line a finding points at (for the ``full`` format)."""


def lint_source(
    source: Source,
    settings: Settings,
    *,
    kind: str | None = None,
    walked: bool = False,
    file_path: FsPath | None = None,
) -> Result | None:
    """Lint one input. Returns None when a folder walk found a file that is not a Marianne config."""
    config = settings.config
    kind = kind or config.kind_for(source.path)
    if source.text is None:
        assert source.finding is not None
        return _finish(source, kind or "score", [source.finding], settings, None, set())
    limits = Limits(
        max_alias_nodes=int(str(settings.option("max-alias-nodes"))),
        max_depth=int(str(settings.option("max-depth"))),
    )
    loaded = load(source.text, limits)
    findings: list[Finding] = list(loaded.findings)
    if not loaded.ok:
        if kind is None:
            kind = kind_detection.detect_text(source.text)
            if kind is None and walked:
                return None
        return _finish(source, kind or "score", findings, settings, loaded.text_spans, _READ_RULES)
    if kind is None:
        kind = kind_detection.detect(loaded.data)
        if kind is None:
            if walked:
                return None
            kind = "score"

    from marianne_lint.structure import build

    built = build(kind, loaded.data, loaded.root)
    findings.extend(built.findings)
    ran = set(_LOAD_RULES)
    if built.model is not None and loaded.root is not None:
        ctx = Context(
            path=source.path,
            kind=kind,
            model=built.model,
            data=loaded.data,
            root=loaded.root,
            loaded=loaded,
            options={**registry.option_defaults(), **config.options},
            file_path=file_path,
            text=source.text,
        )
        for rule in registry.checking_rules(kind, set(settings.enabled)):
            ran.add(rule.name)
            findings.extend(rule.check(ctx))
    return _finish(source, kind, findings, settings, loaded.text_spans, ran)


#: Rules reported while reading and building: they run on every readable file.
_LOAD_RULES = frozenset(rule.name for rule in registry.RULES if rule.reported_by is not None)
#: The rules that ran when the file could not even be loaded (no structure step).
_READ_RULES = frozenset(
    rule.name for rule in registry.RULES if rule.reported_by in ("the loader", "the reader", "the suppression step")
)


def _finish(
    source: Source,
    kind: str,
    findings: list[Finding],
    settings: Settings,
    text_spans: list[tuple[int, int]] | None,
    ran: set[str] | frozenset[str],
) -> Result:
    """Apply selection, per-file ignores, severities and suppression comments."""
    config = settings.config
    ignored = registry.expand(config.file_ignores(source.path), "per-file-ignores")
    suppressions = parse_suppressions(source.text, text_spans or []) if source.text is not None else None
    out: list[Diagnostic] = []
    for finding in findings:
        diagnostic = _diagnostic(source.path, finding, settings)
        if diagnostic is None or diagnostic.rule in ignored:
            continue
        if suppressions is not None and suppressions.silences(diagnostic.line, diagnostic.code, diagnostic.rule):
            continue
        out.append(diagnostic)
    if suppressions is not None:
        def was_checked(token: str) -> bool:
            rule = registry.lookup(token)
            return rule is not None and rule.name in ran and rule.name in settings.enabled

        for finding in suppressions.leftovers(registry.is_known, was_checked):
            diagnostic = _diagnostic(source.path, finding, settings)
            if (
                diagnostic is not None
                and diagnostic.rule not in ignored
                and not suppressions.silences(-1, diagnostic.code, diagnostic.rule)
            ):
                out.append(diagnostic)
    out.sort(key=Diagnostic.sort_key)
    lines: dict[int, str] = {}
    if source.text is not None and out:
        wanted = {d.line for d in out}
        for number, text in enumerate(source.text.split("\n"), start=1):
            if number in wanted:
                lines[number] = text.rstrip("\r")
    return Result(source.path, kind, out, lines)


def _diagnostic(path: str, finding: Finding, settings: Settings) -> Diagnostic | None:
    rule = registry.BY_NAME[finding.rule]
    if rule.name not in settings.enabled:
        return None
    configured = settings.config.severity
    severity = configured.get(rule.name, configured.get(rule.code))
    if severity is None:
        severity = finding.severity if finding.severity is not None else rule.severity
    related = tuple(Related(path, span.line, span.column, message) for span, message in finding.related)
    return Diagnostic(
        path=path,
        span=finding.span,
        code=rule.code,
        rule=rule.name,
        severity=severity,
        message=finding.message,
        related=related,
        suggestion=finding.suggestion,
    )
