"""The score's own folder and its workspace, as Marianne resolves them (file metadata only).

A relative ``workspace`` is resolved against the real folder of the score file; ``~`` and
``$VAR`` stay literal; a null value becomes the text ``None``. Without a file on disk (standard
input) nothing is resolved. Shared by the path rules and the validation rules that need the
workspace's text (Marianne fills ``{workspace}`` with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath

from marianne_lint.reading import filesystem
from marianne_lint.rules.base import Context, per_document

_resolve = filesystem.resolve  # ``Path.resolve()`` as Marianne calls it


@per_document
def base_dir(ctx: Context) -> FsPath | None:
    """The folder of the linted file (its real path), or None without a file on disk."""
    if ctx.file_path is None:
        return None
    path = ctx.file_path
    # The real folder of a file that is not a link is the real path of its folder, which the
    # other files of that folder share.
    folder = _resolve(path).parent if path.is_symlink() or path.name in ("", ".", "..") else _resolve(path.parent)
    return folder


def against(folder: FsPath, written: str) -> FsPath:
    """``written`` made absolute against ``folder`` (an absolute path stays as it is)."""
    path = FsPath(written)
    return _resolve(path if path.is_absolute() else folder / path)


@dataclass(frozen=True, slots=True)
class Workspace:
    """The score's workspace as written and as Marianne resolves it."""

    written: str | None
    """The value as Marianne reads it (``str()`` of the YAML value); None when the key is absent."""
    resolved: FsPath | None
    """The absolute folder; None when it depends on the conductor's current folder or there is no file."""


@per_document
def workspace(ctx: Context) -> Workspace:
    """The score's workspace, written and resolved."""
    data = ctx.data if isinstance(ctx.data, dict) else {}
    written = str(data["workspace"]) if "workspace" in data else None
    resolved: FsPath | None = None
    if written is not None:
        folder = base_dir(ctx)
        if folder is not None:
            resolved = against(folder, written)
    found = Workspace(written, resolved)
    return found
