"""The one way marianne-lint reads a file from disk: a regular file only, never blocking, and never
more than a bound (a leaf module: the reader, the configuration, the cache and the rules use it).

A FIFO, a device (``/dev/zero``), a socket or a folder named like a YAML file is refused before a
byte is read; a file is opened with ``O_NONBLOCK`` so that a special file that claims to be
regular (``/proc/kmsg``) cannot hang the run, and reading stops one byte past the bound.
"""

from __future__ import annotations

import errno
import os
import stat

#: The flags every read opens with (those the platform has).
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """The path is not a regular file (a FIFO, a device, a socket or a folder)."""


class TooLarge(Exception):
    """The file holds more than the bound; ``size`` is its size when the file system knows it."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


def kind_of(mode: int) -> str:
    """What a non-regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_fd(fd: int, max_bytes: int) -> bytes:
    """Read a regular file already open as ``fd`` (closing it), at most ``max_bytes``.

    Raises :class:`NotRegularFile`, :class:`TooLarge` or :class:`OSError`.
    """
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(errno.EINVAL, f"it is {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise TooLarge(info.st_size)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            try:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            except BlockingIOError as exc:  # a "regular" file that would block: a kernel special file
                raise NotRegularFile(errno.EAGAIN, "reading it would block (a special file)") from exc
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise TooLarge(None)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` (see :func:`read_fd`)."""
    return read_fd(os.open(path, _FLAGS), max_bytes)


def read_text(path: str | os.PathLike[str], max_bytes: int) -> str:
    """A UTF-8 text file (raises :class:`UnicodeDecodeError` for anything else)."""
    return read_regular(path, max_bytes).decode("utf-8")
