"""marianne-lint: JSON Schema and a semantic linter for Marianne configuration files.

The public API (see :mod:`marianne_lint.api`): :func:`lint_text`, :func:`lint_paths`, and the
:class:`Diagnostic` they return. The names are imported on first use, so that ``import
marianne_lint`` (and the command line's start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marianne_lint.version import __version__

if TYPE_CHECKING:
    from marianne_lint.api import LintError, detect_kind, fix_text, lint_paths, lint_text, resolve_config
    from marianne_lint.config import Config, ConfigError
    from marianne_lint.diagnostics import Diagnostic, Edit, Fix, Related, Severity

#: Public name -> the module that defines it.
_EXPORTS = {
    "lint_text": "marianne_lint.api",
    "lint_paths": "marianne_lint.api",
    "detect_kind": "marianne_lint.api",
    "fix_text": "marianne_lint.api",
    "resolve_config": "marianne_lint.api",
    "LintError": "marianne_lint.api",
    "Config": "marianne_lint.config",
    "ConfigError": "marianne_lint.config",
    "Diagnostic": "marianne_lint.diagnostics",
    "Edit": "marianne_lint.diagnostics",
    "Fix": "marianne_lint.diagnostics",
    "Related": "marianne_lint.diagnostics",
    "Severity": "marianne_lint.diagnostics",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'marianne_lint' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["Config", "ConfigError", "Diagnostic", "Edit", "Fix", "LintError", "Related", "Severity",
           "__version__", "detect_kind", "fix_text", "lint_paths", "lint_text", "resolve_config"]
