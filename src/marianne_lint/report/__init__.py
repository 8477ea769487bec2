"""Turning results into text: one module per output format."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module

from marianne_lint.diagnostics import RULE_URL, Diagnostic, Severity, rule_url

FORMATS = ("full", "concise", "json", "sarif", "github", "gitlab")

@dataclass(frozen=True, slots=True)
class Report:
    """Everything a format needs: the findings, the files looked at, and source lines."""

    diagnostics: Sequence[Diagnostic]
    files: int
    lines: dict[tuple[str, int], str]
    """(path, line) -> the text of that line, for the lines findings point at."""
    unsafe_fixes: bool = False
    """Whether unsafe fixes count as applicable (``--unsafe-fixes``)."""
    fixed: int = 0
    """How many findings ``--fix`` repaired (they are no longer in ``diagnostics``)."""

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)

    def applicable(self, d: Diagnostic) -> bool:
        """Whether ``--fix`` (with this run's ``--unsafe-fixes``) would repair ``d``: marked ``[*]``."""
        return d.fix is not None and (self.unsafe_fixes or d.fix.applicability == "safe")


def renderer(name: str) -> Callable[[Report], str]:
    """The render function of a format, imported on demand."""
    module = import_module(f"marianne_lint.report.{name}_format")
    render: Callable[[Report], str] = module.render
    return render


_CONTROL = {**{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09}, 0x0A: "\\n",
            0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: str) -> str:
    """``text`` on one line: line breaks and other control characters escaped (``\\n``, ``\\x1b``)."""
    if text.isprintable():  # the common case, checked in C: nothing to escape
        return text
    return text.translate(_CONTROL)


def fingerprints(report: Report) -> Iterator[tuple[Diagnostic, str]]:
    """Each finding with a fingerprint that survives lines moving up or down.

    It hashes the path, the rule, the message and the text of the line (not
    its number); repeats of the same finding are told apart by their order.
    """
    import hashlib  # only the formats with fingerprints need it

    seen: dict[str, int] = {}
    for d in report.diagnostics:
        line = report.lines.get((d.path, d.line), "").strip()
        base = hashlib.sha256("\0".join((d.path, d.code, d.message, line)).encode("utf-8", "surrogatepass")).hexdigest()
        count = seen.get(base, 0)
        seen[base] = count + 1
        yield d, base if count == 0 else hashlib.sha256(f"{base}:{count}".encode()).hexdigest()


def summary_line(report: Report) -> str:
    """The summary line of the text formats (``full`` and ``concise`` add :func:`fix_hint` below it)."""
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    fixed = f"{report.fixed} fixed, " if report.fixed else ""
    if not report.diagnostics:
        if report.fixed:
            return f"Fixed {_plural(report.fixed, 'finding')}, no finding left ({files} checked)."
        if report.files == 0:
            return "No Marianne file found (0 files checked)."
        return f"All checks passed ({files} checked)."
    parts = []
    for count, word in ((errors, "error"), (warnings, "warning"), (infos, "info")):
        if count:
            parts.append(f"{count} {word}" + ("s" if count != 1 and word != "info" else ""))
    remaining = f", {fixed}{len(report.diagnostics)} remaining" if fixed else ""
    return f"Found {', '.join(parts)} ({files} checked{remaining})."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary_lines(report: Report) -> list[str]:
    """The summary line, and the line on what ``--fix`` can repair when something can."""
    hint = fix_hint(report)
    return [summary_line(report)] if hint is None else [summary_line(report), hint]


def fix_hint(report: Report) -> str | None:
    """``[*] 3 fixable with the `--fix` option (1 hidden fix can be enabled with `--unsafe-fixes`).``"""
    fixable = sum(1 for d in report.diagnostics if report.applicable(d))
    hidden = 0 if report.unsafe_fixes else sum(
        1 for d in report.diagnostics if d.fix is not None and d.fix.applicability == "unsafe"
    )
    if not fixable and not hidden:
        return None
    option = "`--fix --unsafe-fixes`" if report.unsafe_fixes else "`--fix`"
    shown = f"[*] {fixable} fixable with {option}" if fixable else "No fix available with `--fix`"
    if hidden:
        shown += f" ({hidden} hidden {'fix' if hidden == 1 else 'fixes'} can be enabled with `--unsafe-fixes`)"
    return shown + "."


__all__ = ["FORMATS", "RULE_URL", "Report", "fingerprints", "fix_hint", "printable", "renderer", "rule_url",
           "summary_line", "summary_lines"]
