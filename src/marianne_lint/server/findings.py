"""marianne-lint findings as LSP diagnostics: the same code, severity, range, related places and
rule link as the command line's JSON, with ``source`` "marianne-lint"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types

from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.server.convert import TextIndex

SOURCE = "marianne-lint"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def path_uri(path: str) -> str:
    """The file URI of a path a finding names."""
    return Path(path).absolute().as_uri()


def to_lsp(
    diagnostic: Diagnostic,
    index: TextIndex,
    uri: str,
    *,
    data: Any = None,
    related_uri: Callable[[str], str] | None = None,
) -> types.Diagnostic:
    """One finding as an LSP diagnostic of the document ``uri`` whose text ``index`` holds."""
    related = None
    if diagnostic.related:
        related = []
        for place in diagnostic.related:
            if place.path == diagnostic.path:
                where, position = uri, index.place(place.line, place.column)
            else:
                where = (related_uri or path_uri)(place.path)
                position = types.Position(max(place.line - 1, 0), max(place.column - 1, 0))
            related.append(types.DiagnosticRelatedInformation(
                types.Location(where, types.Range(position, position)), place.message))
    return types.Diagnostic(
        range=index.span(diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column),
        message=diagnostic.message,
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=diagnostic.url) if diagnostic.url else None,
        source=SOURCE,
        related_information=related,
        data=data,
    )


def to_lsp_all(diagnostics: Sequence[Diagnostic], index: TextIndex, uri: str, version: int) -> list[types.Diagnostic]:
    """Every finding of one lint; ``data`` ties each back to the lint (version, position in the list)."""
    return [to_lsp(d, index, uri, data={"version": version, "index": number, "rule": d.rule,
                                        "fix": d.fix is not None})
            for number, d in enumerate(diagnostics)]


__all__ = ["SOURCE", "path_uri", "to_lsp", "to_lsp_all"]
