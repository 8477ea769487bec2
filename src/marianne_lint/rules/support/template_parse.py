"""Parse a Jinja template with jinja2's own parser (never render it) and keep what the rules need.

Prompt templates are long prose with a few tags, and the same placeholder
(``{{ workspace }}``) is often written hundreds of times. Parsing all of it
is the costliest step of a lint, so Jinja's parser is given less to read:

* **The reduced copy** (:func:`reduce`) keeps the block tags (``{% ... %}``)
  at their lines, and the first copy of each expression tag (``{{ ... }}``).
  Plain text, comments and repeated expression tags are left out, and so is
  every plain placeholder (``{{ name }}``, ``{{ name.attr }}``): the name it
  reads is recorded directly.
* **Tokens** (:func:`tokens`): the kept tags are cut into the tokens Jinja's
  lexer would give the parser, by one regular expression, when every token
  is of a kind this module reads exactly as Jinja does (ASCII names, plain
  decimal integers, strings without escapes, operators, spaces and line
  breaks); otherwise Jinja's lexer reads the reduced copy.

Why that changes nothing when the reduced copy parses: what is left out is
either plain text (it cannot open or close a block) or an expression tag,
which Jinja parses on its own without reference to the blocks around it,
and an identical copy of which has been parsed at an earlier line (or which
is a plain placeholder, which always parses). Every name, filter and test
keeps its line, and the first use of each is kept. When the reduced copy
does *not* parse, the whole template is parsed again as written, by Jinja's
lexer and parser, so a syntax error is always Jinja's own, at Jinja's own
line. A tag this module cannot delimit with certainty (a ``{% raw %}``
block, braces or unbalanced quotes inside a tag) stops the reduction: the
rest of the template is kept as it is. ``tests/test_template_parse.py``
compares the result, and the tokens, with Jinja's on hand-written, random
and real templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


@dataclass(frozen=True, slots=True)
class Parsed:
    """A Jinja template parsed once: what it uses, or where and why parsing failed."""

    ok: bool
    """True when Jinja parses (and would compile) the template."""
    error_line: int = 0
    """Line of the syntax error (1-based); 0 when the template could not be analysed at all."""
    error: str = ""
    undeclared: frozenset[str] = frozenset()
    """Every name the template reads (before removing the names it binds itself)."""
    assigned: frozenset[str] = frozenset()
    """Names the template binds itself (set, for, macro, with, import, call parameters)."""
    reads: tuple[tuple[str, int, str], ...] = ()
    """Reads of names: (name, line, how: "plain", "tested" or "default"); a tag written again with
    the same text is read once, at its first line."""
    calls: tuple[tuple[str, str, int], ...] = ()
    """Filters and tests used: ("filter" or "test", name, line), likewise."""


# -- the environment ---------------------------------------------------------------------------


_ENV: Environment | None = None
_KNOWN: tuple[frozenset[str], frozenset[str]] | None = None


def environment() -> Environment:
    """The Jinja environment used to parse and lex (never to render); created on first use."""
    global _ENV, _KNOWN
    if _ENV is None:
        from jinja2 import Environment

        env = Environment()
        _KNOWN = (frozenset(env.filters), frozenset(env.tests))
        _ENV = env
    return _ENV


def known_filters() -> tuple[frozenset[str], frozenset[str]]:
    """The names of Jinja's built-in filters and tests."""
    environment()
    assert _KNOWN is not None
    return _KNOWN


# -- the reduced copy --------------------------------------------------------------------------

_STRING = r"""'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*\""""
#: The next tag: a whole comment, expression or block tag, or else just the two characters
#: that open one (then this module cannot tell where Jinja ends it). Inside expression and
#: block tags, braces are only allowed within string literals, so the first closing delimiter
#: outside a string is the one Jinja stops at. (Possessive repeats: no backtracking.)
_NEXT_TAG = re.compile(
    r"\{(?:\#.*?\#\}"
    r"|\{(?:[^'\"{}]++|" + _STRING + r")*+\}\}"
    r"|%(?:[^'\"{}%]++|%(?!\})|" + _STRING + r")*+%\})"
    r"|\{[{%#]",
    re.S,
)
_RAW = re.compile(r"\{%[-+]?\s*raw")
_LINE_BREAK = re.compile(r"\r\n|\r")


#: An expression tag that only reads one name (``{{ name }}``, ``{{- name.attr -}}``): Jinja
#: always parses it, to a read of that name, so the parser is not needed for it.
_PLACEHOLDER = re.compile(r"\{\{[-+]?([ \t\n]*)([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*[ \t\n]*-?\}\}")
#: Words Jinja reads as constants or operators, not as names.
_NOT_NAMES = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"})


@dataclass(frozen=True, slots=True)
class Reduced:
    """The reduced copy of a template: the tags kept, at their lines, and what was learnt from the rest."""

    tags: tuple[tuple[int, str], ...]
    """(line, text) of each tag kept."""
    reads: tuple[tuple[str, int], ...]
    """(name, line) of the first copy of each plain ``{{ name }}`` placeholder."""
    end_line: int
    """The line where the copy ends, or where ``rest`` starts."""
    rest: str | None = None
    """The template from the first tag this module cannot delimit, kept as written (None: none)."""

    @property
    def text(self) -> str:
        """The reduced copy as text: the kept tags at their lines, then ``rest``."""
        parts: list[str] = []
        line = 1
        for at, written in self.tags:
            parts.append("\n" * (at - line))
            parts.append(written)
            line = at + written.count("\n")
        parts.append("\n" * (self.end_line - line))
        parts.append(self.rest or "")
        return "".join(parts)


def reduce(text: str) -> Reduced:
    """The template's block tags and unusual expression tags at their lines, minus everything else."""
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)  # as Jinja's lexer does, so that line counts agree
    reads: list[tuple[str, int]] = []
    tags: list[tuple[int, str]] = []
    seen: set[str] = set()
    counted = 0  # line breaks are counted up to here: ``line`` is the line there
    line = 1
    for tag in _NEXT_TAG.finditer(text):
        written = tag.group()
        kind = written[1]
        if (kind == "{" and written in seen) or (kind == "#" and len(written) > 2):
            continue  # a repeat or a comment: nothing to learn from it, no need for its line
        begin = tag.start()
        line += text.count("\n", counted, begin)
        counted = begin
        if len(written) == 2 or (kind == "%" and _RAW.match(written)):
            return Reduced(tuple(tags), tuple(reads), line, text[begin:])
        if kind == "%":
            tags.append((line, written))
        else:
            seen.add(written)
            placeholder = _PLACEHOLDER.fullmatch(written)
            if placeholder is not None and placeholder.group(2) not in _NOT_NAMES:
                reads.append((placeholder.group(2), line + placeholder.group(1).count("\n")))
            else:
                tags.append((line, written))
    return Reduced(tuple(tags), tuple(reads), line + text.count("\n", counted))


# -- tokens for the parser ---------------------------------------------------------------------

#: The tokens of a tag's inside that this module can read exactly as Jinja's lexer does. Anything
#: else (non-ASCII names, escapes in strings, numbers other than plain decimals, unusual white
#: space) makes :func:`tokens` give up, and Jinja's lexer reads the template.
_TOKEN = re.compile(
    r"([ \t\n]+)"  # white space
    r"|([A-Za-z_][A-Za-z0-9_]*)"  # a name
    r"|(?<!\.)((?:[1-9][0-9]*|0)(?![0-9A-Za-z_.]))"  # a decimal integer
    r"|'([^'\\]*)'|\"([^\"\\]*)\""  # a string without escapes
    r"|(\*\*|//|==|!=|>=|<=|[-+/*%~\[\]().:|,;=<>])"  # an operator, longest first
)


def tokens(tags: tuple[tuple[int, str], ...]) -> list[Any] | None:
    """The tokens Jinja's lexer would give the parser for these tags, or None when unsure.

    Same types, values and lines; plain text between tags gives no token (the
    parser makes nodes of it that no rule reads and that cannot make a
    template invalid).
    """
    from jinja2.lexer import Token

    out: list[Any] = []
    append, new = out.append, tuple.__new__
    for line, written in tags:
        found = _TAG_TOKENS.get(written)
        if found is None:
            found = _tag_tokens(written)
            if len(written) <= 256:  # short tags repeat; a long one is not worth keeping
                if len(_TAG_TOKENS) >= 20_000:
                    _TAG_TOKENS.clear()
                _TAG_TOKENS[written] = found
        if not found:
            return None
        for offset, kind, value in found:
            append(new(Token, (line + offset, kind, value)))  # Token(...) minus a Python-level __new__
    return out


#: The tokens of each tag text met so far, as (line offset, type, value); () when unsure.
#: (``{% endif %}`` and ``{% else %}`` are in every template.)
_TAG_TOKENS: dict[str, tuple[tuple[int, str, Any], ...]] = {}


def _tag_tokens(written: str) -> tuple[tuple[int, str, Any], ...]:
    from jinja2.lexer import operators

    kind = "block" if written[1] == "%" else "variable"
    opener = 3 if written[2:3] in ("-", "+") else 2
    modifier = written[-3:-2] == "-" or (kind == "block" and written[-3:-2] == "+")
    closer = 3 if modifier and len(written) - 3 >= opener else 2
    line = 0
    out: list[tuple[int, str, Any]] = [(0, kind + "_begin", written[:opener])]
    inside = written[opener:-closer]
    position = 0
    while position < len(inside):
        match = _TOKEN.match(inside, position)
        if match is None:
            return ()
        position = match.end()
        space, name, integer, single, double, operator = match.groups()
        if space is not None:
            line += space.count("\n")
        elif name is not None:
            out.append((line, "name", name))
        elif integer is not None:
            out.append((line, "integer", int(integer)))  # an int, as Jinja's lexer gives
        elif operator is not None:
            out.append((line, operators[operator], operator))
        else:
            value = single if single is not None else double
            out.append((line, "string", value))
            line += value.count("\n")
    out.append((line, kind + "_end", written[-closer:]))
    return tuple(out)


# -- parsing -----------------------------------------------------------------------------------


def parse(text: str) -> Parsed:
    """Parse ``text`` as Jinja does when it compiles a template (nothing is rendered).

    Remembered for the life of the process (several documents may share a
    template file), up to a bounded amount of text.
    """
    found = _PARSED.get(text)
    if found is None:
        found = _parse(text)
        if len(text) <= _CACHED_TEXT_LIMIT:
            if len(_PARSED) >= _CACHED_TEMPLATES:
                del _PARSED[next(iter(_PARSED))]  # the oldest
            _PARSED[text] = found
    return found


_PARSED: dict[str, Parsed] = {}
_CACHED_TEMPLATES = 128
_CACHED_TEXT_LIMIT = 256 * 1024  # so the cache holds at most 32 MiB of template text


def clear_caches() -> None:
    """Forget the templates and tags parsed so far (for tests)."""
    _PARSED.clear()
    _TAG_TOKENS.clear()


def _parse(text: str) -> Parsed:
    from jinja2 import TemplateSyntaxError, nodes

    env = environment()
    try:
        try:
            reduced = reduce(text)
            found = tokens(reduced.tags) if reduced.rest is None else None
            return _facts(_tree(env, reduced.text if found is None else "", found), nodes, reduced.reads)
        except TemplateSyntaxError:
            # Jinja's own error, at Jinja's own line: parse the template as written.
            return _facts(_tree(env, text), nodes)
    except TemplateSyntaxError as exc:
        return Parsed(False, exc.lineno or 1, (exc.message or str(exc)).rstrip("."))
    except RecursionError:  # nested too deeply to analyse: report nothing about it
        return Parsed(False)
    except ValueError:  # Jinja's lexer turns a number of more than 4300 digits into an int
        import re

        long_number = re.search(r"\d{4301,}", text)
        line = text.count("\n", 0, long_number.start()) + 1 if long_number else 1
        return Parsed(False, line, "a number in the template has more than the 4300 digits Python (and so Jinja) reads")


def _tree(env: Environment, text: str, found: list[Any] | None = None) -> Any:
    """Jinja's parse of ``text``, or of the tokens ``found`` for it when given.

    What ``Environment.parse`` does, less attaching the environment to every
    node (a walk of the whole tree that only compiling needs).
    """
    from jinja2 import nodes
    from jinja2.lexer import TokenStream
    from jinja2.parser import Parser

    parser = Parser(env, "" if found is not None else text)
    if found is not None:
        parser.stream = TokenStream(iter(found), None, None)
    return nodes.Template(parser.subparse(), lineno=1)


def lex_data(text: str) -> Iterator[tuple[int, str]] | None:
    """(offset, text) of each stretch of plain text outside tags, or None when Jinja cannot lex it."""
    from jinja2 import TemplateSyntaxError

    try:
        lexed = list(environment().lex(text))
    except TemplateSyntaxError:
        return None
    return _data_offsets(text, lexed)


def _data_offsets(text: str, tokens: list[tuple[int, str, str]]) -> Iterator[tuple[int, str]]:
    cursor = 0
    for _line, kind, value in tokens:
        if kind == "data":
            offset = text.find(value, cursor)
            if offset < 0:
                continue
            cursor = offset + len(value)
            yield offset, value


def _walk(tree: Any, node_type: type, loop_type: type) -> Iterator[tuple[Any, Any, bool]]:
    """(node, parent, whether a for loop encloses it) of every node, parents first, in template order."""
    stack: list[tuple[Any, Any, bool]] = [(tree, None, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, parent, in_loop = pop()
        yield node, parent, in_loop
        inner = in_loop or type(node) is loop_type
        for field in reversed(node.fields):  # pushed last to first, so popped in template order
            value = getattr(node, field, None)
            if isinstance(value, node_type):
                push((value, node, inner))
            elif type(value) is list:
                for item in reversed(value):
                    if isinstance(item, node_type):
                        push((item, node, inner))


def _facts(tree: Any, nodes: Any, placeholders: tuple[tuple[str, int], ...] = ()) -> Parsed:
    """Everything the rules need from a template tree, in one walk.

    Also fails the template on the errors Jinja only raises when it compiles
    it: a block defined twice, the loop variable assigned inside a for loop.
    """
    loaded: set[str] = set()
    assigned: set[str] = set()
    blocks: set[str] = set()
    reads: list[tuple[str, int, str]] = [(name, line, "plain") for name, line in placeholders]
    loaded.update(name for name, _line in placeholders)
    calls: list[tuple[str, str, int]] = []
    in_macro = False
    compile_error: tuple[int, str] | None = None
    wanted: tuple[type, ...] = (nodes.Name, nodes.Filter, nodes.Test, nodes.Macro, nodes.CallBlock)
    wanted += (nodes.Import, nodes.FromImport, nodes.Block)
    for node, parent, in_loop in _walk(tree, nodes.Node, nodes.For):
        if not isinstance(node, wanted):  # most nodes: constants, outputs, operators...
            continue
        if isinstance(node, nodes.Name):
            if node.ctx == "load":
                loaded.add(node.name)
                how = "plain"
                if isinstance(parent, nodes.Test) and parent.node is node and parent.name in ("defined", "undefined"):
                    how = "tested"
                elif isinstance(parent, nodes.Filter) and parent.node is node and parent.name in ("default", "d"):
                    how = "default"
                reads.append((node.name, node.lineno, how))
            elif node.ctx in ("store", "param"):
                assigned.add(node.name)
                if node.name == "loop" and node.ctx == "store" and in_loop and compile_error is None:
                    compile_error = (node.lineno, "the loop variable 'loop' cannot be assigned inside a for loop")
        elif isinstance(node, nodes.Filter):
            calls.append(("filter", node.name, node.lineno))
        elif isinstance(node, nodes.Test):
            calls.append(("test", node.name, node.lineno))
        elif isinstance(node, (nodes.Macro, nodes.CallBlock)):
            if isinstance(node, nodes.Macro):
                assigned.add(node.name)
            in_macro = True
        elif isinstance(node, nodes.Import):
            assigned.add(node.target)
        elif isinstance(node, nodes.FromImport):
            for name in node.names:
                assigned.add(name[1] if isinstance(name, tuple) else name)
        elif isinstance(node, nodes.Block):
            if node.name in blocks:  # Jinja checks this first when it compiles
                return Parsed(False, node.lineno or 1, f"block '{node.name}' defined twice")
            blocks.add(node.name)
    if compile_error is not None:
        return Parsed(False, compile_error[0] or 1, compile_error[1])
    if in_macro:  # Jinja defines these inside macros and call blocks
        loaded -= {"caller", "varargs", "kwargs"}
    return Parsed(
        True, undeclared=frozenset(loaded), assigned=frozenset(assigned), reads=tuple(reads), calls=tuple(calls)
    )
