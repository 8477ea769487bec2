"""Execution policy of a score: retries, rate limits, circuit breaker, costs,
stale-output detection, parallelism and validation rules, plus the conductor's
prompt-size preflight thresholds (defined beside them upstream).
"""


import re
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from marianne_lint.building.models.base import (
    Counterparts,
    EnumDescriptions,
    MarianneModel,
    Snippets,
    cross_field_error,
)
from marianne_lint.building.models.schema_hints import (
    FALSE_STRING_PATTERN,
    JsonDict,
    hidden,
    requires_when,
)

ValidationType = Literal["file_exists", "file_modified", "content_contains", "content_regex", "command_succeeds"]

#: Validation types that inspect a file and therefore need ``path``.
FILE_VALIDATION_TYPES: frozenset[str] = frozenset(
    {"file_exists", "file_modified", "content_contains", "content_regex"}
)

DEFAULT_RATE_LIMIT_PATTERNS: tuple[str, ...] = (
    r"rate.?limit",
    r"usage.?limit",
    r"quota",
    r"too many requests",
    r"429",
    r"capacity",
    r"try again later",
)


class RetryConfig(MarianneModel):
    """How failed sheets are retried: backoff timing and the partial-completion mode."""

    max_retries: int = Field(
        default=3,
        ge=0,
        description="How many times a failed sheet is retried from scratch (default 3; 0 disables retries).",
    )
    base_delay_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Delay before the first retry, in seconds (default 10); must not exceed `max_delay_seconds`.",
    )
    max_delay_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Upper limit for the growing retry delay, in seconds (default 3600).",
    )
    exponential_base: float = Field(
        default=2.0,
        gt=1,
        description="Factor the delay is multiplied by after each retry (greater than 1, default 2).",
    )
    jitter: bool = Field(
        default=True,
        description="Add random variation to retry delays (default true).",
    )
    max_completion_attempts: int = Field(
        default=5,
        ge=0,
        description=(
            "How many times the agent is asked to finish a partly successful sheet before a full "
            "retry (default 5)."
        ),
    )
    completion_delay_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Pause between completion attempts, in seconds (default 5).",
    )
    completion_threshold_percent: float = Field(
        default=50.0,
        gt=0,
        le=100,
        description=(
            "Share of passing validations (percent) above which completion mode is used instead of a "
            "full retry (default 50)."
        ),
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_base_not_above_max": "linter: compares two numbers of the section (JSON Schema has no relative bounds).",
    }

    @model_validator(mode="after")
    def _base_not_above_max(self) -> Self:
        if self.base_delay_seconds > self.max_delay_seconds:
            raise cross_field_error(
                f"retry.base_delay_seconds ({self.base_delay_seconds}) is greater than max_delay_seconds "
                f"({self.max_delay_seconds}); the first delay must not exceed the ceiling",
                "base_delay_seconds",
                "max_delay_seconds",
            )
        return self


class RateLimitConfig(MarianneModel):
    """How rate limiting is recognised in agent output and how long to wait it out."""

    detection_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RATE_LIMIT_PATTERNS),
        description=(
            "Regular expressions (Python syntax) that mark output as rate-limited; replaces the "
            "built-in list when given."
        ),
    )
    wait_minutes: int = Field(
        default=60,
        ge=1,
        description="Minutes to wait after a rate-limit is detected (default 60).",
    )
    max_waits: int = Field(
        default=24,
        ge=1,
        description="Maximum number of rate-limit waits before giving up (default 24).",
    )
    max_quota_waits: int = Field(
        default=48,
        ge=1,
        description="Maximum number of waits for an exhausted quota before giving up (default 48).",
    )

    @field_validator("detection_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except (re.error, OverflowError, RecursionError) as exc:  # a huge repeat, deep nesting
                raise cross_field_error(
                    f"rate_limit.detection_patterns[{index}] ({pattern!r}) is not a valid regular "
                    f"expression: {exc}",
                    (index,),
                    rule="schema-regex",
                ) from exc
        return value


class CircuitBreakerConfig(MarianneModel):
    """When to stop sending work after repeated failures, and how jobs share rate-limit news."""

    enabled: bool = Field(
        default=True,
        description="Use a circuit breaker that pauses execution after repeated failures (default true).",
    )
    failure_threshold: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Consecutive failures that open the circuit (1 to 100, default 5).",
    )
    recovery_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Seconds the circuit stays open before a trial run is allowed (at most 3600, default 300).",
    )
    cross_workspace_coordination: bool = Field(
        default=True,
        description="Share rate-limit events with other jobs through the global store (default true).",
    )
    honor_other_jobs_rate_limits: bool = Field(
        default=True,
        description=(
            "Wait when other jobs report a rate limit (default true); has no effect, and is turned "
            "off, without `cross_workspace_coordination`."
        ),
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_sync_cross_workspace": (
            "normalises: turns `honor_other_jobs_rate_limits` off without `cross_workspace_coordination`."
        ),
    }

    @model_validator(mode="after")
    def _sync_cross_workspace(self) -> Self:
        if self.honor_other_jobs_rate_limits and not self.cross_workspace_coordination:
            self.honor_other_jobs_rate_limits = False
        return self


class CostLimitConfig(MarianneModel):
    """Cost estimation and spending ceilings for the job.

    Setting a limit without writing ``enabled`` turns the limits on.
    """

    enabled: bool = Field(
        default=False,
        description=(
            "Enforce the cost limits (default false, but true when a limit is set and this key is "
            "omitted); needs at least one limit."
        ),
    )
    max_cost_per_sheet: float | None = Field(
        default=None,
        gt=0,
        description="Maximum estimated cost of one sheet, in US dollars.",
    )
    max_cost_per_job: float | None = Field(
        default=None,
        gt=0,
        description="Maximum estimated cost of the whole job, in US dollars.",
    )
    cost_per_1k_input_tokens: float = Field(
        default=0.003,
        gt=0,
        description="Price in US dollars per 1000 input tokens, used for estimates (default 0.003).",
    )
    cost_per_1k_output_tokens: float = Field(
        default=0.015,
        gt=0,
        description="Price in US dollars per 1000 output tokens, used for estimates (default 0.015).",
    )
    warn_at_percent: float = Field(
        default=80.0,
        gt=0,
        le=100,
        description="Warn once spending reaches this percentage of a limit (default 80).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_auto_enable_when_limits_set": (
            "normalises: a limit without `enabled` turns the limits on; the schema's rule applies to "
            "an explicit `enabled: true` only."
        ),
        "_require_limit_when_enabled": "schema: `enabled: true` needs one of the two limits (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``enabled: true`` needs a limit."""
        message = "`enabled: true` needs `max_cost_per_sheet` or `max_cost_per_job`."
        node["allOf"] = [
            {
                "if": {"required": ["enabled"], "properties": {"enabled": {"const": True}}},
                "then": {
                    "anyOf": [
                        {
                            "required": [limit],
                            "properties": {limit: hidden(type=["number", "string"])},
                            "errorMessage": message,
                        }
                        for limit in ("max_cost_per_sheet", "max_cost_per_job")
                    ]
                },
            }
        ]

    @model_validator(mode="before")
    @classmethod
    def _auto_enable_when_limits_set(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and "enabled" not in data
            and (data.get("max_cost_per_sheet") is not None or data.get("max_cost_per_job") is not None)
        ):
            data = {**data, "enabled": True}
        return data

    @model_validator(mode="after")
    def _require_limit_when_enabled(self) -> Self:
        if self.enabled and self.max_cost_per_sheet is None and self.max_cost_per_job is None:
            raise cross_field_error(
                "cost_limits.enabled is true but neither max_cost_per_sheet nor max_cost_per_job is set; "
                "set at least one limit or disable cost limits",
                "enabled",
                "max_cost_per_sheet",
                "max_cost_per_job",
            )
        return self


class StaleDetectionConfig(MarianneModel):
    """Detection of hung sheets that produce no output for too long."""

    enabled: bool = Field(
        default=False,
        description="Fail a sheet whose process stays silent longer than `idle_timeout_seconds` (default false).",
    )
    idle_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds without output after which a sheet counts as stale (default 300); must exceed "
            "`check_interval_seconds` even when disabled."
        ),
    )
    check_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often, in seconds, output activity is checked (default 30).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_interval_below_timeout": "linter: compares two numbers of the section (JSON Schema has no relative bounds).",
    }

    @model_validator(mode="after")
    def _interval_below_timeout(self) -> Self:
        if self.check_interval_seconds >= self.idle_timeout_seconds:
            raise cross_field_error(
                f"stale_detection.check_interval_seconds ({self.check_interval_seconds}) must be less than "
                f"idle_timeout_seconds ({self.idle_timeout_seconds}); this holds even when stale detection "
                "is disabled",
                "idle_timeout_seconds",
                "check_interval_seconds",
            )
        return self


class ParallelConfig(MarianneModel):
    """Running independent sheets at the same time."""

    enabled: bool = Field(
        default=False,
        description="Run sheets whose dependencies are met concurrently (default false).",
    )
    max_concurrent: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Maximum number of sheets running at once (1 to 20, default 3).",
    )
    fail_fast: bool = Field(
        default=True,
        description="Stop starting new sheets once one has failed (default true).",
    )
    budget_partition: bool = Field(
        default=True,
        description="Reserved for splitting the budget between parallel sheets; only `true` is accepted.",
    )
    stagger_delay_ms: int = Field(
        default=0,
        ge=0,
        le=5000,
        description="Milliseconds to wait between starting parallel sheets (0 to 5000, default 0).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_budget_partition_required": "schema: any spelling of false for `budget_partition` is refused (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``budget_partition: false`` is refused (not implemented); any spelling of true is fine."""
        falsy = {"anyOf": [{"const": False}, {"const": 0}, {"type": "string", "pattern": FALSE_STRING_PATTERN}]}
        node["allOf"] = [
            {
                "if": {"required": ["budget_partition"], "properties": {"budget_partition": falsy}},
                "then": {
                    "properties": {
                        "budget_partition": hidden(
                            type="null",
                            errorMessage="`budget_partition: false` is not implemented; remove it or set true.",
                        )
                    }
                },
            }
        ]

    @model_validator(mode="after")
    def _budget_partition_required(self) -> Self:
        if not self.budget_partition:
            raise cross_field_error(
                "parallel.budget_partition is false, which is not implemented; remove the key or set it to true",
                "budget_partition",
            )
        return self


class ValidationRule(MarianneModel):
    """An acceptance check run after a sheet to decide whether it succeeded."""

    type: ValidationType = Field(
        description=(
            "Kind of check: `file_exists`, `file_modified`, `content_contains`, `content_regex` "
            "or `command_succeeds`."
        ),
    )
    path: str | None = Field(
        default=None,
        description=(
            "File to check; required by every type except `command_succeeds`. `{name}` placeholders "
            "are filled with Python format rules."
        ),
    )
    pattern: str | None = Field(
        default=None,
        description=(
            "Text to find (`content_contains`) or Python regular expression searched line-aware "
            "(`content_regex`); required for those two types."
        ),
    )
    description: str | None = Field(
        default=None,
        description="Human-readable label for the check.",
    )
    command: str | None = Field(
        default=None,
        description="Shell command whose exit status 0 means success; required for `command_succeeds`.",
    )
    working_directory: str | None = Field(
        default=None,
        description="Directory the command runs in; defaults to the workspace. `{name}` placeholders allowed.",
    )
    stage: int = Field(
        default=1,
        ge=1,
        le=10,
        description="Group number (1 to 10, default 1) for staged checking, where a failing stage stops later ones.",
    )
    condition: str | None = Field(
        default=None,
        description="Expression limiting which sheets the check applies to, e.g. `sheet_num >= 3`.",
    )
    retry_count: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Extra attempts before the check counts as failed (0 to 10, default 3).",
    )
    timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Timeout for the command in seconds; one hour when unset.",
    )
    retry_delay_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="Milliseconds between attempts (0 to 5000, default 200).",
    )
    sheet: int | None = Field(
        default=None,
        ge=1,
        description="Apply the check only to this sheet number; shorthand for `condition: \"sheet_num == N\"`.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "type": {
            "file_exists": "Passes when the file at `path` exists.",
            "file_modified": "Passes when the file at `path` was changed while the sheet ran.",
            "content_contains": "Passes when the file at `path` contains the text in `pattern`.",
            "content_regex": "Passes when the Python regular expression in `pattern` matches the file at `path`.",
            "command_succeeds": "Passes when the shell `command` exits with status 0.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_sheet_to_condition": "normalises: `sheet: N` becomes `condition: sheet_num == N`.",
        "_check_type_specific_fields": (
            "schema: each `type` needs its fields (if/then); the regular-expression syntax of "
            "`pattern` is left to the linter (Python syntax, JSON Schema's `format: regex` is ECMA 262)."
        ),
    }
    schema_snippets: ClassVar[Snippets] = (
        {
            "label": "file_exists validation",
            "markdownDescription": "Check that the sheet wrote a file.",
            "body": {
                "type": "file_exists",
                "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
                "description": "${2:Output file exists}",
            },
        },
        {
            "label": "file_modified validation",
            "markdownDescription": "Check that the sheet changed a file.",
            "body": {
                "type": "file_modified",
                "path": '"${1:{workspace\\}/notes.md}"',
                "description": "${2:Notes were updated}",
            },
        },
        {
            "label": "content_contains validation",
            "markdownDescription": "Check that a file contains some text.",
            "body": {
                "type": "content_contains",
                "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
                "pattern": '"${2:DONE}"',
                "description": "${3:Output is marked done}",
            },
        },
        {
            "label": "content_regex validation",
            "markdownDescription": "Check that a regular expression matches a file.",
            "body": {
                "type": "content_regex",
                "path": '"${1:{workspace\\}/sheet-{sheet_num\\}.md}"',
                "pattern": "'${2:^## Summary}'",
                "description": "${3:Output has a summary section}",
            },
        },
        {
            "label": "command_succeeds validation",
            "markdownDescription": "Check that a shell command exits with status 0.",
            "body": {
                "type": "command_succeeds",
                "command": '"${1:test -s {workspace\\}/report.md}"',
                "description": "${2:Report is not empty}",
            },
        },
    )

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """Each validation type needs its fields."""
        needs: dict[str, dict[str, str | list[str]]] = {
            "file_exists": {"path": "string"},
            "file_modified": {"path": "string"},
            "content_contains": {"path": "string", "pattern": "string"},
            "content_regex": {"path": "string", "pattern": "string"},
            "command_succeeds": {"command": "string"},
        }
        node["allOf"] = [requires_when("type", value, fields) for value, fields in needs.items()]

    @model_validator(mode="after")
    def _sheet_to_condition(self) -> Self:
        if self.sheet is not None and self.condition is None:
            self.condition = f"sheet_num == {self.sheet}"
        return self

    @model_validator(mode="after")
    def _check_type_specific_fields(self) -> Self:
        if self.type in FILE_VALIDATION_TYPES and self.path is None:
            raise cross_field_error(
                f"a {self.type} validation needs `path`; name the file to check",
                "path",
                "type",
            )
        if self.type in ("content_contains", "content_regex") and self.pattern is None:
            raise cross_field_error(
                f"a {self.type} validation needs `pattern`; give the text or expression to look for",
                "pattern",
                "type",
            )
        if self.type == "command_succeeds" and self.command is None:
            raise cross_field_error(
                "a command_succeeds validation needs `command`; give the shell command to run",
                "command",
                "type",
            )
        if self.type == "content_regex" and self.pattern is not None:
            try:
                re.compile(self.pattern)
            except (re.error, OverflowError, RecursionError) as exc:  # a huge repeat, deep nesting
                raise cross_field_error(
                    f"validation pattern {self.pattern!r} is not a valid regular expression: {exc}",
                    "pattern",
                    rule="schema-regex",
                ) from exc
        return self


class PreflightConfig(MarianneModel):
    """Prompt-size thresholds the conductor checks before sending a prompt."""

    token_warning_threshold: int = Field(
        default=50000,
        ge=0,
        description="Estimated prompt tokens above which a warning is raised (default 50000; 0 disables).",
    )
    token_error_threshold: int = Field(
        default=150000,
        ge=0,
        description="Estimated prompt tokens above which the prompt is refused (default 150000; 0 disables).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_warning_below_error": "linter: compares two numbers of the section (JSON Schema has no relative bounds).",
    }

    @model_validator(mode="after")
    def _warning_below_error(self) -> Self:
        warning, error = self.token_warning_threshold, self.token_error_threshold
        if warning > 0 and error > 0 and warning >= error:
            raise cross_field_error(
                f"preflight.token_warning_threshold ({warning}) must be lower than token_error_threshold "
                f"({error}) when both are enabled; otherwise the warning can never come first",
                "token_warning_threshold",
                "token_error_threshold",
                rule="inverted-token-thresholds",
            )
        return self
