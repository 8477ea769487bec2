"""Spec corpus, techniques and the A2A agent card of a score
(``spec:``, ``techniques:`` and ``agent_card:``).
"""


from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator

from marianne_lint.building.models.base import EnumDescriptions, MarianneModel, cross_field_error


class SpecFragment(MarianneModel):
    """One piece of project specification that can be given to sheets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Identifier of the fragment, usually the file name without extension.")
    content: str = Field(description="Text of the fragment; may not be blank.")
    tags: list[str] = Field(
        default_factory=list,
        description="Tags used to select this fragment for particular sheets (see `sheet.spec_tags`).",
    )
    kind: Literal["text", "structured"] = Field(
        default="text",
        description="`text` (default) for prose or `structured` for parsed YAML data.",
    )
    data: dict[str, Any] | None = Field(
        default=None,
        description="Parsed payload of a `structured` fragment.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "kind": {
            "text": "Prose, given to prompts as written (the default).",
            "structured": "YAML data, parsed into `data`.",
        },
    }

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise cross_field_error("spec fragment name is blank; give it a name", ())
        return value

    @field_validator("content")
    @classmethod
    def _content_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise cross_field_error("spec fragment content is blank; give it some text", ())
        return value


class SpecCorpusConfig(MarianneModel):
    """Where the project's specification documents are loaded from for use in prompts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec_dir: str = Field(
        default="",
        description="Directory of spec documents, relative to the project root; empty (the default) turns this off.",
    )
    include_claude_md: bool = Field(
        default=False,
        description="Also load the project's CLAUDE.md as a fragment (default false).",
    )
    fragments: list[SpecFragment] = Field(
        default_factory=list,
        description="Fragments; normally filled in when the spec directory is loaded.",
    )

    schema_not_suggested: ClassVar[frozenset[str]] = frozenset({"fragments"})


class TechniqueConfig(MarianneModel):
    """A named technique component (skill, MCP server or protocol) available to agents."""

    kind: Literal["skill", "mcp", "protocol"] = Field(
        description="Component kind: `skill`, `mcp` or `protocol`.",
    )
    phases: list[str] = Field(
        description="Phases of the agent cycle in which the technique is active (may be empty).",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings specific to the kind, e.g. `path` for a skill or `server` for MCP.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "kind": {
            "skill": "Written instructions the agent can follow.",
            "mcp": "An MCP server giving the agent tools.",
            "protocol": "A coordination protocol between agents.",
        },
    }


class A2ASkill(MarianneModel):
    """A skill the agent advertises to other agents."""

    id: str = Field(description="Identifier of the skill.")
    description: str = Field(description="What the skill offers.")


class AgentCard(MarianneModel):
    """Discovery card registered for agent-to-agent (A2A) collaboration when the job starts."""

    name: str = Field(description="Name of the agent.")
    description: str = Field(description="Summary of the agent's role and abilities.")
    skills: list[A2ASkill] = Field(
        default_factory=list,
        description="Skills offered to other agents.",
    )
