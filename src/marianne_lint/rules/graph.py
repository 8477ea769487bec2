"""ML2xx: the sheet graph (dependencies, fan-out, sheet numbers and ranges)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marianne_lint.building.expansion import lax_int
from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.rules.base import Context, Rule, per_document
from marianne_lint.rules.support.sheets import SheetFacts, sheet_facts, sheet_list

MAX_CYCLES = 50
MAX_SEARCH_STEPS = 200_000


def _unit(facts: SheetFacts) -> str:
    return "stage" if facts.has_fan_out else "sheet"


def _edge_index(facts: SheetFacts) -> dict[tuple[int, int], int]:
    """(node, prerequisite) -> index of its first entry in the node's list."""
    index: dict[tuple[int, int], int] = {}
    for node, upstream in facts.stage_dependencies.items():
        for position, dep in enumerate(upstream):
            index.setdefault((node, dep), position)
    return index


def _graph(facts: SheetFacts) -> dict[int, list[int]]:
    graph: dict[int, list[int]] = {}
    for node, upstream in facts.stage_dependencies.items():
        targets = graph.setdefault(node, [])
        for dep in upstream:
            graph.setdefault(dep, [])
            if dep not in targets and dep != node:
                targets.append(dep)
    return graph


def strongly_connected(graph: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative; components in discovery order."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[int, int]] = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def elementary_cycles(graph: dict[int, list[int]], component: list[int]) -> tuple[list[list[int]], bool]:
    """Simple cycles inside one component, each starting at its smallest node; (cycles, complete)."""
    members = set(component)
    cycles: list[list[int]] = []
    steps = 0
    for start in component:
        path = [start]
        on_path = {start}
        iterators = [iter([t for t in graph[start] if t >= start and t in members])]
        while iterators:
            steps += 1
            if steps > MAX_SEARCH_STEPS or len(cycles) >= MAX_CYCLES:
                return cycles, False
            target = next(iterators[-1], None)
            if target is None:
                iterators.pop()
                on_path.discard(path.pop())
                continue
            if target == start:
                cycles.append([*path])
            elif target not in on_path:
                path.append(target)
                on_path.add(target)
                iterators.append(iter([t for t in graph[target] if t >= start and t in members]))
    return cycles, True


def blocked_by(graph: dict[int, list[int]], cyclic: set[int]) -> dict[int, int]:
    """Nodes outside the cycles that wait on one, directly or not -> the prerequisite that blocks them.

    The result is that of repeated passes over the nodes in order, each marking a node blocked by
    the first of its prerequisites that is cyclic or already blocked, until nothing changes;
    computed in O((nodes + edges) log nodes) as a shortest-path search over the times (pass,
    position) at which those passes would mark each node.
    """
    import heapq

    order = {node: position for position, node in enumerate(sorted(graph))}
    waiting: dict[int, list[int]] = {}
    for node, deps in graph.items():
        for dep in deps:
            waiting.setdefault(dep, []).append(node)
    when: dict[int, tuple[int, int]] = {}  # node -> (pass, position) at which it is marked
    queue: list[tuple[int, int, int]] = [(0, -1, node) for node in sorted(cyclic)]
    while queue:
        passes, position, node = heapq.heappop(queue)
        if node in when:
            continue
        when[node] = (passes, position)
        for waiter in waiting.get(node, ()):
            if waiter in when or waiter in cyclic or waiter not in order:
                continue
            mine = order[waiter]
            heapq.heappush(queue, (passes if position < mine else passes + 1, mine, waiter))
    blocked: dict[int, int] = {}
    for node, (passes, position) in when.items():
        if node in cyclic:
            continue
        for dep in graph[node]:
            if dep in when and when[dep] < (passes, position):
                blocked[node] = dep
                break
    return dict(sorted(blocked.items(), key=lambda item: when[item[0]]))


@per_document
def cycle_report(ctx: Context) -> tuple[list[list[int]], set[int], bool]:
    """Every cycle (rotated to start at its earliest written edge), the cyclic nodes, completeness."""
    facts = sheet_facts(ctx)
    graph = _graph(facts)
    edges = _edge_index(facts)
    cycles: list[list[int]] = []
    cyclic: set[int] = set()
    complete = True
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        cyclic.update(component)
        found, whole = elementary_cycles(graph, component)
        complete = complete and whole
        cycles.extend(found)

    def edge_position(edge: tuple[int, int]) -> tuple[int, int]:
        span = ctx.value_span("sheet", "dependencies", edge[0], edges.get(edge, 0))
        return (span.line, span.column)

    rotated = []
    for cycle in cycles:
        pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
        first = min(range(len(pairs)), key=lambda i: edge_position(pairs[i]))
        rotated.append(cycle[first:] + cycle[:first])
    rotated.sort(key=lambda c: edge_position((c[0], c[1 % len(c)])))
    result = (rotated, cyclic, complete)
    return result


class DependencyCycle(Rule):
    """Sheets that depend on each other in a circle can never start.

    Marianne has no cycle detection: sheets in a cycle simply never become
    ready, and the job hangs until someone notices. Every cycle of
    ``sheet.dependencies`` is reported once, as a path such as ``3 -> 4 -> 3``
    ("3 waits for 4, which waits for 3"), at its first edge in the file, with
    every other edge as a related location. With ``fan_out`` the numbers are
    stages, as written; the message names the sheets they expand to. Each
    sheet outside a cycle that waits on one, directly or through other
    sheets, is reported too (at its dependency entry): it can never start
    either.

    Failing::

        sheet:
          size: 1
          total_items: 4
          dependencies:
            2: [1]
            3: [4]
            4: [3]

    Passing::

        sheet:
          size: 1
          total_items: 4
          dependencies:
            2: [1]
            3: [2]
            4: [3]
    """

    code = "ML201"
    name = "dependency-cycle"
    severity = Severity.ERROR
    summary = "sheets depend on each other in a cycle and can never start"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        if not facts.stage_dependencies:
            return
        cycles, _, complete = cycle_report(ctx)
        edges = _edge_index(facts)
        unit = _unit(facts)
        for cycle in cycles:
            pairs = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
            spans = [ctx.value_span("sheet", "dependencies", a, edges.get((a, b), 0)) for a, b in pairs]
            path = " -> ".join(str(n) for n in [*cycle, cycle[0]])
            message = f"{unit}s {path} form a dependency cycle; none of them can ever start"
            if facts.has_fan_out:
                sheets = [s for stage in cycle for s in facts.sheets_of_stage(stage)]
                message += f" (sheets {sheet_list(sheets)})"
            related = [
                (span, f"{unit} {a} waits for {unit} {b}")
                for span, (a, b) in zip(spans[1:], pairs[1:], strict=True)
            ]
            yield Finding(
                self.name,
                spans[0],
                message,
                related=related,
                suggestion=f"remove one of these dependencies, e.g. {pairs[-1][1]} from the list of {unit} "
                f"{pairs[-1][0]}",
            )
        if not complete:
            yield Finding(
                self.name,
                ctx.key_span("sheet", "dependencies"),
                f"these dependencies hold more cycles than the {MAX_CYCLES} reported; break the cycles above first",
            )
        yield from self._blocked(ctx, facts, edges, unit)

    def _blocked(self, ctx: Context, facts: SheetFacts, edges: dict[tuple[int, int], int], unit: str) -> Iterator[
        Finding
    ]:
        """Sheets outside the cycles that wait on them, directly or through other sheets."""
        _, cyclic, _ = cycle_report(ctx)
        if not cyclic:
            return
        blocked = blocked_by(_graph(facts), cyclic)
        for node in sorted(blocked):
            dep = blocked[node]
            why = "is part of a dependency cycle" if dep in cyclic else "can never start either"
            where = ctx.value_span("sheet", "dependencies", dep, 0) if dep in cyclic else ctx.value_span(
                "sheet", "dependencies", dep, edges.get((dep, blocked[dep]), 0)
            )
            yield Finding(
                self.name,
                ctx.value_span("sheet", "dependencies", node, edges.get((node, dep), 0)),
                f"{unit} {node} can never start: it waits for {unit} {dep}, which {why}",
                related=[(where, f"{unit} {dep} waits here")],
            )


class DuplicateDependency(Rule):
    """The same prerequisite is listed twice for one sheet.

    Marianne accepts it, but the repeat adds nothing, and ``mzt validate``'s
    dependency display silently drops such a sheet.

    Failing::

        sheet:
          dependencies:
            3: [1, 2, 1]

    Passing::

        sheet:
          dependencies:
            3: [1, 2]
    """

    code = "ML202"
    name = "duplicate-dependency"
    severity = Severity.WARNING
    summary = "a prerequisite is listed twice for one sheet"
    fixable = "safe"
    fix_summary = "delete the repeated entry"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        unit = _unit(facts)
        for node, upstream in facts.stage_dependencies.items():
            first: dict[int, int] = {}
            for position, dep in enumerate(upstream):
                if dep in first:
                    yield Finding(
                        self.name,
                        ctx.value_span("sheet", "dependencies", node, position),
                        f"{unit} {node} lists {dep} twice in its dependencies",
                        related=[(ctx.value_span("sheet", "dependencies", node, first[dep]), "first listed here")],
                        suggestion="remove the repeated entry",
                        fix=Fix.of(f"remove the repeated {dep}", "safe",
                                   ctx.remove_item("sheet", "dependencies", node, position)),
                    )
                else:
                    first[dep] = position


class NoSheets(Rule):
    """``start_item`` beyond ``total_items`` leaves the score without sheets.

    Marianne computes ``ceil((total_items - start_item + 1) / size)`` sheets
    and does not check the result: it can be zero or negative, and the job
    then does nothing.

    Failing::

        sheet:
          size: 1
          total_items: 3
          start_item: 10

    Passing::

        sheet:
          size: 1
          total_items: 12
          start_item: 10
    """

    code = "ML203"
    name = "no-sheets"
    severity = Severity.ERROR
    summary = "start_item lies beyond total_items, so the score has no sheets"

    def check(self, ctx: Context) -> Iterator[Finding]:
        sheet = ctx.score.sheet
        if sheet.total_sheets > 0:
            return
        yield Finding(
            self.name,
            ctx.first_span(("sheet", "start_item"), ("sheet", "total_items")),
            f"sheet.start_item ({sheet.start_item}) is beyond total_items ({sheet.total_items}), so the score "
            f"has {sheet.total_sheets} sheets and runs nothing",
            related=[(ctx.key_span("sheet", "total_items"), "total_items")],
        )


#: Sheet-numbered maps and where their keys live: (path to the map, description).
_SHEET_KEYED = (
    (("sheet", "descriptions"), "sheet.descriptions"),
    (("sheet", "cadenzas"), "sheet.cadenzas"),
    (("sheet", "prompt_extensions"), "sheet.prompt_extensions"),
    (("sheet", "spec_tags"), "sheet.spec_tags"),
    (("sheet", "per_sheet_instruments"), "sheet.per_sheet_instruments"),
    (("sheet", "per_sheet_instrument_config"), "sheet.per_sheet_instrument_config"),
    (("sheet", "per_sheet_fallbacks"), "sheet.per_sheet_fallbacks"),
    (("backend", "timeout_overrides"), "backend.timeout_overrides"),
    (("backend", "sheet_overrides"), "backend.sheet_overrides"),
)
_STAGE_KEYED = (
    (("sheet", "skip_when"), "sheet.skip_when"),
    (("sheet", "skip_when_command"), "sheet.skip_when_command"),
)


class SheetKeyOutOfRange(Rule):
    """A per-sheet setting names a sheet the score does not have, so it never applies.

    Marianne does not check the sheet numbers used as keys of ``descriptions``,
    ``cadenzas``, ``prompt_extensions``, ``spec_tags``, ``per_sheet_*``,
    ``backend.timeout_overrides``/``sheet_overrides``, the sheets listed in
    ``instrument_map`` and in checkpoint ``sheet_nums``, nor the stage keys of
    ``skip_when``/``skip_when_command`` (its own check V212 covers only those
    two, and only against the sheet count). With ``fan_out``, per-sheet maps
    use the sheet numbers after expansion while ``skip_when*`` use stages.

    Failing::

        sheet:
          size: 1
          total_items: 3
          cadenzas:
            5:
              - file: notes.md
                as: context

    Passing::

        sheet:
          size: 1
          total_items: 3
          cadenzas:
            3:
              - file: notes.md
                as: context
    """

    code = "ML204"
    name = "sheet-key-out-of-range"
    severity = Severity.WARNING
    summary = "a per-sheet setting names a sheet (or stage) that does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        total = facts.total_sheets
        if total <= 0:
            return  # no-sheets covers it
        data = ctx.data if isinstance(ctx.data, dict) else {}
        for path, label in _SHEET_KEYED:
            for key in _raw_keys(ctx, path):
                number = lax_int(key)
                if number is not None and not 1 <= number <= total:
                    yield Finding(
                        self.name,
                        ctx.key_span(*path, key),
                        f"{label} has an entry for sheet {number}, but the score has sheets 1-{total}; "
                        "it never applies" + _fan_hint(facts),
                    )
        stages = facts.total_stages
        for path, label in _STAGE_KEYED:
            for key in _raw_keys(ctx, path):
                number = lax_int(key)
                if number is not None and not 1 <= number <= stages:
                    unit = "stage" if facts.has_fan_out else "sheet"
                    yield Finding(
                        self.name,
                        ctx.key_span(*path, key),
                        f"{label} has an entry for {unit} {number}, but the score has {unit}s 1-{stages}; "
                        "it never applies",
                    )
        yield from self._listed_sheets(ctx, facts, data)

    def _listed_sheets(self, ctx: Context, facts: SheetFacts, data: dict[Any, Any]) -> Iterator[Finding]:
        total = facts.total_sheets
        sheet = data.get("sheet")
        mapping = sheet.get("instrument_map") if isinstance(sheet, dict) else None
        if isinstance(mapping, dict):
            for name, sheets in mapping.items():
                for position, value in enumerate(sheets if isinstance(sheets, list) else []):
                    number = lax_int(value)
                    if number is not None and not 1 <= number <= total:
                        yield Finding(
                            self.name,
                            ctx.value_span("sheet", "instrument_map", name, position),
                            f"sheet.instrument_map assigns sheet {number} to '{name}', but the score has sheets "
                            f"1-{total}" + _fan_hint(facts),
                        )
        checkpoints = data.get("checkpoints")
        triggers = checkpoints.get("triggers") if isinstance(checkpoints, dict) else None
        for index, trigger in enumerate(triggers if isinstance(triggers, list) else []):
            numbers = trigger.get("sheet_nums") if isinstance(trigger, dict) else None
            for position, value in enumerate(numbers if isinstance(numbers, list) else []):
                number = lax_int(value)
                if number is not None and not 1 <= number <= total:
                    yield Finding(
                        self.name,
                        ctx.value_span("checkpoints", "triggers", index, "sheet_nums", position),
                        f"checkpoint trigger {index + 1} names sheet {number}, but the score has sheets 1-{total}",
                    )


def _fan_hint(facts: SheetFacts) -> str:
    if facts.has_fan_out:
        return " (per-sheet settings use the sheet numbers after fan-out expansion)"
    return ""


def _raw_keys(ctx: Context, path: tuple[str, ...]) -> list[Any]:
    """The keys of the mapping at ``path`` as written."""
    value = ctx.raw(*path)
    return list(value) if isinstance(value, dict) else []


class MovementOutOfRange(Rule):
    """A ``movements`` entry names a stage the score does not have.

    Movement numbers are stage numbers (with fan-out, the stages before
    expansion; without it, the sheets). A movement beyond the last stage
    never applies.

    Failing::

        sheet: {size: 1, total_items: 2}
        movements:
          3: {name: Finale}

    Passing::

        sheet: {size: 1, total_items: 3}
        movements:
          3: {name: Finale}
    """

    code = "ML205"
    name = "movement-out-of-range"
    severity = Severity.WARNING
    summary = "a movement names a stage the score does not have"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        stages = facts.total_stages
        for key in _raw_keys(ctx, ("movements",)):
            number = lax_int(key)
            if number is not None and number > stages >= 1:
                yield Finding(
                    self.name,
                    ctx.key_span("movements", key),
                    f"movement {number} does not exist: the score has {stages} stage(s), so it never applies",
                )


class FanOutWithoutDependencies(Rule):
    """Fan-out is used but ``sheet.dependencies`` is empty (Marianne's V206).

    Without dependencies Marianne runs the stages in order, each waiting for
    all instances of the previous stage, which is usually what is meant; the
    dependencies make that order explicit and let independent stages overlap.
    Covers ``mzt validate`` check V206 (a warning there).

    Failing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}

    Passing::

        sheet:
          size: 1
          total_items: 3
          fan_out: {2: 3}
          dependencies: {2: [1], 3: [2]}
    """

    code = "ML206"
    name = "fan-out-without-dependencies"
    severity = Severity.INFO
    summary = "fan-out without explicit dependencies (stages run in order)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        sheet = ctx.score.sheet
        if sheet.fan_out_stage_map is not None and not sheet.dependencies:
            yield Finding(
                self.name,
                ctx.first_span(("sheet", "fan_out"), ("sheet", "fan_out_stage_map")),
                "fan_out is used without sheet.dependencies; the stages run one after another",
                suggestion="declare the stage order in sheet.dependencies",
            )


class FanOutWithoutParallel(Rule):
    """Fan-out instances run one at a time because ``parallel`` is not enabled (Marianne's V207).

    Covers ``mzt validate`` check V207.

    Failing::

        sheet: {size: 1, total_items: 2, fan_out: {2: 4}}

    Passing::

        sheet: {size: 1, total_items: 2, fan_out: {2: 4}}
        parallel:
          enabled: true
    """

    code = "ML207"
    name = "fan-out-without-parallel"
    severity = Severity.INFO
    summary = "fan-out is used but parallel execution is disabled"

    def check(self, ctx: Context) -> Iterator[Finding]:
        model = ctx.score
        if model.sheet.fan_out_stage_map is not None and not model.parallel.enabled:
            yield Finding(
                self.name,
                ctx.first_span(("parallel", "enabled"), ("parallel",), ("sheet", "fan_out")),
                "fan_out is used but parallel.enabled is false, so the instances of a stage run one at a time",
                suggestion="set parallel.enabled: true",
            )


class VoicesIgnored(Rule):
    """``movements.N.voices`` is accepted but has no effect.

    It reads like a shorthand for ``fan_out: {N: voices}``, but Marianne never
    applies it: the sheet count stays the same. Use ``sheet.fan_out``.

    Failing::

        movements:
          2: {voices: 3}

    Passing::

        sheet:
          fan_out: {2: 3}
    """

    code = "ML208"
    name = "voices-ignored"
    severity = Severity.WARNING
    summary = "movements.N.voices has no effect; use sheet.fan_out"

    def check(self, ctx: Context) -> Iterator[Finding]:
        model = ctx.score
        for number, movement in model.movements.items():
            if movement.voices is not None:
                fan = model.sheet._input_fan_out.get(number)
                if fan == movement.voices:
                    continue  # it restates the fan-out
                yield Finding(
                    self.name,
                    ctx.key_span("movements", number, "voices"),
                    f"movements.{number}.voices ({movement.voices}) has no effect; Marianne does not fan out "
                    "from it",
                    suggestion=f"use sheet.fan_out: {{{number}: {movement.voices}}}",
                )


class StageWithoutDependency(Rule):
    """``sheet.dependencies`` is given, but a later stage has no entry, so it starts at once.

    When ``sheet.dependencies`` is empty Marianne runs the stages in order. As soon as it has one
    entry it is the whole graph: a stage it does not list has no prerequisite at all, and with
    ``parallel.enabled`` its sheets start beside stage 1, before the work they build on exists.
    Marianne's score-writing guide says to list every stage once dependencies are used. Reported
    for an unlisted stage when no stage waits for the one before it (the forgotten ``k: [k-1]``);
    independent stages that a later stage joins (``4: [1, 2, 3]``) are left alone.

    Failing::

        sheet:
          size: 1
          total_items: 3
          dependencies: {3: [2]}
        parallel:
          enabled: true

    Passing::

        sheet:
          size: 1
          total_items: 3
          dependencies: {2: [1], 3: [2]}
        parallel:
          enabled: true
    """

    code = "ML209"
    name = "stage-without-dependency"
    severity = Severity.WARNING
    summary = "sheet.dependencies leaves a later stage out, so that stage starts at once in parallel"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        written = facts.stage_dependencies
        parallel = getattr(ctx.score.parallel, "enabled", False)
        if not written or not parallel or facts.total_stages > 10_000:
            return
        waited_for = {prerequisite for listed in written.values() for prerequisite in listed}
        # An unlisted stage whose predecessor nothing waits for reads as a forgotten 'k: [k-1]'
        # (independent stages that a later one joins, 1-3 feeding 4, are deliberate).
        missing = [stage for stage in range(2, facts.total_stages + 1)
                   if stage not in written and stage - 1 not in waited_for]
        if not missing:
            return
        shown = f"stage {missing[0]}" if len(missing) == 1 else f"stages {sheet_list(missing)}"
        yield Finding(
            self.name,
            ctx.key_span("sheet", "dependencies"),
            f"sheet.dependencies has no entry for {shown}, and no stage waits for the one before: once "
            "dependencies are given, an unlisted stage has no prerequisite, so with parallel.enabled it starts "
            "at once, beside stage 1",
            suggestion=f"add '{missing[0]}: [{missing[0] - 1}]' (or the stages it needs) to sheet.dependencies",
        )


#: Settings keyed by sheet number (after fan-out), as a data path under the score.
_PER_SHEET_MAPS: tuple[tuple[str, ...], ...] = (
    ("sheet", "per_sheet_instruments"),
    ("sheet", "per_sheet_instrument_config"),
    ("sheet", "per_sheet_fallbacks"),
    ("backend", "timeout_overrides"),
    ("backend", "sheet_overrides"),
    ("sheet", "cadenzas"),
    ("sheet", "descriptions"),
)


class SheetMapSplitsStage(Rule):
    """A per-sheet setting written with stage numbers covers only part of a fanned-out stage.

    ``sheet.per_sheet_instruments``, ``per_sheet_instrument_config``, ``per_sheet_fallbacks``,
    ``sheet.cadenzas``, ``sheet.descriptions``, ``backend.timeout_overrides`` and
    ``backend.sheet_overrides`` are keyed by sheet number after fan-out. With
    ``fan_out: {1: 3}``, ``per_sheet_instruments: {1: gemini-cli}`` puts only the first voice of
    stage 1 on gemini-cli; the other two stay on the default. With ``fan_out: {2: 3}`` over three
    stages, ``cadenzas: {3: ...}`` meant for the synthesis stage 3 reaches the second voice of
    stage 2 (stage 3 is sheet 5). Reported when every number such a setting names is at most the
    stage count and one of them is a stage's number whose sheet, after fan-out, is another stage's
    or the first voice of its own fanned-out stage (``sheet.instrument_map``, made to pick single
    sheets, is left alone); ``movements.N`` sets a whole stage. Misplaced ``descriptions`` only
    mislabel sheets in status output: info.

    Source: the failure-mode table of Marianne's score-composition guide (per-sheet maps after
    fan-out).

    Failing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
          per_sheet_instruments: {1: gemini-cli}

    Passing::

        sheet:
          size: 1
          total_items: 2
          fan_out: {1: 3}
        movements:
          1: {instrument: gemini-cli}
    """

    code = "ML210"
    name = "sheet-map-splits-stage"
    severity = Severity.WARNING
    summary = "a per-sheet setting names stage numbers, but after fan-out it reaches only part of a stage"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        if not facts.has_fan_out:
            return
        places: list[tuple[tuple[Any, ...], str, list[int]]] = []
        for path in _PER_SHEET_MAPS:
            mapping = ctx.raw(*path)
            if isinstance(mapping, dict):
                numbers = [k for k in mapping if isinstance(k, int) and not isinstance(k, bool)]
                places.append((path, ".".join(path), numbers))
        for path, label, numbers in places:
            if not numbers or max(numbers) > facts.total_stages:
                continue
            chosen = set(numbers)
            for number in sorted(chosen):
                meta = facts.metas.get(number)
                if meta is not None and meta.stage != number:
                    # stage ``number`` moved: an earlier stage's voices took its sheet number
                    stage_sheets = facts.sheets_of_stage(number)
                    if not stage_sheets:
                        continue
                    voice = f"voice {meta.instance} of stage {meta.stage}" if meta.fan_count > 1 else (
                        f"stage {meta.stage}")
                    yield Finding(
                        self.name,
                        ctx.key_span(*path, number) if ctx.exists(*path, number) else ctx.key_span(*path),
                        f"{label} names sheet {number}, which after fan-out is {voice}; stage {number} is now "
                        f"{'sheet' if len(stage_sheets) == 1 else 'sheets'} {sheet_list(stage_sheets)}: the "
                        "setting reaches another stage than its number suggests",
                        suggestion=f"key it by the sheet number after fan-out ({sheet_list(stage_sheets)}), or set the "
                                   f"stage under movements.{number}",
                        severity=Severity.INFO if path == ("sheet", "descriptions") else None,
                    )
                    break
                if meta is None or meta.fan_count <= 1 or meta.stage != number:
                    continue  # only a key that is its stage's number and its first voice reads as a stage
                stage_sheets = facts.sheets_of_stage(meta.stage)
                if set(stage_sheets) <= chosen:
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span(*path),
                    f"{label} names sheet {number}, which after fan-out is voice {meta.instance} of the "
                    f"{meta.fan_count} sheets of stage {meta.stage} ({sheet_list(stage_sheets)}): the other "
                    "voices keep the default",
                    suggestion=f"set the whole stage under movements.{meta.stage}, or list every sheet of it",
                    severity=Severity.INFO if path == ("sheet", "descriptions") else None,
                )
                break


class ParallelWithoutIndependentSheets(Rule):
    """``parallel.enabled`` is on, but no two sheets can ever run at the same time.

    With no ``sheet.dependencies``, Marianne chains the stages: every sheet of stage k+1 waits for
    every sheet of stage k, so only the voices of one fanned-out stage can run together. A score
    without dependencies and without fan-out therefore runs one sheet after another whatever
    ``parallel`` says. Declare the dependencies (stages left out of a non-empty map start at
    once), or fan a stage out. Source: the parallel execution section of Marianne's plugin
    patterns reference and the conductor's dependency rules.

    Failing::

        sheet:
          size: 1
          total_items: 3
        parallel:
          enabled: true

    Passing::

        sheet:
          size: 1
          total_items: 3
          dependencies: {3: [1, 2]}
        parallel:
          enabled: true
    """

    code = "ML211"
    name = "parallel-without-independent-sheets"
    severity = Severity.WARNING
    summary = "parallel is enabled, but without dependencies or fan-out the stages run one after another"

    def check(self, ctx: Context) -> Iterator[Finding]:
        model = ctx.score
        facts = sheet_facts(ctx)
        if not model.parallel.enabled or model.sheet.dependencies or facts.has_fan_out or facts.total_sheets < 2:
            return
        yield Finding(
            self.name,
            ctx.key_span("parallel", "enabled") if ctx.exists("parallel", "enabled") else ctx.key_span("parallel"),
            "parallel.enabled is true, but the score declares no sheet.dependencies and no fan_out: Marianne then "
            "runs each stage after the one before, so no two sheets ever run at the same time",
            suggestion="declare sheet.dependencies for the stages that can run together, or fan a stage out",
        )
