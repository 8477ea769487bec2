"""The finding record every step produces and every report format prints."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from marianne_lint.positions import Span


class Severity(IntEnum):
    """How bad a finding is; ordered so that ``>=`` compares badness."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


@dataclass(frozen=True, slots=True)
class Related:
    """Another place in a file that takes part in a finding."""

    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding at one place of one file."""

    path: str
    span: Span
    code: str
    rule: str
    severity: Severity
    message: str
    related: tuple[Related, ...] = ()
    suggestion: str | None = None

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.column, self.code, self.message)

    def with_severity(self, severity: Severity) -> Diagnostic:
        return replace(self, severity=severity)


@dataclass(slots=True)
class Finding:
    """A finding before it is tied to a rule's code and a file path.

    Steps that do not know the rule registry (the loader, the structure step)
    produce these; :func:`marianne_lint.rules.registry` turns them into
    :class:`Diagnostic` records.
    """

    rule: str
    span: Span
    message: str
    related: list[tuple[Span, str]] = field(default_factory=list)
    suggestion: str | None = None
    severity: Severity | None = None
    """Overrides the rule's default severity for this one finding."""
