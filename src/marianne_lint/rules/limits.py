"""ML3xx: limits and timing (thresholds, timeouts, retries, costs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.rules.base import Context, Rule
from marianne_lint.rules.support.sheets import sheet_facts, sheet_list


class InvertedTokenThresholds(Rule):
    """The conductor's prompt-size warning threshold is not below its error threshold.

    ``preflight.token_warning_threshold`` must be strictly lower than
    ``token_error_threshold`` when both are above 0 (0 turns a threshold
    off); Marianne's conductor refuses the config otherwise. Reported at the
    warning threshold, with the error threshold as a related location.

    Failing::

        preflight:
          token_warning_threshold: 150000
          token_error_threshold: 150000

    Passing::

        preflight:
          token_warning_threshold: 50000
          token_error_threshold: 150000
    """

    code = "ML301"
    name = "inverted-token-thresholds"
    severity = Severity.ERROR
    summary = "preflight token_warning_threshold is not below token_error_threshold"
    kinds = ("conductor",)
    reported_by = "the structure step"


def _seconds(value: float) -> str:
    return f"{value:g} s"


class IdleTimeoutTooShort(Rule):
    """Stale detection is on with an idle timeout so short that it kills healthy sheets.

    An AI instrument often stays silent for minutes while it thinks or runs a
    long tool call. With ``stale_detection`` enabled and
    ``idle_timeout_seconds`` below the floor (option
    ``min-idle-timeout-seconds``, default 120), such sheets are failed as
    "stale" although they are working.

    Failing::

        stale_detection:
          enabled: true
          idle_timeout_seconds: 60
          check_interval_seconds: 10

    Passing::

        stale_detection:
          enabled: true
          idle_timeout_seconds: 600
          check_interval_seconds: 30
    """

    code = "ML302"
    name = "idle-timeout-too-short"
    fixable = "unsafe"
    fix_summary = "raise the timeout to the configured floor"
    severity = Severity.WARNING
    summary = "stale detection would kill sheets after less than two minutes of silence"
    options: ClassVar[dict[str, Any]] = {"min-idle-timeout-seconds": 120.0}

    def check(self, ctx: Context) -> Iterator[Finding]:
        stale = ctx.score.stale_detection
        floor = float(ctx.option("min-idle-timeout-seconds", 120.0))
        if stale.enabled and stale.idle_timeout_seconds < floor:
            yield Finding(
                self.name,
                ctx.first_span(("stale_detection", "idle_timeout_seconds"), ("stale_detection",)),
                f"stale_detection.idle_timeout_seconds is {_seconds(stale.idle_timeout_seconds)}: a sheet silent "
                f"for that long is failed as stale, and AI instruments are often silent for minutes while "
                f"working (floor: {_seconds(floor)})",
                related=[(ctx.key_span("stale_detection", "enabled"), "stale detection is enabled here")],
                suggestion=f"raise idle_timeout_seconds to at least {floor:g}",
                fix=self._raise(ctx, floor),
            )

    @staticmethod
    def _raise(ctx: Context, floor: float) -> Fix | None:
        found = ctx.at("stale_detection", "idle_timeout_seconds")
        value = found.value
        if not found.exists or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        node = ctx.node("stale_detection", "idle_timeout_seconds")
        if node is None or node.style is not None or node.text is None:
            return None
        return Fix.of(f"raise idle_timeout_seconds to {floor:g}", "unsafe",
                      ctx.edits.replace_token(node.span, node.text, f"{floor:g}"))


def sheet_timeouts(model: Any, sheets: list[int]) -> dict[int, float]:
    """The execution timeout of each sheet: backend default, then per-sheet overrides."""
    backend = model.backend
    out: dict[int, float] = {}
    for sheet in sheets:
        timeout = float(backend.timeout_seconds)
        if sheet in backend.timeout_overrides:
            timeout = float(backend.timeout_overrides[sheet])
        override = backend.sheet_overrides.get(sheet)
        if override is not None and override.timeout_seconds is not None:
            timeout = float(override.timeout_seconds)
        out[sheet] = timeout
    return out


def _instrument_timeouts(model: Any) -> list[float]:
    """``timeout_seconds`` values given through instrument config anywhere in the score."""
    found: list[float] = []
    configs: list[Any] = [model.instrument_config]
    configs += [movement.instrument_config for movement in model.movements.values()]
    configs += [alias.config for alias in model.instruments.values()]
    configs += list(model.sheet.per_sheet_instrument_config.values())
    for config in configs:
        value = config.get("timeout_seconds") if isinstance(config, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(float(value))
    return found


class StaleDetectionNeverFires(Rule):
    """Stale detection is on, but every sheet times out before it could fire.

    A sheet is stopped when its execution timeout (``backend.timeout_seconds``
    or its per-sheet override) runs out. When ``idle_timeout_seconds`` is not
    below that timeout, a silent sheet reaches the timeout first and stale
    detection never triggers.

    Failing::

        backend:
          timeout_seconds: 600
        stale_detection:
          enabled: true
          idle_timeout_seconds: 900

    Passing::

        backend:
          timeout_seconds: 1800
        stale_detection:
          enabled: true
          idle_timeout_seconds: 600
    """

    code = "ML303"
    name = "stale-detection-never-fires"
    severity = Severity.WARNING
    summary = "the idle timeout is not below the sheet timeout, so stale detection never fires"

    def check(self, ctx: Context) -> Iterator[Finding]:
        model = ctx.score
        stale = model.stale_detection
        if not stale.enabled:
            return
        facts = sheet_facts(ctx)
        timeouts = sheet_timeouts(model, list(facts.metas))
        if not timeouts:
            return
        ceiling = max(_instrument_timeouts(model), default=0.0)
        never = [n for n, t in timeouts.items() if stale.idle_timeout_seconds >= max(t, ceiling)]
        if not never:
            return
        scope = "every sheet" if len(never) == len(timeouts) else f"sheets {sheet_list(never)}"
        limit = f"backend.timeout_seconds and its overrides give {_seconds(max(timeouts[n] for n in never))}"
        if ceiling:
            limit += f", instrument config sets timeout_seconds up to {_seconds(ceiling)}"
        yield Finding(
            self.name,
            ctx.first_span(("stale_detection", "idle_timeout_seconds"), ("stale_detection", "enabled")),
            f"stale_detection.idle_timeout_seconds ({_seconds(stale.idle_timeout_seconds)}) is not below the time "
            f"limit of {scope} ({limit}); a silent sheet reaches its time limit first, so stale detection never "
            "fires",
            related=[(ctx.first_span(("backend", "timeout_seconds"), ("backend",)), "the sheet timeout")],
            suggestion="lower idle_timeout_seconds below the sheet timeout",
        )


class ShortSheetTimeout(Rule):
    """``backend.timeout_seconds`` is under a minute (Marianne's V103).

    Every sheet is stopped after this many seconds; AI instruments rarely
    finish real work that fast. Covers ``mzt validate`` check V103 (60 s
    itself is fine), and the same setting written as
    ``instrument_config.timeout_seconds`` (which V103 does not read).

    Failing::

        backend:
          timeout_seconds: 30

    Passing::

        backend:
          timeout_seconds: 1800
    """

    code = "ML304"
    name = "short-sheet-timeout"
    severity = Severity.WARNING
    summary = "backend.timeout_seconds (or instrument_config.timeout_seconds) is under 60 seconds"

    def check(self, ctx: Context) -> Iterator[Finding]:
        timeout = float(ctx.score.backend.timeout_seconds)
        if timeout < 60:
            yield Finding(
                self.name,
                ctx.first_span(("backend", "timeout_seconds"), ("backend",)),
                f"backend.timeout_seconds is {_seconds(timeout)}; every sheet is stopped after that, which is "
                "very short for an AI instrument",
                suggestion="use at least 60 seconds",
            )
        config = ctx.raw("instrument_config")
        written = config.get("timeout_seconds") if isinstance(config, dict) else None
        if isinstance(written, (int, float)) and not isinstance(written, bool) and 0 < written < 60:
            yield Finding(
                self.name,
                ctx.value_span("instrument_config", "timeout_seconds"),
                f"instrument_config.timeout_seconds is {_seconds(float(written))}; every sheet is stopped after "
                "that, which is very short for an AI instrument",
                suggestion="use at least 60 seconds",
            )


class LongSheetTimeout(Rule):
    """``backend.timeout_seconds`` is over two hours (Marianne's V104).

    A hung sheet then blocks its job for hours before it is stopped. Covers
    ``mzt validate`` check V104 (7200 s itself is fine).

    Failing::

        backend:
          timeout_seconds: 36000

    Passing::

        backend:
          timeout_seconds: 3600
    """

    code = "ML305"
    name = "long-sheet-timeout"
    severity = Severity.INFO
    summary = "backend.timeout_seconds is over two hours"

    def check(self, ctx: Context) -> Iterator[Finding]:
        timeout = float(ctx.score.backend.timeout_seconds)
        if timeout > 7200:
            yield Finding(
                self.name,
                ctx.key_span("backend", "timeout_seconds"),
                f"backend.timeout_seconds is {_seconds(timeout)} ({timeout / 3600:.1f} h); a hung sheet blocks "
                "the job that long",
            )


class SheetCostAboveJobCost(Rule):
    """The per-sheet cost ceiling is above the whole job's ceiling.

    The job limit is reached first, so the sheet limit can never apply.

    Failing::

        cost_limits:
          max_cost_per_sheet: 20
          max_cost_per_job: 10

    Passing::

        cost_limits:
          max_cost_per_sheet: 2
          max_cost_per_job: 10
    """

    code = "ML306"
    name = "sheet-cost-above-job-cost"
    severity = Severity.WARNING
    summary = "max_cost_per_sheet is above max_cost_per_job"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cost = ctx.score.cost_limits
        if cost.max_cost_per_sheet is None or cost.max_cost_per_job is None:
            return
        if cost.max_cost_per_sheet > cost.max_cost_per_job:
            yield Finding(
                self.name,
                ctx.key_span("cost_limits", "max_cost_per_sheet"),
                f"cost_limits.max_cost_per_sheet (${cost.max_cost_per_sheet:g}) is above max_cost_per_job "
                f"(${cost.max_cost_per_job:g}); the job limit always stops first",
                related=[(ctx.key_span("cost_limits", "max_cost_per_job"), "the job limit")],
            )


class CostLimitsOff(Rule):
    """Cost limits are written but switched off with ``enabled: false``.

    Marianne turns cost limits on by itself when a limit is set and
    ``enabled`` is absent, but an explicit ``enabled: false`` wins: the
    limits are then ignored and nothing caps the spend.

    Failing::

        cost_limits:
          enabled: false
          max_cost_per_job: 25

    Passing::

        cost_limits:
          max_cost_per_job: 25
    """

    code = "ML307"
    name = "cost-limits-disabled"
    fixable = "unsafe"
    fix_summary = "delete `enabled: false` so the limits are enforced"
    severity = Severity.WARNING
    summary = "cost limits are set but enabled: false switches them off"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cost = ctx.score.cost_limits
        if cost.enabled:
            return
        limits = [key for key in ("max_cost_per_sheet", "max_cost_per_job") if getattr(cost, key) is not None]
        if limits and ctx.exists("cost_limits", "enabled"):
            yield Finding(
                self.name,
                ctx.key_span("cost_limits", "enabled"),
                f"cost_limits.enabled is false, so {' and '.join(limits)} will not be enforced",
                related=[(ctx.key_span("cost_limits", key), "ignored limit") for key in limits],
                suggestion="remove `enabled: false` (limits turn cost tracking on by themselves)",
                fix=Fix.of("remove `enabled: false`", "unsafe", ctx.remove_key("cost_limits", "enabled")),
            )


class CircuitBreakerIgnoredSetting(Rule):
    """``honor_other_jobs_rate_limits`` is silently turned off.

    Marianne forces ``circuit_breaker.honor_other_jobs_rate_limits`` to false
    when ``cross_workspace_coordination`` is false, because other jobs'
    rate-limit events are only shared through that coordination.

    Failing::

        circuit_breaker:
          cross_workspace_coordination: false
          honor_other_jobs_rate_limits: true

    Passing::

        circuit_breaker:
          cross_workspace_coordination: true
          honor_other_jobs_rate_limits: true
    """

    code = "ML308"
    name = "circuit-breaker-ignored-setting"
    severity = Severity.WARNING
    summary = "honor_other_jobs_rate_limits has no effect without cross_workspace_coordination"

    def check(self, ctx: Context) -> Iterator[Finding]:
        data = ctx.data.get("circuit_breaker") if isinstance(ctx.data, dict) else None
        if not isinstance(data, dict) or data.get("honor_other_jobs_rate_limits") is not True:
            return
        breaker: Any = ctx.score.circuit_breaker
        if not breaker.cross_workspace_coordination:
            yield Finding(
                self.name,
                ctx.key_span("circuit_breaker", "honor_other_jobs_rate_limits"),
                "circuit_breaker.honor_other_jobs_rate_limits is forced off because cross_workspace_coordination "
                "is false",
                related=[(ctx.key_span("circuit_breaker", "cross_workspace_coordination"), "coordination is off")],
            )


#: Test and build runners: quiet for minutes while they work, and long enough to pass a timeout.
_RUNNERS = (r"pytest|tox|nox|cargo (?:test|build)|go test|npm (?:run )?test|pnpm test|yarn test|"
            r"make (?:test|check|build|all)|mvn (?:test|verify|package)|gradle (?:test|build)|ctest|bazel test")

#: What a prompt names when it has the agent run such tools (prose too: "run the test suite").
_SILENT_TOOLS = re.compile(rf"\b({_RUNNERS}|mypy|(?:full |whole |entire )?test suite|type[- ]?checker|"
                           r"run the tests)\b", re.I)


class IdleTimeoutShortForSilentTools(Rule):
    """Stale detection is set below 30 minutes while the prompt has the agent run test or build tools.

    Stale detection counts only output: a sheet whose agent waits on ``pytest``, ``mypy``, a build
    or a long test suite prints nothing meanwhile, and once ``idle_timeout_seconds`` passes the
    whole process group is killed as stale and the sheet retried, often to be killed again at
    the same point. Marianne's plugin reference and its stale-liveness incident notes recommend
    at least 1800 seconds for sheets that run verification.

    Failing::

        stale_detection:
          enabled: true
          idle_timeout_seconds: 300
        prompt:
          template: "Fix the failing tests, then run pytest -q until it passes."

    Passing::

        stale_detection:
          enabled: true
          idle_timeout_seconds: 1800
        prompt:
          template: "Fix the failing tests, then run pytest -q until it passes."
    """

    code = "ML309"
    name = "idle-timeout-short-for-silent-tools"
    severity = Severity.WARNING
    summary = "stale detection under 30 minutes while the prompt runs silent tools (pytest, mypy, builds)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.prompt_sources import prompt_sources

        stale = ctx.score.stale_detection
        floor = float(ctx.option("min-idle-timeout-seconds", 120.0))
        if not stale.enabled or not floor <= stale.idle_timeout_seconds < 1800:
            return  # below the floor idle-timeout-too-short speaks
        for source in prompt_sources(ctx):
            match = _SILENT_TOOLS.search(source.text)
            if match is None:
                continue
            yield Finding(
                self.name,
                ctx.first_span(("stale_detection", "idle_timeout_seconds"), ("stale_detection",)),
                f"stale_detection.idle_timeout_seconds is {_seconds(stale.idle_timeout_seconds)}, and the prompt "
                f"has the agent run '{match.group(0)}', which can be silent for longer: the sheet is killed as "
                "stale while the tool still works",
                suggestion="raise idle_timeout_seconds to 1800 or more for sheets that run verification",
            )
            return


#: A command that starts a runner (``make`` alone counts: a command is not prose).
_LONG_RUNNERS = re.compile(rf"(?:^|[\s;&|(])({_RUNNERS}|make|mvn|gradle)\b")


class CommandTimeoutDefault(Rule):
    """A ``command_succeeds`` validation runs a test or build suite with the default timeout.

    A validation command is stopped after ``timeout_seconds``, 3600 seconds when it is not set.
    A suite that takes longer is killed, the validation fails and the sheet is retried, however
    good the work. Set ``timeout_seconds`` to what the suite needs. Marianne's validation-patterns
    guide and its plugin reference list this.

    Failing::

        validations:
          - type: command_succeeds
            command: "cd {workspace} && pytest -q"

    Passing::

        validations:
          - type: command_succeeds
            command: "cd {workspace} && pytest -q"
            timeout_seconds: 7200
    """

    code = "ML310"
    name = "command-timeout-default"
    severity = Severity.INFO
    summary = "a command_succeeds validation runs a test or build suite with the default 3600 s timeout"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.validations import commands

        for index, rule, command in commands(ctx):
            match = None if rule.timeout_seconds else _LONG_RUNNERS.search(command)
            if match is None:
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "command"),
                f"validation #{index + 1} runs '{match.group(1)}' without timeout_seconds: it is stopped after "
                "3600 s, and a longer suite then fails the sheet whatever its result",
                suggestion="set timeout_seconds to what the suite needs",
            )
