"""``--fix`` and ``--diff``: repair the linted files, or show the repairs as a unified diff.

The files to repair are those whose findings carry an applicable fix (the lint run, cached or
not, tells which); each is read again, fixed by :func:`marianne_lint.fixing.fix_source` and,
with ``--fix``, written back atomically with its mode, its byte order mark and its line breaks.
A file that changed on disk while it was being fixed is left alone.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from marianne_lint.diagnostics import Diagnostic
from marianne_lint.fixing import applies, fix_source
from marianne_lint.pipeline import Settings
from marianne_lint.runner import Input, Run

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Outcome:
    """What ``--fix``/``--diff`` did to a run."""

    fixed: int = 0
    """How many findings were (or, for ``--diff``, would be) repaired."""
    changed: list[str] = field(default_factory=list)
    """The reported paths of the files that changed (or would change)."""
    diff: str = ""
    stdout_text: str | None = None
    """The text of standard input after ``--fix`` (fixed or not: ``--fix -`` prints it)."""
    problems: list[str] = field(default_factory=list)
    """Files that could not be written, one line each."""


def _read_back(origin: Input, max_bytes: int) -> tuple[str, bytes] | None:
    """The text and raw bytes of a file to fix; None when it is no longer readable as UTF-8."""
    from marianne_lint.reading.bounded import NotRegularFile, TooLarge, read_regular

    try:
        data = read_regular(origin.path, max_bytes)
        text = data.decode("utf-8")
    except (OSError, ValueError, NotRegularFile, TooLarge):
        return None
    return text, data


def _write(path: str, text: str, before: bytes) -> str | None:
    """Write ``text`` over ``path`` atomically (through a link, keeping the mode); an error line or None."""
    target = os.path.realpath(path)
    data = text.encode("utf-8", "surrogatepass")
    try:
        with open(target, "rb") as handle:
            if handle.read(len(before) + 1) != before:
                return f"{path}: changed on disk while it was fixed; not written"
        mode = os.stat(target).st_mode & 0o7777
        folder = os.path.dirname(target) or "."
        handle_fd, temp = tempfile.mkstemp(prefix=".marianne-lint-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle_fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, mode)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        return f"{path}: cannot write the fixed file: {exc.strerror or exc}"
    return None


def _unified(shown: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{shown}", tofile=f"b/{shown}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def apply_fixes(run: Run, settings: Settings, *, kind: str | None, unsafe: bool, write: bool) -> Outcome:
    """Fix every file of ``run`` that has an applicable fix; ``run.diagnostics`` becomes what is left.

    ``write`` False is ``--diff``: nothing is written and the findings stay as they were.
    """
    outcome = Outcome()
    by_path: dict[str, list[Diagnostic]] = {}
    for d in run.diagnostics:
        by_path.setdefault(d.path, []).append(d)
    replaced: dict[str, tuple[list[Diagnostic], str]] = {}  # path -> the findings and text after the fix
    if write:
        outcome.stdout_text = next((origin.text for origin in run.inputs.values() if origin.path == "-"), None)
    for shown, found in sorted(by_path.items()):
        origin = run.inputs.get(shown)
        if origin is None or not any(applies(d, unsafe) for d in found):
            continue
        if origin.path == "-":
            if origin.text is None:
                continue
            text, before = origin.text, b""
        else:
            read = _read_back(origin, settings.max_bytes)
            if read is None:
                continue
            text, before = read
        fixed = fix_source(text, shown, settings, kind=kind, unsafe=unsafe, file_path=origin.disk,
                           walked=origin.walked)
        if fixed is None or not fixed.changed:
            if fixed is not None and write:
                replaced[shown] = (fixed.diagnostics, fixed.text)  # refused fixes are no longer offered
            continue
        outcome.fixed += len(fixed.applied)
        outcome.changed.append(shown)
        if not write:
            outcome.diff += _unified(shown, fixed.original, fixed.text)
            continue
        if origin.path == "-":
            outcome.stdout_text = fixed.text
        else:
            problem = _write(origin.path, fixed.text, before)
            if problem is not None:
                outcome.problems.append(problem)
                continue
        replaced[shown] = (fixed.diagnostics, fixed.text)
    if write and replaced:
        _replace_findings(run, replaced)
    return outcome


def _replace_findings(run: Run, replaced: dict[str, tuple[list[Diagnostic], str]]) -> None:
    """The run's findings and quoted lines of the fixed files become those of their fixed texts."""
    from marianne_lint.reading.positions import line_texts

    kept = [d for d in run.diagnostics if d.path not in replaced]
    run.lines = {key: line for key, line in run.lines.items() if key[0] not in replaced}
    for shown, (diagnostics, text) in replaced.items():
        kept.extend(diagnostics)
        table = line_texts(text.removeprefix("\ufeff")) if diagnostics else []
        for d in diagnostics:
            if 0 < d.line <= len(table):
                run.lines[(shown, d.line)] = table[d.line - 1]
    kept.sort(key=Diagnostic.sort_key)
    run.diagnostics = kept


__all__ = ["Outcome", "apply_fixes"]
