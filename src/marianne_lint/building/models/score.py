"""The score: the root model of a Marianne job file (``JobConfig``).

Marianne turns a present ``workspace`` value into a string before validating
(``workspace: 123`` becomes the directory ``123``); that step is reproduced
here. Unlike Marianne, the path is never resolved against a directory, so the
result does not depend on where the linter runs.
"""


from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from marianne_lint.building.models.backend import BackendConfig, BridgeConfig
from marianne_lint.building.models.base import (
    Counterparts,
    EnumDescriptions,
    FieldLabels,
    MarianneModel,
    Snippets,
    cross_field_error,
)
from marianne_lint.building.models.execution import (
    CircuitBreakerConfig,
    CostLimitConfig,
    ParallelConfig,
    RateLimitConfig,
    RetryConfig,
    StaleDetectionConfig,
    ValidationRule,
)
from marianne_lint.building.models.learning import (
    CheckpointConfig,
    GroundingConfig,
    LearningConfig,
)
from marianne_lint.building.models.movements import InstrumentDef, MovementDef
from marianne_lint.building.models.orchestration import (
    ConcertConfig,
    ConductorConfig,
    NotificationConfig,
    PostSuccessHookConfig,
)
from marianne_lint.building.models.prompt import PromptConfig
from marianne_lint.building.models.schema_hints import JsonDict, hidden
from marianne_lint.building.models.sheet import SheetConfig
from marianne_lint.building.models.spec import AgentCard, SpecCorpusConfig, TechniqueConfig
from marianne_lint.building.models.workspace import (
    AIReviewConfig,
    CrossSheetConfig,
    FeedbackConfig,
    IsolationConfig,
    LogConfig,
    WorkspaceLifecycleConfig,
)


class JobConfig(MarianneModel):
    """A Marianne score: a job split into sheets, each run by an instrument from a prompt template.

    Only ``name``, ``sheet`` and ``prompt`` are required; every other section has defaults.
    """

    name: str = Field(description="Name of the job, used to identify it and in status output.")
    description: str | None = Field(
        default=None,
        description="Free-text description of what the score does.",
    )
    workspace: Path = Field(
        default=Path("./workspace"),
        description=(
            "Directory where the job works and writes its output and state; a relative path is "
            "taken from the score file's directory (default `./workspace`)."
        ),
    )
    backend: BackendConfig = Field(
        default_factory=BackendConfig,
        description=(
            "Legacy backend settings; prefer `instrument`. Its timeout settings apply whichever "
            "instrument runs the sheets."
        ),
    )
    instrument: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Instrument that runs the sheets: a profile name or a key of `instruments`. Cannot be "
            "combined with a `backend.type` other than `claude_cli`."
        ),
    )
    instrument_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings merged over the instrument's defaults, e.g. `model` or `timeout_seconds`.",
    )
    instrument_fallbacks: list[str] = Field(
        default_factory=list,
        description="Instruments tried, in order, when the main instrument is unavailable.",
    )
    instruments: dict[str, InstrumentDef] = Field(
        default_factory=dict,
        description="Score-local instrument aliases: alias name to a profile and settings.",
    )
    movements: dict[int, MovementDef] = Field(
        default_factory=dict,
        description="Settings per movement, keyed by movement (fan-out stage) number starting at 1.",
    )
    sheet: SheetConfig = Field(
        description="How the work is split into sheets, their dependencies and per-sheet settings.",
    )
    prompt: PromptConfig = Field(
        description="The prompt template every sheet is rendered from, and its variables.",
    )
    spec: SpecCorpusConfig = Field(
        default_factory=SpecCorpusConfig,
        description="Project specification documents made available to prompts (off unless `spec_dir` is set).",
    )
    retry: RetryConfig = Field(
        default_factory=RetryConfig,
        description="Retry and backoff policy for failed sheets.",
    )
    rate_limit: RateLimitConfig = Field(
        default_factory=RateLimitConfig,
        description="How rate limits are detected and waited out.",
    )
    circuit_breaker: CircuitBreakerConfig = Field(
        default_factory=CircuitBreakerConfig,
        description="Pausing execution after repeated failures.",
    )
    cost_limits: CostLimitConfig = Field(
        default_factory=CostLimitConfig,
        description="Cost estimates and spending limits (off by default).",
    )
    learning: LearningConfig = Field(
        default_factory=LearningConfig,
        description="Recording outcomes and learning from them.",
    )
    grounding: GroundingConfig = Field(
        default_factory=GroundingConfig,
        description="External checks of sheet output (off by default).",
    )
    ai_review: AIReviewConfig = Field(
        default_factory=AIReviewConfig,
        description="Scoring sheet output with an AI reviewer (off by default).",
    )
    logging: LogConfig = Field(
        default_factory=LogConfig,
        description="Log level, format and rotation.",
    )
    workspace_lifecycle: WorkspaceLifecycleConfig = Field(
        default_factory=WorkspaceLifecycleConfig,
        description="Archiving of the workspace when the job is restarted with `--fresh`.",
    )
    isolation: IsolationConfig = Field(
        default_factory=IsolationConfig,
        description="Running the job in its own git worktree (off by default).",
    )
    conductor: ConductorConfig = Field(
        default_factory=ConductorConfig,
        description="Who conducts the job (human, AI or both) and their preferences.",
    )
    parallel: ParallelConfig = Field(
        default_factory=ParallelConfig,
        description="Running independent sheets at the same time (off by default).",
    )
    stale_detection: StaleDetectionConfig = Field(
        default_factory=StaleDetectionConfig,
        description="Failing sheets whose process stops producing output (off by default).",
    )
    checkpoints: CheckpointConfig = Field(
        default_factory=CheckpointConfig,
        description="Pauses for approval before certain sheets (off by default).",
    )
    bridge: BridgeConfig | None = Field(
        default=None,
        description="Settings for running a local Ollama model with MCP tools.",
    )
    cross_sheet: CrossSheetConfig | None = Field(
        default=None,
        description="Passing earlier sheets' output and files into later prompts.",
    )
    feedback: FeedbackConfig = Field(
        default_factory=FeedbackConfig,
        description="Extracting structured feedback from agent output (off by default).",
    )
    techniques: dict[str, TechniqueConfig] = Field(
        default_factory=dict,
        description="Named technique components (skills, MCP servers, protocols) available to agents.",
    )
    agent_card: AgentCard | None = Field(
        default=None,
        description="Agent-to-agent discovery card registered when the job starts.",
    )
    validations: list[ValidationRule] = Field(
        default_factory=list,
        description="Checks run after each sheet to decide whether it succeeded.",
    )
    notifications: list[NotificationConfig] = Field(
        default_factory=list,
        description="Channels notified about job events.",
    )
    on_success: list[PostSuccessHookConfig] = Field(
        default_factory=list,
        description="Actions run after the job succeeds, such as starting the next score.",
    )
    concert: ConcertConfig = Field(
        default_factory=ConcertConfig,
        description="Limits for chaining jobs through `on_success` (off by default).",
    )
    state_backend: Literal["json", "sqlite"] = Field(
        default="sqlite",
        description="How job state is stored: `sqlite` (default) or `json`.",
    )
    state_path: Path | None = Field(
        default=None,
        description="File for the job state; defaults to a file in the workspace.",
    )
    pause_between_sheets_seconds: int = Field(
        default=2,
        ge=0,
        description="Seconds to wait after a sheet finishes before the next one starts (default 2).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "state_backend": {
            "json": "Keep the job state in a JSON file: easy to read, slower for big jobs.",
            "sqlite": "Keep the job state in an SQLite database (the default).",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_stringify_workspace": "schema: `workspace` also accepts a number, which Marianne turns into a folder name.",
        "_instrument_backend_coexistence": (
            "schema: with `instrument` set, `backend.type` must be `claude_cli` (if/then)."
        ),
    }
    schema_positive_keys: ClassVar[FieldLabels] = {"movements": "movement number"}
    schema_snippets: ClassVar[Snippets] = (
        {
            "label": "new Marianne score",
            "markdownDescription": "A minimal score: a name, three sheets, a prompt template and one validation.",
            "body": {
                "name": "${1:my-score}",
                "description": "${2:What this score does}",
                "workspace": "${3:./workspace}",
                "sheet": {"size": "^1", "total_items": "^${4:3}"},
                "prompt": {
                    "template": (
                        '"${5:Write part {{ sheet_num \\}\\} of {{ total_sheets \\}\\} '
                        'to {{ workspace \\}\\}/part-{{ sheet_num \\}\\}.md.}"'
                    ),
                },
                "validations": [
                    {
                        "type": "file_exists",
                        "path": '"${6:{workspace\\}/part-{sheet_num\\}.md}"',
                        "description": "${7:The part was written}",
                    }
                ],
            },
        },
    )

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``instrument`` rules out another ``backend.type``; ``workspace`` may be a number."""
        node["if"] = {
            "required": ["instrument", "backend"],
            "properties": {
                "instrument": {"type": "string"},
                "backend": {"required": ["type"], "properties": {"type": {"not": {"const": "claude_cli"}}}},
            },
        }
        node["then"] = {
            "properties": {
                "backend": hidden(
                    properties={
                        "type": hidden(
                            const="claude_cli",
                            errorMessage="With `instrument` set, drop `backend.type` (or leave it `claude_cli`).",
                        )
                    }
                )
            }
        }
        workspace = node["properties"]["workspace"]
        workspace.update(type=["string", "number"], default="./workspace")
        workspace["description"] += (
            " Marianne turns a number into a directory name too (`workspace: 2024` is the folder `2024`)."
        )

    @model_validator(mode="before")
    @classmethod
    def _stringify_workspace(cls, data: Any) -> Any:
        if isinstance(data, dict) and "workspace" in data:
            data = {**data, "workspace": str(data["workspace"])}
        return data

    @field_validator("movements")
    @classmethod
    def _movement_numbers_positive(cls, value: dict[int, MovementDef]) -> dict[int, MovementDef]:
        for number in value:
            if number < 1:
                raise cross_field_error(
                    f"movement number {number} is not valid; movements are numbered from 1",
                    (number,),
                )
        return value

    @model_validator(mode="after")
    def _instrument_backend_coexistence(self) -> Self:
        if self.instrument is not None and self.backend.type != "claude_cli":
            raise cross_field_error(
                f"instrument ({self.instrument!r}) and backend.type ({self.backend.type!r}) are both set; "
                "choose the instrument with `instrument` alone and drop backend.type",
                "instrument",
                ("backend", "type"),
            )
        return self
