"""``marianne-lint schema [--kind K] [--check] [--output-dir DIR]``: write or check the JSON Schema files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from marianne_lint.building.schema_export import DEFAULT_OUTPUT_DIR, stale_schemas, write_schemas
from marianne_lint.commands.args import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL, Parser
from marianne_lint.reading.kinds import KINDS


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="marianne-lint schema",
        description=(
            "Write the JSON Schema files editors use to complete and check Marianne files, generated "
            "from the models: marianne-score.schema.json, marianne-conductor.schema.json, "
            "marianne-instrument.schema.json and marianne-fleet.schema.json."
        ),
    )
    parser.add_argument("--kind", choices=KINDS, help="only this kind's schema (default: all four)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every file that is missing or differs from a fresh export",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help="folder of the schema files (default: schema/ under the current folder)",
    )
    return parser


def _error(line: str) -> None:
    print(line, file=sys.stderr)


def schema_command(argv: Sequence[str]) -> int:
    """``marianne-lint schema [--kind K] [--check] [--output-dir DIR]``."""
    args = _parser().parse_args(list(argv))
    kinds: list[str] = [args.kind] if args.kind else list(KINDS)
    output_dir: Path = args.output_dir
    if args.check:
        problems = stale_schemas(output_dir, kinds)
        if not problems:
            print(f"{len(kinds)} schema file(s) in {output_dir} are up to date")
            return EXIT_OK
        for path, what in problems:
            _error(f"{path}: {what}")
        command = "marianne-lint schema" + (f" --kind {args.kind}" if args.kind else "")
        if output_dir != DEFAULT_OUTPUT_DIR:
            command += f" --output-dir {output_dir}"
        _error(f"{len(problems)} schema file(s) out of date; regenerate with: {command}")
        return EXIT_FINDINGS
    try:
        written = write_schemas(output_dir, kinds)
    except OSError as exc:
        _error(f"marianne-lint: cannot write schema files to {output_dir}: {exc.strerror or exc}")
        return EXIT_TOOL
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK
