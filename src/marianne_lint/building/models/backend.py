"""The legacy ``backend:`` block and the ``bridge:`` block of a score.

``BackendConfig`` is also used by the conductor config for the model that
analyses sheet outcomes. Marianne only warns about unknown backend types and
settings meant for another backend; those warnings are lint rules elsewhere.
"""


from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error

#: Environment variables an MCP server entry may not set (compared upper-cased).
BLOCKED_ENV_KEYS: frozenset[str] = frozenset(
    {
        "PATH",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "DYLD_LIBRARY_PATH",
        "PYTHONPATH",
        "NODE_PATH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    }
)


class SheetBackendOverride(MarianneModel):
    """Backend settings that replace the block-level ones for a single sheet."""

    cli_model: str | None = Field(
        default=None,
        description="Model passed to the Claude CLI for this sheet only.",
    )
    model: str | None = Field(
        default=None,
        description="API model id for this sheet only.",
    )
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="API sampling temperature for this sheet (0 to 1).",
    )
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Maximum response tokens for this sheet when using the API (at least 1).",
    )
    timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Execution timeout in seconds for this sheet; takes precedence over `timeout_overrides`.",
    )


class RecursiveLightConfig(MarianneModel):
    """Connection settings for the `recursive_light` backend."""

    endpoint: str = Field(
        default="http://localhost:8080",
        description="Base URL of the Recursive Light API (default http://localhost:8080).",
    )
    user_id: str | None = Field(
        default=None,
        description="Instance identifier sent to the service; a random UUID is generated when unset.",
    )
    timeout: float = Field(
        default=30.0,
        gt=0,
        description="Request timeout in seconds (default 30).",
    )


class OllamaConfig(MarianneModel):
    """Connection and tool-handling settings for the `ollama` backend."""

    base_url: str = Field(
        default="http://localhost:11434",
        description="URL of the Ollama server (default http://localhost:11434).",
    )
    model: str = Field(
        default="llama3.1:8b",
        description="Ollama model to run; it must support tool calls (default llama3.1:8b).",
    )
    num_ctx: int = Field(
        default=32768,
        ge=4096,
        description="Context window size in tokens (at least 4096, default 32768).",
    )
    dynamic_tools: bool = Field(
        default=True,
        description="Load tool schemas only when they are needed instead of all up front.",
    )
    compression_level: Literal["minimal", "moderate", "aggressive"] = Field(
        default="moderate",
        description="How strongly tool schemas are shortened: `minimal`, `moderate` (default) or `aggressive`.",
    )
    timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Timeout in seconds for an Ollama API call (default 300).",
    )
    keep_alive: str = Field(
        default="5m",
        description="How long Ollama keeps the model loaded after a request, e.g. `5m` (the default).",
    )
    max_tool_iterations: int = Field(
        default=10,
        ge=1,
        le=50,
        description="Maximum rounds of tool calls per request (1 to 50, default 10).",
    )
    health_check_timeout: float = Field(
        default=10.0,
        description="Timeout in seconds for the server health probe (default 10).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "compression_level": {
            "minimal": "Keep tool schemas almost complete.",
            "moderate": "Shorten tool schemas somewhat (the default).",
            "aggressive": "Shorten tool schemas as much as possible to save context.",
        },
    }


class BackendConfig(MarianneModel):
    """The legacy execution backend and its settings.

    Prefer ``instrument:`` for choosing what runs sheets; the timeout settings
    here still apply whichever instrument is used.
    """

    type: str = Field(
        default="claude_cli",
        description=(
            "Backend or instrument name. The legacy backends are `claude_cli` (default), "
            "`anthropic_api`, `recursive_light` and `ollama`."
        ),
    )
    skip_permissions: bool = Field(
        default=True,
        description="Claude CLI only: run without asking for permission prompts (default true).",
    )
    disable_mcp: bool = Field(
        default=True,
        description="Claude CLI only: start Claude with MCP servers turned off (default true).",
    )
    output_format: Literal["json", "text", "stream-json"] = Field(
        default="text",
        description="Claude CLI only: output mode, `text` (default), `json` or `stream-json`.",
    )
    cli_model: str | None = Field(
        default=None,
        description="Claude CLI only: model name passed to the CLI.",
    )
    allowed_tools: list[str] | None = Field(
        default=None,
        description="Claude CLI only: tools the agent may use; leave unset to allow all.",
    )
    system_prompt_file: Path | None = Field(
        default=None,
        description="Claude CLI only: file holding a custom system prompt.",
    )
    working_directory: Path | None = Field(
        default=None,
        description="Working directory of the backend process; defaults to the score's directory.",
    )
    timeout_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Execution timeout per sheet in seconds (default 1800, i.e. 30 minutes).",
    )
    timeout_overrides: dict[int, float] = Field(
        default_factory=dict,
        description="Sheet number to a timeout in seconds that replaces `timeout_seconds` for that sheet.",
    )
    sheet_overrides: dict[int, SheetBackendOverride] = Field(
        default_factory=dict,
        description="Sheet number to backend settings (model, temperature, timeout) used for that sheet only.",
    )
    cli_extra_args: list[str] = Field(
        default_factory=list,
        description="Claude CLI only: extra command-line arguments appended after all others.",
    )
    max_output_capture_bytes: int = Field(
        default=51200,
        gt=0,
        description="How many bytes of stdout/stderr are kept for diagnostics (default 51200).",
    )
    model: str = Field(
        default="claude-sonnet-4-5-20250929",
        description="Anthropic API only: model id to call.",
    )
    api_key_env: str = Field(
        default="ANTHROPIC_API_KEY",
        description="Anthropic API only: name of the environment variable holding the API key.",
    )
    max_tokens: int = Field(
        default=16384,
        ge=1,
        description="Anthropic API only: maximum tokens in a response (default 16384).",
    )
    temperature: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="Anthropic API only: sampling temperature from 0 to 1 (default 0.7).",
    )
    recursive_light: RecursiveLightConfig = Field(
        default_factory=RecursiveLightConfig,
        description="Settings used when `type` is `recursive_light`.",
    )
    ollama: OllamaConfig = Field(
        default_factory=OllamaConfig,
        description="Settings used when `type` is `ollama`.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "output_format": {
            "json": "One JSON document with the result when the CLI finishes.",
            "text": "Plain text output (the default).",
            "stream-json": "A stream of JSON events while the CLI works.",
        },
    }


class MCPServerConfig(MarianneModel):
    """An MCP server the bridge starts to give the local model tools."""

    name: str = Field(description="Name identifying this MCP server.")
    command: str = Field(description="Executable that starts the server.")
    args: list[str] = Field(
        default_factory=list,
        description="Arguments passed to the server command.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Extra environment variables for the server; security-sensitive names such as PATH, "
            "LD_PRELOAD or API key variables are refused."
        ),
    )
    working_dir: str | None = Field(
        default=None,
        description="Directory the server is started in.",
    )
    timeout_seconds: float = Field(
        default=30.0,
        description="Timeout in seconds for operations on this server (default 30).",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_check_env_keys": (
            "linter: not in the schema; the names are blocked in any letter case, which an ECMA 262 "
            "pattern could only say by spelling out every case of every name."
        ),
    }

    @model_validator(mode="after")
    def _check_env_keys(self) -> Self:
        for key in self.env:
            if key.upper() in BLOCKED_ENV_KEYS:
                raise cross_field_error(
                    f"MCP server {self.name!r} sets environment variable {key!r}, which may not be "
                    "overridden for security reasons; remove it",
                    ("env", key),
                )
        return self


class BridgeConfig(MarianneModel):
    """Settings for running a local Ollama model with MCP tools, optionally routing hard tasks to Claude."""

    enabled: bool = Field(
        default=False,
        description="Turn on the Ollama-with-MCP bridge mode (default false).",
    )
    mcp_proxy_enabled: bool = Field(
        default=True,
        description="Expose the configured MCP servers to the model through a proxy (default true).",
    )
    mcp_servers: list[MCPServerConfig] = Field(
        default_factory=list,
        description="MCP servers to start for tool access.",
    )
    hybrid_routing_enabled: bool = Field(
        default=False,
        description="Send tasks judged complex to Claude instead of the local model (default false).",
    )
    complexity_threshold: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="Complexity score (0 to 1) above which hybrid routing uses Claude (default 0.7).",
    )
    fallback_to_claude: bool = Field(
        default=True,
        description="Retry with Claude when the local model fails (default true).",
    )
    context_budget_percent: int = Field(
        default=75,
        ge=10,
        le=95,
        description="Percentage of the context window reserved for tool definitions (10 to 95, default 75).",
    )
