"""Turning results into text: one module per output format."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module

from marianne_lint.diagnostics import Diagnostic, Severity

FORMATS = ("full", "concise", "json", "sarif", "github", "gitlab")

#: Where each rule's documentation lives; ``{name}`` is the rule name.
RULE_URL = "https://github.com/marianne-lint/marianne-lint/blob/main/docs/rules.md#{name}"


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


def rule_url(name: str) -> str:
    return RULE_URL.format(name=name)


def fingerprints(report: Report) -> Iterator[tuple[Diagnostic, str]]:
    """Each finding with a fingerprint that survives lines moving up or down.

    It hashes the path, the rule, the message and the text of the line (not
    its number); repeats of the same finding are told apart by their order.
    """
    import hashlib  # only the formats with fingerprints need it

    seen: dict[str, int] = {}
    for d in report.diagnostics:
        line = report.lines.get((d.path, d.line), "").strip()
        base = hashlib.sha256("\0".join((d.path, d.code, d.message, line)).encode("utf-8")).hexdigest()
        count = seen.get(base, 0)
        seen[base] = count + 1
        yield d, base if count == 0 else hashlib.sha256(f"{base}:{count}".encode()).hexdigest()


def summary_line(report: Report) -> str:
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    if not report.diagnostics:
        return f"All checks passed ({files} checked)."
    parts = []
    for count, word in ((errors, "error"), (warnings, "warning"), (infos, "info")):
        if count:
            parts.append(f"{count} {word}" + ("s" if count != 1 and word != "info" else ""))
    return f"Found {', '.join(parts)} ({files} checked)."
