"""The ``marianne-lint`` command: options, the effective configuration, output and exit codes.

The linting itself is :func:`marianne_lint.runner.lint_many`, which the public API shares;
exit codes are in :mod:`marianne_lint.commands.args`.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from marianne_lint.commands.args import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL, SUBCOMMANDS, Parser
from marianne_lint.config import Config, ConfigError
from marianne_lint.diagnostics import Severity
from marianne_lint.reading.kinds import KINDS
from marianne_lint.version import __version__


def _lint_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    parser.add_argument("--fail-on", type=str.lower, choices=("error", "warning", "info"), default=None, help=(
        "lowest severity that makes the exit code 1 (default: error)"
    ))
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--fix", action="store_true", help=(
        "apply the safe fixes and write the files (with '-': print the fixed text, the report goes to stderr)"
    ))
    parser.add_argument("--unsafe-fixes", action="store_true", help=(
        "also apply (with --fix or --diff) and mark [*] the fixes that change behaviour or guess"
    ))
    parser.add_argument("--diff", action="store_true", help=(
        "print a unified diff of what --fix would change and write nothing (exit 1 when there is a change)"
    ))
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
            from marianne_lint.commands.subcommands import run

            return run(args[0], args[1:])
        misspelled = _misspelled_subcommand(args)
        if misspelled is not None:
            print(f"marianne-lint: {misspelled}", file=sys.stderr)
            return EXIT_TOOL
        return _lint(_lint_parser().parse_args(args))
    except ConfigError as exc:
        print(f"marianne-lint: {exc}", file=sys.stderr)
        return EXIT_TOOL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a tool failure must exit 2 with one line, never a traceback
        print(f"marianne-lint: internal error: {type(exc).__name__}: {_one_line(str(exc))} (please report it)",
              file=sys.stderr)
        return EXIT_TOOL
    finally:
        gc.enable()


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _misspelled_subcommand(args: list[str]) -> str | None:
    """The error for a first argument that is no file and reads as a misspelled subcommand."""
    if not args or args[0].startswith("-") or os.path.lexists(args[0]):
        return None
    word = args[0]
    if any(sep in word for sep in "/\\."):
        return None
    import difflib

    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    if not close:
        return None
    return f"unknown command '{word}' (did you mean '{close[0]}'?); to lint a file of that name, write ./{word}"


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def effective_config(args: argparse.Namespace) -> Config:
    """The configuration file's settings with command-line options on top."""
    from marianne_lint.api import resolve_config
    from marianne_lint.rules import enabled_rules, expand

    config = resolve_config(args.config, isolated=args.isolated)
    if args.select is None and not args.extend_select and not args.ignore:
        return config
    enabled = enabled_rules(config)
    # Command-line options win: they apply on top of the rules the configuration enables
    # (as in ruff, --select replaces the configuration's whole selection, its ignores included,
    # and --extend-select enables a rule the configuration ignores).
    if args.select is not None:
        enabled = expand(_split(args.select), "--select")
    enabled |= expand(_split(args.extend_select), "--extend-select")
    enabled -= expand(_split(args.ignore), "--ignore")
    config.select, config.extend_select, config.ignore = sorted(enabled), [], []
    return config


def _write_stdout(text: str) -> None:
    """Write the report as UTF-8 whatever the locale, so stdout and --output-file agree."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    else:
        # A lone surrogate shows as \udcff. Encoded a megabyte at a time: a report of 200,000
        # findings may run to 160 MB, and one encoded copy of it would be as big again.
        for start in range(0, len(text), _CHUNK):
            buffer.write(text[start : start + _CHUNK].encode("utf-8", "backslashreplace"))
        buffer.flush()


_CHUNK = 1 << 20


def _show_diff(diff: str, fixed: int, files: int, failed: bool) -> int:
    """``--diff``: the unified diff on stdout, a count on stderr; exit 1 when something would change."""
    _write_stdout(diff)
    if fixed:
        noun = "finding" if fixed == 1 else "findings"
        print(f"Would fix {fixed} {noun} in {files} file{'s' if files != 1 else ''}.", file=sys.stderr)
    else:
        print("No finding would be fixed.", file=sys.stderr)
    if failed:
        return EXIT_TOOL
    return EXIT_FINDINGS if diff else EXIT_OK


def _lint(args: argparse.Namespace) -> int:
    from marianne_lint.cache import CACHE_DIR_NAME, Cache
    from marianne_lint.pipeline import Settings
    from marianne_lint.report import Report, renderer
    from marianne_lint.runner import default_jobs, lint_many

    if "" in args.paths:  # an unset shell variable, most often: say so rather than lint something else
        raise ConfigError("an empty path names no file or folder")
    config = effective_config(args)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "full")
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    store = None if args.no_cache else Cache(Path(args.cache_dir) if args.cache_dir else config.root / CACHE_DIR_NAME)
    settings = Settings.from_config(config)
    run = lint_many(
        args.paths or ["."],
        settings,
        kind=args.kind,
        jobs=jobs,
        cache=store,
        stdin_filename=args.stdin_filename,
        force_exclude=args.force_exclude,
        skip_non_marianne=args.skip_non_marianne,
    )
    for path, error in run.failures:
        print(f"marianne-lint: internal error while linting {_one_line(path)}: {_one_line(error)} (please report it)",
              file=sys.stderr)
    if run.files == 0 and not run.diagnostics and not run.failures:
        print("marianne-lint: warning: no Marianne file found in the given paths", file=sys.stderr)
    fixed = 0
    to_stderr = write_failed = False
    if args.fix or args.diff:
        from marianne_lint.commands.fix import apply_fixes

        outcome = apply_fixes(run, settings, kind=args.kind, unsafe=args.unsafe_fixes, write=not args.diff)
        for problem in outcome.problems:
            print(f"marianne-lint: {_one_line(problem)}", file=sys.stderr)
        if args.diff:
            return _show_diff(outcome.diff, outcome.fixed, len(outcome.changed), bool(run.failures))
        fixed = outcome.fixed
        if outcome.stdout_text is not None:  # the text goes to stdout, the report to stderr, as ruff does
            _write_stdout(outcome.stdout_text)
            to_stderr = True
        write_failed = bool(outcome.problems)
    text = renderer(fmt)(Report(run.diagnostics, run.files, run.lines, unsafe_fixes=args.unsafe_fixes, fixed=fixed))
    if to_stderr and not args.output_file:
        sys.stderr.write(text)
        sys.stderr.flush()
    elif args.output_file:
        try:
            Path(args.output_file).write_bytes(text.encode("utf-8", "backslashreplace"))
        except OSError as exc:
            print(f"marianne-lint: cannot write {args.output_file}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_TOOL
    else:
        _write_stdout(text)
    if run.failures or write_failed:
        return EXIT_TOOL
    if args.exit_zero:
        return EXIT_OK
    threshold = Severity.parse(args.fail_on or "error")
    return EXIT_FINDINGS if any(d.severity >= threshold for d in run.diagnostics) else EXIT_OK
