"""The open documents: their text as the editor holds it, kept in step with didOpen/didChange.

The server keeps its own copy (not pygls's workspace) so that lines break exactly as LSP says
(LF, CRLF, CR: not at NEL or LINE SEPARATOR, which Python's ``splitlines`` also breaks at) and
positions follow the negotiated encoding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from marianne_lint.server.convert import Encoding, TextIndex


def uri_path(uri: str) -> str | None:
    """The file-system path of a ``file:`` URI (None for ``untitled:`` and other schemes)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # file:///C:/... on Windows
        path = path[1:]
    return str(Path(path))


@dataclass(slots=True)
class Document:
    """One open document."""

    uri: str
    text: str
    version: int
    language_id: str = "yaml"
    encoding: Encoding = "utf-16"
    path: str | None = None
    _index: TextIndex | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.path is None:
            self.path = uri_path(self.uri)

    @property
    def is_yaml(self) -> bool:
        """Whether the document is YAML (by language id, else by file name): only YAML is linted."""
        if self.language_id.lower() in ("yaml", "yml"):
            return True
        return self.path is not None and self.path.lower().endswith((".yaml", ".yml"))

    @property
    def index(self) -> TextIndex:
        """Line starts of the current text (built on first use after each change)."""
        if self._index is None or self._index.text is not self.text:
            self._index = TextIndex(self.text, self.encoding)
        return self._index

    def apply(self, changes: Sequence[types.TextDocumentContentChangeEvent], version: int) -> None:
        """Apply didChange content changes, one after the other, as LSP specifies."""
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                index = self.index
                start = index.offset(change.range.start)
                end = max(index.offset(change.range.end), start)
                self.text = self.text[:start] + change.text + self.text[end:]
            else:
                self.text = change.text
            self._index = None
        self.version = version


class Documents:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}
        self.encoding: Encoding = "utf-16"

    def open(self, item: types.TextDocumentItem) -> Document:
        doc = Document(item.uri, item.text, item.version, item.language_id, self.encoding)
        self._docs[item.uri] = doc
        return doc

    def change(self, params: types.DidChangeTextDocumentParams) -> Document | None:
        doc = self._docs.get(params.text_document.uri)
        if doc is not None:
            doc.apply(params.content_changes, params.text_document.version)
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)


__all__ = ["Document", "Documents", "uri_path"]
