"""A rule's docstring (reStructuredText-like: ````code````, roles, ``Label::`` literal blocks) as
plain text for a terminal (``marianne-lint rules NAME``) and as Markdown (SARIF ``help``, docs)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

_LITERAL_START = re.compile(r"^(?P<label>.*)::\s*$")
_INLINE_CODE = re.compile(r"``(.+?)``", re.S)
_ROLE = re.compile(r":(?:mod|func|meth|class|attr|data|ref):`~?([^`]+)`")


@dataclass(frozen=True, slots=True)
class _Block:
    """A piece of a docstring: a paragraph (``literal`` None) or a label and its literal block."""

    text: str
    literal: str | None = None


def _blocks(doc: str) -> list[_Block]:
    """Split a cleaned docstring into paragraphs and labelled literal blocks."""
    lines = doc.split("\n")
    out: list[_Block] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append(_Block("\n".join(paragraph)))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        start = _LITERAL_START.match(line) if not line.startswith(" ") else None
        if start is not None:
            flush()
            i += 1
            body: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            out.append(_Block(start.group("label").rstrip(), textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
            continue
        if line.strip():
            paragraph.append(line)
        else:
            flush()
        i += 1
    flush()
    return out


def _markdown(text: str) -> str:
    """Docstring prose to Markdown: ``code`` and roles to `code`; line breaks kept."""
    text = _ROLE.sub(lambda match: f"``{match.group(1)}``", text)
    return _INLINE_CODE.sub(lambda match: f"`{match.group(1)}`", text)




def as_markdown(doc: str) -> str:
    """A whole docstring as Markdown: paragraphs, and literal blocks as fenced YAML."""
    out: list[str] = []
    for block in _blocks(doc):
        if block.literal is None:
            out.append(_markdown(block.text))
            continue
        label = _markdown(block.text)
        if label:
            out.append(f"**{label}:**" if label in ("Failing", "Passing") or label.startswith(("Failing ", "Passing "))
                       else f"{label}:")
        out.append("```yaml\n" + block.literal.rstrip("\n") + "\n```")
    return "\n\n".join(out) + "\n"


def as_text(doc: str) -> str:
    """A whole docstring as plain text for a terminal: `code`, and literal blocks indented."""
    out: list[str] = []
    for block in _blocks(doc):
        if block.literal is None:
            out.append(_markdown(block.text))
            continue
        body = textwrap.indent(block.literal.rstrip("\n"), "    ")
        out.append(f"{_markdown(block.text)}:\n\n{body}" if block.text else body)
    return "\n\n".join(out)
