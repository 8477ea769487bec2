"""Instrument profiles: the root model ``InstrumentProfile`` and its sections.

A profile tells Marianne how to drive one tool (a command-line agent or an
HTTP API): how to build the command, how to read its output and how to
recognise its errors.
"""


from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error
from marianne_lint.building.models.schema_hints import JsonDict, requires_when


class CodeModeInterface(MarianneModel):
    """A TypeScript interface offered to code the agent generates."""

    name: str = Field(min_length=1, description="Name of the interface.")
    typescript: str = Field(min_length=1, description="TypeScript definition of the interface.")
    description: str | None = Field(
        default=None,
        description="Explanation of the interface for the agent.",
    )


class CodeModeConfig(MarianneModel):
    """Settings for running agent-generated code in a sandbox."""

    interfaces: list[CodeModeInterface] = Field(
        default_factory=list,
        description="Interfaces the generated code may use.",
    )
    runtime: Literal["deno", "node_vm", "v8_isolate"] = Field(
        default="deno",
        description="Sandbox that runs the code: `deno` (default), `node_vm` or `v8_isolate`.",
    )
    max_execution_ms: int = Field(
        default=30000,
        ge=100,
        description="Maximum run time of generated code in milliseconds (at least 100, default 30000).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "runtime": {
            "deno": "Run generated code in Deno (the default).",
            "node_vm": "Run generated code in a Node.js VM context.",
            "v8_isolate": "Run generated code in a bare V8 isolate.",
        },
    }


class ModelCapacity(MarianneModel):
    """A model the instrument can use, with its limits and prices."""

    name: str = Field(min_length=1, description="Model identifier as the tool expects it.")
    context_window: int = Field(ge=1, description="Context window of the model in tokens.")
    cost_per_1k_input: float = Field(
        ge=0,
        description="Price in US dollars per 1000 input tokens (0 for free or local models).",
    )
    cost_per_1k_output: float = Field(
        ge=0,
        description="Price in US dollars per 1000 output tokens.",
    )
    max_output_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Maximum tokens the model produces per response; unlimited when unset.",
    )
    max_concurrent: int = Field(
        default=4,
        ge=1,
        description="Sheets that may use this model of this instrument at once (default 4).",
    )


class CliCommand(MarianneModel):
    """How the command line of a CLI instrument is assembled."""

    executable: str = Field(min_length=1, description="Program to run, e.g. `claude`.")
    subcommand: str | None = Field(
        default=None,
        description="Subcommand placed right after the program, e.g. `exec` or `run`.",
    )
    prompt_flag: str | None = Field(
        default=None,
        description="Flag that introduces the prompt; when unset and stdin is not used, the prompt is positional.",
    )
    model_flag: str | None = Field(
        default=None,
        description="Flag used to choose the model.",
    )
    auto_approve_flag: str | None = Field(
        default=None,
        description="Flag that lets the tool act without asking for approval.",
    )
    output_format_flag: str | None = Field(
        default=None,
        description="Flag that selects the output format.",
    )
    output_format_value: str | None = Field(
        default=None,
        description="Value given to the output format flag; when unset the flag is used on its own.",
    )
    system_prompt_flag: str | None = Field(
        default=None,
        description="Flag that passes a system prompt.",
    )
    allowed_tools_flag: str | None = Field(
        default=None,
        description="Flag that restricts which tools the agent may use.",
    )
    mcp_config_flag: str | None = Field(
        default=None,
        description="Flag that passes an MCP server configuration.",
    )
    mcp_disable_args: list[str] = Field(
        default_factory=list,
        description="Arguments added to turn MCP off when no MCP servers are wanted.",
    )
    timeout_flag: str | None = Field(
        default=None,
        description="Flag that sets a time limit for one run.",
    )
    working_dir_flag: str | None = Field(
        default=None,
        description="Flag that sets the working directory; when unset the process is started in it instead.",
    )
    extra_flags: list[str] = Field(
        default_factory=list,
        description="Flags always added to the command line.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment variables; `${VAR}` references are filled in at run time.",
    )
    prompt_via_stdin: bool = Field(
        default=True,
        description="Send the prompt on standard input (default true) rather than as an argument.",
    )
    stdin_sentinel: str | None = Field(
        default=None,
        description="Argument placed after `prompt_flag` when the prompt comes on stdin, e.g. `-`.",
    )
    start_new_session: bool = Field(
        default=False,
        description="Run the tool in its own process group (default false).",
    )
    required_env: list[str] | None = Field(
        default=None,
        description=(
            "Environment variables passed to the tool (plus essentials such as PATH and HOME); "
            "when unset the whole environment is passed."
        ),
    )


class CliOutputConfig(MarianneModel):
    """How the output of a CLI instrument is read."""

    format: Literal["text", "json", "jsonl"] = Field(
        default="text",
        description="Output format of the tool: `text` (default), `json` or `jsonl`.",
    )
    result_path: str | None = Field(
        default=None,
        description="Dotted path to the result text in JSON output.",
    )
    error_path: str | None = Field(
        default=None,
        description="Dotted path to the error message in JSON output.",
    )
    completion_event_type: str | None = Field(
        default=None,
        description="Type of the JSONL event that marks the end of a run.",
    )
    completion_event_filter: dict[str, str] | None = Field(
        default=None,
        description="Further key/value pairs the completion event must have.",
    )
    input_tokens_path: str | None = Field(
        default=None,
        description="Dotted path (wildcards allowed) to the input token count.",
    )
    output_tokens_path: str | None = Field(
        default=None,
        description="Dotted path (wildcards allowed) to the output token count.",
    )
    aggregate_tokens: bool = Field(
        default=False,
        description="Add up all wildcard matches for token counts instead of taking the first (default false).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "format": {
            "text": "Plain text: the whole output is the result (the default).",
            "json": "One JSON document; `result_path` points at the result.",
            "jsonl": "One JSON event per line; `completion_event_type` marks the end.",
        },
    }


class CliErrorConfig(MarianneModel):
    """How failures of a CLI instrument are classified from its exit code and output."""

    success_exit_codes: list[int] = Field(
        default_factory=lambda: [0],
        description="Exit codes that mean success (default [0]).",
    )
    rate_limit_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark output as rate-limited.",
    )
    auth_error_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark an authentication failure.",
    )
    capacity_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark a temporary overload worth retrying.",
    )
    timeout_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark a timeout.",
    )
    crash_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark a crash.",
    )
    stale_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions that mark a stalled run.",
    )
    rate_limit_event_type: str | None = Field(
        default=None,
        description="Type of the JSONL event that signals rate limiting.",
    )
    rate_limit_event_filter: dict[str, str] | None = Field(
        default=None,
        description="Further key/value pairs the rate-limit event must have.",
    )


class CliProfile(MarianneModel):
    """Everything needed to run a command-line instrument."""

    command: CliCommand = Field(description="How the command line is built.")
    output: CliOutputConfig = Field(description="How the output is read (`output: {}` keeps the defaults).")
    errors: CliErrorConfig = Field(
        default_factory=CliErrorConfig,
        description="How errors are recognised.",
    )


class HttpProfile(MarianneModel):
    """Endpoint of an HTTP instrument."""

    base_url: str = Field(description="Base URL of the API.")
    endpoint: str = Field(
        default="/v1/chat/completions",
        description="Path of the request endpoint (default /v1/chat/completions).",
    )
    schema_family: Literal["openai", "anthropic", "gemini"] = Field(
        description="Request and response format: `openai`, `anthropic` or `gemini`.",
    )
    auth_env_var: str | None = Field(
        default=None,
        description="Environment variable holding the API key.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "schema_family": {
            "openai": "OpenAI-style chat completions requests and responses.",
            "anthropic": "Anthropic Messages API requests and responses.",
            "gemini": "Google Gemini API requests and responses.",
        },
    }


class InstrumentProfile(MarianneModel):
    """An instrument profile: how Marianne drives one agent tool or model API.

    A `cli` profile needs the `cli` section, an `http` profile the `http` section.
    """

    name: str = Field(min_length=1, description="Name scores use to select this instrument.")
    display_name: str = Field(min_length=1, description="Human-readable name of the instrument.")
    description: str | None = Field(
        default=None,
        description="Short description of the instrument.",
    )
    kind: Literal["cli", "http"] = Field(
        description="How the instrument is reached: `cli` (a program) or `http` (an API).",
    )
    capabilities: set[str] = Field(
        default_factory=set,
        description="Free-form capability tags, e.g. `tool_use`, `file_editing`, `vision` or `mcp`.",
    )
    code_mode: CodeModeConfig | None = Field(
        default=None,
        description="Settings for running generated code in a sandbox.",
    )
    models: list[ModelCapacity] = Field(
        default_factory=list,
        description="Models the instrument offers, with limits and prices.",
    )
    default_model: str | None = Field(
        default=None,
        description="Model used when a score does not choose one.",
    )
    default_timeout_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Time limit per sheet in seconds (default 1800).",
    )
    raw_prompt: bool = Field(
        default=False,
        description=(
            "Send the rendered template as is, without preamble, injections or validation text "
            "(default false)."
        ),
    )
    cli: CliProfile | None = Field(
        default=None,
        description="How to run the tool; required when `kind` is `cli`.",
    )
    http: HttpProfile | None = Field(
        default=None,
        description="How to call the API; required when `kind` is `http`.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "kind": {
            "cli": "A command-line program; needs the `cli` section.",
            "http": "An HTTP API; needs the `http` section.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_section_for_kind": "schema: each `kind` needs its section (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """Each ``kind`` needs its section."""
        node["allOf"] = [
            requires_when("kind", "cli", {"cli": "object"}),
            requires_when("kind", "http", {"http": "object"}),
        ]

    @field_validator("capabilities", mode="before")
    @classmethod
    def _coerce_capabilities(cls, value: Any) -> Any:
        if isinstance(value, list):
            try:
                return set(value)
            except TypeError:
                return value
        return value

    @model_validator(mode="after")
    def _section_for_kind(self) -> Self:
        if self.kind == "cli" and self.cli is None:
            raise cross_field_error(
                "kind is 'cli' but the profile has no `cli` section; describe how to run the tool",
                "cli",
                "kind",
            )
        if self.kind == "http" and self.http is None:
            raise cross_field_error(
                "kind is 'http' but the profile has no `http` section; describe the API endpoint",
                "http",
                "kind",
            )
        return self
