"""Configuration: ``[tool.marianne-lint]`` in pyproject.toml or ``.marianne-lint.toml``.

Keys: ``select``, ``ignore``, ``extend-select``, ``per-file-ignores``,
``severity`` (rule -> error/warning/info), ``exclude`` (globs skipped by the
folder walk), ``kinds`` (glob -> kind) and the options of the rules and of the
reader (``max-file-size``, ``max-depth``, ``max-alias-nodes``,
``min-idle-timeout-seconds``, ...). Rules are named by code, code prefix
(``ML2``), name, or ``ALL``. An unknown key, rule or option is an error of
the tool itself (exit 2).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from marianne_lint.diagnostics import Severity
from marianne_lint.reading.bounded import TooLarge, read_text
from marianne_lint.reading.kinds import KINDS

#: A configuration file larger than this is refused (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 1024 * 1024

LIST_KEYS = ("select", "ignore", "extend-select", "exclude")
TABLE_KEYS = ("per-file-ignores", "severity", "kinds")


class ConfigError(Exception):
    """The configuration (or a command-line option) is wrong: exit 2."""


@dataclass(slots=True)
class Config:
    """The effective configuration for one run."""

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None

    def relative(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def matches(self, pattern: str, path: str) -> bool:
        rel = self.relative(path)
        pure = PurePosixPath(rel)
        return fnmatch.fnmatch(rel, pattern) or pure.match(pattern) or fnmatch.fnmatch(pure.name, pattern)

    def kind_for(self, path: str) -> str | None:
        for pattern, kind in self.kinds.items():
            if self.matches(pattern, path):
                return kind
        return None

    def excluded(self, path: str) -> bool:
        return any(self.matches(pattern, path) for pattern in self.exclude)

    def file_ignores(self, path: str) -> list[str]:
        out: list[str] = []
        for pattern, rules in self.per_file_ignores.items():
            if self.matches(pattern, path):
                out.extend(rules)
        return out


#: A ``[tool.marianne-lint]`` table (or a ``tool.marianne-lint.*`` key) in a pyproject.toml that does
#: not parse: that file is the configuration, and its error is reported.
_OUR_TABLE = re.compile(r"""(?m)^[ \t]*(?:\[[ \t]*)?tool[ \t]*\.[ \t]*["']?marianne-lint\b""")


def find_config(start: Path) -> Path | None:
    """The nearest ``.marianne-lint.toml``, or ``pyproject.toml`` with our table, upward from ``start``."""
    for folder in [start, *start.parents]:
        dedicated = folder / ".marianne-lint.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = read_text(pyproject, MAX_CONFIG_BYTES)
            except (OSError, UnicodeDecodeError, TooLarge):
                continue
            if "marianne-lint" not in text:
                continue  # cheap test first: most pyproject files are not ours
            import tomllib

            try:
                table = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                if _OUR_TABLE.search(text):
                    return pyproject  # ours, and broken: loading it says where (never dropped in silence)
                continue
            if "marianne-lint" in table.get("tool", {}):
                return pyproject
    return None


def load_config(path: Path, option_defaults: dict[str, Any]) -> Config:
    """Read and check one configuration file."""
    import tomllib

    try:
        table = tomllib.loads(read_text(path, MAX_CONFIG_BYTES))
    except TooLarge as exc:
        raise ConfigError(f"{path}: cannot read the configuration: it is larger than "
                          f"{MAX_CONFIG_BYTES // 1024} KiB") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: it is not UTF-8 text") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if path.name == "pyproject.toml":
        table = table.get("tool", {}).get("marianne-lint", {})
    config = from_table(table, option_defaults, str(path))
    config.root = path.parent
    config.source = path
    return config


def from_table(table: dict[str, Any], option_defaults: dict[str, Any], where: str) -> Config:
    config = Config()
    known = [*LIST_KEYS, *TABLE_KEYS, *option_defaults]
    for key, value in table.items():
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{where}: '{key}' must be a list of strings")
            if key == "select":
                config.select = list(value)
            elif key == "ignore":
                config.ignore = list(value)
            elif key == "extend-select":
                config.extend_select = list(value)
            else:
                config.exclude = list(value)
        elif key in TABLE_KEYS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: '{key}' must be a table")
            _table_key(config, key, value, where)
        elif key in option_defaults:
            config.options[key] = _option_value(key, value, option_defaults[key], where)
        else:
            raise ConfigError(f"{where}: unknown key '{key}'{did_you_mean(key, known)}")
    return config


#: The smallest value of numeric options that have a bound besides "not negative".
OPTION_MINIMUMS: dict[str, int] = {"max-file-size": 1, "max-depth": 1, "max-sheets": 1}


def _option_value(key: str, value: Any, default: Any, where: str) -> Any:
    """A checked option value: the default's type (a boolean is not a number), within its bounds."""
    import math

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: option '{key}' must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        wanted = "a whole number" if isinstance(default, int) else "a number"
        allowed = (int,) if isinstance(default, int) else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            raise ConfigError(f"{where}: option '{key}' must be {wanted}, got {value!r}")
        lowest = OPTION_MINIMUMS.get(key, 0)
        if not math.isfinite(value) or value < lowest:
            raise ConfigError(f"{where}: option '{key}' must be {wanted} of at least {lowest}, got {value!r}")
        return value
    if not isinstance(value, type(default)):
        raise ConfigError(f"{where}: option '{key}' must be a {type(default).__name__}, got {value!r}")
    return value


def _table_key(config: Config, key: str, value: dict[str, Any], where: str) -> None:
    if key == "per-file-ignores":
        for pattern, rules in value.items():
            if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
                raise ConfigError(f"{where}: per-file-ignores['{pattern}'] must be a list of rule names")
            config.per_file_ignores[pattern] = list(rules)
    elif key == "severity":
        for rule, level in value.items():
            if not isinstance(level, str):
                raise ConfigError(f"{where}: severity['{rule}'] must be error, warning or info")
            try:
                config.severity[rule] = Severity.parse(level)
            except ValueError as exc:
                raise ConfigError(f"{where}: severity['{rule}']: {exc}") from exc
    else:
        for pattern, kind in value.items():
            if kind not in KINDS:
                raise ConfigError(f"{where}: kinds['{pattern}'] must be one of {', '.join(KINDS)}, got {kind!r}")
            config.kinds[pattern] = kind


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
