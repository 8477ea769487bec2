"""One lint of one editor buffer, which never raises.

The normal path is the public API (:func:`marianne_lint.api.lint_text`, with
``skip_non_marianne``: a YAML file that is not a Marianne file gets nothing). When it raises (a
rule with a bug, a buffer that trips the pipeline), the buffer is linted again step by step with
each rule on its own, so one failing rule costs only its own findings: the others are reported,
plus one ``internal-error`` finding naming what failed.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic, Severity

#: The code, rule name and link of the finding that reports a failure of marianne-lint itself.
INTERNAL_CODE = "internal-error"
INTERNAL_URL = "https://github.com/marianne-lint/marianne-lint/issues"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one lint found, and what went wrong inside marianne-lint while it ran."""

    diagnostics: tuple[Diagnostic, ...]
    failures: tuple[str, ...] = ()
    """One line per internal error (for the log), with the traceback's last frame."""


def internal_error(path: str, message: str) -> Diagnostic:
    """The finding shown at the top of a buffer when marianne-lint failed on it."""
    return Diagnostic(path, 1, 1, 1, 1, INTERNAL_CODE, INTERNAL_CODE, Severity.ERROR,
                      f"marianne-lint failed: {message}; please report it", url=INTERNAL_URL)


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def lint_buffer(text: str, path: str | None, config: Config) -> Outcome:
    """Lint ``text`` as the file ``path`` (None for an unsaved buffer) with ``config``."""
    from marianne_lint import api

    try:
        return Outcome(tuple(api.lint_text(text, path, config=config, skip_non_marianne=True)))
    except Exception as exc:  # noqa: BLE001 - the editor must keep working; see lint_isolated
        return lint_isolated(text, path, config, first=exc)


def lint_isolated(text: str, path: str | None, config: Config, first: BaseException | None = None) -> Outcome:
    """The pipeline's steps one by one, each rule on its own: what still works is reported."""
    from marianne_lint import pipeline
    from marianne_lint import rules as registry

    shown = path if path is not None else "-"
    failures: list[str] = []
    try:
        settings = pipeline.Settings.from_config(config)
        source = pipeline.text_source(text, shown, settings)
        prepared = pipeline.prepare(source, settings, walked=True,
                                    file_path=Path(path) if path is not None else None)
    except Exception as exc:  # noqa: BLE001 - reading or building failed: nothing else can run
        message = _describe(exc)
        return Outcome((internal_error(shown, f"while reading the file: {message}"),), (message,))
    if prepared is None:
        return Outcome(())
    findings = list(prepared.findings)
    ran = set(prepared.ran)
    broken: list[str] = []
    if prepared.context is not None:
        for rule in registry.checking_rules(prepared.kind, set(settings.enabled)):
            try:
                found = list(rule.check(prepared.context))
            except Exception as exc:  # noqa: BLE001 - one rule's bug costs only its own findings
                broken.append(rule.name)
                failures.append(f"rule {rule.name} ({rule.code}): {_describe(exc)}")
                continue
            ran.add(rule.name)
            findings.extend(found)
    checked = pipeline.Prepared(prepared.source, prepared.kind, prepared.loaded, findings, prepared.context,
                                frozenset(ran))
    try:
        diagnostics = list(pipeline.finish(checked, settings).diagnostics)
    except Exception as exc:  # noqa: BLE001
        message = _describe(exc)
        return Outcome((internal_error(shown, f"while applying suppressions: {message}"),), (message,))
    if broken:
        names = ", ".join(broken)
        diagnostics.insert(0, internal_error(shown, f"rule {names} raised {failures[0].split(': ', 1)[1]}; "
                                                    "the other rules' findings are shown"))
    elif first is not None:
        # The API failed but every step passed on its own: report the API's error all the same.
        failures.append(_describe(first))
        diagnostics.insert(0, internal_error(shown, _describe(first)))
    return Outcome(tuple(diagnostics), tuple(failures))


__all__ = ["INTERNAL_CODE", "INTERNAL_URL", "Outcome", "internal_error", "lint_buffer", "lint_isolated"]
