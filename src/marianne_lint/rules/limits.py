"""ML3xx: limits and timing (thresholds, timeouts, retries, costs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from marianne_lint.diagnostics import Edit, Finding, Fix, Severity
from marianne_lint.reading.positions import Span
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


#: What Marianne's shipped claude-code profile charges per 1,000 input and output tokens for its
#: Opus models; its Sonnet prices are cost_limits' defaults, its Haiku prices are lower.
_OPUS_RATES = (0.015, 0.075)
#: The legacy backend's model fields (the instrument's ``model`` is read from every instrument_config).
_BACKEND_MODELS = ("cli_model", "model")


def _models(ctx: Context) -> list[tuple[tuple[Any, ...], str]]:
    """(data path, model) of every model the score writes: each instrument_config (top level,
    movements, aliases, per sheet) and the legacy backend's."""
    from marianne_lint.rules.instruments import instrument_config_places

    out = [((*path, "model"), mapping["model"]) for path, _label, mapping in instrument_config_places(ctx)
           if isinstance(mapping.get("model"), str) and mapping["model"]]
    for key in _BACKEND_MODELS:
        value = ctx.raw("backend", key)
        if isinstance(value, str) and value:
            out.append((("backend", key), value))
    return out


class CostRatesBelowModel(Rule):
    """Cost limits are estimated at Sonnet's prices while the score runs an Opus model.

    Cost limits are checked against an estimate made from the tokens a sheet used and
    ``cost_limits.cost_per_1k_input_tokens`` / ``cost_per_1k_output_tokens``, which default to
    $0.003 and $0.015 (Sonnet's prices). Marianne's own claude-code profile prices its Opus models at
    $0.015 and $0.075, five times more: with the default rates a limit of $10 lets the job spend
    about $50 before it stops. Set the rates to the model's prices. Source: the cost_limits section
    of Marianne's configuration reference (rates left at the defaults for another model).

    Failing::

        instrument: claude-code
        instrument_config:
          model: claude-opus-4-6
        cost_limits:
          max_cost_per_job: 10

    Passing::

        instrument: claude-code
        instrument_config:
          model: claude-opus-4-6
        cost_limits:
          max_cost_per_job: 10
          cost_per_1k_input_tokens: 0.015
          cost_per_1k_output_tokens: 0.075
    """

    code = "ML311"
    name = "cost-rates-below-model"
    severity = Severity.WARNING
    summary = "cost limits are estimated at rates below the prices of the Opus model the score runs"

    def check(self, ctx: Context) -> Iterator[Finding]:
        cost = ctx.score.cost_limits
        if not cost.enabled or (cost.max_cost_per_sheet is None and cost.max_cost_per_job is None):
            return
        rates = (cost.cost_per_1k_input_tokens, cost.cost_per_1k_output_tokens)
        if rates[0] >= _OPUS_RATES[0] and rates[1] >= _OPUS_RATES[1]:
            return
        opus = [(path, model) for path, model in _models(ctx) if "opus" in model.lower()]
        if not opus:
            return
        path, model = opus[0]
        written = [key for key in ("cost_per_1k_input_tokens", "cost_per_1k_output_tokens")
                   if ctx.exists("cost_limits", key)]
        factor = max(_OPUS_RATES[0] / rates[0], _OPUS_RATES[1] / rates[1])
        shown = "the default rates" if not written else "cost_limits' rates"
        yield Finding(
            self.name,
            ctx.key_span("cost_limits", written[0]) if written else ctx.key_span("cost_limits"),
            f"costs are estimated at ${rates[0]:g}/${rates[1]:g} per 1,000 input/output tokens ({shown}), but the "
            f"score runs {model}, which Marianne's claude-code profile prices at ${_OPUS_RATES[0]:g}/"
            f"${_OPUS_RATES[1]:g}: the job can spend about {factor:.0f} times its cost limit before it stops",
            related=[(ctx.key_span(*path), "the Opus model")],
            suggestion=f"set cost_per_1k_input_tokens: {_OPUS_RATES[0]:g} and cost_per_1k_output_tokens: "
                       f"{_OPUS_RATES[1]:g}",
        )


#: The smallest cost limit an AI sheet can live with: the first call of an agent (its system prompt and
#: tool definitions, tens of thousands of tokens) alone costs several cents.
_SMALLEST_SHEET_COST = 0.10


class CostLimitTooSmall(Rule):
    """A cost limit below ten cents per sheet stops the job at its first AI call.

    An agent's first call sends its system prompt and tool definitions, tens of thousands of
    tokens: a few cents before any work is done, and a real sheet costs tens of cents to dollars.
    A ``max_cost_per_sheet`` under $0.10, or a ``max_cost_per_job`` under $0.10 per sheet, makes
    Marianne stop the sheet (or the job) as over budget before it produces anything. Marianne's
    guides advise generous limits on a first run, tightened from the costs it reports. Sheets on
    the ``cli`` instrument (a shell, no tokens) are left alone.

    Failing::

        instrument: claude-code
        cost_limits:
          max_cost_per_sheet: 0.01

    Passing::

        instrument: claude-code
        cost_limits:
          max_cost_per_sheet: 2.00
    """

    code = "ML312"
    name = "cost-limit-too-small"
    severity = Severity.WARNING
    summary = "a cost limit under $0.10 per AI sheet stops the job before any work is done"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.instruments import sheet_instruments

        cost = ctx.score.cost_limits
        if not cost.enabled:
            return
        ai = [number for number, used in sheet_instruments(ctx).items() if used.profile != "cli"]
        if not ai:
            return
        per_sheet = cost.max_cost_per_sheet
        if per_sheet is not None and per_sheet < _SMALLEST_SHEET_COST:
            yield Finding(
                self.name,
                ctx.key_span("cost_limits", "max_cost_per_sheet"),
                f"cost_limits.max_cost_per_sheet is ${per_sheet:g}: an AI sheet spends more than that on its first "
                "call (the agent's system prompt and tools), so every sheet is stopped as over budget",
                suggestion="start with a generous limit (a few dollars) and tighten it from the costs Marianne reports",
            )
        per_job = cost.max_cost_per_job
        if per_job is not None and per_job < _SMALLEST_SHEET_COST * len(ai):
            yield Finding(
                self.name,
                ctx.key_span("cost_limits", "max_cost_per_job"),
                f"cost_limits.max_cost_per_job is ${per_job:g} for {len(ai)} AI sheet{'s' if len(ai) != 1 else ''}, "
                f"under ${_SMALLEST_SHEET_COST:.2f} a sheet: the job is stopped as over budget before it finishes",
                suggestion="start with a generous limit and tighten it from the costs Marianne reports",
            )


#: A sheet's timeout when neither the score nor the instrument sets one (``backend.timeout_seconds``).
_DEFAULT_SHEET_TIMEOUT = 1800.0


class JobTimeoutBelowSheetTimeout(Rule):
    """The conductor stops every job sooner than a single sheet's default timeout.

    ``job_timeout_seconds`` is the wall-clock time the conductor gives a whole job, waiting and
    retries included. A sheet may run for 1,800 seconds by default before its own timeout; a job
    limit below that kills a job in the middle of its first long sheet, although no sheet timed
    out, and every score of the conductor is cut short. Keep the job limit far above the sheet
    timeouts (the default is 24 hours). Source: Marianne's conductor guide and the plugin's
    command reference (job timeouts against sheet timeouts).

    Failing::

        job_timeout_seconds: 900

    Passing::

        job_timeout_seconds: 86400
    """

    code = "ML313"
    name = "job-timeout-below-sheet-timeout"
    severity = Severity.WARNING
    summary = "the conductor's job_timeout_seconds is below a sheet's default 1,800 s timeout"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        limit = getattr(ctx.model, "job_timeout_seconds", None)
        if not ctx.exists("job_timeout_seconds") or not isinstance(limit, (int, float)):
            return
        if limit < _DEFAULT_SHEET_TIMEOUT:
            yield Finding(
                self.name,
                ctx.key_span("job_timeout_seconds"),
                f"job_timeout_seconds is {_seconds(limit)}, less than the {_seconds(_DEFAULT_SHEET_TIMEOUT)} one sheet "
                "may run by default: the conductor kills jobs in the middle of their work, retries and waits included",
                suggestion="keep job_timeout_seconds well above the sheets' timeouts (default 86400)",
            )


class SheetCapBelowJobCap(Rule):
    """The conductor admits more jobs at once than it lets sheets run.

    ``max_concurrent_jobs`` jobs are started together, but only ``max_concurrent_sheets`` sheets
    run at a time across all of them: with fewer sheet slots than jobs, admitted jobs sit idle
    waiting for a slot while their ``job_timeout_seconds`` runs, and a cap of one sheet runs every
    fan-out of every score one voice after another. Source: the operating playbook of Marianne's
    plugin (the global sheet ceiling is enforced).

    Failing::

        max_concurrent_jobs: 10
        max_concurrent_sheets: 1

    Passing::

        max_concurrent_jobs: 10
        max_concurrent_sheets: 25
    """

    code = "ML314"
    name = "sheet-cap-below-job-cap"
    severity = Severity.INFO
    summary = "max_concurrent_sheets is below max_concurrent_jobs: admitted jobs wait idle for a sheet slot"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        jobs = getattr(ctx.model, "max_concurrent_jobs", None)
        sheets = getattr(ctx.model, "max_concurrent_sheets", None)
        if not isinstance(jobs, int) or not isinstance(sheets, int) or sheets >= jobs:
            return
        if not (ctx.exists("max_concurrent_sheets") or ctx.exists("max_concurrent_jobs")):
            return
        yield Finding(
            self.name,
            ctx.first_span(("max_concurrent_sheets",), ("max_concurrent_jobs",)),
            f"max_concurrent_sheets is {sheets} while max_concurrent_jobs is {jobs}: jobs are started together but "
            f"only {sheets} sheet{'s run' if sheets != 1 else ' runs'} at a time across them, so started jobs wait "
            "for a slot (their job timeout running) and fan-outs run one voice after another",
            suggestion=f"raise max_concurrent_sheets to at least {jobs}, or lower max_concurrent_jobs",
        )


#: Sections whose settings do nothing until ``enabled: true`` (their ``enabled`` defaults to false and,
#: unlike cost_limits, is not switched on by the settings), with what is then lost.
_OFF_BY_DEFAULT: dict[str, str] = {
    "parallel": "ready sheets still run one at a time",
    "stale_detection": "a sheet that stops producing output is never stopped as stale",
    "grounding": "its hooks never run",
}


class SettingsWithoutEnabled(Rule):
    """A section's settings are written, but the section is off: its ``enabled`` defaults to false.

    ``parallel``, ``stale_detection`` and ``grounding`` do nothing until ``enabled: true``; unlike
    ``cost_limits``, writing their other settings does not switch them on. ``parallel:
    {max_concurrent: 4}`` alone still runs every sheet one after another, an ``idle_timeout_seconds``
    alone never stops a hung sheet, and grounding ``hooks`` alone never run. An explicit
    ``enabled: false`` is taken as meant and left alone. Source: the parallel execution, stale
    detection and grounding sections of Marianne's score-writing guide and configuration reference.

    Failing::

        parallel:
          max_concurrent: 4

    Passing::

        parallel:
          enabled: true
          max_concurrent: 4
    """

    code = "ML315"
    name = "settings-without-enabled"
    fixable = "unsafe"
    fix_summary = "add `enabled: true` as the section's first key"
    severity = Severity.WARNING
    summary = "parallel, stale_detection or grounding settings are written without enabled: true"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for section, lost in _OFF_BY_DEFAULT.items():
            written = ctx.raw(section)
            if not isinstance(written, dict) or "enabled" in written:
                continue
            settings = [str(key) for key, value in written.items() if value not in (None, [], {})]
            if not settings:
                continue
            yield Finding(
                self.name,
                ctx.key_span(section),
                f"{section} sets {', '.join(settings[:3])}{' ...' if len(settings) > 3 else ''} but not enabled, "
                f"which defaults to false: the section is off and {lost}",
                suggestion=f"add enabled: true under {section}",
                fix=Fix.of(f"add enabled: true under {section}", "unsafe", _insert_enabled(ctx, section)),
            )


def _insert_enabled(ctx: Context, section: str) -> Edit | None:
    """An edit adding ``enabled: true`` as the first key of a block mapping (None for a flow mapping)."""
    first = next(iter(ctx.raw(section)), None)
    found = ctx.root.locate((section, first)) if first is not None else None
    if found is None or not found.exact or found.key is None:
        return None
    key = found.key.span
    index = ctx.edits
    line_start = index.offset(key.line, 1)
    indent = index.source(Span(key.line, 1, key.line, key.column))
    if indent.strip():
        return None  # a flow mapping ({max_concurrent: 4}) or a key after other text
    return index.edit(line_start, line_start, f"{indent}enabled: true\n")


class ParallelCapBelowFanOut(Rule):
    """A stage is fanned out to more voices than ``parallel.max_concurrent`` lets run at once.

    ``parallel.max_concurrent`` (default 3) caps how many sheets run together. A stage fanned
    out to 6 voices then runs in two waves, and the stage takes twice as long as it needs to.
    Raise the cap to the widest fan-out, or leave it on purpose when rate limits call for it.
    Source: the fan-out architecture of Marianne's plugin patterns reference.

    Failing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 6}
        parallel:
          enabled: true

    Passing::

        sheet:
          size: 1
          total_items: 1
          fan_out: {1: 6}
        parallel:
          enabled: true
          max_concurrent: 6
    """

    code = "ML316"
    name = "parallel-cap-below-fan-out"
    severity = Severity.INFO
    summary = "a stage has more voices than parallel.max_concurrent lets run at once"

    def check(self, ctx: Context) -> Iterator[Finding]:
        parallel = ctx.score.parallel
        if not parallel.enabled:
            return
        widest = max((meta.fan_count for meta in sheet_facts(ctx).metas.values()), default=1)
        cap = parallel.max_concurrent
        if widest <= cap:
            return
        waves = -(-widest // cap)
        yield Finding(
            self.name,
            ctx.first_span(("parallel", "max_concurrent"), ("parallel",)),
            f"parallel.max_concurrent is {cap}{'' if ctx.exists('parallel', 'max_concurrent') else ' (the default)'} "
            f"while a stage has {widest} voices: they run in {waves} waves instead of together",
            suggestion=f"set parallel.max_concurrent: {widest} (or keep the cap on purpose for rate limits)",
        )


class ProcessLimitBelowSheetCap(Rule):
    """The conductor allows more sheets at once than child processes.

    Every running sheet is at least one child process (the agent), usually more (its tools, its
    shell). ``resource_limits.max_processes`` is the ceiling the conductor's backpressure watches:
    near it, new sheets are held back. With fewer processes than ``max_concurrent_sheets`` the
    sheet cap can never be reached, and a few busy sheets stall every other job. Keep
    ``max_processes`` well above the sheet cap (the defaults are 50 and 25). Source: the
    backpressure section of Marianne's daemon guide.

    Failing::

        max_concurrent_sheets: 20
        resource_limits:
          max_processes: 10

    Passing::

        max_concurrent_sheets: 20
        resource_limits:
          max_processes: 60
    """

    code = "ML317"
    name = "process-limit-below-sheet-cap"
    severity = Severity.WARNING
    summary = "resource_limits.max_processes is below max_concurrent_sheets: backpressure holds sheets back"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        limits = getattr(ctx.model, "resource_limits", None)
        processes = getattr(limits, "max_processes", None)
        sheets = getattr(ctx.model, "max_concurrent_sheets", None)
        if not isinstance(processes, int) or not isinstance(sheets, int) or processes >= sheets:
            return
        if not (ctx.exists("resource_limits", "max_processes") or ctx.exists("max_concurrent_sheets")):
            return
        yield Finding(
            self.name,
            ctx.first_span(("resource_limits", "max_processes"), ("max_concurrent_sheets",)),
            f"resource_limits.max_processes is {processes} while max_concurrent_sheets is {sheets}: every sheet is at "
            "least one child process, so backpressure holds sheets back long before the sheet cap",
            suggestion=f"raise max_processes well above {sheets} (e.g. {sheets * 3})",
        )
