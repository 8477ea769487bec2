"""The result cache: an unchanged file is not read into YAML, validated or checked again.

An entry is keyed by the file's content and path, the effective configuration,
the rules it enables and the linter's own code (version and source files), so
a change to any of them misses. An entry also holds the signatures of the
other files the rules looked at (see :mod:`marianne_lint.filesystem`); when
one of them changed, the entry is not trusted. Entries are single JSON files
written atomically (temporary file, then rename), so concurrent runs can share
the folder safely: the worst case is that both compute the same entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from marianne_lint import __version__, filesystem
from marianne_lint.diagnostics import Diagnostic, Related, Severity
from marianne_lint.positions import Span

CACHE_DIR_NAME = ".marianne-lint-cache"
FORMAT = "1"


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

    digest = hashlib.sha256(f"{settings}\0{display}\0{real}\0{int(walked)}\0".encode())
    digest.update(content.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class Cache:
    """One cache folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, key: str) -> Path:
        return self.folder / f"v{FORMAT}" / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result, when present, readable and still valid."""
        try:
            entry = json.loads(self._file(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict):
            return None
        probes = {path: tuple(sig) if isinstance(sig, list) else None for path, sig in entry.get("probes", {}).items()}
        if not filesystem.unchanged(probes):
            return None
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._mark_folder()
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out, separators=(",", ":"))
            os.replace(temporary, target)
        except OSError:
            pass  # a cache that cannot be written is only slower

    def _mark_folder(self) -> None:
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# marianne-lint result cache\n")
            (self.folder / ".gitignore").write_text("*\n")


def encode_result(kind: str | None, diagnostics: list[Diagnostic], lines: dict[int, str],
                  probes: dict[str, filesystem.Signature]) -> dict[str, Any]:
    return {
        "kind": kind,
        "diagnostics": [
            {**asdict(d), "span": asdict(d.span), "severity": int(d.severity),
             "related": [asdict(r) for r in d.related]}
            for d in diagnostics
        ],
        "lines": {str(number): text for number, text in lines.items()},
        "probes": probes,
    }


def decode_diagnostics(entry: dict[str, Any]) -> tuple[list[Diagnostic], dict[int, str]]:
    diagnostics = [
        Diagnostic(
            path=item["path"],
            span=Span(**item["span"]),
            code=item["code"],
            rule=item["rule"],
            severity=Severity(item["severity"]),
            message=item["message"],
            related=tuple(Related(**r) for r in item["related"]),
            suggestion=item["suggestion"],
        )
        for item in entry["diagnostics"]
    ]
    lines = {int(number): text for number, text in entry["lines"].items()}
    return diagnostics, lines
