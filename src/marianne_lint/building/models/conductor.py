"""The conductor (daemon) configuration: the root model ``DaemonConfig`` and its sections.

Note that the conductor's ``learning`` section is ``SemanticLearningConfig``
(analysis of sheet outcomes by a model), not the score's ``LearningConfig``.
"""


from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from marianne_lint.building.models.backend import BackendConfig
from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error
from marianne_lint.building.models.execution import PreflightConfig
from marianne_lint.building.models.schema_hints import JsonDict

AnalysisTrigger = Literal["success", "failure"]

DEFAULT_OBSERVER_EXCLUDES: tuple[str, ...] = (".git/", "__pycache__/", "node_modules/", ".venv/", "*.pyc")


class SocketConfig(MarianneModel):
    """The Unix socket the command-line tools use to talk to the conductor."""

    path: Path = Field(
        default=Path("/tmp/marianne.sock"),
        description="Location of the socket file (default /tmp/marianne.sock).",
    )
    permissions: int = Field(
        default=0o660,
        ge=0,
        le=0o777,
        description=(
            "File mode of the socket as a number from 0 to 511 (default 432, i.e. octal 660); "
            "write it as `0660` or `432`, not `0o660`."
        ),
    )
    backlog: int = Field(
        default=5,
        ge=1,
        description="Number of pending connections the socket queues (default 5).",
    )

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """Let ``permissions`` go up to 777, the number an editor reads in ``0777``."""
        # Marianne (YAML 1.1) reads `0660` as octal 432; an editor (YAML 1.2) reads 660. Allow what
        # an editor sees for any octal spelling up to 0777, so the usual `0660` is not flagged.
        permissions = node["properties"]["permissions"]
        permissions["maximum"] = 777
        permissions["description"] += (
            " An editor reading YAML 1.2 sees `0660` as 660, so values up to 777 pass here; Marianne "
            "rejects a decimal value above 511."
        )


class ResourceLimitConfig(MarianneModel):
    """Resource ceilings beyond which the conductor stops accepting more work."""

    max_memory_mb: int = Field(
        default=8192,
        ge=512,
        description="Memory in megabytes above which the conductor holds back new work (at least 512, default 8192).",
    )
    max_processes: int = Field(
        default=50,
        ge=5,
        description="Maximum number of child processes (at least 5, default 50).",
    )
    max_api_calls_per_minute: int = Field(
        default=60,
        ge=1,
        description="Reserved and not enforced; only the value 60 is accepted.",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_api_rate_reserved": "schema: `max_api_calls_per_minute` is bounded to exactly 60.",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``max_api_calls_per_minute`` accepts 60 only."""
        node["properties"]["max_api_calls_per_minute"].update(minimum=60, maximum=60)

    @model_validator(mode="after")
    def _api_rate_reserved(self) -> Self:
        if self.max_api_calls_per_minute != 60:
            raise cross_field_error(
                f"resource_limits.max_api_calls_per_minute is {self.max_api_calls_per_minute}, but this "
                "setting is reserved and not enforced; remove it or leave it at 60",
                "max_api_calls_per_minute",
            )
        return self


class ObserverConfig(MarianneModel):
    """The event bus and file-system observer of running jobs."""

    enabled: bool = Field(
        default=True,
        description="Run the event bus and observer (default true).",
    )
    watch_interval_seconds: float = Field(
        default=2.0,
        ge=0.5,
        description="How often the file system is polled, in seconds (at least 0.5, default 2).",
    )
    snapshot_ttl_hours: int = Field(
        default=168,
        ge=1,
        description="Hours completion snapshots are kept (default 168, one week).",
    )
    max_queue_size: int = Field(
        default=1000,
        ge=100,
        description="Events queued per subscriber before the oldest are dropped (at least 100, default 1000).",
    )
    persist_events: bool = Field(
        default=True,
        description="Write each job's event timeline to a JSONL file (default true).",
    )
    exclude_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OBSERVER_EXCLUDES),
        description="Paths and globs the observer ignores (by default version control, caches and virtualenvs).",
    )
    coalesce_window_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Seconds within which bursts of file events are merged into one (default 2).",
    )
    max_timeline_bytes: int = Field(
        default=10485760,
        ge=4096,
        description="Maximum size of a timeline file in bytes (at least 4096, default 10 MiB).",
    )


def _analysis_backend() -> BackendConfig:
    """The backend used for outcome analysis when the section omits ``backend``."""
    return BackendConfig(
        type="anthropic_api",
        model="claude-sonnet-4-5-20250929",
        temperature=0.3,
        max_tokens=4096,
        timeout_seconds=120,
    )


def _default_analyze_on() -> list[AnalysisTrigger]:
    return ["success", "failure"]


class SemanticLearningConfig(MarianneModel):
    """Analysis of finished sheets by a language model to learn from them."""

    enabled: bool = Field(
        default=True,
        description="Analyse sheet outcomes with a model (default true).",
    )
    backend: BackendConfig = Field(
        default_factory=_analysis_backend,
        description=(
            "Model used for the analysis; by default the Anthropic API at temperature 0.3. A partial "
            "block starts from the plain backend defaults instead."
        ),
    )
    analyze_on: list[AnalysisTrigger] = Field(
        default_factory=_default_analyze_on,
        description="Outcomes that are analysed: `success`, `failure` or both (the default); no repeats.",
    )
    max_concurrent_analyses: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Analyses run at the same time (1 to 20, default 3).",
    )
    entropy_threshold: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Pattern diversity (0 to 1) below which exploration is boosted (default 0.1).",
    )
    exploration_budget: float = Field(
        default=0.15,
        ge=0.05,
        le=0.50,
        description="Size of the exploration boost (0.05 to 0.5, default 0.15).",
    )
    entropy_check_interval_seconds: float = Field(
        default=3600.0,
        ge=60,
        description="Seconds between diversity checks (at least 60, default 3600).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "analyze_on": {
            "success": "Analyse sheets that succeeded.",
            "failure": "Analyse sheets that failed.",
        },
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``analyze_on`` is not empty and has no repeats."""
        node["properties"]["analyze_on"].update(minItems=1, uniqueItems=True)

    @field_validator("analyze_on")
    @classmethod
    def _analyze_on_distinct(cls, value: list[AnalysisTrigger]) -> list[AnalysisTrigger]:
        if not value:
            raise cross_field_error(
                "learning.analyze_on is empty; list `success`, `failure` or both, or disable learning",
                (),
            )
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            if item in seen:
                raise cross_field_error(
                    f"learning.analyze_on lists {item!r} twice; each outcome may appear once",
                    (index,),
                    (seen[item],),
                )
            seen[item] = index
        return value


class RetentionConfig(MarianneModel):
    """How long the profiler keeps its measurements."""

    full_resolution_hours: int = Field(
        default=24,
        ge=1,
        description="Hours raw snapshots are kept (default 24).",
    )
    downsampled_days: int = Field(
        default=7,
        ge=1,
        description="Days one-minute averages are kept (default 7).",
    )
    events_days: int = Field(
        default=30,
        ge=1,
        description="Days process events are kept (default 30).",
    )


class AnomalyConfig(MarianneModel):
    """Thresholds at which the profiler reports a process as misbehaving."""

    memory_spike_threshold: float = Field(
        default=1.5,
        gt=1.0,
        description="Memory growth ratio within the window that counts as a spike (above 1, default 1.5).",
    )
    memory_spike_window_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Window in seconds over which memory growth is measured (default 30).",
    )
    runaway_cpu_threshold: float = Field(
        default=90.0,
        ge=50,
        le=100,
        description="CPU percentage (50 to 100) above which a process may be runaway (default 90).",
    )
    runaway_duration_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds above the CPU threshold before a process counts as runaway (default 60).",
    )


class CorrelationConfig(MarianneModel):
    """Periodic analysis linking resource usage to job outcomes."""

    interval_minutes: int = Field(
        default=30,
        ge=5,
        description="Minutes between analyses (at least 5, default 30).",
    )
    min_sample_size: int = Field(
        default=5,
        ge=2,
        description="Jobs needed before correlations are computed (at least 2, default 5).",
    )


class ProfilerConfig(MarianneModel):
    """The system profiler that samples resource use of running jobs."""

    enabled: bool = Field(
        default=True,
        description="Turn the profiler on (default true).",
    )
    interval_seconds: float = Field(
        default=5.0,
        ge=1,
        description="Seconds between snapshots (at least 1, default 5).",
    )
    strace_enabled: bool = Field(
        default=False,
        description="Attach strace to child processes (default false).",
    )
    strace_full_on_demand: bool = Field(
        default=True,
        description="Allow a full strace on request from `mzt top --trace` (default true).",
    )
    gpu_enabled: bool = Field(
        default=False,
        description="Sample GPU usage too (default false).",
    )
    storage_path: Path = Field(
        default=Path("~/.marianne/monitor.db"),
        description="SQLite file holding the measurements (default ~/.marianne/monitor.db).",
    )
    jsonl_path: Path = Field(
        default=Path("~/.marianne/monitor.jsonl"),
        description="JSONL file the measurements are streamed to (default ~/.marianne/monitor.jsonl).",
    )
    jsonl_max_bytes: int = Field(
        default=52428800,
        ge=1048576,
        description="Size in bytes at which the JSONL file is rotated (at least 1 MiB, default 50 MiB).",
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="How long measurements are kept.",
    )
    anomaly: AnomalyConfig = Field(
        default_factory=AnomalyConfig,
        description="Thresholds for reporting misbehaving processes.",
    )
    correlation: CorrelationConfig = Field(
        default_factory=CorrelationConfig,
        description="Settings of the usage-to-outcome correlation analysis.",
    )


class McpServerEntry(MarianneModel):
    """A shared MCP server the conductor keeps running for all jobs."""

    command: str = Field(description="Command that starts the server.")
    transport: str = Field(
        default="stdio",
        description="Transport the server speaks, such as `stdio` (default), `sse` or `http`.",
    )
    socket: str = Field(description="Unix socket the server is made available on.")
    restart_policy: str = Field(
        default="on-failure",
        description="When the server is restarted: `on-failure` (default), `always` or `never`.",
    )


class McpPoolConfig(MarianneModel):
    """MCP servers shared between jobs."""

    servers: dict[str, McpServerEntry] = Field(
        default_factory=dict,
        description="Server name to how it is started and reached.",
    )


class KeyEntry(MarianneModel):
    """A reference to a file holding one API key."""

    path: str = Field(
        description="Path of the key file; `$SECRETS_DIR` and `~` are expanded when it is read.",
    )
    label: str = Field(description="Name of the key used in logs (never the key itself).")


class InstrumentKeyring(MarianneModel):
    """The API keys available to one instrument and how they are rotated."""

    keys: list[KeyEntry] = Field(description="Key files for this instrument (may be empty).")
    rotation: str = Field(
        default="least-recently-rate-limited",
        description="How the next key is chosen, e.g. `least-recently-rate-limited` (default) or `round-robin`.",
    )


class KeyringConfig(MarianneModel):
    """API key files per instrument."""

    instruments: dict[str, InstrumentKeyring] = Field(
        default_factory=dict,
        description="Instrument name to its key files.",
    )


class DaemonConfig(MarianneModel):
    """Configuration of the Marianne conductor, the background service that runs jobs.

    Every section is optional; an empty file gives the defaults.
    """

    socket: SocketConfig = Field(
        default_factory=SocketConfig,
        description="The socket used to talk to the conductor.",
    )
    pid_file: Path = Field(
        default=Path("/tmp/marianne.pid"),
        description="File the conductor writes its process id to (default /tmp/marianne.pid).",
    )
    max_concurrent_jobs: int = Field(
        default=15,
        ge=1,
        le=50,
        description="Jobs that may run at once (1 to 50, default 15).",
    )
    max_concurrent_sheets: int = Field(
        default=25,
        ge=1,
        le=100,
        description="Sheets that may run at once across all jobs (1 to 100, default 25).",
    )
    resource_limits: ResourceLimitConfig = Field(
        default_factory=ResourceLimitConfig,
        description="Memory and process ceilings.",
    )
    state_backend_type: Literal["sqlite"] = Field(
        default="sqlite",
        description="Reserved; only `sqlite` is accepted.",
    )
    state_db_path: Path = Field(
        default=Path("~/.marianne/daemon-state.db"),
        description="Reserved location of the conductor state database (default ~/.marianne/daemon-state.db).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="Conductor log level in lower case: `debug`, `info` (default), `warning` or `error`.",
    )
    log_file: Path | None = Field(
        default=None,
        description="File the conductor logs to; standard error when unset.",
    )
    job_timeout_seconds: float = Field(
        default=86400.0,
        ge=60,
        description="Maximum run time of one job in seconds (at least 60, default 86400, one day).",
    )
    shutdown_timeout_seconds: float = Field(
        default=300.0,
        ge=10,
        description="Seconds to wait for jobs to stop on shutdown (at least 10, default 300).",
    )
    monitor_interval_seconds: float = Field(
        default=15.0,
        ge=5,
        description="Seconds between resource checks (at least 5, default 15).",
    )
    max_job_history: int = Field(
        default=1000,
        ge=10,
        description="Finished jobs kept in memory (at least 10, default 1000).",
    )
    default_thinking_method: str | None = Field(
        default=None,
        description="Thinking method given to jobs whose prompt does not set `thinking_method`.",
    )
    observer: ObserverConfig = Field(
        default_factory=ObserverConfig,
        description="Event bus and file-system observer settings.",
    )
    learning: SemanticLearningConfig = Field(
        default_factory=SemanticLearningConfig,
        description="Analysis of finished sheets by a language model.",
    )
    profiler: ProfilerConfig = Field(
        default_factory=ProfilerConfig,
        description="System profiler settings.",
    )
    preflight: PreflightConfig = Field(
        default_factory=PreflightConfig,
        description="Prompt-size thresholds checked before a prompt is sent.",
    )
    config_file: Path | None = Field(
        default=None,
        description="Path of the loaded configuration file; filled in by the conductor.",
    )
    mcp_pool: McpPoolConfig = Field(
        default_factory=McpPoolConfig,
        description="Pool of MCP servers the conductor keeps running and shares with every job.",
    )
    keyring: KeyringConfig = Field(
        default_factory=KeyringConfig,
        description="Where the API keys of each instrument are stored and how they are rotated.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "log_level": {
            "debug": "Everything, including detailed tracing.",
            "info": "Normal progress messages and above (the default).",
            "warning": "Only warnings and errors.",
            "error": "Only errors.",
        },
        "state_backend_type": {
            "sqlite": "An SQLite database; the only store the conductor supports.",
        },
    }
    schema_not_suggested: ClassVar[frozenset[str]] = frozenset({"config_file"})
