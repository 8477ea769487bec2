#!/usr/bin/env python3
"""Time marianne-lint on generated worst cases, as whole processes: one table of time and peak memory.

Each case is a file a generator (or an attacker) could commit: many findings in one mapping, a long
dependency cycle and a chain waiting on it, a billion-sheet fan-out or item count, integers past
Python's int-string limit, regexes that do not compile, a syntax error at the end of a big file.

Usage: python bench/worst_cases.py [--linter CMD] [--runs N] [--format FMT] [--only TEXT]
Not a test: timings depend on the machine. Targets (docs/robustness.md): every case under 5 s and
200 MB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = "name: worst\nworkspace: ./w\nsheet:\n  size: 1\n  total_items: {items}\n{extra}prompt:\n  template: hi\n"


def score(items: int | str = 2, extra: str = "", tail: str = "") -> str:
    return HEAD.format(items=items, extra=extra) + tail


def ring(sheets: int, chain: int) -> str:
    total = sheets + chain
    deps = [f"    {i}: [{i - 1 if i > 1 else sheets}]\n" for i in range(1, sheets + 1)]
    deps += [f"    {i}: [{i + 1 if i < total else 1}]\n" for i in range(sheets + 1, total + 1)]
    return score(total, "  dependencies:\n" + "".join(deps))


def cases() -> dict[str, str]:
    block = "".join(f"key{i}:\n  a: [1, 2, 3]\n  b: 'text {i}'\n" for i in range(1000))
    return {
        "200,000 unknown top-level keys (2 MB)": score(tail="".join(f"key{i}: 1\n" for i in range(200_000))),
        "20,000-sheet dependency ring": ring(20_000, 0),
        "20,000-sheet ring + 5,000-sheet chain waiting on it": ring(20_000, 5_000),
        "fan_out {1: 1e9}": score(3, "  fan_out: {1: 1000000000}\n"),
        "fan-in of 99,990 voices": score(3, "  fan_out: {2: 99990}\n  dependencies: {2: [1], 3: [2]}\n"),
        "all-to-all 40,000 x 30,000 voices": score(3, "  fan_out: {2: 40000, 3: 30000}\n"
                                                       "  dependencies: {2: [1], 3: [2]}\n"),
        "total_items 1e9": score(1_000_000_000),
        "5,000-digit integer": score("9" * 5000),
        "4,000-digit hex integer": score("0x" + "f" * 4000),
        "2,500-part sexagesimal integer": score(":".join(["59"] * 2500)),
        "regex a{4294967296} and 1,000 nested groups": score(tail=(
            "rate_limit:\n  detection_patterns: ['a{4294967296}', '" + "(" * 1000 + ")" * 1000 + "']\n"
        )),
        "syntax error at the end of a 200 KB file": block * (200_000 // len(block) + 1) + "bad: [1, 2\n",
        "20,000 undefined template variables": HEAD.format(items=2, extra="").replace(
            "  template: hi\n", "  template: |\n" + "".join(f"    {{{{ v{i} }}}}\n" for i in range(20_000))),
        "2,000 sheets, each waiting on up to 200 before it": score(2000, "  dependencies:\n" + "".join(
            f"    {i}: [{', '.join(str(j) for j in range(max(1, i - 200), i))}]\n" for i in range(2, 2001))),
    }


def run(command: list[str], path: Path, fmt: str = "concise") -> tuple[float, float, int]:
    """(seconds, peak MiB of that one process, exit code) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen([*command, "--no-cache", "--format", fmt, str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--linter", default=f"{sys.executable} -m marianne_lint")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", default="concise", help="report format to time (default: concise)")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args(argv)
    command = shlex.split(args.linter)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in cases().items():
            if args.only not in name:
                continue
            path = Path(folder) / "case.yaml"
            path.write_text(text, encoding="utf-8")
            times, peaks, codes = [], [], set()
            for _ in range(args.runs):
                elapsed, peak, code = run(command, path, args.format)
                times.append(elapsed)
                peaks.append(peak)
                codes.add(code)
            rows.append((name, f"{len(text) / 1024:,.0f} KiB", f"{statistics.median(times):.2f} s",
                         f"{max(peaks):,.0f} MiB", ",".join(map(str, sorted(codes)))))
            os.remove(path)
    widths = [max(len(row[i]) for row in [("case", "size", "median", "peak RSS", "exit"), *rows]) for i in range(5)]
    for row in [("case", "size", "median", "peak RSS", "exit"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
