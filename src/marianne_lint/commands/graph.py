"""``marianne-lint graph SCORE``: the sheet graph after fan-out expansion, as Mermaid or DOT.

Edges run from a prerequisite to the sheet that waits for it. Sheets in a
dependency cycle and sheets blocked by one are marked. Without explicit
dependencies Marianne runs stages in order, and the graph shows that chain.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from marianne_lint.commands.args import EXIT_FINDINGS, EXIT_OK, Parser
from marianne_lint.rules.base import Context


def graph_command(argv: Sequence[str]) -> int:
    parser = Parser(prog="marianne-lint graph", description="Print a score's sheet graph after fan-out expansion.")
    parser.add_argument("score", help="the score file ('-' reads standard input)")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument("--config", metavar="FILE", help="use this configuration file (its limits apply)")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    args = parser.parse_args(argv)

    from marianne_lint.api import resolve_config
    from marianne_lint.pipeline import Settings, prepare, read

    settings = Settings.from_config(resolve_config(args.config, isolated=args.isolated))
    source = read(args.score, settings)
    if source.text is None:
        message = source.finding.message if source.finding else "cannot read the file"
        print(f"marianne-lint graph: {args.score}: {message}", file=sys.stderr)
        return EXIT_FINDINGS
    prepared = prepare(source, settings, kind="score", file_path=None if args.score == "-" else Path(args.score))
    assert prepared is not None  # only a folder walk skips a file
    if prepared.loaded is None or not prepared.loaded.ok or prepared.loaded.root is None:
        first = prepared.findings[0] if prepared.findings else None
        where = f":{first.span.line}:{first.span.column}: {first.message}" if first else ": empty file"
        print(f"marianne-lint graph: {args.score}{where}", file=sys.stderr)
        return EXIT_FINDINGS
    if prepared.context is None:
        print(f"marianne-lint graph: {args.score} is not a valid score; run `marianne-lint {args.score}` "
              "for the details", file=sys.stderr)
        return EXIT_FINDINGS
    graph = sheet_graph(prepared.context)
    sys.stdout.write(render_dot(graph) if args.format == "dot" else render_mermaid(graph))
    return EXIT_OK


class SheetGraph:
    """Sheets, the edges Marianne runs with, and which sheets are cyclic or blocked."""

    def __init__(self, total: int, labels: dict[int, str], edges: list[tuple[int, int]],
                 cyclic: set[int], blocked: set[int], implicit: bool) -> None:
        self.total = total
        self.labels = labels
        self.edges = edges
        self.cyclic = cyclic
        self.blocked = blocked
        self.implicit = implicit


def sheet_graph(ctx: Context) -> SheetGraph:
    """The graph of a validated score."""
    from marianne_lint.rules.graph import blocked_by, cycle_report
    from marianne_lint.rules.support.sheets import sheet_facts

    facts = sheet_facts(ctx)
    labels: dict[int, str] = {}
    for sheet, meta in facts.metas.items():
        if meta.fan_count > 1:
            labels[sheet] = f"{sheet} (stage {meta.stage}, {meta.instance}/{meta.fan_count})"
        else:
            labels[sheet] = f"{sheet}" if not facts.has_fan_out else f"{sheet} (stage {meta.stage})"
    edges: list[tuple[int, int]] = []
    implicit = not facts.sheet_dependencies
    if implicit:
        for sheet, meta in facts.metas.items():
            for earlier in facts.sheets_of_stage(meta.stage - 1):
                edges.append((earlier, sheet))
    else:
        for sheet, upstream in sorted(facts.sheet_dependencies.items()):
            for dep in upstream:
                edges.append((dep, sheet))
    cyclic_stages: set[int] = set()
    if facts.stage_dependencies:
        _, cyclic_stages, _ = cycle_report(ctx)
    cyclic = {s for stage in cyclic_stages for s in facts.sheets_of_stage(stage)}
    waiting: dict[int, list[int]] = {}
    for dep, sheet in edges:
        waiting.setdefault(sheet, []).append(dep)
        waiting.setdefault(dep, [])
    blocked = set(blocked_by(waiting, cyclic))
    return SheetGraph(facts.total_sheets, labels, edges, cyclic, blocked, implicit)


def render_mermaid(graph: SheetGraph) -> str:
    lines = ["flowchart LR"]
    if graph.implicit:
        lines.append("  %% no sheet.dependencies: stages run in order")
    for sheet, label in graph.labels.items():
        lines.append(f'  s{sheet}["{label}"]')
    for dep, sheet in graph.edges:
        lines.append(f"  s{dep} --> s{sheet}")
    if graph.cyclic:
        lines.append("  classDef cycle fill:#fdd,stroke:#c00,stroke-width:2px")
        lines.append("  class " + ",".join(f"s{s}" for s in sorted(graph.cyclic)) + " cycle")
    if graph.blocked:
        lines.append("  classDef blocked fill:#fed,stroke:#c60,stroke-dasharray:4")
        lines.append("  class " + ",".join(f"s{s}" for s in sorted(graph.blocked)) + " blocked")
    return "\n".join(lines) + "\n"


def render_dot(graph: SheetGraph) -> str:
    lines = ["digraph sheets {", "  rankdir=LR;", "  node [shape=box];"]
    for sheet, label in graph.labels.items():
        style = ""
        if sheet in graph.cyclic:
            style = ', color="#cc0000", style=filled, fillcolor="#ffdddd", tooltip="in a dependency cycle"'
        elif sheet in graph.blocked:
            style = ', color="#cc6600", style="filled,dashed", fillcolor="#ffeedd", tooltip="waits on a cycle"'
        lines.append(f'  s{sheet} [label="{label}"{style}];')
    for dep, sheet in graph.edges:
        lines.append(f"  s{dep} -> s{sheet};")
    lines.append("}")
    return "\n".join(lines) + "\n"
