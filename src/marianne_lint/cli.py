"""The ``marianne-lint`` command: options, file discovery, output and exit codes.

Exit codes: 0 no finding at or above the failing severity, 1 findings at or
above it (unreadable and unparsable files included), 2 the tool could not do
its job (bad option or configuration, internal error).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from marianne_lint import __version__
from marianne_lint.config import Config, ConfigError, find_config, load_config
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.kinds import KINDS
from marianne_lint.source import Source

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL = 0, 1, 2

#: Folders a walk never enters.
SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".marianne-lint-cache", ".idea", ".vscode",
}
SUBCOMMANDS = ("rules", "schema", "graph")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_TOOL)


def _lint_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="marianne-lint",
        description="Lint Marianne scores, conductor configs, instrument profiles and fleet files. "
        "Subcommands: `marianne-lint rules [RULE]`, `marianne-lint schema [--check]`, "
        "`marianne-lint graph SCORE`.",
    )
    parser.add_argument("paths", nargs="*", help="files and folders to lint ('-' reads standard input); default: .")
    parser.add_argument("--kind", choices=KINDS, help="lint every input as this kind instead of detecting it")
    parser.add_argument("--format", choices=("full", "concise", "json", "sarif", "github", "gitlab"), help=(
        "output format (default: full, or github when GITHUB_ACTIONS=true)"
    ))
    parser.add_argument("--output-file", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--stdin-filename", metavar="PATH", help="the path to report for standard input")
    parser.add_argument("--config", metavar="FILE", help="use this configuration file")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    parser.add_argument("--select", metavar="RULES", help="comma-separated rules to enable (replaces the default)")
    parser.add_argument("--extend-select", metavar="RULES", help="comma-separated rules to enable in addition")
    parser.add_argument("--ignore", metavar="RULES", help="comma-separated rules to disable")
    parser.add_argument("--fail-on", choices=("error", "warning", "info"), default=None, help=(
        "lowest severity that makes the exit code 1 (default: error)"
    ))
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("-j", "--jobs", type=int, metavar="N", help=(
        "lint files in N processes (default: the number of CPUs); the output is the same for any N"
    ))
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    parser.add_argument("--cache-dir", metavar="DIR", help=(
        "where to keep the result cache (default: .marianne-lint-cache next to the configuration file, "
        "else in the current folder)"
    ))
    parser.add_argument("--force-exclude", action="store_true", help=(
        "apply the configuration's exclude patterns to files named on the command line too (for pre-commit)"
    ))
    parser.add_argument("--skip-non-marianne", action="store_true", help=(
        "skip named files that are not Marianne configs, as a folder walk does (for pre-commit hooks)"
    ))
    parser.add_argument("--version", action="version", version=f"marianne-lint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # Start-up builds thousands of objects (the models, the rules) and no garbage: the cycle
    # collector only costs time until the first file is linted, when it is switched back on.
    gc.disable()
    # Pydantic would scan every installed package for plugins; a linter needs none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        # A subcommand name always means the subcommand (lint a folder of that name as ./rules).
        if args and args[0] in SUBCOMMANDS:
            from marianne_lint import commands

            return commands.run(args[0], args[1:])
        return _lint(_lint_parser().parse_args(args))
    except ConfigError as exc:
        print(f"marianne-lint: {exc}", file=sys.stderr)
        return EXIT_TOOL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    finally:
        gc.enable()


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def effective_config(args: argparse.Namespace) -> Config:
    """The configuration file's settings with command-line options on top."""
    from marianne_lint.rules import option_defaults

    config = Config()
    if args.config:
        config = load_config(Path(args.config), option_defaults())
    elif not args.isolated:
        found = find_config(Path.cwd())
        if found is not None:
            config = load_config(found, option_defaults())
    from marianne_lint.rules import enabled_rules, expand

    try:
        enabled = enabled_rules(config)  # checks the rule names of the configuration
    except ConfigError as exc:
        raise ConfigError(f"{config.source}: {exc}" if config.source is not None else str(exc)) from exc
    if args.select is None and not args.extend_select and not args.ignore:
        return config
    # Command-line options win: they apply on top of the rules the configuration enables
    # (as in ruff, --select replaces the configuration's whole selection, its ignores included,
    # and --extend-select enables a rule the configuration ignores).
    if args.select is not None:
        enabled = expand(_split(args.select), "--select")
    enabled |= expand(_split(args.extend_select), "--extend-select")
    enabled -= expand(_split(args.ignore), "--ignore")
    config.select, config.extend_select, config.ignore = sorted(enabled), [], []
    return config


def discover(paths: Sequence[str], config: Config, force_exclude: bool = False) -> Iterator[tuple[str, bool]]:
    """(path, found by a folder walk) for every input, deterministic and without repeats.

    Paths are normalised (``./a.yaml`` is ``a.yaml``). ``exclude`` applies to the folder walk,
    and with ``force_exclude`` to files named on the command line too.
    """
    seen: set[str] = set()
    for raw in paths:
        if raw == "-":
            yield raw, False
            continue
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path, config):
                key = os.path.normpath(found)
                if key not in seen:
                    seen.add(key)
                    yield key, True
        else:
            key = os.path.normpath(raw)
            if key not in seen and not (force_exclude and config.excluded(key)):
                seen.add(key)
                yield key, False


def _walk(folder: Path, config: Config) -> list[str]:
    out: list[str] = []

    def unreadable(error: OSError) -> None:
        # A folder the walk cannot list is reported (as an unreadable input), not silently skipped.
        if error.filename is not None:
            out.append(os.fspath(error.filename))

    for current, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not config.excluded(os.path.join(current, d)))
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                full = os.path.join(current, name)
                if not config.excluded(full):
                    out.append(full)
    return sorted(out)


def _write_stdout(text: str) -> None:
    """Write the report as UTF-8 whatever the locale, so stdout and --output-file agree."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Task(NamedTuple):
    position: int
    source: Source
    walked: bool
    disk: Path | None
    key: str | None


class _Outcome(NamedTuple):
    linted: bool
    """False when a folder walk found a file that is not a Marianne config."""
    diagnostics: list[Diagnostic]
    lines: dict[int, str]


#: The settings worker processes lint with (inherited when the pool forks).
_WORKER: dict[str, Any] = {}


def _lint_one(task: _Task) -> tuple[int, _Outcome | str, dict[str, Any]]:
    """Lint one file; returns (index, outcome or an internal error, file-system probes)."""
    from marianne_lint import filesystem
    from marianne_lint.lint import lint_source

    with filesystem.recording() as probes:
        try:
            result = lint_source(task.source, _WORKER["settings"], kind=_WORKER["kind"], walked=task.walked,
                                 file_path=task.disk)
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
            return task.position, f"{type(exc).__name__}: {exc}", {}
        finally:
            if not gc.isenabled():  # after the first file, which pays the start-up (see main)
                # What start-up built lives to the end: collections need not walk it again. (The
                # first file's own leftovers are frozen too: a few kilobytes, once.)
                gc.freeze()
                gc.enable()
    if result is None:
        return task.position, _Outcome(False, [], {}), probes
    return task.position, _Outcome(True, result.diagnostics, result.lines), probes


def _run(tasks: list[_Task], jobs: int) -> Iterator[tuple[int, _Outcome | str, dict[str, Any]]]:
    """Lint the tasks, in worker processes when there are enough of them."""
    if jobs <= 1 or len(tasks) < 2 * jobs or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_lint_one, tasks)
        return
    # Build the models once here: forked workers inherit them instead of building their own.
    from marianne_lint.models import root_model

    root_model("score")
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_lint_one, tasks, chunksize=max(1, min(16, len(tasks) // (jobs * 4))))


def _settings_parts(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "select": config.select, "ignore": config.ignore, "extend_select": config.extend_select,
        "per_file_ignores": config.per_file_ignores,
        "severity": {rule: level.label for rule, level in config.severity.items()},
        "exclude": config.exclude, "kinds": config.kinds, "options": config.options, "root": str(config.root),
        "kind": args.kind, "home": str(Path.home()), "cwd": os.getcwd(),
    }


def _lint(args: argparse.Namespace) -> int:
    from marianne_lint.cache import (
        CACHE_DIR_NAME,
        Cache,
        decode_diagnostics,
        encode_result,
        entry_key,
        settings_fingerprint,
    )
    from marianne_lint.report import Report, renderer
    from marianne_lint.rules import option_defaults
    from marianne_lint.source import read_path, read_stdin

    config = effective_config(args)
    options = {**option_defaults(), **config.options}
    max_bytes = int(options["max-file-size"])
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "full")
    jobs = args.jobs if args.jobs is not None else _default_jobs()
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    store = None if args.no_cache else Cache(Path(args.cache_dir) if args.cache_dir else config.root / CACHE_DIR_NAME)
    fingerprint = settings_fingerprint(_settings_parts(config, args)) if store is not None else ""

    outcomes: list[_Outcome | None] = []
    tasks: list[_Task] = []
    for path, walked in discover(args.paths or ["."], config, args.force_exclude):
        walked = walked or args.skip_non_marianne
        if path == "-":
            source = read_stdin(args.stdin_filename or "-", max_bytes)
            disk: Path | None = Path(args.stdin_filename) if args.stdin_filename else None
        else:
            source = read_path(path, path, max_bytes)
            disk = Path(path)
        key = None
        if store is not None and path != "-" and source.text is not None:
            key = entry_key(fingerprint, source.path, os.path.abspath(path), walked, source.text)
            entry = store.get(key)
            if entry is not None:
                cached, cached_lines = decode_diagnostics(entry)
                outcomes.append(_Outcome(entry["kind"] is not None, cached, cached_lines))
                continue
        tasks.append(_Task(len(outcomes), source, walked, disk, key))
        outcomes.append(None)

    failed = False
    if tasks:
        from marianne_lint.lint import Settings

        _WORKER.update(settings=Settings.from_config(config), kind=args.kind)
        by_index = {task.position: task for task in tasks}
        for index, outcome, probes in _run(tasks, jobs):
            task = by_index[index]
            if isinstance(outcome, str):
                failed = True
                print(f"marianne-lint: internal error while linting {task.source.path}: {outcome}", file=sys.stderr)
                continue
            outcomes[index] = outcome
            if store is not None and task.key is not None:
                kind = "linted" if outcome.linted else None
                store.put(task.key, encode_result(kind, outcome.diagnostics, outcome.lines, probes))

    diagnostics: list[Diagnostic] = []
    lines: dict[tuple[str, int], str] = {}
    files = 0
    for done in outcomes:
        if done is None or not done.linted:
            continue
        files += 1
        diagnostics.extend(done.diagnostics)
        for d in done.diagnostics:
            if d.line in done.lines:
                lines[(d.path, d.line)] = done.lines[d.line]

    diagnostics.sort(key=Diagnostic.sort_key)
    report = Report(diagnostics, files, lines)
    text = renderer(fmt)(report)
    if args.output_file:
        try:
            Path(args.output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"marianne-lint: cannot write {args.output_file}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_TOOL
    else:
        _write_stdout(text)
    if failed:
        print("marianne-lint: some files could not be linted because of an internal error; please report it",
              file=sys.stderr)
        return EXIT_TOOL
    if args.exit_zero:
        return EXIT_OK
    threshold = Severity.parse(args.fail_on or "error")
    return EXIT_FINDINGS if any(d.severity >= threshold for d in diagnostics) else EXIT_OK
