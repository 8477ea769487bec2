"""The fix engine: apply the edits of fixable findings, re-lint, repeat.

Each pass applies the fixes of the current findings whose edits do not overlap, then lints the
new text. A pass is kept only when the text still parses and no error appeared that the file did
not have (counted per rule); otherwise the pass's fixes are tried one at a time and a fix that
breaks the file is dropped. Passes stop when nothing fixable is left, or after
:data:`MAX_PASSES`. A file with a YAML syntax error is never fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from marianne_lint.diagnostics import Diagnostic, Edit, Severity
from marianne_lint.pipeline import Settings, check, finish, prepare, text_source
from marianne_lint.reading.edits import apply_edits

#: At most this many lint-and-fix passes per file (a fix may make another one possible).
MAX_PASSES = 10

Lint = Callable[[str], list[Diagnostic]]


def applies(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Whether ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) applies the finding's fix."""
    fix = diagnostic.fix
    return fix is not None and (unsafe or fix.applicability == "safe")


@dataclass(slots=True)
class Fixed:
    """The outcome of fixing one text."""

    original: str
    text: str
    """The fixed text (the original when nothing could be fixed)."""
    diagnostics: list[Diagnostic]
    """The findings of the fixed text."""
    applied: list[Diagnostic] = field(default_factory=list)
    """The findings whose fixes were applied, as they were reported before their pass."""
    refused: list[Diagnostic] = field(default_factory=list)
    """Findings whose fix was not applied because it would have broken the file."""

    @property
    def changed(self) -> bool:
        return self.text != self.original


def _errors(diagnostics: list[Diagnostic]) -> Counter[str]:
    return Counter(d.rule for d in diagnostics if d.severity >= Severity.ERROR)


def _no_worse(after: list[Diagnostic], baseline: Counter[str]) -> bool:
    """The text still parses and has no error the original did not have (per rule), and no key
    twice where it had none (two renames to one name)."""
    counts = _errors(after)
    if any(d.rule in ("yaml-syntax", "unreadable-file", "resource-limit") for d in after):
        return False
    duplicates = sum(1 for d in after if d.rule == "duplicate-key")
    return duplicates <= baseline.get(_DUPLICATES, 0) and all(
        count <= baseline.get(rule, 0) for rule, count in counts.items())


#: The baseline's count of duplicate keys (warnings, counted apart from the errors).
_DUPLICATES = "\0duplicate-key"


def _identity(d: Diagnostic) -> tuple[str, str, tuple[str, ...]]:
    """What a fix is recognised by from pass to pass (its positions move)."""
    assert d.fix is not None
    return d.rule, d.message, tuple(edit.text for edit in d.fix.edits)


def _overlaps(edit: Edit, taken: list[Edit]) -> bool:
    for other in taken:
        if edit.start < other.end and other.start < edit.end:
            return True
        if edit.start == other.start and (edit.start == edit.end or other.start == other.end):
            return True  # two insertions (or an insertion and a change) at one place
    return False


def choose(candidates: list[Diagnostic]) -> list[Diagnostic]:
    """The findings whose fixes go in one pass: safe ones first, then in file order, leaving out a
    fix whose edits overlap one taken before (or each other)."""
    fixable = [d for d in candidates if d.fix is not None and d.fix.edits]

    def order(d: Diagnostic) -> tuple[bool, int]:
        assert d.fix is not None
        return d.fix.applicability != "safe", min(edit.start for edit in d.fix.edits)

    chosen: list[Diagnostic] = []
    taken: list[Edit] = []
    for d in sorted(fixable, key=order):
        assert d.fix is not None
        edits = list(d.fix.edits)
        if any(_overlaps(edit, taken) or _overlaps(edit, edits[:i]) for i, edit in enumerate(edits)):
            continue
        chosen.append(d)
        taken.extend(edits)
    return chosen


def fix_text(text: str, lint: Lint, *, unsafe: bool = False, first: list[Diagnostic] | None = None) -> Fixed:
    """Fix ``text``; ``lint`` lints a text of the same file (``first``: its findings, if known)."""
    diagnostics = lint(text) if first is None else first
    outcome = Fixed(text, text, diagnostics)
    if any(d.rule in ("yaml-syntax", "unreadable-file", "resource-limit") for d in diagnostics):
        return outcome
    baseline = _errors(diagnostics)
    baseline[_DUPLICATES] = sum(1 for d in diagnostics if d.rule == "duplicate-key")
    refused: set[tuple[str, str, tuple[str, ...]]] = set()
    for _ in range(MAX_PASSES):
        candidates = [d for d in outcome.diagnostics if applies(d, unsafe) and _identity(d) not in refused]
        if not candidates:
            break
        chosen = choose(candidates)
        edits = [edit for d in chosen if d.fix is not None for edit in d.fix.edits]
        new_text = apply_edits(outcome.text, edits)
        after = lint(new_text)
        if new_text != outcome.text and _no_worse(after, baseline):
            outcome.text, outcome.diagnostics = new_text, after
            outcome.applied.extend(chosen)
            continue
        # Some fix of this pass breaks the file: keep the first one that does not, refuse the rest.
        for d in chosen:
            assert d.fix is not None
            single = apply_edits(outcome.text, list(d.fix.edits))
            single_after = lint(single) if single != outcome.text else []
            if single != outcome.text and _no_worse(single_after, baseline):
                outcome.text, outcome.diagnostics = single, single_after
                outcome.applied.append(d)
                break
            refused.add(_identity(d))
            outcome.refused.append(d)
    if refused:  # a fix that would break the file is not offered
        outcome.diagnostics = [replace(d, fix=None) if d.fix is not None and _identity(d) in refused else d
                               for d in outcome.diagnostics]
    return outcome


def fix_source(text: str, path: str, settings: Settings, *, kind: str | None = None, unsafe: bool = False,
               file_path: Path | None = None, walked: bool = False) -> Fixed | None:
    """Fix the text of the file ``path`` (a leading byte order mark is kept).

    The kind is decided on the original text and kept for every pass. Returns None when
    ``walked`` and the text is not a Marianne file.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    first = prepare(text_source(body, path, settings), settings, kind=kind, walked=walked, file_path=file_path)
    if first is None:
        return None
    pinned = first.kind

    def lint(candidate: str) -> list[Diagnostic]:
        prepared = prepare(text_source(candidate, path, settings), settings, kind=pinned, file_path=file_path)
        assert prepared is not None  # a given kind is always linted
        return finish(check(prepared, settings), settings).diagnostics

    fixed = fix_text(body, lint, unsafe=unsafe, first=finish(check(first, settings), settings).diagnostics)
    if bom:
        fixed.original, fixed.text = text, bom + fixed.text
    return fixed


__all__ = ["MAX_PASSES", "Fixed", "applies", "choose", "fix_source", "fix_text"]
