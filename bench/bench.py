#!/usr/bin/env python3
"""Benchmark marianne-lint as users run it: whole processes, wall-clock time.

Prints one table:
  * one small score, whole process (median of N runs);
  * every file of ../shared/corpus in one process;
  * ruamel.yaml's bare round-trip parse of the same files, whole process;
  * the ratio of the two (target: at most 1.5).

Usage: python bench/bench.py [--runs N] [--corpus DIR] [--linter CMD]
Not a test: timings depend on the machine. Targets on a 2-core machine:
one file <= 0.20 s, corpus <= 1.5 x the bare parse.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARSE_ONLY = """
import sys
from ruamel.yaml import YAML
yaml = YAML(typ="rt")
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as handle:
        try:
            yaml.load(handle)
        except Exception:
            pass
"""


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--linter", default=str(Path(sys.executable).with_name("marianne-lint")))
    parser.add_argument("--small", type=Path, default=ROOT / "examples" / "hello.score.yaml")
    args = parser.parse_args()

    linter = shlex.split(args.linter)
    files = sorted(str(p) for p in args.corpus.rglob("*.yaml") if "workspaces" not in p.parts)
    if not files:
        print(f"no YAML files under {args.corpus}", file=sys.stderr)
        return 2
    rows: list[tuple[str, float, str]] = []

    one = timed([*linter, "--format", "concise", str(args.small)], args.runs)
    rows.append(("one small score, whole process (median)", statistics.median(one), f"{args.runs} runs"))

    corpus_runs = max(3, args.runs // 3)
    lint_all = timed([*linter, "--format", "concise", *files], corpus_runs)
    parse_all = timed([sys.executable, "-c", PARSE_ONLY, *files], corpus_runs)
    lint_median = statistics.median(lint_all)
    parse_median = statistics.median(parse_all)
    rows.append((f"corpus: {len(files)} files, one process (median)", lint_median, f"{corpus_runs} runs"))
    rows.append(("ruamel round-trip parse of the same files (median)", parse_median, f"{corpus_runs} runs"))

    width = max(len(label) for label, _, _ in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  note")
    for label, seconds, note in rows:
        print(f"{label:<{width}}  {seconds:8.3f}  {note}")
    print(f"{'corpus lint / bare parse':<{width}}  {lint_median / parse_median:8.2f}  target <= 1.5")
    print(f"{'one file target':<{width}}  {0.20:8.3f}  {'met' if statistics.median(one) <= 0.20 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
