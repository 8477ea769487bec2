"""Read a file (or standard input) into text, or say why it cannot be read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import BinaryIO

from marianne_lint.diagnostics import Finding
from marianne_lint.reading.positions import Span, place

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(slots=True)
class Source:
    """The text of one input, or the finding that explains why there is none."""

    path: str
    text: str | None
    finding: Finding | None = None


def _point(line: int, column: int) -> Span:
    return Span(line, column, line, column + 1)


def _where(data: bytes, offset: int) -> Span:
    """The place of byte ``offset`` as an editor shows it: lines broken at LF, CRLF and CR, columns
    in characters (an invalid byte before it counts as the one replacement character editors show)."""
    before = data[:offset].removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    return _point(*place(before, len(before)))


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 when the bytes look like it (a byte order mark, or NUL in every other byte)."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    head = data[: min(len(data), 64) // 2 * 2]
    evens, odds = head[0::2], head[1::2]
    if len(head) >= 4 and ((not any(evens) and all(odds)) or (all(evens) and not any(odds))):
        return "UTF-16"
    return None


def size_text(size: int) -> str:
    """A byte count for messages: '512 bytes', '12.5 KiB', '20 MiB'."""
    if size < 1024:
        return f"{size} byte" + ("" if size == 1 else "s")
    if size < 1024 * 1024:
        return f"{size / 1024:.4g} KiB"
    return f"{size / 1_048_576:.4g} MiB"


def too_big(path: str, size: int | None, max_bytes: int) -> Source:
    shown = f"is {size_text(size)}, above" if size is not None else "is larger than"
    return Source(
        path,
        None,
        Finding(
            "resource-limit",
            _point(1, 1),
            f"the file {shown} the {size_text(max_bytes)} limit; it is not linted (option max-file-size)",
        ),
    )


def decode(path: str, data: bytes) -> Source:
    """Decode bytes as Marianne does (UTF-8 text), or explain why not."""
    wide = _wide_encoding(data)
    if wide is not None:
        return Source(
            path,
            None,
            Finding(
                "unreadable-file",
                _point(1, 1),
                f"the file is {wide} text; Marianne reads config files as UTF-8",
                suggestion="re-save the file as UTF-8",
            ),
        )
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
    """Read one regular file from disk (at most ``max_bytes``; more is a resource-limit finding)."""
    from marianne_lint.reading.bounded import NotRegularFile, TooLarge, read_regular

    if os.path.isdir(path):  # only a folder that a folder walk could not list comes here
        try:
            os.listdir(path)
            reason = "it is a folder"
        except OSError as exc:
            reason = exc.strerror or str(exc)
        return Source(display, None, Finding("unreadable-file", _point(1, 1), f"cannot read the folder: {reason}"))
    try:
        data = read_regular(path, max_bytes)
    except TooLarge as exc:
        return too_big(display, exc.size, max_bytes)
    except NotRegularFile as exc:
        return Source(display, None, Finding("unreadable-file", _point(1, 1), f"cannot read the file: {exc.strerror}"))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return Source(display, None, Finding("unreadable-file", _point(1, 1), f"cannot read the file: {reason}"))
    return decode(display, data)


def _read_stream(handle: BinaryIO, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of a stream, without allocating that much up front."""
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = handle.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_stdin(display: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Source:
    """Read standard input (at most ``max_bytes``)."""
    data = _read_stream(sys.stdin.buffer, max_bytes)
    if len(data) > max_bytes:
        return too_big(display, None, max_bytes)
    return decode(display, data)
