"""Shell text read with a real bash grammar (tree-sitter-bash), never run.

The prompt of a sheet on the raw ``cli`` instrument is handed to ``bash -c``; this module
parses such text and says where bash would stop with a syntax error, and which commands are
prose or markdown rather than programs. The parser is imported on first use only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PARSER: Any = None

#: Jinja tags, replaced before parsing: an expression by a word of the same width, a statement or
#: a comment by blanks (line breaks kept, so lines and columns stay those of the template).
_JINJA_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_JINJA_OTHER = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)

#: Words that start a markdown line, not a program: bullets, numbered items, emphasis, fences.
_MARKDOWN_START = re.compile(r"^(?:[-*+]|\d+[.)]|\*\*.*|__.*|```.*|>|#{1,6})$")
_PROSE_WORD = re.compile(r"^[A-Z][a-z]+[,:]?$")
_SENTENCE_END = re.compile(r"^[A-Za-z)\"']+[.:!?]$")


@dataclass(frozen=True, slots=True)
class ShellProblem:
    line: int
    """1-based line of the text."""
    column: int
    """0-based column in that line."""
    width: int
    what: str


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_bash.language()))
    return _PARSER


def without_jinja(text: str) -> str:
    """The text with Jinja tags blanked out, positions kept."""

    def word(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", "X", match.group(0))

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _JINJA_OTHER.sub(blank, _JINJA_EXPR.sub(word, text))


def _first_error(node: Any) -> Any:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ERROR" or current.is_missing:
            return current
        if current.has_error:
            stack.extend(reversed(current.children))
    return None


def problems(text: str, *, limit: int = 3) -> list[ShellProblem]:
    """Where ``bash -c text`` breaks: its first syntax error, else commands that are prose or markdown."""
    source = without_jinja(text)
    data = source.encode("utf-8", "replace")  # a lone surrogate (a YAML escape) becomes "?"
    tree = _parser().parse(data)
    root = tree.root_node
    lines = source.split("\n")

    byte_lines = data.split(b"\n")

    def point(node: Any) -> tuple[int, int]:
        row, byte_column = node.start_point
        prefix = byte_lines[row][:byte_column] if row < len(byte_lines) else b""
        return row + 1, len(prefix.decode("utf-8", "replace"))

    if root.has_error:
        error = _first_error(root)
        if error is not None:
            line, column = point(error)
            shown = lines[line - 1].strip() if line <= len(lines) else ""
            what = f"bash cannot parse it (near '{shown[:50]}')"
            fence = next((n for n, text_line in enumerate(lines, start=1) if text_line.lstrip().startswith("```")), 0)
            if fence and fence >= line:
                line, column = fence, len(lines[fence - 1]) - len(lines[fence - 1].lstrip())
                shown = lines[fence - 1]
                what = "a markdown code fence (```) is an unclosed command substitution to bash"
            elif error.is_missing:
                what = f"bash expects '{error.type}' that never comes (near '{shown[:50]}')"
            width = len(lines[line - 1]) - column if line <= len(lines) else 1
            return [ShellProblem(line, column, max(1, width), what)]
    out: list[ShellProblem] = []
    stack = [root]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.type == "command":
            name = node.child_by_field_name("name")
            if name is not None:
                line, column = point(name)
                word = (name.text or b"").decode("utf-8", "replace")
                words = lines[line - 1].split()
                if _MARKDOWN_START.match(word):
                    out.append(ShellProblem(line, column, len(word), f"'{word}' starts a markdown line, not a program"))
                elif _PROSE_WORD.match(word) and len(words) >= 3 and _SENTENCE_END.match(words[-1]):
                    out.append(ShellProblem(line, column, len(lines[line - 1]) - column,
                                            f"'{' '.join(words[:4])}' is a sentence, not a command"))
            continue
        stack.extend(reversed(node.children))
    out.sort(key=lambda p: (p.line, p.column))
    return out
