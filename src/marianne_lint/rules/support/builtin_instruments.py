"""Facts about the instrument profiles that ship with Marianne.

Marianne knows 13 instrument names out of the box: four *native* profiles
defined in its code and nine profiles shipped as YAML files. Scores may also
name score-local aliases (``instruments:``) and profiles from
``.marianne/instruments/`` folders; those are discovered by the rules.

Note that ``claude_cli`` (native, the default ``backend.type``) and
``claude-code`` (a YAML profile) are two different instruments that both run
the ``claude`` program; checks about ``backend.skip_permissions`` and
``backend.disable_mcp`` only concern ``claude_cli``.

Only the facts the rules need are kept here, as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: ``backend.type`` values Marianne treats as legacy backends (no warning).
LEGACY_BACKEND_TYPES: tuple[str, ...] = ("claude_cli", "anthropic_api", "recursive_light", "ollama")

#: The native Claude CLI instrument (the default ``backend.type``).
CLAUDE_CLI = "claude_cli"
#: The YAML profile that also drives the ``claude`` program; not ``claude_cli``.
CLAUDE_CODE = "claude-code"


@dataclass(frozen=True, slots=True)
class BuiltinProfile:
    """One instrument profile that ships with Marianne."""

    name: str
    kind: Literal["cli", "http"]
    origin: Literal["native", "yaml"]
    """``native``: defined in Marianne's code; ``yaml``: a shipped profile file."""
    executable: str | None
    """The program a CLI profile runs (None for HTTP profiles)."""
    mcp_config_flag: str | None
    """``cli.command.mcp_config_flag`` of a YAML profile (None when it has none)."""


BUILTIN_PROFILES: dict[str, BuiltinProfile] = {
    profile.name: profile
    for profile in (
        # Native profiles (defined in code).
        BuiltinProfile("claude_cli", "cli", "native", "claude", None),
        BuiltinProfile("anthropic_api", "http", "native", None, None),
        BuiltinProfile("ollama", "http", "native", None, None),
        BuiltinProfile("recursive_light", "http", "native", None, None),
        # Profiles shipped as YAML files.
        BuiltinProfile("aider", "cli", "yaml", "aider", None),
        BuiltinProfile("claude-code", "cli", "yaml", "claude", "--mcp-config"),
        BuiltinProfile("cli", "cli", "yaml", "bash", None),
        BuiltinProfile("cline-cli", "cli", "yaml", "cline", None),
        BuiltinProfile("codex-cli", "cli", "yaml", "codex", None),
        BuiltinProfile("crush", "cli", "yaml", "crush", None),
        BuiltinProfile("gemini-cli", "cli", "yaml", "gemini", None),
        BuiltinProfile("goose", "cli", "yaml", "goose", None),
        BuiltinProfile("opencode", "cli", "yaml", "opencode", None),
    )
}

NATIVE_NAMES: tuple[str, ...] = tuple(p.name for p in BUILTIN_PROFILES.values() if p.origin == "native")
YAML_NAMES: tuple[str, ...] = tuple(p.name for p in BUILTIN_PROFILES.values() if p.origin == "yaml")

#: The unattended-mode flag each shipped profile of an agent program passes
#: (``cli.command.auto_approve_flag``), by program.
AUTO_APPROVE_FLAGS: dict[str, str] = {
    "aider": "--yes",
    "claude": "--dangerously-skip-permissions",
    "cline": "--yolo",
    "codex": "--full-auto",
    "crush": "--yolo",
    "gemini": "--yolo",
    "opencode": "--dangerously-skip-permissions",
}

#: ``backend`` fields that only the ``claude_cli`` backend reads.
CLI_ONLY_BACKEND_FIELDS: tuple[str, ...] = (
    "skip_permissions",
    "disable_mcp",
    "output_format",
    "cli_model",
    "allowed_tools",
    "system_prompt_file",
    "cli_extra_args",
)
#: ``backend`` fields that only the ``anthropic_api`` backend reads.
API_ONLY_BACKEND_FIELDS: tuple[str, ...] = ("model", "api_key_env", "max_tokens", "temperature")

__all__ = [
    "API_ONLY_BACKEND_FIELDS",
    "AUTO_APPROVE_FLAGS",
    "BUILTIN_PROFILES",
    "CLAUDE_CLI",
    "CLAUDE_CODE",
    "CLI_ONLY_BACKEND_FIELDS",
    "LEGACY_BACKEND_TYPES",
    "NATIVE_NAMES",
    "YAML_NAMES",
    "BuiltinProfile",
]
