"""Validate loaded data against the model of its kind; errors become findings.

Every pydantic error and every validator rejection becomes one finding with
a ``schema-*`` rule (or the rule a cross-field validator names), at the
position of the offending key or value, with a message that names the key,
the value and what is allowed.
"""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from marianne_lint.building.models import root_model
from marianne_lint.building.models.base import CROSS_FIELD
from marianne_lint.building.models.introspect import allowed_keys, field_by_key, key_index, model_at, unwrap
from marianne_lint.diagnostics import Finding, Fix
from marianne_lint.reading.edits import index_of
from marianne_lint.reading.positions import Path, PNode, Span

TOP = Span(1, 1, 1, 2)

_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_parsing_size": "an integer of reasonable size",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string (quote it)",
    "string_unicode": "a string",
    "dict_type": "a mapping",
    "list_type": "a list",
    "set_type": "a list",
    "tuple_type": "a list",
    "model_type": "a mapping of settings",
    "model_attributes_type": "a mapping of settings",
    "path_type": "a path (a string)",
    "none_required": "null",
    "finite_number": "a finite number",
}
_RANGE_WORDS = {
    "greater_than": ("greater than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}
_LENGTH_TYPES = {"too_short", "too_long", "string_too_short", "string_too_long"}
_ENUM_TYPES = {"literal_error", "enum"}


@dataclass(slots=True)
class Built:
    """The outcome of the structure step for one document."""

    model: BaseModel | None
    findings: list[Finding] = field(default_factory=list)


def build(kind: str, data: Any, root: PNode | None, text: str = "") -> Built:
    """Validate ``data`` as a config of ``kind`` (``text``, the file's, gives findings their fixes)."""
    model_cls = root_model(kind)
    if data is None and kind == "conductor":
        data = {}  # an empty conductor config means all defaults
    if not isinstance(data, dict):
        return Built(None, [_root_type_finding(kind, data, root)])
    if kind == "conductor" and "use_baton" in data:
        data = {key: value for key, value in data.items() if key != "use_baton"}  # the daemon drops it
    try:
        return Built(model_cls.model_validate(data))
    except ValidationError as exc:
        mapper = _ErrorMapper(model_cls, data, root, text, kind)
        findings: list[Finding] = []
        seen: set[tuple[str, Span, str]] = set()
        errors: list[Any] = exc.errors(include_url=False)
        for error in errors:
            if error["type"] == "missing" and error["loc"]:
                mapper.missing.setdefault(tuple(error["loc"][:-1]), []).append(error["loc"][-1])
        for number, error in enumerate(errors):
            errors[number] = None  # let each error go once mapped: a file may hold 200,000 of them
            finding = mapper.finding(error)
            marker = (finding.rule, finding.span, finding.message)
            if marker not in seen:
                seen.add(marker)
                findings.append(finding)
        return Built(None, findings)


#: How alike (difflib's ratio) a key must be to the one it is renamed to by a fix: every
#: one-letter slip of a key of four letters or more, not a neighbouring field (only_sheets/on_events).
RENAME_CUTOFF = 0.75


def _sure_value(value: str, match: str, options: list[str]) -> bool:
    """Whether replacing an enum value by ``match`` is a safe bet: the same word in another case, a
    near spelling, or a part of exactly one allowed value (``exists`` for ``file_exists``)."""
    if value.lower() == match.lower():
        return True
    if difflib.SequenceMatcher(None, value, match).ratio() >= 0.8:
        return True
    containing = [option for option in options if value.lower() in option.lower()]
    return len(value) >= 3 and containing == [match]


def _shape_fits(annotation: Any, value: Any) -> bool:
    """Whether ``value`` has the shape (mapping, list or scalar) a field of ``annotation`` takes."""
    import typing

    annotation = unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) or annotation is Any:
        return True
    if (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or origin is dict or annotation is dict:
        return isinstance(value, dict)
    if origin in (list, set, frozenset, tuple) or annotation in (list, set, frozenset, tuple):
        return isinstance(value, list)
    return not isinstance(value, (dict, list))


def boolean_key_fix(text: str, kind: str, path: Path, span: Span, written: str, data: Any) -> Fix | None:
    """Quote a key YAML 1.1 reads as a boolean; a notification's legacy ``on:`` becomes ``on_events:``.

    Quoting is safe where any text key goes (``prompt.variables``) or the word is a setting there;
    in a section whose settings do not include the word it only turns the finding into an unknown
    key, so it is offered as unsafe.
    """
    index = index_of(text)
    if kind == "score" and len(path) == 3 and path[0] == "notifications" and written.lower() == "on":
        notifications = data.get("notifications") if isinstance(data, dict) else None
        item = notifications[path[1]] if isinstance(notifications, list) and isinstance(path[1], int) and (
            0 <= path[1] < len(notifications)) else None
        if isinstance(item, dict) and "on_events" not in item:
            return Fix.of("rename the legacy key 'on' to 'on_events'", "unsafe",
                          index.replace_token(span, written, "on_events"))
    section = model_at(root_model(kind), path[:-1])
    known = section is None or written in allowed_keys(section)
    return Fix.of(f'quote the key: "{written}"', "safe" if known else "unsafe", index.quote(span, written))


def _root_type_finding(kind: str, data: Any, root: PNode | None) -> Finding:
    needs = {
        "score": "a score needs at least name, sheet and prompt",
        "conductor": "a conductor config is a mapping of settings",
        "instrument": "an instrument profile needs at least name, display_name and kind",
        "fleet": "a fleet file needs at least name, type: fleet and scores",
    }[kind]
    if data is None:
        return Finding("schema-root-type", TOP, f"the file holds no YAML document; {needs}")
    span = root.span if root is not None else TOP
    return Finding(
        "schema-root-type",
        Span(span.line, span.column, span.line, span.column + 1),
        f"the file holds {describe(data)}, not a mapping of keys; {needs}",
    )


def describe(value: Any) -> str:
    """A short description of a value for messages."""
    if value is None:
        return "null (nothing after the colon)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the string {shown!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def short(value: Any) -> str:
    """A value as a user wrote it, kept short."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, (dict, list, tuple, set)):
        return describe(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: Unknown keys of one file that get a did-you-mean guess; past that, findings come without one
#: (a guess costs about 50 microseconds: 100,000 of them would take seconds).
MAX_GUESSES = 200
#: Unknown keys of one mapping whose help lists the allowed keys; later ones point back to the first
#: (a generated mapping of 200,000 unknown keys would repeat the list 200,000 times in every format).
MAX_LISTINGS = 20


_MISSING_NODE: Any = object()


class _ErrorMapper:
    """Turns pydantic error dicts into findings at file positions."""

    def __init__(self, model_cls: type[BaseModel], data: Any, root: PNode | None, text: str = "",
                 kind: str = "score") -> None:
        self.text = text
        self.kind = kind
        self.missing: dict[Path, list[Any]] = {}
        """Parent path -> the required keys missing there (filled by :func:`build`)."""
        self.model_cls = model_cls
        self.data = data
        self.root = root
        self.guesses = 0
        """How many did-you-mean guesses were made (they stop at :data:`MAX_GUESSES`)."""
        self._sections: dict[Path, tuple[str, list[str], str]] = {}
        self._parents: dict[Path, PNode | None] = {}
        self._listed: dict[Path, tuple[int, str]] = {}
        """Parent path -> (unknown keys given the list of allowed keys, the help that points back to the
        first of them)."""
        self._key_index = key_index(model_cls)

    # -- paths and positions ----------------------------------------------------------------------
    def dotted(self, loc: Path) -> str:
        """``validations[2].type`` style rendering of a data path."""
        out = ""
        value: Any = self.data
        for step in loc:
            if step == "[key]":
                continue
            if isinstance(value, list) and isinstance(step, int):
                out += f"[{step}]"
                value = value[step] if 0 <= step < len(value) else None
            else:
                out += f".{step}" if out else str(step)
                value = value.get(step) if isinstance(value, dict) else None
        return out or "the top level"

    def key_span(self, loc: Path) -> tuple[Span, bool]:
        """The span of the key at ``loc`` (else its value, else the nearest ancestor); exactness."""
        if self.root is None:
            return TOP, False
        found = self.root.locate(loc)
        if found.depth == 0:
            return TOP, found.exact
        return found.key_or_value, found.exact

    def _child_key_span(self, parent: Path, key: Any) -> Span:
        """The span of ``key`` in the mapping at ``parent``: :meth:`key_span` with the mapping's node
        kept, since a generated file may hold 100,000 unknown keys in one mapping."""
        node: PNode | None = self._parents.get(parent, _MISSING_NODE)
        if node is _MISSING_NODE:
            found = self.root.locate(parent) if self.root is not None else None
            node = self._parents[parent] = found.node if found is not None and found.exact else None
        if node is None or self.root is None:
            return self.key_span((*parent, key))[0]
        key_node, value_node = node.child(key)
        if value_node is None:
            return self.key_span((*parent, key))[0]
        return (key_node or value_node).span

    def value_node(self, loc: Path) -> PNode | None:
        if self.root is None:
            return None
        found = self.root.locate(loc)
        return found.node if found.exact else None

    # -- one error --------------------------------------------------------------------------------
    def finding(self, error: Any) -> Finding:
        loc: Path = tuple(error["loc"])
        kind: str = error["type"]
        if kind == "extra_forbidden":  # first: a generated file may hold 200,000 of them
            return self._unknown_key(loc)
        ctx: dict[str, Any] = error.get("ctx") or {}
        value = error.get("input")
        if kind == CROSS_FIELD:
            return self._cross_field(loc, error["msg"], ctx)
        if kind == "missing":
            return self._missing(loc)
        if "[key]" in loc or kind == "invalid_key":
            return self._bad_key(loc, error)
        if kind == "string_unicode" and isinstance(value, str):
            mapping = self.value_node(loc)
            if mapping is not None and mapping.keys is not None and value in mapping.keys:
                # pydantic reports a key it cannot read as text at the mapping: point at the key
                written = value.encode("unicode_escape", "backslashreplace").decode("ascii")
                place = f"in {self.dotted(loc)}" if loc else "at the top level"
                return Finding(
                    "schema-key-type", mapping.keys[value].span,
                    f"the key '{written}' {place} holds half of a surrogate pair, which is not a "
                    "character: Marianne's models cannot read it as text",
                    suggestion="remove the \\u escape or complete the pair",
                )
        span, _ = self.key_span(loc)
        where = self.dotted(loc)
        node = self.value_node(loc)
        if kind in _ENUM_TYPES:
            return self._enum(loc, span, where, value, ctx)
        if kind in _RANGE_WORDS:
            words, name = _RANGE_WORDS[kind]
            return Finding("schema-range", span, f"{where} is {short(value)}; it must be {words} {ctx.get(name)}")
        if kind in _LENGTH_TYPES:
            return self._length(span, where, value, kind, ctx)
        if kind == "string_pattern_mismatch":
            return Finding(
                "schema-pattern",
                span,
                f"{where} is {short(value)!r}, which does not match the required pattern {ctx.get('pattern')}",
            )
        if kind in ("value_error", "assertion_error"):
            message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            return Finding("schema-constraint", span, f"{where}: {message}")
        return self._type(loc, span, where, value, kind, node, error)

    def _type(
        self, loc: Path, span: Span, where: str, value: Any, kind: str, node: PNode | None, error: Any
    ) -> Finding:
        expected = _TYPE_WORDS.get(kind)
        if expected is None:
            message = f"{where}: {error['msg']} (got {describe(value)})"
        else:
            message = f"{where} must be {expected}, got {describe(value)}"
        suggestion = None
        if value is None and kind in ("model_type", "dict_type", "list_type"):
            suggestion = (
                f"an empty `{loc[-1]}:` is null, not the defaults: remove the key to keep the defaults, "
                "or give it values"
            )
        elif node is not None and node.note is not None and node.style is None:
            suggestion = _yaml11_hint(node, value)
        return Finding("schema-type", span, message, suggestion=suggestion)

    def _enum(self, loc: Path, span: Span, where: str, value: Any, ctx: dict[str, Any]) -> Finding:
        expected = str(ctx.get("expected", ""))
        options = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",") if part.strip()]
        message = f"{where} is {short(value)!r}; allowed: {', '.join(options) if options else expected}"
        suggestion = None
        if isinstance(value, str) and options:
            lowered = {o.lower(): o for o in options}
            match = lowered.get(value.lower()) or next(
                iter(difflib.get_close_matches(value, options, n=1, cutoff=0.6)), None
            )
            if match:
                suggestion = f"did you mean '{match}'?"
        node = self.value_node(loc)
        fix = None
        if suggestion is not None and node is not None and self.text and isinstance(value, str) and (
            _sure_value(value, str(match), options)
        ):
            fix = Fix.of(f"replace '{value}' with '{match}'", "unsafe",
                         index_of(self.text).replace_scalar(node, value, str(match)))
        if suggestion is None and node is not None and node.note is not None and node.style is None:
            suggestion = _yaml11_hint(node, value)
        return Finding("schema-enum", span, message, suggestion=suggestion, fix=fix)

    def _length(self, span: Span, where: str, value: Any, kind: str, ctx: dict[str, Any]) -> Finding:
        if kind.endswith("too_short"):
            limit = ctx.get("min_length")
            if limit == 1:
                return Finding("schema-range", span, f"{where} must not be empty")
            return Finding("schema-range", span, f"{where} needs at least {limit} characters or items")
        return Finding("schema-range", span, f"{where} allows at most {ctx.get('max_length')} characters or items")

    def _missing(self, loc: Path) -> Finding:
        parent = loc[:-1]
        key = loc[-1]
        where = self.dotted(parent)
        if not parent:
            span = TOP
        else:
            span, _ = self.key_span(parent)
        model = model_at(self.model_cls, parent)
        what = f"{where} is missing the required key '{key}'"
        if not parent:
            what = f"the required top-level key '{key}' is missing"
        hint = _MISSING_HINTS.get((model.__name__ if model else "", str(key)))
        return Finding("schema-missing-key", span, what, suggestion=hint)

    def _unknown_key(self, loc: Path) -> Finding:
        parent = loc[:-1]
        key = loc[-1]
        span = self._child_key_span(parent, key)
        place, allowed, listing = self._section(parent)
        message = f"unknown key '{key}' {place}"
        suggestion = None
        close: list[str] = []
        if self.guesses < MAX_GUESSES:  # a generated file may hold 100,000 unknown keys: stay linear
            self.guesses += 1
            # A required key missing beside an unknown one is most likely its misspelling.
            missing = [str(k) for k in self.missing.get(parent, ())]
            close = difflib.get_close_matches(str(key), missing, n=1, cutoff=0.5) or difflib.get_close_matches(
                str(key), allowed, n=1, cutoff=0.6)
        fix = None
        if close:
            suggestion = f"did you mean '{close[0]}'?"
            # The fix is surer than the hint: a missing required key, or a near spelling.
            sure = close[0] in missing or difflib.SequenceMatcher(None, str(key), close[0]).ratio() >= RENAME_CUTOFF
            fix = self._rename(loc, close[0]) if sure else None
        else:
            written = str(key)
            places = self._key_index.get(written)
            elsewhere = [p for p in places if p != written] if places else None
            if elsewhere:
                suggestion = f"'{key}' belongs under {elsewhere[0].rsplit('.', 1)[0]}: {elsewhere[0]}"
            elif allowed:
                listed = self._listed.get(parent)
                if listed is None:
                    listed = (0, f"the allowed keys here are listed at line {span.line}")
                count, pointer = listed
                self._listed[parent] = (count + 1, pointer)
                # past a few, the list of allowed keys points back to where it was given first
                suggestion = listing if count < MAX_LISTINGS else pointer
        return Finding("schema-unknown-key", span, message, suggestion=suggestion, fix=fix)

    def _value_at(self, loc: Path) -> Any:
        value: Any = self.data
        for step in loc:
            in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
            if not in_list and not (isinstance(value, dict) and step in value):
                return None
            value = value[step]
        return value

    def _rename(self, loc: Path, name: str) -> Fix | None:
        """Rename the unknown key at ``loc`` to ``name`` (unsafe: a guess), unless ``name`` is there already."""
        if not self.text or self.root is None:
            return None
        parent_node = self.root.locate(loc[:-1])
        siblings = parent_node.node.values if parent_node.exact else None
        if siblings is None or any(str(key) == name for key in siblings):
            return None
        key_node = self.root.locate(loc).key
        if key_node is None or key_node.text is None:
            return None
        parent_model = model_at(self.model_cls, loc[:-1])
        target = field_by_key(parent_model, name) if parent_model is not None else None
        found = self.root.locate(loc)
        if target is None or not _shape_fits(target[1], self._value_at(loc)) or not found.exact:
            return None  # a list under a text field, a number under a section: not a slip of the pen
        return Fix.of(f"rename '{key_node.text}' to '{name}'", "unsafe",
                      index_of(self.text).replace_scalar(key_node, key_node.text, name))

    def _section(self, parent: Path) -> tuple[str, list[str], str]:
        """(how a message names the mapping at ``parent``, its allowed keys, their listing), once per mapping."""
        known = self._sections.get(parent)
        if known is None:
            model = model_at(self.model_cls, parent)
            allowed = allowed_keys(model) if model is not None else []
            place = "at the top level" if not parent else f"in {self.dotted(parent)}"
            known = self._sections[parent] = (place, allowed, "allowed keys here: " + ", ".join(sorted(allowed)))
        return known

    def _bad_key(self, loc: Path, error: Any) -> Finding:
        key_loc = tuple(step for step in loc if step != "[key]")
        span, _ = self.key_span(key_loc)
        where = self.dotted(key_loc[:-1])
        key_node = self.root.locate(key_loc).key if self.root is not None else None
        written = key_node.text if key_node is not None and key_node.text is not None else str(key_loc[-1])
        if key_node is not None and key_node.note == "bool" and key_node.style is None:
            return Finding(
                "yaml11-boolean-key",
                span,
                f"the key '{written}' in {where} is read as the boolean {short(bool(key_loc[-1]))} by YAML 1.1, "
                "which Marianne uses, and Marianne rejects a non-string key here",
                suggestion=f'quote the key: "{written}":',
                fix=boolean_key_fix(self.text, self.kind, key_loc, key_node.span, written, self.data)
                if self.text else None,
            )
        expected = "a string" if error["type"] in ("invalid_key", "string_type") else _TYPE_WORDS.get(
            error["type"], "of another type"
        )
        return Finding("schema-key-type", span, f"the key '{written}' in {where} must be {expected}")

    def _cross_field(self, loc: Path, message: str, ctx: dict[str, Any]) -> Finding:
        rule = str(ctx.get("_rule", "schema-constraint"))
        keys: tuple[Path, ...] = tuple(ctx.get("_keys", ()))
        spans: list[tuple[Span, str]] = []
        for key in keys:
            span, exact = self.key_span(loc + tuple(key))
            if exact:
                spans.append((span, ".".join(str(k) for k in key)))
        if spans:
            primary = spans[0][0]
            related = [(span, f"'{name}' is involved") for span, name in spans[1:] if span != primary]
        else:
            primary, _ = self.key_span(loc)
            related = []
        if any(isinstance(step, int) and not isinstance(step, bool) for step in loc):
            # A model inside a list cannot know its index: say which item it is.
            message = f"{self.dotted(loc)}: {message}"
        return Finding(rule, primary, message, related=related)


def _yaml11_hint(node: PNode, value: Any) -> str:
    written = node.text
    if node.note == "bool":
        return f"YAML 1.1 (which Marianne uses) reads the unquoted {written} as a boolean; write \"{written}\" for text"
    if node.note == "timestamp":
        return f"YAML 1.1 reads the unquoted {written} as a date; write \"{written}\" for text"
    if node.note == "number":
        return f"YAML 1.1 reads the unquoted {written} as the number {value!r}; quote it for text"
    return f"YAML 1.1 reads the unquoted {written} as text; YAML 1.2 tools read it as a number"


_MISSING_HINTS = {
    ("JobConfig", "sheet"): "add a sheet section, e.g. `sheet: {size: 1, total_items: 3}`",
    ("JobConfig", "prompt"): "add a prompt section, e.g. `prompt: {template: \"...\"}`",
    ("JobConfig", "name"): "add `name: my-score` at the top of the file",
    ("SheetConfig", "size"): "size is the number of items per sheet, usually 1",
    ("SheetConfig", "total_items"): "total_items is the number of items (or stages with fan_out)",
}
