"""The configuration of each document's folder (``pyproject.toml`` / ``.marianne-lint.toml``),
looked up once per folder and forgotten when a configuration file changes."""

from __future__ import annotations

import threading
from pathlib import Path

from marianne_lint.config import Config, ConfigError

#: File names whose change or save makes every cached configuration stale.
CONFIG_FILE_NAMES = ("pyproject.toml", ".marianne-lint.toml")


def is_config_file(path: str | None) -> bool:
    return path is not None and Path(path).name in CONFIG_FILE_NAMES


class Configs:
    """Folder -> the configuration that applies there, or the error that the configuration file has."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root
        self._cache: dict[str, Config | ConfigError] = {}
        self._lock = threading.Lock()

    def folder_of(self, path: str | None) -> str:
        if path is not None:
            return str(Path(path).parent)
        return self.root or str(Path.cwd())

    def get(self, path: str | None) -> Config | ConfigError:
        """The configuration for the document at ``path`` (None: an unsaved buffer, the workspace's)."""
        folder = self.folder_of(path)
        with self._lock:
            found = self._cache.get(folder)
        if found is not None:
            return found
        from marianne_lint.api import resolve_config

        try:
            found = resolve_config(None, start=folder)
        except ConfigError as exc:
            found = exc
        except OSError as exc:
            found = ConfigError(f"cannot read the configuration: {exc}")
        with self._lock:
            self._cache[folder] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


__all__ = ["CONFIG_FILE_NAMES", "Configs", "is_config_file"]
