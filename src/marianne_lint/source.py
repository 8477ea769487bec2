"""Read a file (or standard input) into text, or say why it cannot be read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from marianne_lint.diagnostics import Finding
from marianne_lint.positions import Span

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(slots=True)
class Source:
    """The text of one input, or the finding that explains why there is none."""

    path: str
    text: str | None
    finding: Finding | None = None


def _point(line: int, column: int) -> Span:
    return Span(line, column, line, column + 1)


def _where(data: bytes, offset: int) -> Span:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return _point(line, offset - start + 1)


def decode(path: str, data: bytes) -> Source:
    """Decode bytes as Marianne does (UTF-8 text), or explain why not."""
    nul = data.find(b"\x00")
    if nul != -1:
        return Source(
            path,
            None,
            Finding("unreadable-file", _where(data, nul), "the file holds binary data (a NUL byte); it is not YAML"),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        return Source(
            path,
            None,
            Finding(
                "unreadable-file",
                _where(data, exc.start),
                f"the file is not valid UTF-8 (byte 0x{bad} here); Marianne reads config files as UTF-8",
                suggestion="re-save the file as UTF-8",
            ),
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(path, text)


def read_path(path: str, display: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Source:
    """Read one file from disk."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            return Source(
                display,
                None,
                Finding(
                    "resource-limit",
                    _point(1, 1),
                    f"the file is {size / 1_048_576:.1f} MiB, above the {max_bytes / 1_048_576:.0f} MiB limit; "
                    "it is not linted (option max-file-size)",
                ),
            )
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Source(display, None, Finding("unreadable-file", _point(1, 1), f"cannot read the file: {reason}"))
    return decode(display, data)


def read_stdin(display: str) -> Source:
    """Read standard input."""
    return decode(display, sys.stdin.buffer.read())
