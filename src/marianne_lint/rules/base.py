"""What a rule is and what it gets to look at.

A rule is a class: its code, name, default severity and one-line summary are
class attributes, its docstring is its documentation (shown by
``marianne-lint rules NAME``), and :meth:`Rule.check` yields findings for one
validated document. Rules that the reading or structure steps report have no
``check`` of their own: they are listed so that they can be documented,
selected, suppressed and given another severity like any other.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast

from marianne_lint.diagnostics import Edit, Finding, Severity
from marianne_lint.reading.edits import TextIndex, index_of
from marianne_lint.reading.positions import Path, PNode, Span, line_texts

if TYPE_CHECKING:
    from pydantic import BaseModel

    from marianne_lint.building.models.score import JobConfig
    from marianne_lint.reading.loader import Loaded

KINDS = ("score", "conductor", "instrument", "fleet")


#: What ``str()`` makes of the YAML keys that are not strings but may read as a word.
_NON_STRING_TEXTS = frozenset({"True", "False", "None", "inf", "nan"})


@dataclass(frozen=True, slots=True)
class Placed:
    """A value of the document together with where it is written: what :meth:`Context.at` returns."""

    value: Any
    """The value as loaded (before validation), or None when the path is absent."""
    exists: bool
    """True when the whole path is written in the file."""
    key: Span
    """The key of the path (its value for a list item); the nearest written ancestor's when absent."""
    span: Span
    """The value; the nearest written ancestor's when absent."""


@dataclass(slots=True)
class Context:
    """One validated document, as the rules see it."""

    path: str
    """The path shown in reports."""
    kind: str
    model: BaseModel
    data: Any
    """The data as loaded, before validation changed it."""
    root: PNode
    loaded: Loaded
    options: dict[str, Any] = field(default_factory=dict)
    file_path: FsPath | None = None
    """The file on disk, when there is one (not for standard input)."""
    text: str = ""
    """The file's text, for rules that point inside a value (a line of a template)."""
    memo: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False)
    """Results computed once per document and shared by the rules (see :func:`per_document`)."""

    def line_text(self, number: int) -> str:
        """Line ``number`` (1-based) of the file, without its line break ("" when out of range)."""
        lines = _lines(self)
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def at(self, *path: Any) -> Placed:
        """The value at ``path`` with its key and value spans: a rule names each path once."""
        found = self.root.locate(path)
        if found.depth == 0:
            start = Span(1, 1, 1, 2)
            return Placed(self.raw(*path) if found.exact else None, found.exact, start, start)
        return Placed(self.raw(*path) if found.exact else None, found.exact, found.key_or_value, found.node.span)

    @property
    def edits(self) -> TextIndex:
        """Offsets of the file's text, to build a fix's edits from positions."""
        return index_of(self.text)

    def remove_key(self, *path: Any) -> Edit | None:
        """An edit deleting the block-mapping entry at ``path`` with its lines (None when it cannot)."""
        parent = self.root.locate(path[:-1])
        found = self.root.locate(path)
        if not found.exact or found.key is None or not parent.exact or parent.node.values is None:
            return None
        return self.edits.delete_entry(found.key.span, found.node.span, len(parent.node.values))

    def remove_item(self, *path: Any) -> Edit | None:
        """An edit deleting the sequence item at ``path`` (its ``- item`` line, or ``, item`` in ``[...]``)."""
        parent = self.root.locate(path[:-1])
        index = path[-1]
        if not parent.exact or parent.node.items is None or not isinstance(index, int):
            return None
        sequence = parent.node.span
        flow = self.edits.source(Span(sequence.line, sequence.column, sequence.line, sequence.column + 1)) == "["
        return self.edits.delete_item([item.span for item in parent.node.items], index, flow)

    @property
    def score(self) -> JobConfig:
        """The model of a score (only for rules whose ``kinds`` is score)."""
        return cast("JobConfig", self.model)

    def raw(self, *path: Any) -> Any:
        """The value at ``path`` in the data as loaded (before validation), or None when absent.

        A mapping key matches exactly, else by its text (``3`` finds a key written ``"3"``).
        """
        value: Any = self.data
        for step in path:
            if isinstance(value, list):
                if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < len(value):
                    return None
                value = value[step]
            elif isinstance(value, dict):
                if step in value:
                    value = value[step]
                    continue
                if isinstance(step, str) and step.isidentifier() and step not in _NON_STRING_TEXTS:
                    return None  # no number, boolean, null or date key reads as this word
                text = str(step)
                match = [key for key in value if str(key) == text]
                if not match:
                    return None
                value = value[match[0]]
            else:
                return None
        return value

    def exists(self, *path: Any) -> bool:
        return self.root.locate(path).exact

    def key_span(self, *path: Any) -> Span:
        """The key at ``path`` (its value for list items; the nearest ancestor if absent)."""
        found = self.root.locate(path)
        if found.depth == 0:
            return Span(1, 1, 1, 2)
        return found.key_or_value

    def value_span(self, *path: Any) -> Span:
        """The value at ``path`` (the nearest ancestor if absent)."""
        found = self.root.locate(path)
        return found.node.span if found.depth else Span(1, 1, 1, 2)

    def node(self, *path: Any) -> PNode | None:
        found = self.root.locate(path)
        return found.node if found.exact else None

    def first_span(self, *paths: Path) -> Span:
        """The key span of the first of ``paths`` written in the file (else the first's ancestor)."""
        for path in paths:
            if self.exists(*path):
                return self.key_span(*path)
        return self.key_span(*paths[0])

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)


_Value = TypeVar("_Value")


def per_document(compute: Callable[[Context], _Value]) -> Callable[[Context], _Value]:
    """Make ``compute(ctx)`` run once per document: every rule that calls it shares the result.

    The memo is keyed by the function itself (no string keys), and the result keeps its type.
    """

    @functools.wraps(compute)
    def shared(ctx: Context) -> _Value:
        if compute in ctx.memo:
            return cast("_Value", ctx.memo[compute])
        value = compute(ctx)
        ctx.memo[compute] = value
        return value

    return shared


@per_document
def _lines(ctx: Context) -> list[str]:
    return line_texts(ctx.text)


class Rule:
    """Base of every rule; see the module docstring."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ("score",)
    options: ClassVar[dict[str, Any]] = {}
    """Options this rule reads, with their defaults."""
    reported_by: ClassVar[str | None] = None
    """For rules without ``check``: the step that reports them."""
    fixable: ClassVar[Literal["safe", "unsafe", "sometimes"] | None] = None
    """Whether findings carry a fix: ``safe`` (applied by ``--fix``), ``unsafe`` (only with
    ``--unsafe-fixes``), ``sometimes`` (safe for some findings, unsafe for others); None: never."""
    fix_summary: ClassVar[str] = ""
    """What the fix does, in a few words (shown by ``marianne-lint rules``)."""

    def check(self, ctx: Context) -> Iterator[Finding]:
        """Yield the findings of this rule for one document."""
        return iter(())

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or cls.summary)

    @cached_property
    def has_check(self) -> bool:
        return type(self).check is not Rule.check
