"""The public Python API: lint a text in memory or files on disk and get typed findings back.

The command line, ``--fix`` (:func:`fix_text`) and the language server are all built on these
functions::

    import marianne_lint

    for d in marianne_lint.lint_text(text, "my.score.yaml"):
        print(d.path, d.line, d.column, d.code, d.severity.label, d.message)

Findings come back sorted as the command line prints them (path, line, column, code).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from marianne_lint.config import Config, ConfigError, find_config, load_config
from marianne_lint.diagnostics import Diagnostic
from marianne_lint.pipeline import Settings, lint_source, text_source
from marianne_lint.reading.kinds import KINDS

if TYPE_CHECKING:
    from marianne_lint.fixing import Fixed

#: What the ``config`` argument accepts: a :class:`Config`, the path of a configuration file,
#: or None to look for ``pyproject.toml`` / ``.marianne-lint.toml`` as the command line does.
ConfigArg = Config | str | os.PathLike[str] | None


class LintError(Exception):
    """Some inputs could not be linted because of an internal error of marianne-lint.

    ``diagnostics`` holds the findings of every other input; ``failures`` (path, error) the rest.
    """

    def __init__(self, failures: list[tuple[str, str]], diagnostics: list[Diagnostic]) -> None:
        self.failures = failures
        self.diagnostics = diagnostics
        shown = "; ".join(f"{path}: {error}" for path, error in failures)
        super().__init__(f"internal error while linting {shown}")


def resolve_config(config: ConfigArg = None, *, start: str | os.PathLike[str] | None = None,
                   isolated: bool = False) -> Config:
    """The configuration to lint with.

    A :class:`Config` is used as it is; a path is read as a configuration file; None looks for
    one from ``start`` (a folder or file; default: the current folder) upwards, unless
    ``isolated``. Raises :class:`ConfigError` for a broken configuration file or an unknown rule.
    """
    from marianne_lint.rules import enabled_rules, option_defaults

    if isinstance(config, Config):
        resolved = config
    elif config is not None:
        resolved = load_config(Path(config), option_defaults())
    else:
        resolved = Config()
        if not isolated:
            folder = Path(start) if start is not None else Path.cwd()
            if start is not None and not folder.is_dir():
                folder = folder.parent
            found = find_config(folder.resolve() if not folder.is_absolute() else folder)
            if found is not None:
                resolved = load_config(found, option_defaults())
    try:
        enabled_rules(resolved)  # checks the rule names the configuration uses
    except ConfigError as exc:
        where = f"{resolved.source}: " if resolved.source is not None else ""
        raise ConfigError(f"{where}{exc}") from exc
    return resolved


def _kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    return kind


def lint_text(
    text: str,
    path: str | os.PathLike[str] | None = None,
    *,
    kind: str | None = None,
    config: ConfigArg = None,
    skip_non_marianne: bool = False,
) -> list[Diagnostic]:
    """Lint one Marianne file held in memory.

    ``path`` is only used to report findings, to find the configuration (when ``config`` is
    None) and to resolve what the file refers to (template files, instrument folders); the text
    is never read again from disk. ``kind`` (score, conductor, instrument or fleet) overrides
    detection by content; a text that is not a Marianne file is linted as a score, unless
    ``skip_non_marianne``, when it gets no finding at all (as a folder walk skips it).
    """
    shown = os.fspath(path) if path is not None else "-"
    settings = Settings.from_config(resolve_config(config, start=Path(shown).parent if path is not None else None))
    source = text_source(text, shown, settings)
    result = lint_source(source, settings, kind=_kind(kind), walked=skip_non_marianne,
                         file_path=Path(shown) if path is not None else None)
    return result.diagnostics if result is not None else []


def fix_text(
    text: str,
    path: str | os.PathLike[str] | None = None,
    *,
    unsafe: bool = False,
    kind: str | None = None,
    config: ConfigArg = None,
) -> Fixed:
    """Apply the fixes of a text's findings, as ``--fix`` (``unsafe``: ``--fix --unsafe-fixes``) does.

    Returns a :class:`~marianne_lint.fixing.Fixed`: ``text`` (the fixed text; the same text when
    nothing could be fixed), ``changed``, ``applied`` (the findings whose fix was applied) and
    ``diagnostics`` (the findings of the fixed text). Nothing is written anywhere.
    """
    from marianne_lint.fixing import fix_source

    shown = os.fspath(path) if path is not None else "-"
    settings = Settings.from_config(resolve_config(config, start=Path(shown).parent if path is not None else None))
    fixed = fix_source(text, shown, settings, kind=_kind(kind), unsafe=unsafe,
                       file_path=Path(shown) if path is not None else None)
    assert fixed is not None  # not walked: every text is linted
    return fixed


def detect_kind(text: str, path: str | os.PathLike[str] | None = None) -> str | None:
    """The kind of Marianne file ``text`` is (score, conductor, instrument or fleet), or None.

    Decided as a folder walk decides: by the place the file is read from (``conductor.yaml``,
    ``instruments/``, ``*.fleet.yaml``), then by its keys; a text that does not parse is a score
    when it reads like one.
    """
    from marianne_lint.reading import kinds
    from marianne_lint.reading.loader import Limits, load

    shown = os.fspath(path) if path is not None else None
    loaded = load(text[1:] if text.startswith("\ufeff") else text, Limits())
    if not loaded.ok:
        return kinds.detect_text(text, shown)
    return kinds.detect(loaded.data, shown)


def lint_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    config: ConfigArg = None,
    jobs: int = 1,
    kind: str | None = None,
) -> list[Diagnostic]:
    """Lint files and folders as the command line does (without its result cache).

    Folders are walked for ``*.yaml``/``*.yml`` files, skipping those that are not Marianne
    files and those the configuration excludes. ``jobs`` > 1 lints in that many processes; the
    result is the same. Raises :class:`LintError` when an internal error stopped some input.
    """
    from marianne_lint.runner import lint_many

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    settings = Settings.from_config(resolve_config(config))
    run = lint_many([os.fspath(p) for p in paths], settings, kind=_kind(kind), jobs=jobs)
    if run.failures:
        raise LintError(run.failures, run.diagnostics)
    return run.diagnostics


__all__ = ["ConfigArg", "LintError", "detect_kind", "fix_text", "lint_paths", "lint_text", "resolve_config"]
