"""The result cache: an unchanged file is not read into YAML, validated or checked again.

An entry is keyed by the file's content and path, the effective configuration,
the rules it enables and the linter's own code (version and source files), so
a change to any of them misses. An entry also holds the signatures of the
other files the rules looked at (see :mod:`marianne_lint.reading.filesystem`); when
one of them changed, the entry is not trusted. Entries are single JSON files
written atomically (temporary file, then rename), so concurrent runs can share
the folder safely: the worst case is that both compute the same entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import asdict, fields
from functools import cache
from pathlib import Path
from typing import Any

from marianne_lint.diagnostics import Diagnostic, Edit, Fix, Related, Severity
from marianne_lint.reading import filesystem
from marianne_lint.version import __version__

CACHE_DIR_NAME = ".marianne-lint-cache"
FORMAT = "3"


@cache
def code_fingerprint() -> str:
    """The linter's version and the size and time of each of its source files."""
    import hashlib  # imported here: a run without the cache does not need it

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}".encode())
    for source in sorted(package.rglob("*.py")):
        info = source.stat()
        digest.update(f"{source.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def settings_fingerprint(parts: dict[str, Any]) -> str:
    """A digest of everything besides the file that decides the result."""
    import hashlib

    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(f"{code_fingerprint()}\0{text}".encode()).hexdigest()


def entry_key(settings: str, display: str, real: str, walked: bool, content: str) -> str:
    import hashlib

    digest = hashlib.sha256(f"{settings}\0{display}\0{real}\0{int(walked)}\0".encode("utf-8", "surrogatepass"))
    digest.update(content.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


#: A cache entry larger than this is not read (a real one is a few KiB).
MAX_ENTRY_BYTES = 16 * 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_SAFE = hasattr(os, "O_NOFOLLOW") and os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd


class Cache:
    """One cache folder.

    Whatever a checkout holds there, the cache never reads or writes through a symbolic link:
    the folder and its subfolders are opened with ``O_NOFOLLOW`` one step at a time, entries are
    read with ``O_NOFOLLOW`` (and only when regular), and every file is written as a new
    temporary file in its own folder and renamed over the old name (a rename replaces a link,
    it never follows one). A cache folder that is itself a link is not used at all. On a
    platform without these calls the cache is off.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _open_folder(self, create: bool) -> int | None:
        """A descriptor of the cache folder (never through a link), or None."""
        if not _SAFE:
            return None
        try:
            return os.open(self.folder, _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                return None
        except OSError:
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return os.open(self.folder, _DIR_FLAGS)
        except OSError:
            return None

    @staticmethod
    def _subfolder(parent: int, name: str, create: bool) -> int | None:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                return None
        except OSError:
            return None
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError:
            return None
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError:
            return None

    def _entry_folder(self, key: str, create: bool) -> int | None:
        """A descriptor of the folder that holds ``key``'s entry."""
        fd = self._open_folder(create)
        for name in (f"v{FORMAT}", key[:2]):
            if fd is None:
                return None
            if create and name == f"v{FORMAT}":
                self._mark_folder(fd)
            inner = self._subfolder(fd, name, create)
            os.close(fd)
            fd = inner
        return fd

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result, when present, well-formed and still valid (anything else is a miss)."""
        from marianne_lint.reading.bounded import TooLarge, read_fd

        folder = self._entry_folder(key, create=False)
        if folder is None:
            return None
        try:
            fd = os.open(f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=folder)
            entry = json.loads(read_fd(fd, MAX_ENTRY_BYTES).decode("utf-8"))
        except (OSError, ValueError, TooLarge, RecursionError):
            return None
        finally:
            os.close(folder)
        if not _well_formed(entry):
            return None
        probes = {path: tuple(sig) if isinstance(sig, list) else None for path, sig in entry["probes"].items()}
        if not filesystem.unchanged(probes):
            return None
        return entry  # type: ignore[no-any-return]

    def put(self, key: str, entry: dict[str, Any]) -> None:
        folder = self._entry_folder(key, create=True)
        if folder is None:
            return  # a cache that cannot be written is only slower
        try:
            _write_new(folder, f"{key}.json", json.dumps(entry, separators=(",", ":")))
        finally:
            os.close(folder)

    @staticmethod
    def _mark_folder(fd: int) -> None:
        """``CACHEDIR.TAG`` (backup tools skip the folder) and ``.gitignore`` (git ignores it)."""
        for name, text in (
            ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# marianne-lint result cache\n"),
            (".gitignore", "*\n"),
        ):
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    continue
            except FileNotFoundError:
                pass
            except OSError:
                continue
            _write_new(fd, name, text)


def _write_new(folder: int, name: str, text: str) -> None:
    """Write ``name`` in ``folder`` atomically: a new temporary file, then a rename over the name."""
    import secrets

    temporary = f".tmp-{os.getpid()}-{secrets.token_hex(8)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)


def _well_formed(entry: Any) -> bool:
    """Does ``entry`` have the shape :func:`encode_result` writes (so decoding cannot fail)?"""
    try:
        if not isinstance(entry, dict) or entry.keys() != _ENTRY_KEYS or entry["kind"] not in (None, "linted"):
            return False
        probes, lines, diagnostics = entry["probes"], entry["lines"], entry["diagnostics"]
        if not (isinstance(probes, dict) and isinstance(lines, dict) and isinstance(diagnostics, list)):
            return False
        for sig in probes.values():
            if sig is not None and not (isinstance(sig, list) and len(sig) == 3
                                        and all(type(n) is int for n in sig)):
                return False
        if not all(isinstance(k, str) and k.isdigit() and isinstance(v, str) for k, v in lines.items()):
            return False
        decode_diagnostics(entry)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def encode_result(kind: str | None, diagnostics: list[Diagnostic], lines: dict[int, str],
                  probes: dict[str, filesystem.Signature]) -> dict[str, Any]:
    return {
        "kind": kind,
        "diagnostics": [
            {**asdict(d), "severity": int(d.severity), "related": [asdict(r) for r in d.related]}
            for d in diagnostics
        ],
        "lines": {str(number): text for number, text in lines.items()},
        "probes": probes,
    }


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"not an integer: {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return value


#: The keys encode_result writes, of an entry and of each diagnostic: an entry with any other set
#: (a key missing, one added) was not written by this version and is a miss.
_ENTRY_KEYS = frozenset({"kind", "diagnostics", "lines", "probes"})
_DIAGNOSTIC_KEYS = frozenset(field.name for field in fields(Diagnostic))


def _decode_one(item: Any) -> Diagnostic:
    if not isinstance(item, dict) or item.keys() != _DIAGNOSTIC_KEYS:
        raise ValueError("a diagnostic is not an object of the fields encode_result writes")
    suggestion = item["suggestion"]
    return Diagnostic(
        path=_str(item["path"]),
        line=_int(item["line"]),
        column=_int(item["column"]),
        end_line=_int(item["end_line"]),
        end_column=_int(item["end_column"]),
        code=_str(item["code"]),
        rule=_str(item["rule"]),
        severity=Severity(_int(item["severity"])),
        message=_str(item["message"]),
        related=tuple(
            Related(_str(r["path"]), _int(r["line"]), _int(r["column"]), _str(r["message"])) for r in item["related"]
        ),
        suggestion=None if suggestion is None else _str(suggestion),
        url=_str(item["url"]),
        fix=_decode_fix(item["fix"]),
    )


def decode_diagnostics(entry: dict[str, Any]) -> tuple[list[Diagnostic], dict[int, str]]:
    """The findings and line texts of an entry; raises KeyError, TypeError or ValueError when malformed."""
    diagnostics = [_decode_one(item) for item in entry["diagnostics"]]
    lines = {int(number): _str(text) for number, text in entry["lines"].items()}
    return diagnostics, lines


def _decode_fix(item: Any) -> Fix | None:
    if item is None:
        return None
    applicability = item["applicability"]
    if applicability not in ("safe", "unsafe"):
        raise ValueError(f"unknown applicability {applicability!r}")
    edits = tuple(
        Edit(_int(e["start"]), _int(e["end"]), _str(e["text"]), _int(e["line"]), _int(e["column"]),
             _int(e["end_line"]), _int(e["end_column"]))
        for e in item["edits"]
    )
    return Fix(_str(item["message"]), applicability, edits)
