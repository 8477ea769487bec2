"""Who conducts a score, how it reports, and what happens after it succeeds
(``conductor:``, ``notifications:``, ``on_success:`` and ``concert:``).
"""


from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error
from marianne_lint.building.models.schema_hints import JsonDict, config_needs, requires_when

NotificationEvent = Literal[
    "job_start",
    "sheet_start",
    "sheet_complete",
    "sheet_failed",
    "job_complete",
    "job_failed",
    "job_paused",
]


def _default_events() -> list[NotificationEvent]:
    return ["job_complete", "job_failed"]


class ConductorPreferences(MarianneModel):
    """How the conductor of a job prefers to be interacted with."""

    prefer_minimal_output: bool = Field(
        default=False,
        description="Keep console output brief (default false).",
    )
    escalation_response_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Seconds to wait for an answer to an escalation before giving up (default 300).",
    )
    auto_retry_on_transient_errors: bool = Field(
        default=True,
        description="Retry temporary errors before escalating them (default true).",
    )
    notification_channels: list[str] = Field(
        default_factory=list,
        description="Preferred notification channels; when empty the job's `notifications` are used.",
    )


class ConductorConfig(MarianneModel):
    """Identity of whoever is conducting the job: a human, an AI or both."""

    name: str = Field(
        default="default",
        min_length=1,
        max_length=100,
        description="Name of the conductor (1 to 100 characters, default `default`).",
    )
    role: Literal["human", "ai", "hybrid"] = Field(
        default="human",
        description="Kind of conductor: `human` (default), `ai` or `hybrid`.",
    )
    identity_context: str | None = Field(
        default=None,
        max_length=500,
        description="Short description of the conductor (at most 500 characters).",
    )
    preferences: ConductorPreferences = Field(
        default_factory=ConductorPreferences,
        description="Interaction preferences of the conductor.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "role": {
            "human": "A person conducts the job (the default).",
            "ai": "An AI agent conducts the job.",
            "hybrid": "A person and an AI agent conduct it together.",
        },
    }


class NotificationConfig(MarianneModel):
    """A channel that is told about job events."""

    type: Literal["desktop", "slack", "webhook", "email"] = Field(
        description="Channel kind: `desktop`, `slack`, `webhook` or `email`.",
    )
    on_events: list[NotificationEvent] = Field(
        default_factory=_default_events,
        description="Events that produce a notification; by default job completion and job failure.",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Channel settings: a webhook needs `url` or `url_env`, Slack needs `webhook_url` or "
            "`webhook_url_env`."
        ),
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "type": {
            "desktop": "A desktop notification on the machine running the conductor.",
            "slack": "A message to a Slack incoming webhook (`config.webhook_url` or `config.webhook_url_env`).",
            "webhook": "An HTTP POST to a URL (`config.url` or `config.url_env`).",
            "email": "An e-mail message.",
        },
        "on_events": {
            "job_start": "The job has started.",
            "sheet_start": "A sheet has started.",
            "sheet_complete": "A sheet has finished and passed its validations.",
            "sheet_failed": "A sheet has failed for good (after its retries).",
            "job_complete": "The whole job has finished successfully.",
            "job_failed": "The job has stopped because of a failure.",
            "job_paused": "The job has been paused.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_channel_target": (
            "schema: a webhook or Slack channel needs its address key in `config` (if/then); that the "
            "value is not empty is left to the linter."
        ),
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """Webhook and Slack channels need their address in ``config``."""
        node["allOf"] = [
            config_needs("webhook", ["url", "url_env"]),
            config_needs("slack", ["webhook_url", "webhook_url_env"]),
        ]

    @model_validator(mode="after")
    def _channel_target(self) -> Self:
        if self.type == "webhook" and not (self.config.get("url") or self.config.get("url_env")):
            raise cross_field_error(
                "a webhook notification needs config.url or config.url_env; give the address to call",
                ("config", "url"),
                ("config", "url_env"),
                "config",
                "type",
            )
        if self.type == "slack" and not (self.config.get("webhook_url") or self.config.get("webhook_url_env")):
            raise cross_field_error(
                "a slack notification needs config.webhook_url or config.webhook_url_env; give the Slack webhook",
                ("config", "webhook_url"),
                ("config", "webhook_url_env"),
                "config",
                "type",
            )
        return self


class PostSuccessHookConfig(MarianneModel):
    """An action run after the job succeeds, such as starting the next score."""

    type: Literal["run_job", "run_command", "run_script"] = Field(
        description="Action kind: `run_job` (start another score), `run_command` or `run_script`.",
    )
    job_path: Path | None = Field(
        default=None,
        description=(
            "Score to start for `run_job` (required there); `{workspace}`, `{job_id}` and "
            "`{sheet_count}` are substituted."
        ),
    )
    job_workspace: Path | None = Field(
        default=None,
        description="Workspace for the started job instead of its own setting.",
    )
    inherit_learning: bool = Field(
        default=True,
        description="Let the started job share this job's outcome store (default true).",
    )
    command: str | None = Field(
        default=None,
        description=(
            "Command or script for `run_command`/`run_script` (required there); `{workspace}`, "
            "`{job_id}` and `{sheet_count}` are substituted shell-quoted."
        ),
    )
    working_directory: Path | None = Field(
        default=None,
        description="Directory the action runs in; the workspace when unset.",
    )
    description: str | None = Field(
        default=None,
        description="Human-readable label for the action.",
    )
    on_failure: Literal["continue", "abort"] = Field(
        default="continue",
        description="If this action fails: `continue` with the next one (default) or `abort`.",
    )
    timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Timeout for the action in seconds (default 300).",
    )
    detached: bool = Field(
        default=False,
        description="For `run_job`: start the job and do not wait for it (default false).",
    )
    fresh: bool = Field(
        default=False,
        description="For `run_job`: start the job from scratch, as with `--fresh` (default false).",
    )
    pause_before_chain: bool = Field(
        default=False,
        description="For `run_job`: pause before starting the next job until resumed (default false).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "type": {
            "run_job": "Start another score (`job_path`).",
            "run_command": "Run a shell command (`command`).",
            "run_script": "Run a script file (`command`).",
        },
        "on_failure": {
            "continue": "Go on with the next hook (the default).",
            "abort": "Skip the remaining hooks.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_required_target": "schema: each `type` needs its `job_path` or `command` (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """Each action type needs its target."""
        node["allOf"] = [
            requires_when("type", "run_job", {"job_path": "string"}),
            requires_when("type", "run_command", {"command": "string"}),
            requires_when("type", "run_script", {"command": "string"}),
        ]

    @model_validator(mode="after")
    def _required_target(self) -> Self:
        if self.type == "run_job" and self.job_path is None:
            raise cross_field_error(
                "a run_job hook needs job_path; name the score to start",
                "job_path",
                "type",
            )
        if self.type in ("run_command", "run_script") and self.command is None:
            raise cross_field_error(
                f"a {self.type} hook needs command; give the command or script to run",
                "command",
                "type",
            )
        return self


class ConcertConfig(MarianneModel):
    """Limits for chaining jobs one after another through `on_success` hooks."""

    enabled: bool = Field(
        default=False,
        description="Allow jobs to be chained through `on_success` hooks (default false).",
    )
    max_chain_depth: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Maximum number of jobs in a chain (1 to 100, default 5).",
    )
    cooldown_between_jobs_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Pause in seconds between chained jobs (default 5).",
    )
    inherit_workspace: bool = Field(
        default=True,
        description="Chained jobs reuse this job's workspace unless they set one (default true).",
    )
    concert_log_path: Path | None = Field(
        default=None,
        description="Log shared by the chained jobs; `concert.log` in the workspace when unset.",
    )
    abort_concert_on_hook_failure: bool = Field(
        default=False,
        description="Stop the whole chain when a hook fails (default false).",
    )
