"""Code actions: each finding's fix as a quick fix (safe fixes preferred), "Disable RULE for this
line" and "... for this file" (a suppression comment), and "Fix all" (``source.fixAll.marianne-lint``).

Quick fixes and the disable actions carry their edit. "Fix all" carries only ``data`` unless the
client asked for fix-all actions explicitly (``only``, as on save); ``codeAction/resolve`` fills its
edit, and returns any action that already has one as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from marianne_lint.diagnostics import Diagnostic, Edit
from marianne_lint.server.convert import TextIndex, overlaps
from marianne_lint.server.linting import INTERNAL_CODE
from marianne_lint.server.scheduler import CONFIG_CODE, LintResult
from marianne_lint.server.snapshot import Snapshot
from marianne_lint.server.suppress import Insertion, disable_file, disable_line

FIX_ALL_KIND = "source.fixAll.marianne-lint"
#: Codes of findings that get no "disable" action (they are about suppressions or the tool itself).
_NOT_SUPPRESSIBLE = frozenset({INTERNAL_CODE, CONFIG_CODE})
_SUPPRESSION_RULES = frozenset({"unused-suppression", "unknown-suppressed-rule"})


@dataclass(frozen=True, slots=True)
class Request:
    """What a codeAction request asks about, with what the server knows of the document."""

    uri: str
    result: LintResult
    snapshot: Snapshot
    range: types.Range
    context: types.CodeActionContext
    document_changes: bool = True
    """Whether the client takes versioned ``documentChanges`` (else ``changes``)."""


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether an action of ``kind`` passes the client's ``only`` filter."""
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") or o == "" for o in only)


def text_edits(edits: Sequence[Edit], index: TextIndex) -> list[types.TextEdit]:
    """Edits of a fix (offsets into the linted text) as LSP text edits of the buffer."""
    out = []
    for edit in edits:
        start = index.position(index.lint_offset(edit.start))
        end = index.position(index.lint_offset(edit.end))
        out.append(types.TextEdit(types.Range(start, end), edit.text))
    return out


def workspace_edit(uri: str, version: int, edits: list[types.TextEdit], document_changes: bool) -> types.WorkspaceEdit:
    if document_changes:
        return types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                                   list(edits))])
    return types.WorkspaceEdit(changes={uri: list(edits)})


def _targets(request: Request) -> list[tuple[int, Diagnostic, types.Diagnostic]]:
    """Our findings the request is about: those the client sent (matched by the index in their
    ``data`` when it is this lint's, else by code and range), or else those under the range."""
    result = request.result
    picked: dict[int, None] = {}
    for sent in request.context.diagnostics or []:
        if sent.source not in (None, "marianne-lint"):
            continue
        data = sent.data if isinstance(sent.data, dict) else {}
        number = data.get("index")
        if data.get("version") == result.version and isinstance(number, int) and 0 <= number < len(result.lsp):
            picked[number] = None
            continue
        for position, mine in enumerate(result.lsp):
            if str(mine.code) == str(sent.code) and mine.range == sent.range:
                picked[position] = None
    if not picked and not request.context.diagnostics:
        for position, mine in enumerate(result.lsp):
            if overlaps(mine.range, request.range):
                picked[position] = None
    return [(n, result.diagnostics[n], result.lsp[n]) for n in picked]


def _insertion_edit(request: Request, insertion: Insertion) -> types.WorkspaceEdit:
    index = request.result.index
    position = index.position(index.lint_offset(insertion.offset))
    edit = types.TextEdit(types.Range(position, position), insertion.text)
    return workspace_edit(request.uri, request.result.version, [edit], request.document_changes)


def code_actions(request: Request, fix_all: Callable[[LintResult], list[types.TextEdit] | None] | None = None
                 ) -> list[types.CodeAction]:
    """The actions for one codeAction request."""
    only = request.context.only
    out: list[types.CodeAction] = []
    result = request.result
    quick = wanted(types.CodeActionKind.QuickFix, only)
    if quick:
        disabled_line: set[tuple[str, int]] = set()
        disabled_file: set[str] = set()
        later: list[types.CodeAction] = []
        for _, diagnostic, lsp in _targets(request):
            fix = diagnostic.fix
            if fix is not None and fix.edits:
                safe = fix.applicability == "safe"
                out.append(types.CodeAction(
                    title=fix.message if safe else f"{fix.message} (unsafe)",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp],
                    is_preferred=safe,
                    edit=workspace_edit(request.uri, result.version, text_edits(fix.edits, result.index),
                                        request.document_changes),
                ))
            if diagnostic.code in _NOT_SUPPRESSIBLE or diagnostic.rule in _SUPPRESSION_RULES:
                continue
            loaded = request.snapshot.loaded
            if (diagnostic.code, diagnostic.line) not in disabled_line:
                disabled_line.add((diagnostic.code, diagnostic.line))
                insertion = disable_line(request.snapshot.text, loaded, diagnostic.line, diagnostic.code)
                if insertion is not None:
                    later.append(types.CodeAction(
                        title=f"Disable {diagnostic.code} ({diagnostic.rule}) for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        edit=_insertion_edit(request, insertion),
                    ))
            if diagnostic.code not in disabled_file:
                disabled_file.add(diagnostic.code)
                insertion = disable_file(request.snapshot.text, loaded, diagnostic.code)
                if insertion is not None:
                    later.append(types.CodeAction(
                        title=f"Disable {diagnostic.code} ({diagnostic.rule}) for this file",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        edit=_insertion_edit(request, insertion),
                    ))
        out.extend(later)
    fixable = any(d.fix is not None and d.fix.applicability == "safe" and d.fix.edits for d in result.diagnostics)
    if fixable and wanted(FIX_ALL_KIND, only):
        action = types.CodeAction(
            title="Fix all safely fixable marianne-lint findings",
            kind=FIX_ALL_KIND,
            data={"action": "fixAll", "uri": request.uri, "version": result.version},
        )
        explicit = any(o in (FIX_ALL_KIND, "source.fixAll") for o in only or ())
        if explicit and fix_all is not None:
            edits = fix_all(result)
            if not edits:
                return out
            action.edit = workspace_edit(request.uri, result.version, edits, request.document_changes)
        out.append(action)
    return out


# -- "Fix all" -----------------------------------------------------------------------------------------


def safe_edits(diagnostics: Sequence[Diagnostic]) -> list[Edit]:
    """The edits of every safe fix that ``--fix`` would apply in one pass, in text order."""
    from marianne_lint.fixing import choose

    chosen = choose([d for d in diagnostics if d.fix is not None and d.fix.applicability == "safe"])
    return sorted((edit for d in chosen if d.fix is not None for edit in d.fix.edits),
                  key=lambda edit: (edit.start, edit.end))


def whole_text_edit(before: str, after: str, index: TextIndex) -> list[types.TextEdit]:
    """One edit turning ``before`` (the linted text) into ``after``: the span between their common
    start and common end."""
    if before == after:
        return []
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[len(before) - 1 - end] == after[len(after) - 1 - end]:
        end += 1
    rng = types.Range(index.position(index.lint_offset(start)), index.position(index.lint_offset(len(before) - end)))
    return [types.TextEdit(rng, after[start : len(after) - end])]


def fix_all_edits(result: LintResult, fix_text: Callable[[str], str] | None) -> list[types.TextEdit]:
    """The edits of "Fix all": the API's ``fix_text`` when there is one, else every safe fix that
    does not overlap another."""
    text = result.text[1:] if result.text.startswith("\ufeff") else result.text
    if fix_text is not None:
        return whole_text_edit(text, fix_text(text), result.index)
    return text_edits(safe_edits(result.diagnostics), result.index)


def resolve(action: types.CodeAction, compute: Callable[[dict[str, Any]], types.WorkspaceEdit | None]
            ) -> types.CodeAction:
    """Fill the edit of an action returned without one; an action with an edit comes back as it is."""
    if action.edit is not None or not isinstance(action.data, dict):
        return action
    edit = compute(action.data)
    if edit is not None:
        action.edit = edit
    return action


__all__ = ["FIX_ALL_KIND", "Request", "code_actions", "fix_all_edits", "resolve", "safe_edits", "text_edits",
           "wanted", "whole_text_edit", "workspace_edit"]
