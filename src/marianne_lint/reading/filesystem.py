"""The only way rules look at the disk: metadata and small reads, each one remembered.

Some rules depend on files other than the one being linted (a template file,
the workspace's parent folder, instrument profiles). While a file is linted,
every such look-up is recorded with a signature of what was seen (missing, or
kind, size and modification time). The result cache stores those signatures
and trusts a cached result only while every signature still matches, so a
file created or changed elsewhere invalidates the results that depended on it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from marianne_lint.reading.bounded import kind_of

Signature = tuple[int, int, int] | None
"""None when the path does not exist, else (file type bits, size, mtime in ns); size and mtime
are -1 when only the kind of the path mattered (an existence check, not a read)."""

_recording: list[dict[str, Signature]] = []


def signature(path: str | os.PathLike[str], *, content: bool = True) -> Signature:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not content:
        return (stat.S_IFMT(info.st_mode), -1, -1)
    return (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)


def _seen(path: str | os.PathLike[str], *, content: bool = False) -> Signature:
    found = signature(path)
    if _recording:
        key = os.fspath(path)
        kept = found if content or found is None else (found[0], -1, -1)
        previous = _recording[-1].get(key)
        if previous is None or previous[1] == -1:  # a read's full signature wins over an existence check
            _recording[-1][key] = kept
    return found


def remember(probes: dict[str, Signature]) -> None:
    """Add look-ups made earlier (for example by a per-process cache) to the current recording."""
    if _recording:
        _recording[-1].update(probes)


@contextmanager
def recording() -> Iterator[dict[str, Signature]]:
    """Collect the signatures of every path looked at inside the block."""
    probes: dict[str, Signature] = {}
    _recording.append(probes)
    try:
        yield probes
    finally:
        _recording.pop()
        remember(probes)


def unchanged(probes: dict[str, Signature]) -> bool:
    """Whether every recorded path still looks the same."""
    return all(
        signature(path, content=seen is None or seen[1] != -1) == seen for path, seen in probes.items()
    )


def exists(path: Path) -> bool:
    return _seen(path) is not None


def kind(path: Path) -> str | None:
    """What ``path`` is, for a message ("a regular file", "a folder", "a device"...); None when missing."""
    found = _seen(path)
    if found is None:
        return None
    return "a regular file" if found[0] == stat.S_IFREG else kind_of(found[0])


def is_file(path: Path) -> bool:
    found = _seen(path)
    return found is not None and found[0] == stat.S_IFREG


def is_dir(path: Path) -> bool:
    found = _seen(path)
    return found is not None and found[0] == stat.S_IFDIR


def size(path: Path) -> int | None:
    found = _seen(path, content=True)
    return None if found is None else found[1]


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, at most ``max_bytes`` (see :mod:`marianne_lint.reading.bounded`)."""
    from marianne_lint.reading.bounded import read_regular  # looked up per call: tests count the reads

    _seen(path, content=True)
    return read_regular(path, max_bytes)


def list_dir(path: Path) -> list[Path]:
    """The entries of a folder, sorted by name ([] when it cannot be listed)."""
    _seen(path, content=True)  # a folder's modification time changes when entries come or go
    try:
        return sorted(path.iterdir(), key=lambda p: p.name)
    except OSError:
        return []


def resolve(path: Path) -> Path:
    """``Path.resolve()``, falling back to the path as given; the path is recorded.

    Remembered for the life of the process (files of one folder share it), by absolute path.
    """
    _seen(path)
    key = os.fspath(path) if path.is_absolute() else os.path.join(os.getcwd(), path)
    found = _RESOLVED.get(key)
    if found is None:
        try:
            found = path.resolve()
        except (OSError, RuntimeError, ValueError):
            found = path
        _RESOLVED[key] = found
    return found


_RESOLVED: dict[str, Path] = {}
