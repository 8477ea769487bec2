"""Read YAML text into Python data plus the position of every node.

ruamel.yaml's event parser (its libyaml binding when installed, else the
pure-Python parser) supplies events with marks; this module composes them
into the values Marianne's YAML 1.1 safe loader would build (booleans for
``on``, base-60 numbers, merge keys, last-one-wins duplicate keys) and a
parallel :class:`~marianne_lint.reading.positions.PNode` tree. It is iterative, so
deep nesting cannot exhaust the Python stack, and it bounds alias expansion
and depth.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from marianne_lint.diagnostics import Finding, Fix
from marianne_lint.reading.positions import MAP, SCALAR, SEQ, Path, PNode, Span, line_start, place
from marianne_lint.reading.yaml11 import ScalarError, ScalarTooLarge, construct_tagged, resolve_plain


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource bounds for one file."""

    max_alias_nodes: int = 100_000
    """How many nodes aliases may add to the document in all."""
    max_depth: int = 200
    """How deeply collections may nest."""


@dataclass(frozen=True, slots=True)
class Yaml11Note:
    """A scalar that YAML 1.1 (Marianne) reads differently from YAML 1.2."""

    path: Path
    node: PNode
    is_key: bool
    value: Any


@dataclass(slots=True)
class Loaded:
    """The outcome of loading one file."""

    data: Any = None
    root: PNode | None = None
    ok: bool = False
    """False when Marianne's loader would refuse the file."""
    findings: list[Finding] = field(default_factory=list)
    notes: list[Yaml11Note] = field(default_factory=list)
    text_spans: list[tuple[int, int]] = field(default_factory=list)
    """Character ranges of quoted and block scalars (where '#' is not a comment)."""
    empty: bool = False
    """True when the stream holds no document at all."""


class LoadStop(Exception):
    """Marianne's loader would stop here; carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class _EditorLines:
    """Line and column of a character index, counting line breaks as editors do (LF, CRLF, CR).

    libyaml (as YAML 1.1) also breaks lines at NEL, LINE SEPARATOR and
    PARAGRAPH SEPARATOR; editors, SARIF viewers and our own source excerpts
    and suppression comments do not. For a text that holds one of those, the
    parser's marks are placed by their character index instead.
    """

    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in re.finditer(r"\r\n|\r|\n", text))]

    def place(self, mark: Any) -> tuple[int, int]:
        index = int(mark.index)
        line = bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def _place(mark: Any, lines: _EditorLines | None) -> tuple[int, int]:
    if lines is None:
        return mark.line + 1, mark.column + 1
    return lines.place(mark)


def _span(start: Any, end: Any, lines: _EditorLines | None = None) -> Span:
    return Span(*_place(start, lines), *_place(end, lines))


def _point(mark: Any, lines: _EditorLines | None = None) -> Span:
    line, column = _place(mark, lines)
    return Span(line, column, line, column + 1)


def _events(text: str, pure: bool = False) -> Iterator[Any]:
    """The parser's events for ``text``: from the C parser (each event fetched by C, no Python
    frame per event) unless ``pure`` or the extension is missing."""
    if not pure:
        try:
            from _ruamel_yaml_clibz import CParser
        except ImportError:
            try:
                from _ruamel_yaml import CParser
            except ImportError:
                CParser = None  # noqa: N806
        if CParser is not None:
            return iter(CParser(text).get_event, None)
    from ruamel.yaml import YAML

    return iter(YAML(typ="safe", pure=True).parse(text))


#: ``Span(*fields)`` made in C (NamedTuple's ``__new__`` is a Python function).
_new_span: Callable[[tuple[int, int, int, int]], Span] = partial(tuple.__new__, Span)


class _Frame:
    """One collection being composed. It keeps only its own step below its parent (its path is the
    steps of the frames above it): whole paths in every frame cost memory quadratic in the depth."""

    __slots__ = ("anchor", "items", "kind", "node", "pairs", "pending", "size", "step", "tag")

    def __init__(self, kind: str, node: PNode, step: Any, anchor: str | None, tag: str | None) -> None:
        self.kind = kind
        self.node = node
        self.step = step
        self.items: list[Any] = []
        self.pairs: list[tuple[Any, PNode, Any, PNode]] = []
        self.pending: tuple[Any, PNode] | None = None
        self.anchor = anchor
        self.size = 1
        self.tag = tag


_MERGE_TAG_NOTE = "merge"
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}


class _Composer:
    def __init__(self, text: str, limits: Limits, pure: bool = False) -> None:
        self.text = text
        self.limits = limits
        self.pure = pure
        self.parser_failed = False
        """Whether the event parser refused the text (a YAML syntax error)."""
        self.out = Loaded()
        self.anchors: dict[str, tuple[Any, PNode, int]] = {}
        self.building: set[str] = set()
        self.anchor_spans: dict[str, Span] = {}
        self.alias_nodes = 0
        self.stack: list[_Frame] = []
        self.result: tuple[Any, PNode] | None = None
        self.lines = _EditorLines(text) if _YAML11_BREAKS.search(text) else None

    def _span(self, start: Any, end: Any) -> Span:
        return _span(start, end, self.lines)

    def _point(self, mark: Any) -> Span:
        return _point(mark, self.lines)

    # -- entry ------------------------------------------------------------------------------------
    def run(self) -> Loaded:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError
        from ruamel.yaml.events import ScalarEvent
        from ruamel.yaml.reader import ReaderError

        documents = 0
        try:
            scalar = self._scalar
            for event in _events(self.text, self.pure):
                if type(event) is ScalarEvent:  # most events: straight to the handler
                    scalar(event)
                    continue
                name = type(event).__name__
                if name == "DocumentStartEvent":
                    documents += 1
                    if documents > 1:
                        raise LoadStop(
                            Finding(
                                "yaml-syntax",
                                self._point(event.start_mark),
                                "a second YAML document starts here; Marianne reads exactly one document per file",
                            )
                        )
                    self.anchors.clear()
                    self.anchor_spans.clear()
                elif name in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
                    continue
                else:
                    self._event(name, event)
        except LoadStop as abort:
            self.out.findings.append(abort.finding)
            return self.out
        except ReaderError as exc:
            self.out.findings.append(self._reader_finding(exc))
            return self.out
        except MarkedYAMLError as exc:
            self.parser_failed = True
            self.out.findings.append(self._syntax_finding(exc))
            return self.out
        except YAMLError as exc:
            self.out.findings.append(Finding("yaml-syntax", Span(1, 1, 1, 2), f"YAML error: {exc}"))
            return self.out
        tab = _misplaced_tab(self.text, self.out.text_spans) if "\t" in self.text else None
        if tab is not None:
            self.out.findings.append(tab)
            return self.out
        if self.result is None:
            self.out.empty = True
        else:
            self.out.data, self.out.root = self.result
        self.out.ok = True
        return self.out

    # -- errors -----------------------------------------------------------------------------------
    def _syntax_finding(self, exc: Any) -> Finding:
        problem = (exc.problem or "invalid YAML").strip()
        context = (exc.context or "").strip()
        mark = exc.problem_mark or exc.context_mark
        span = self._point(mark) if mark is not None else Span(1, 1, 1, 2)
        message = f"YAML syntax error: {problem}"
        if context:
            message += f" ({context})"
        finding = Finding("yaml-syntax", span, message)
        if exc.context_mark is not None and exc.problem_mark is not None:
            ctx = self._point(exc.context_mark)
            if ctx != span:
                finding.related = [(ctx, context or "the construct started here")]
        if "\t" in self._line_text(span.line):
            finding.suggestion = "YAML does not allow tab characters for indentation; indent with spaces"
        return finding

    def _reader_finding(self, exc: Any) -> Finding:
        position = int(getattr(exc, "position", 0) or 0)
        line, column = place(self.text, position)
        char = getattr(exc, "character", None)
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return Finding(
            "yaml-syntax",
            Span(line, column, line, column + 1),
            f"unacceptable character {shown}: YAML does not allow control characters in a file",
        )

    def _line_text(self, line: int) -> str:
        lines = self.text.split("\n", line)
        return lines[line - 1] if 0 < line <= len(lines) else ""

    # -- composition ------------------------------------------------------------------------------
    def _child_step(self) -> Any:
        """The step below the innermost open collection where the next node goes (None at the top)."""
        if not self.stack:
            return None
        frame = self.stack[-1]
        if frame.kind == SEQ:
            return len(frame.items)
        return "<key>" if frame.pending is None else frame.pending[0]

    def _path_of(self, frames: list[_Frame]) -> Path:
        """The data path of the innermost of ``frames`` (the open collections from the top down)."""
        return tuple(frame.step for frame in frames[1:])

    def _child_path(self) -> Path:
        if not self.stack:
            return ()
        return (*self._path_of(self.stack), self._child_step())

    def _event(self, name: str, event: Any) -> None:
        if name == "ScalarEvent":
            self._scalar(event)
        elif name == "AliasEvent":
            self._alias(event)
        elif name in ("MappingStartEvent", "SequenceStartEvent"):
            kind = MAP if name == "MappingStartEvent" else SEQ
            tag = event.tag
            if tag not in (_MAP_TAGS if kind == MAP else _SEQ_TAGS) and tag not in _SPECIAL_COLLECTION_TAGS:
                raise LoadStop(
                    Finding(
                        "yaml-syntax",
                        self._span(event.start_mark, event.end_mark),
                        f"the tag {tag} is not one a safe YAML loader constructs",
                    )
                )
            if len(self.stack) >= self.limits.max_depth:
                raise LoadStop(
                    Finding(
                        "resource-limit",
                        self._point(event.start_mark),
                        f"collections nest more than {self.limits.max_depth} levels deep here; "
                        "the file is not linted further (option max-depth)",
                    )
                )
            node = PNode(self._span(event.start_mark, event.end_mark), kind)
            if event.anchor:
                self._new_anchor(event.anchor, node.span)
                self.building.add(event.anchor)
            self.stack.append(_Frame(kind, node, self._child_step(), event.anchor, tag))
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            frame = self.stack.pop()
            end = self._point(event.end_mark)
            span = frame.node.span
            frame.node.span = Span(span.line, span.column, end.line, end.column)
            value = self._finish_mapping(frame) if frame.kind == MAP else self._finish_sequence(frame)
            if frame.anchor:
                self.building.discard(frame.anchor)
                self.anchors[frame.anchor] = (value, frame.node, frame.size)
            self._emit(value, frame.node, frame.size, is_collection=True)

    def _scalar(self, event: Any) -> None:
        if self.lines is None:
            start, end = event.start_mark, event.end_mark
            line = start.line + 1
            # one int for both lines of a one-line scalar, and no Python-level NamedTuple.__new__:
            # a generated file may hold millions of scalars
            span = _new_span((line, start.column + 1, line if end.line == start.line else end.line + 1,
                              end.column + 1))
        else:
            span = self._span(event.start_mark, event.end_mark)
        node = PNode(span, SCALAR)
        text: str = event.value
        node.text = text
        style = event.style or None
        node.style = style
        frame = self.stack[-1] if self.stack else None
        is_key = frame is not None and frame.kind == MAP and frame.pending is None
        note: str | None = None
        try:
            tag = event.tag
            if tag is None or tag == "!":
                if event.implicit[0]:
                    value, note = resolve_plain(text)
                    if note == "value":
                        if not is_key:
                            raise ScalarError(
                                "a plain '=' is the YAML 1.1 'value' indicator, which a safe loader cannot construct"
                            )
                        note = None
                else:
                    value = text
            else:
                value = construct_tagged(tag, text)
        except ScalarTooLarge as exc:
            raise LoadStop(
                Finding("resource-limit", node.span, f"{exc}; the file is not linted further")
            ) from None
        except ScalarError as exc:
            raise LoadStop(Finding("yaml-syntax", node.span, f"cannot read this value: {exc}")) from None
        if style is not None:
            self.out.text_spans.append((event.start_mark.index, event.end_mark.index))
        if note is not None:
            node.note = note
            if note != _MERGE_TAG_NOTE:
                path = self._child_path()
                if is_key:
                    path = (*path[:-1], value)
                self.out.notes.append(Yaml11Note(path, node, is_key, value))
        if event.anchor:
            self._new_anchor(event.anchor, node.span)
            self.anchors[event.anchor] = (value, node, 1)
        # _emit, inlined for the commonest event (a scalar is always a usable key)
        if frame is None:
            self.result = (value, node)
        elif frame.kind == SEQ:
            frame.size += 1
            frame.items.append((value, node))
        elif is_key:
            frame.size += 1
            frame.pending = (value, node)
        else:
            frame.size += 1
            key, key_node = frame.pending  # type: ignore[misc]
            frame.pending = None
            frame.pairs.append((key, key_node, value, node))

    def _new_anchor(self, anchor: str, span: Span) -> None:
        """PyYAML refuses a document that defines the same anchor twice."""
        _check_anchor_name(anchor, span, "&")
        first = self.anchor_spans.get(anchor)
        if first is not None:
            raise LoadStop(
                Finding(
                    "yaml-syntax",
                    span,
                    f"the anchor &{anchor} is defined a second time; Marianne's YAML loader refuses duplicate anchors",
                    related=[(first, f"first &{anchor} here")],
                    suggestion="give each anchor a different name",
                )
            )
        self.anchor_spans[anchor] = span

    def _alias(self, event: Any) -> None:
        anchor = event.anchor
        _check_anchor_name(anchor, self._span(event.start_mark, event.end_mark), "*")
        if anchor in self.building:
            raise LoadStop(
                Finding(
                    "resource-limit",
                    self._span(event.start_mark, event.end_mark),
                    f"the alias *{anchor} refers to a collection that contains it; "
                    "a recursive structure cannot be a Marianne config",
                )
            )
        if anchor not in self.anchors:
            raise LoadStop(
                Finding(
                    "yaml-syntax",
                    self._span(event.start_mark, event.end_mark),
                    f"the alias *{anchor} is used before any anchor &{anchor} is defined",
                )
            )
        value, node, size = self.anchors[anchor]
        self.alias_nodes += size
        if self.alias_nodes > self.limits.max_alias_nodes:
            raise LoadStop(
                Finding(
                    "resource-limit",
                    self._span(event.start_mark, event.end_mark),
                    f"aliases expand the document by more than {self.limits.max_alias_nodes} nodes "
                    "(an alias bomb?); the file is not linted further (option max-alias-nodes)",
                )
            )
        self._emit(value, node, size, is_alias=True)

    def _emit(self, value: Any, node: PNode, size: int, *, is_collection: bool = False, is_alias: bool = False) -> None:
        if not self.stack:
            self.result = (value, node)
            return
        frame = self.stack[-1]
        frame.size += size
        if frame.kind == SEQ:
            frame.items.append((value, node))
            return
        if frame.pending is None:
            if (is_collection or is_alias) and not _hashable(value):
                raise LoadStop(
                    Finding(
                        "yaml-syntax",
                        node.span,
                        "a mapping key must be a single value; Marianne's loader cannot use a list or mapping as a key",
                    )
                )
            frame.pending = (value, node)
            return
        key, key_node = frame.pending
        frame.pending = None
        frame.pairs.append((key, key_node, value, node))

    def _finish_sequence(self, frame: _Frame) -> Any:
        node = frame.node
        node.items = [item_node for _, item_node in frame.items]
        values = [value for value, _ in frame.items]
        if frame.tag in ("tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"):
            pairs: list[tuple[Any, Any]] = []
            for value in values:
                if not isinstance(value, dict) or len(value) != 1:
                    raise LoadStop(
                        Finding("yaml-syntax", node.span, f"{frame.tag} needs a list of one-key mappings")
                    )
                pairs.extend(value.items())
            return pairs
        return values

    def _finish_mapping(self, frame: _Frame) -> Any:
        node = frame.node
        keys: dict[Any, PNode] = {}
        values: dict[Any, PNode] = {}
        data: dict[Any, Any] = {}
        merged: list[tuple[Any, PNode, Any, PNode]] = []
        own: list[tuple[Any, PNode, Any, PNode]] = []
        for pair in frame.pairs:
            key_node = pair[1]
            if key_node.note == _MERGE_TAG_NOTE:
                # Several '<<' keys: PyYAML concatenates their pairs, so a later '<<' wins.
                # Within one '<<: [*a, *b]' list the earlier mapping wins (see _merge_sources).
                merged.extend(self._merge_sources(pair[2], pair[3]))
            else:
                own.append(pair)
        for key, key_node, value, value_node in merged:
            data[key] = value
            keys[key] = key_node
            values[key] = value_node
        merged_keys = set(data)
        for key, key_node, value, value_node in own:
            if key in keys and key not in merged_keys:  # an earlier pair of this mapping wrote it
                self._duplicate(frame, key, (keys[key], values[key]), key_node, len(frame.pairs))
            # Plain dict assignment, as Marianne's loader does: a later equal key
            # (also 1 and true) replaces the value and keeps the first key's place.
            data[key] = value
            keys[key] = key_node
            values[key] = value_node
            merged_keys.discard(key)
        node.keys, node.values = keys, values
        node.merged = frozenset(merged_keys)
        if frame.tag == "tag:yaml.org,2002:set":
            return set(data)
        return data

    def _merge_sources(self, value: Any, value_node: PNode) -> list[tuple[Any, PNode, Any, PNode]]:
        if isinstance(value, dict):
            return _pairs_of(value, value_node)
        if isinstance(value, list) and value_node.items is not None:
            groups = []
            for item, item_node in zip(value, value_node.items, strict=True):
                if not isinstance(item, dict):
                    raise LoadStop(
                        Finding(
                            "yaml-syntax",
                            item_node.span,
                            "a merge key (<<) takes a mapping or a list of mappings; this item is not a mapping",
                        )
                    )
                groups.append(_pairs_of(item, item_node))
            # The YAML merge spec and PyYAML up to 6.0.3: a mapping earlier in the list wins.
            # (PyYAML 6.0.4 lets the later one win for keys longer than one character,
            # a regression reported upstream as yaml/pyyaml#953.)
            first: dict[Any, tuple[Any, PNode, Any, PNode]] = {}
            for group in groups:
                for pair in group:
                    first.setdefault(pair[0], pair)
            return list(first.values())
        raise LoadStop(
            Finding(
                "yaml-syntax",
                value_node.span,
                "a merge key (<<) takes a mapping or a list of mappings",
            )
        )

    def _duplicate(self, frame: _Frame, key: Any, earlier: tuple[PNode, PNode], second: PNode, entries: int) -> None:
        first, first_value = earlier
        shown = second.text if second.text is not None else str(key)
        from marianne_lint.reading.edits import index_of

        # Marianne keeps the last value: deleting the earlier entry changes nothing it reads.
        removal = index_of(self.text).delete_entry(first.span, first_value.span, entries)
        fix = Fix.of(f"remove the earlier '{first.text}' (line {first.span.line})", "safe", removal)
        # (the frame is closed: the open ones are its ancestors)
        where = ".".join(str(step) for step in self._path_of([*self.stack, frame])) or "the top level"
        same = "" if first.text == second.text else f" (YAML 1.1 reads '{first.text}' and '{shown}' as the same key)"
        self.out.findings.append(
            Finding(
                "duplicate-key",
                second.span,
                f"key '{shown}' appears twice in {where}{same}; Marianne silently keeps only this last value",
                related=[(first.span, f"first '{first.text}' here")],
                fix=fix,
            )
        )


_SPECIAL_COLLECTION_TAGS = {"tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs", "tag:yaml.org,2002:set"}


_ANCHOR_NAME = re.compile(r"[0-9A-Za-z_-]+")


def _check_anchor_name(name: str, span: Span, sigil: str) -> None:
    """PyYAML allows only letters, digits, '-' and '_' in anchor names (libyaml allows more)."""
    if not _ANCHOR_NAME.fullmatch(name):
        raise LoadStop(
            Finding(
                "yaml-syntax",
                span,
                f"the anchor name in {sigil}{name} is not one Marianne's YAML loader accepts: "
                "use only letters, digits, '-' and '_'",
            )
        )


def _misplaced_tab(text: str, spans: list[tuple[int, int]]) -> Finding | None:
    """The first tab character Marianne's loader (PyYAML) refuses, as a finding.

    The event parser (libyaml) accepts a tab as white space between tokens
    (``key:<TAB>value``, ``value<TAB># comment``, ``[1,<TAB>2]``) and inside a
    plain scalar; PyYAML accepts a tab only inside a quoted scalar, in the
    content of a block scalar and in a comment, and refuses the file otherwise.
    """
    allowed: list[tuple[int, int]] = []
    for start, end in spans:
        if text[start : start + 1] in ("|", ">"):
            header_end = text.find("\n", start, end)
            start = end if header_end == -1 else header_end  # the header line is not content
        allowed.append((start, end))
    allowed.sort()
    position = 0
    index = text.find("\t")
    while index != -1:
        while position < len(allowed) and allowed[position][1] <= index:
            position += 1
        inside = position < len(allowed) and allowed[position][0] <= index
        if not inside and not _in_comment(text, index, allowed):
            line, column = place(text, index)
            indentation = not text[line_start(text, index) : index].strip(" ")
            return Finding(
                "yaml-syntax",
                Span(line, column, line, column + 1),
                "YAML syntax error: a tab character here; Marianne's YAML loader accepts tabs only inside "
                "quoted or block scalars and comments"
                + (" (YAML does not allow tabs for indentation)" if indentation else ""),
                suggestion="replace the tab with spaces",
            )
        index = text.find("\t", index + 1)
    return None


def _in_comment(text: str, index: int, allowed: list[tuple[int, int]]) -> bool:
    """Whether ``index`` lies in a comment: after a '#' that starts one, outside scalars, on its line."""
    begins = line_start(text, index)
    hash_at = text.find("#", begins, index)
    while hash_at != -1:
        starts_comment = hash_at == begins or text[hash_at - 1] in " \t"
        if starts_comment and not any(start <= hash_at < end for start, end in allowed):
            return True
        hash_at = text.find("#", hash_at + 1, index)
    return False


def _pairs_of(value: dict[Any, Any], node: PNode) -> list[tuple[Any, PNode, Any, PNode]]:
    keys = node.keys or {}
    values = node.values or {}
    return [(key, keys[key], item, values[key]) for key, item in value.items() if key in keys]


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


#: Line breaks in YAML 1.1 only (NEL, LS, PS): the pure parser reads them as 1.2 does, unlike PyYAML.
_YAML11_BREAKS = re.compile("[\x85\u2028\u2029]")

#: A text libyaml refuses is parsed again by the (slow, about 100 KB/s) pure-Python parser when it is
#: at most this long (the largest real Marianne files are about 80 KB), or, for the errors where
#: libyaml is known to be stricter than PyYAML, when it is at most :data:`PURE_RETRY_KNOWN_CHARS`.
PURE_RETRY_MAX_CHARS = 128_000
PURE_RETRY_KNOWN_CHARS = 500_000
_STRICTER_IN_LIBYAML = ("found unexpected ':'", "found a tab character where an indentation space is expected")


def load(text: str, limits: Limits | None = None) -> Loaded:
    """Load one YAML document from ``text``.

    libyaml refuses a few things PyYAML (Marianne's loader) accepts, such as a
    ':' inside a plain scalar in a flow collection (``[http://host]``) or a
    block scalar whose first line starts with a tab after the indentation. When
    libyaml reports a syntax error, the PyYAML-derived pure-Python parser has
    the last word (for files of a sensible size).
    """
    composer = _Composer(text, limits or Limits())
    loaded = composer.run()
    if not composer.parser_failed or _YAML11_BREAKS.search(text):
        return loaded
    known = any(problem in loaded.findings[-1].message for problem in _STRICTER_IN_LIBYAML)
    if len(text) <= (PURE_RETRY_KNOWN_CHARS if known else PURE_RETRY_MAX_CHARS):
        second = _Composer(text, limits or Limits(), pure=True)
        retried = second.run()
        if not second.parser_failed:
            return retried
    return loaded
