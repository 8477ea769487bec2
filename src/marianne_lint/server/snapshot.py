"""One version of a document, loaded once for every editor feature that reads it (hover,
completion, symbols, definitions, code actions): its data, position tree and kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marianne_lint.config import Config
from marianne_lint.reading.loader import Limits, Loaded, load
from marianne_lint.reading.positions import line_texts
from marianne_lint.server.convert import BOM


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A loaded version of a buffer. Positions are those of the linted text (no byte order mark)."""

    source: str
    """The buffer as the editor holds it."""
    text: str
    """The text as linted: without a leading byte order mark."""
    loaded: Loaded
    kind: str | None
    """score, conductor, instrument, fleet; None for a YAML file that is not a Marianne file."""
    lines: tuple[str, ...]

    @property
    def data(self) -> Any:
        return self.loaded.data if self.loaded.ok else None

    @property
    def ok(self) -> bool:
        return self.loaded.ok and self.loaded.root is not None


def take(source: str, path: str | None, config: Config | None = None) -> Snapshot:
    """Load ``source`` (a buffer) as the linter would and decide its kind."""
    from marianne_lint.reading import kinds

    text = source[1:] if source.startswith(BOM) else source
    loaded = load(text, Limits())
    kind = config.kind_for(path) if config is not None and path is not None else None
    if kind is None:
        kind = kinds.detect(loaded.data, path) if loaded.ok else kinds.detect_text(text, path)
    return Snapshot(source, text, loaded, kind, tuple(line_texts(text)))


class Snapshots:
    """The latest snapshot of each document, remade when its text changes."""

    def __init__(self) -> None:
        self._latest: dict[str, Snapshot] = {}

    def get(self, uri: str, source: str, path: str | None, config: Config | None = None) -> Snapshot:
        found = self._latest.get(uri)
        if found is None or (found.source is not source and found.source != source):
            found = self._latest[uri] = take(source, path, config)
        return found

    def forget(self, uri: str) -> None:
        self._latest.pop(uri, None)

    def clear(self) -> None:
        self._latest.clear()


__all__ = ["Snapshot", "Snapshots", "take"]
