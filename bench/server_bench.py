#!/usr/bin/env python3
"""Benchmark the language server as an editor drives it: ``marianne-lint server`` over stdio,
through ``../shared/tools/lsp_session.py`` (VS Code's client capabilities).

Rows:
  * server start to the first diagnostics of the largest score of the corpus (process start,
    initialize, initialized, didOpen, publishDiagnostics; median of N starts);
  * re-lint latency after an edit on that score: from the didChange being written to the
    publishDiagnostics of that version (median and p95 over 50 edits; one row appending to a
    comment, one toggling a number);
  * the server's resident memory after 50 and after 1,000 edits (its ``marianne-lint/status``).

Usage: python bench/server_bench.py [--runs N] [--edits N] [--memory-edits N] [--corpus DIR]
                                    [--server-cmd CMD] [--harness PATH]
Not a test: timings depend on the machine. Targets on a 2-core machine: start to first
diagnostics <= 1 s; re-lint median <= 30 ms and p95 <= 100 ms (yaml-language-server: about
215 ms); memory flat across edits.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def largest_score(corpus: Path) -> Path:
    """The biggest file of the corpus that is a score."""
    sys.path.insert(0, str(ROOT / "src"))
    from marianne_lint.api import detect_kind

    best: tuple[int, Path] | None = None
    for path in sorted([*corpus.rglob("*.yaml"), *corpus.rglob("*.yml")]):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if detect_kind(text, str(path)) == "score" and (best is None or len(text) > best[0]):
            best = (len(text), path)
    if best is None:
        raise SystemExit(f"no score found in {corpus}")
    return best[1]


def session(harness: Path, server: str, root: Path, steps: list[dict[str, Any]], *, trace: Path | None = None,
            timeout: float = 600.0) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as script:
        json.dump(steps, script)
    cmd = [sys.executable, str(harness), "--server-cmd", server, "--root", str(root), "--compact",
           "--timeout", str(timeout), "--init-quiet", "0"]
    if trace is not None:
        cmd += ["--trace", str(trace)]
    done = subprocess.run([*cmd, script.name], capture_output=True, text=True, timeout=timeout + 30, check=False)
    Path(script.name).unlink()
    try:
        out: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"lsp_session failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
                         ) from None
    if done.returncode not in (0, 1):
        raise SystemExit(f"lsp_session failed ({done.returncode}): {out.get('error')}")
    return out


def first_publish_s(trace: Path, uri_end: str) -> float:
    """Seconds from the server's start to its first publishDiagnostics for the document."""
    for line in trace.read_text(encoding="utf-8").splitlines():
        stamp, direction, body = line.strip().split(" ", 2)
        if direction != "<<":
            continue
        message = json.loads(body)
        if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"].endswith(uri_end):
            return float(stamp)
    raise SystemExit("no publishDiagnostics in the trace")


def _line_of(text: str, pattern: str) -> int:
    for number, line in enumerate(text.splitlines()):
        if re.search(pattern, line):
            return number
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="server starts to time [5]")
    parser.add_argument("--edits", type=int, default=50, help="edits per latency row [50]")
    parser.add_argument("--memory-edits", type=int, default=1000, help="edits before the memory reading [1000]")
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--server-cmd", default=shlex.join([sys.executable, "-m", "marianne_lint", "server"]))
    parser.add_argument("--harness", type=Path, default=SHARED / "tools" / "lsp_session.py")
    args = parser.parse_args()
    if not args.harness.is_file():
        raise SystemExit(f"lsp_session.py not found at {args.harness}")

    score = largest_score(args.corpus)
    text = score.read_text(encoding="utf-8")
    root = score.parent
    name = score.name
    print(f"server: {args.server_cmd}")
    print(f"largest corpus score: {score.relative_to(args.corpus)} ({len(text.splitlines())} lines, "
          f"{len(text.encode()) / 1024:.0f} KiB)")

    starts = []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            trace = Path(folder) / f"trace-{run}.log"
            session(args.harness, args.server_cmd, root, [{"open": name}, {"diagnostics": name, "settle": 0}],
                    trace=trace, timeout=60)
            starts.append(first_publish_s(trace, "/" + name))
    shown = ", ".join(f"{s:.2f}" for s in starts)
    print(f"start -> first diagnostics: median {statistics.median(starts):.2f} s over {len(starts)} starts "
          f"({shown}); target <= 1 s")

    comment_line = _line_of(text, r"^name\s*:")
    number_line = _line_of(text, r"^\s*\w+\s*:\s*\d+\s*(#.*)?$")
    steps: list[dict[str, Any]] = [
        {"open": name}, {"diagnostics": name, "settle": 0.2},
        {"latency": name, "edits": 5, "mode": "append-comment", "line": comment_line, "settle": 0.05},  # warm-up
        {"latency": name, "edits": args.edits, "mode": "append-comment", "line": comment_line, "settle": 0.05},
        {"latency": name, "edits": args.edits, "mode": "toggle-value", "line": number_line, "settle": 0.05},
    ]
    out = session(args.harness, args.server_cmd, root, steps)
    for step in out["steps"][3:5]:
        if step.get("count"):
            print(f"re-lint after an edit ({step['edits']} edits, {step['mode']} on line {step['line'] + 1}): "
                  f"median {step['median_ms']} ms, p95 {step['p95_ms']} ms, max {step['max_ms']} ms, "
                  f"missed {step['missed']}; target median <= 30 ms, p95 <= 100 ms")
        else:
            print(f"re-lint latency: no sample ({step.get('error') or step.get('timeouts')})")

    steps = [
        {"open": name}, {"diagnostics": name, "settle": 0.2},
        {"latency": name, "edits": 50, "mode": "append-comment", "line": comment_line, "settle": 0,
         "restore": False},
        {"request": "marianne-lint/status", "params": {}},
        {"latency": name, "edits": args.memory_edits - 50, "mode": "append-comment", "line": comment_line,
         "settle": 0, "restore": False},
        {"request": "marianne-lint/status", "params": {}},
    ]
    out = session(args.harness, args.server_cmd, root, steps, timeout=900)
    before = out["steps"][3]["result"]
    after = out["steps"][5]["result"]
    lints = after.get("lints")
    print(f"memory (RSS): {before['rss_kb'] / 1024:.1f} MiB after 50 edits, {after['rss_kb'] / 1024:.1f} MiB after "
          f"{args.memory_edits} edits ({(after['rss_kb'] - before['rss_kb']) / 1024:+.1f} MiB; {lints} lints ran)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
