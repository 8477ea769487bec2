"""Learning, grounding and checkpoint settings of a score."""


from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error
from marianne_lint.building.models.schema_hints import JsonDict, when_enabled_needs


class ExplorationBudgetConfig(MarianneModel):
    """A self-adjusting exploration budget used instead of the fixed exploration rate."""

    enabled: bool = Field(
        default=False,
        description="Use the dynamic budget instead of the fixed `exploration_rate` (default false).",
    )
    floor: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Lowest value the budget can fall to (0 to 1, default 0.05).",
    )
    ceiling: float = Field(
        default=0.50,
        ge=0,
        le=1,
        description="Highest value the budget can reach (0 to 1, default 0.5); must not be below `floor`.",
    )
    decay_rate: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Factor the budget is multiplied by at each interval (0 to 1, default 0.95).",
    )
    boost_amount: float = Field(
        default=0.10,
        ge=0,
        le=0.5,
        description="Amount added to the budget when pattern diversity is low (0 to 0.5, default 0.1).",
    )
    initial_budget: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="Budget at start, between `floor` and `ceiling` (default 0.15).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_ordered_bounds": "linter: compares numbers of the section (floor, ceiling, initial budget).",
    }

    @model_validator(mode="after")
    def _ordered_bounds(self) -> Self:
        if self.floor > self.ceiling:
            raise cross_field_error(
                f"exploration_budget.floor ({self.floor}) is greater than ceiling ({self.ceiling}); "
                "the floor must not exceed the ceiling",
                "floor",
                "ceiling",
            )
        if not self.floor <= self.initial_budget <= self.ceiling:
            raise cross_field_error(
                f"exploration_budget.initial_budget ({self.initial_budget}) must lie between floor "
                f"({self.floor}) and ceiling ({self.ceiling})",
                "initial_budget",
                "floor",
                "ceiling",
            )
        return self


class EntropyResponseConfig(MarianneModel):
    """Automatic reaction when the variety of applied patterns drops too low."""

    enabled: bool = Field(
        default=False,
        description="React automatically when pattern diversity falls below the threshold (default false).",
    )
    entropy_threshold: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Diversity level (0 to 1) below which a response is triggered (default 0.3).",
    )
    cooldown_seconds: int = Field(
        default=3600,
        ge=60,
        description="Minimum seconds between two responses (at least 60, default 3600).",
    )
    boost_budget: bool = Field(
        default=True,
        description="Raise the exploration budget as part of the response (default true).",
    )
    revisit_quarantine: bool = Field(
        default=True,
        description="Reconsider quarantined patterns as part of the response (default true).",
    )
    max_quarantine_revisits: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Maximum quarantined patterns reconsidered per response (0 to 10, default 3).",
    )


class AutoApplyConfig(MarianneModel):
    """Applying highly trusted learned patterns without asking for confirmation."""

    enabled: bool = Field(
        default=False,
        description="Apply trusted patterns automatically (default false).",
    )
    trust_threshold: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="Minimum trust score (0 to 1) a pattern needs to be applied (default 0.85).",
    )
    max_patterns_per_sheet: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Maximum patterns applied to one sheet (1 to 10, default 3).",
    )
    require_validated_status: bool = Field(
        default=True,
        description="Only apply patterns whose status is validated (default true).",
    )
    log_applications: bool = Field(
        default=True,
        description="Log every automatic application (default true).",
    )


class LearningConfig(MarianneModel):
    """Recording of sheet outcomes and use of learned patterns."""

    enabled: bool = Field(
        default=True,
        description="Record outcomes and learn from them (default true).",
    )
    outcome_store_type: Literal["json", "sqlite"] = Field(
        default="json",
        description="Storage format of the outcome store: `json` (default) or `sqlite`.",
    )
    outcome_store_path: Path | None = Field(
        default=None,
        description="Location of the outcome store; defaults to a file in the workspace.",
    )
    min_confidence_threshold: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Confidence below which a result is escalated when escalation is on (0 to 1, default 0.3); "
            "must be lower than `high_confidence_threshold`."
        ),
    )
    high_confidence_threshold: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="Confidence above which partial failures go to completion mode (0 to 1, default 0.7).",
    )
    escalation_enabled: bool = Field(
        default=False,
        description="Allow escalation to a human when confidence is low (default false).",
    )
    use_global_patterns: bool = Field(
        default=True,
        description="Draw on patterns learned across all jobs (default true).",
    )
    exploration_rate: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="Probability of trying a less proven pattern (0 to 1, default 0.15).",
    )
    exploration_min_priority: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Minimum priority a pattern needs to be tried during exploration (0 to 1, default 0.05).",
    )
    entropy_alert_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Pattern diversity level (0 to 1) below which an alert is raised (default 0.5).",
    )
    entropy_check_interval: int = Field(
        default=100,
        ge=1,
        description="Number of pattern applications between diversity checks (default 100).",
    )
    auto_apply_enabled: bool = Field(
        default=False,
        description="Deprecated: use `auto_apply.enabled` instead.",
    )
    auto_apply_trust_threshold: float = Field(
        default=0.85,
        ge=0,
        le=1,
        description="Deprecated: use `auto_apply.trust_threshold` instead.",
    )
    exploration_budget: ExplorationBudgetConfig = Field(
        default_factory=ExplorationBudgetConfig,
        description="Settings of the self-adjusting exploration budget.",
    )
    entropy_response: EntropyResponseConfig = Field(
        default_factory=EntropyResponseConfig,
        description="Settings of the automatic reaction to low pattern diversity.",
    )
    auto_apply: AutoApplyConfig | None = Field(
        default=None,
        description="Settings for applying trusted patterns automatically; takes precedence over the flat fields.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "outcome_store_type": {
            "json": "A JSON file (the default).",
            "sqlite": "An SQLite database.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_min_below_high": "linter: compares two numbers of the section (JSON Schema has no relative bounds).",
        "_sync_auto_apply": "normalises: copies between `auto_apply` and the flat `auto_apply_*` fields.",
    }
    schema_deprecated: ClassVar[frozenset[str]] = frozenset({"auto_apply_enabled", "auto_apply_trust_threshold"})

    @model_validator(mode="after")
    def _min_below_high(self) -> Self:
        if self.min_confidence_threshold >= self.high_confidence_threshold:
            raise cross_field_error(
                f"learning.min_confidence_threshold ({self.min_confidence_threshold}) must be lower than "
                f"high_confidence_threshold ({self.high_confidence_threshold})",
                "min_confidence_threshold",
                "high_confidence_threshold",
            )
        return self

    @model_validator(mode="after")
    def _sync_auto_apply(self) -> Self:
        if self.auto_apply is not None:
            self.auto_apply_enabled = self.auto_apply.enabled
            self.auto_apply_trust_threshold = self.auto_apply.trust_threshold
        elif self.auto_apply_enabled:
            self.auto_apply = AutoApplyConfig(
                enabled=True,
                trust_threshold=self.auto_apply_trust_threshold,
            )
        return self


class GroundingHookConfig(MarianneModel):
    """One grounding hook: an external check of sheet output."""

    type: Literal["file_checksum"] = Field(
        description="Kind of hook; only `file_checksum` exists.",
    )
    name: str | None = Field(
        default=None,
        description="Name of this hook instance, used in reports.",
    )
    expected_checksums: dict[str, str] = Field(
        default_factory=dict,
        description="File path to the digest it is expected to have.",
    )
    checksum_algorithm: Literal["md5", "sha256"] = Field(
        default="sha256",
        description="Digest algorithm for the checksums: `sha256` (default) or `md5`.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "type": {
            "file_checksum": "Compare files with their expected checksums.",
        },
        "checksum_algorithm": {
            "md5": "MD5 digests.",
            "sha256": "SHA-256 digests (the default).",
        },
    }


class GroundingConfig(MarianneModel):
    """External grounding hooks run to confirm sheet output."""

    enabled: bool = Field(
        default=False,
        description="Run the grounding hooks (default false); needs at least one hook.",
    )
    hooks: list[GroundingHookConfig] = Field(
        default_factory=list,
        description="Hooks to run.",
    )
    fail_on_grounding_failure: bool = Field(
        default=True,
        description="Treat a failing hook as a failed validation (default true).",
    )
    escalate_on_failure: bool = Field(
        default=True,
        description="Escalate to a human when a hook fails (default true).",
    )
    timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Timeout per hook in seconds (default 30).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_hooks_when_enabled": "schema: `enabled: true` needs at least one hook (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``enabled: true`` needs a hook."""
        node["allOf"] = [when_enabled_needs("hooks")]

    @model_validator(mode="after")
    def _hooks_when_enabled(self) -> Self:
        if self.enabled and not self.hooks:
            raise cross_field_error(
                "grounding.enabled is true but no hooks are listed; add at least one hook or disable grounding",
                "enabled",
                "hooks",
            )
        return self


class CheckpointTriggerConfig(MarianneModel):
    """A condition under which execution pauses for approval before a sheet runs."""

    name: str = Field(description="Identifier of the trigger.")
    sheet_nums: list[int] | None = Field(
        default=None,
        description="Sheet numbers that require a checkpoint.",
    )
    prompt_contains: list[str] | None = Field(
        default=None,
        description="Keywords (case-insensitive) that trigger a checkpoint when found in the prompt.",
    )
    min_retry_count: int | None = Field(
        default=None,
        ge=0,
        description="Trigger once a sheet has been retried at least this many times.",
    )
    requires_confirmation: bool = Field(
        default=True,
        description="Wait for approval (true, the default) or only show a warning (false).",
    )
    message: str = Field(
        default="",
        description="Text shown when the trigger fires.",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_has_condition": (
            "linter: not in the schema yet (it could be: a non-empty `sheet_nums` or `prompt_contains`, "
            "or a `min_retry_count`)."
        ),
    }

    @model_validator(mode="after")
    def _has_condition(self) -> Self:
        if not self.sheet_nums and not self.prompt_contains and self.min_retry_count is None:
            raise cross_field_error(
                f"checkpoint trigger {self.name!r} has no condition; set sheet_nums, prompt_contains "
                "or min_retry_count",
                "sheet_nums",
                "prompt_contains",
                "min_retry_count",
            )
        return self


class CheckpointConfig(MarianneModel):
    """Pauses for approval before sheets that match a trigger."""

    enabled: bool = Field(
        default=False,
        description="Check the triggers before every sheet (default false); needs at least one trigger.",
    )
    triggers: list[CheckpointTriggerConfig] = Field(
        default_factory=list,
        description="Trigger definitions.",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_triggers_when_enabled": "schema: `enabled: true` needs at least one trigger (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``enabled: true`` needs a trigger."""
        node["allOf"] = [when_enabled_needs("triggers")]

    @model_validator(mode="after")
    def _triggers_when_enabled(self) -> Self:
        if self.enabled and not self.triggers:
            raise cross_field_error(
                "checkpoints.enabled is true but no triggers are listed; add a trigger or disable checkpoints",
                "enabled",
                "triggers",
            )
        return self
