#!/usr/bin/env python3
"""Benchmark marianne-lint as users run it: whole processes, wall-clock time, one table.

Rows:
  * one small score, whole process (median of N runs, no cache);
  * the shared corpus in one process, with all rules and with only the reading and
    structure steps (ML0xx, ML1xx), no cache, -j 1, in turns (the overhead of the rules is
    the median of the run-by-run ratios);
  * ruamel.yaml's bare round-trip parse of the same files, whole process;
  * ``--fix --unsafe-fixes`` on a fresh copy of the corpus, against a plain lint of that copy;
  * the corpus copied to about 1,000 files: cold cache with -j 1 and -j 2, then a warm
    re-run of the unchanged files (cache hit), and the bare parse of those files.

Usage: python bench/bench.py [--runs N] [--corpus DIR] [--linter CMD] [--copies N]
Not a test: timings depend on the machine. Targets on a 2-core machine: one file
<= 0.20 s; corpus <= 1.5 x the bare parse; rules add <= 25 % to the corpus; about
1,000 files cold at >= 80 files/s with -j 2; a warm re-run in <= 0.5 s; --fix on the corpus
<= 2 x a plain lint of it.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def timed(cmd: list[str], runs: int, cwd: Path | None = None, before: object = None) -> float:
    """Median wall-clock seconds of ``runs`` runs; ``before`` is called before each run."""
    out = []
    for _ in range(runs):
        if callable(before):
            before()
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=cwd)
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--linter", default=str(Path(sys.executable).with_name("marianne-lint")))
    parser.add_argument("--small", type=Path, default=ROOT / "examples" / "hello.score.yaml")
    parser.add_argument("--copies", type=int, default=18, help="corpus copies for the ~1,000-file rows")
    args = parser.parse_args()

    linter = shlex.split(args.linter)
    files = sorted(str(p) for p in args.corpus.rglob("*.yaml") if "workspaces" not in p.parts)
    if not files:
        print(f"no YAML files under {args.corpus}", file=sys.stderr)
        return 2
    rows: list[tuple[str, float, str]] = []
    lint = [*linter, "--no-cache", "-j", "1", "--format", "concise"]

    one = timed([*lint, str(args.small)], args.runs)
    rows.append(("one small score, whole process", one, f"target <= 0.20 s; median of {args.runs}"))

    # All rules and reading + structure only, run in turns so that a change in the machine's
    # speed during the measurement affects both alike; the overhead is the median of the
    # run-by-run ratios.
    runs = max(7, args.runs)
    with_rules: list[float] = []
    without: list[float] = []
    for _ in range(runs):
        with_rules.append(timed([*lint, *files], 1))
        without.append(timed([*lint, "--select", "ML0,ML1", *files], 1))
    corpus, foundation = statistics.median(with_rules), statistics.median(without)
    overhead = statistics.median(a / b - 1 for a, b in zip(with_rules, without, strict=True))
    parse = timed([sys.executable, "-c", PARSE_ONLY, *files], max(3, args.runs // 3))
    rows.append((f"corpus ({len(files)} files), all rules", corpus, f"{corpus / parse:.2f} x bare parse (<= 1.5)"))
    rows.append(("corpus, reading + structure only", foundation, f"rules add {overhead:+.1%} (<= 25 %)"))
    rows.append(("corpus, ruamel round-trip parse only", parse, ""))

    # --fix on a fresh copy of the corpus each run (the fixes are written), against a plain lint
    # of the same copy, in turns.
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "corpus"

        def fresh() -> None:
            shutil.rmtree(copy, ignore_errors=True)
            for number, name in enumerate(files):
                target = copy / f"{number:03}-{Path(name).name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(name, target)

        copied = [str(copy / f"{number:03}-{Path(name).name}") for number, name in enumerate(files)]
        plain_runs, fix_runs = [], []
        for _ in range(runs):
            plain_runs.append(timed([*lint, *copied], 1, before=fresh))
            fix_runs.append(timed([*lint, "--fix", "--unsafe-fixes", *copied], 1, before=fresh))
        plain, fixing = statistics.median(plain_runs), statistics.median(fix_runs)
        ratio = statistics.median(b / a for a, b in zip(plain_runs, fix_runs, strict=True))
        rows.append(("corpus, --fix --unsafe-fixes (fresh copy)", fixing, f"{ratio:.2f} x a plain lint (<= 2)"))
        rows.append(("corpus, plain lint of the same copy", plain, ""))

    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "scores"
        for copy in range(args.copies):
            for number, name in enumerate(files):
                target = tree / f"c{copy:02}" / f"{number:03}-{Path(name).name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(name, target)
        many = sorted(str(p) for p in tree.rglob("*.yaml"))
        cache = Path(scratch) / ".marianne-lint-cache"

        def clear() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        base = [*linter, "--format", "concise", "--cache-dir", str(cache), str(tree)]
        cold1 = timed([*base, "-j", "1"], 1, before=clear)
        cold2 = timed([*base, "-j", "2"], 2, before=clear)
        timed([*base, "-j", "2"], 1)  # fill the cache
        warm = timed([*base, "-j", "2"], 3)
        bare = timed([sys.executable, "-c", PARSE_ONLY, *many], 1)
        count = len(many)
        rows.append((f"{count} files, cold cache, -j 1", cold1, f"{count / cold1:.0f} files/s"))
        rows.append((f"{count} files, cold cache, -j 2", cold2, f"{count / cold2:.0f} files/s (>= 80)"))
        rows.append((f"{count} files, warm cache (unchanged)", warm, "target <= 0.5 s"))
        rows.append((f"{count} files, ruamel round-trip parse only", bare, f"{count / bare:.0f} files/s"))

    width = max(len(label) for label, _, _ in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  note")
    for label, seconds, note in rows:
        print(f"{label:<{width}}  {seconds:8.3f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
