"""The finding record every step produces and every report format prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from enum import IntEnum
from typing import Literal

from marianne_lint.reading.positions import Span

#: Where each rule's documentation lives; ``{name}`` is the rule name.
RULE_URL = "https://github.com/marianne-lint/marianne-lint/blob/main/docs/rules.md#{name}"


_URLS: dict[str, str] = {}


def rule_url(name: str) -> str:
    """The documentation link of a rule."""
    url = _URLS.get(name)
    if url is None:
        url = _URLS[name] = RULE_URL.format(name=name)
    return url


class Severity(IntEnum):
    """How bad a finding is; ordered so that ``>=`` compares badness."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    label: str
    """``error``, ``warning`` or ``info``: a plain attribute of each member (a report reads it per finding)."""

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


for _member in Severity:
    _member.label = _member.name.lower()


@dataclass(frozen=True, slots=True)
class Related:
    """Another place in a file that takes part in a finding."""

    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two 0-based offsets of the original text (end exclusive).

    Offsets count Python characters (code points) of the text as linted, after a leading byte
    order mark; ``line``/``column``/``end_line``/``end_column`` are the same stretch as 1-based
    positions (end exclusive), as findings give them.
    """

    start: int
    end: int
    text: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0


Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True, slots=True)
class Fix:
    """A repair of a finding: text edits, and whether applying them is safe.

    ``safe``: after the edits the file means to Marianne what its author meant, and nothing
    else changes. ``unsafe``: the edits change behaviour or guess (a rename from a did-you-mean,
    a raised timeout); ``--fix`` applies them only with ``--unsafe-fixes``.
    """

    message: str
    applicability: Applicability
    edits: tuple[Edit, ...]

    @classmethod
    def of(cls, message: str, applicability: Applicability, *edits: Edit | None) -> Fix | None:
        """A fix of these edits; None when one of them could not be made."""
        if not edits or any(edit is None for edit in edits):
            return None
        return cls(message, applicability, tuple(edit for edit in edits if edit is not None))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding at one place of one file: what every front end (CLI, API, editor) reports.

    Positions are 1-based; ``end_line``/``end_column`` are exclusive. ``url`` links to the
    rule's documentation (filled from the rule name when not given).
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    rule: str
    severity: Severity
    message: str
    related: tuple[Related, ...] = ()
    suggestion: str | None = None
    url: str = ""
    fix: Fix | None = None

    def __post_init__(self) -> None:
        if not self.url:
            object.__setattr__(self, "url", rule_url(self.rule))

    @classmethod
    def at(cls, path: str, span: Span, code: str, rule: str, severity: Severity, message: str,
           related: tuple[Related, ...] = (), suggestion: str | None = None, fix: Fix | None = None) -> Diagnostic:
        """A finding over ``span``."""
        # What the frozen dataclass's __init__ does (one object.__setattr__ per field), at half the
        # cost: the pipeline makes one Diagnostic per finding, and a file may hold 200,000.
        made = _new(cls)
        _SET_PATH(made, path)
        _SET_LINE(made, span[0])
        _SET_COLUMN(made, span[1])
        _SET_END_LINE(made, span[2])
        _SET_END_COLUMN(made, span[3])
        _SET_CODE(made, code)
        _SET_RULE(made, rule)
        _SET_SEVERITY(made, severity)
        _SET_MESSAGE(made, message)
        _SET_RELATED(made, related)
        _SET_SUGGESTION(made, suggestion)
        _SET_URL(made, rule_url(rule))
        _SET_FIX(made, fix)
        return made

    @property
    def span(self) -> Span:
        return Span(self.line, self.column, self.end_line, self.end_column)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)

    def with_severity(self, severity: Severity) -> Diagnostic:
        return replace(self, severity=severity)


_new = object.__new__
(_SET_PATH, _SET_LINE, _SET_COLUMN, _SET_END_LINE, _SET_END_COLUMN, _SET_CODE, _SET_RULE, _SET_SEVERITY,
 _SET_MESSAGE, _SET_RELATED, _SET_SUGGESTION, _SET_URL, _SET_FIX) = (
    Diagnostic.__dict__[f.name].__set__ for f in fields(Diagnostic)
)


@dataclass(slots=True)
class Finding:
    """A finding before it is tied to a rule's code and a file path.

    Steps that do not know the rule registry (the loader, the structure step)
    produce these; :mod:`marianne_lint.pipeline` turns them into
    :class:`Diagnostic` records.
    """

    rule: str
    span: Span
    message: str
    related: Sequence[tuple[Span, str]] = ()
    suggestion: str | None = None
    severity: Severity | None = None
    """Overrides the rule's default severity for this one finding."""
    fix: Fix | None = None
    """The repair of this finding, when the rule knows one (see :mod:`marianne_lint.reading.edits`)."""
