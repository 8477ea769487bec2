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

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)


def renderer(name: str) -> Callable[[Report], str]:
    """The render function of a format, imported on demand."""
    module = import_module(f"marianne_lint.report.{name}_format")
    render: Callable[[Report], str] = module.render
    return render


_CONTROL = {**{c: f"\\x{c:02x}" for c in range(0x20) if c != 0x09}, 0x7F: "\\x7f", 0x0A: "\\n", 0x0D: "\\r",
            0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: str) -> str:
    """``text`` on one line: line breaks and other control characters escaped (``\\n``, ``\\x1b``)."""
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
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    if not report.diagnostics:
        if report.files == 0:
            return "No Marianne file found (0 files checked)."
        return f"All checks passed ({files} checked)."
    parts = []
    for count, word in ((errors, "error"), (warnings, "warning"), (infos, "info")):
        if count:
            parts.append(f"{count} {word}" + ("s" if count != 1 and word != "info" else ""))
    return f"Found {', '.join(parts)} ({files} checked)."


__all__ = ["FORMATS", "RULE_URL", "Report", "fingerprints", "printable", "renderer", "rule_url", "summary_line"]
