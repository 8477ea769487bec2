"""The text edits behind "Disable RULE for this line / file": a suppression comment
(``# marianne-lint: disable=CODE`` at the end of the line, ``disable-file=CODE`` near the top),
merged into one the line or file already has.

An edit is only offered when it does what it says: the file must mean the same to Marianne
afterwards (the comment did not land inside a quoted or block scalar) and the suppression step
must read the new comment as silencing that rule there.
"""

from __future__ import annotations

from dataclasses import dataclass

from marianne_lint.reading.loader import Limits, Loaded, load
from marianne_lint.reading.positions import editor_lines
from marianne_lint.suppression import parse

_MODELINE = "# yaml-language-server:"


@dataclass(frozen=True, slots=True)
class Insertion:
    """Insert ``text`` at character ``offset`` of the linted text."""

    offset: int
    text: str


def _same_meaning(before: Loaded, after_text: str) -> Loaded | None:
    after = load(after_text, Limits())
    if before.ok and (not after.ok or after.data != before.data):
        return None
    return after


def _silences(text: str, loaded: Loaded, code: str, line: int | None) -> bool:
    for directive in parse(text, loaded.text_spans).directives:
        if directive.token != code:
            continue
        if line is None and directive.file_wide:
            return True
        if line is not None and not directive.file_wide and directive.target_line == line:
            return True
    return False


def _checked(text: str, loaded: Loaded, insertion: Insertion, code: str, line: int | None) -> Insertion | None:
    after_text = text[: insertion.offset] + insertion.text + text[insertion.offset :]
    after = _same_meaning(loaded, after_text)
    if after is None or not _silences(after_text, after, code, line):
        return None
    return insertion


def disable_line(text: str, loaded: Loaded, line: int, code: str) -> Insertion | None:
    """Silence ``code`` on 1-based ``line``: extend its suppression comment, or add one at its end."""
    lines = editor_lines(text)
    if not 1 <= line <= len(lines):
        return None
    start, content = lines[line - 1]
    if not content.strip():
        return None  # a comment on an empty line would silence the next line instead
    on_line = [d for d in parse(text, loaded.text_spans).directives
               if d.span.line == line and not d.file_wide and d.target_line == line]
    if on_line:
        last = max(on_line, key=lambda d: d.span.end_column)
        return _checked(text, loaded, Insertion(start + last.span.end_column - 1, f",{code}"), code, line)
    end = start + len(content.rstrip())
    return _checked(text, loaded, Insertion(end, f"  # marianne-lint: disable={code}"), code, line)


def disable_file(text: str, loaded: Loaded, code: str) -> Insertion | None:
    """Silence ``code`` in the whole file: extend a ``disable-file`` comment, or add one at the top
    (after a ``# yaml-language-server: $schema=`` first line)."""
    directives = [d for d in parse(text, loaded.text_spans).directives if d.file_wide]
    lines = editor_lines(text)
    if directives:
        line = directives[0].span.line
        last = max((d for d in directives if d.span.line == line), key=lambda d: d.span.end_column)
        insertion = Insertion(lines[line - 1][0] + last.span.end_column - 1, f",{code}")
        return _checked(text, loaded, insertion, code, None)
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text and "\n" not in text else "\n"
    offset = 0
    if lines and lines[0][1].startswith(_MODELINE) and len(lines) > 1:
        offset = lines[1][0]
    elif lines and lines[0][1].startswith(_MODELINE):
        return _checked(text, loaded, Insertion(len(text), f"{newline}# marianne-lint: disable-file={code}{newline}"),
                        code, None)
    return _checked(text, loaded, Insertion(offset, f"# marianne-lint: disable-file={code}{newline}"), code, None)


__all__ = ["Insertion", "disable_file", "disable_line"]
