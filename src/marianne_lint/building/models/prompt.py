"""The ``prompt:`` section of a score: the template each sheet's prompt is rendered from."""


from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from marianne_lint.building.models.base import Counterparts, MarianneModel, cross_field_error
from marianne_lint.building.models.schema_hints import JsonDict, hidden


class PromptConfig(MarianneModel):
    """The Jinja2 prompt template of the score and the variables available to it.

    Give ``template`` or ``template_file`` (not both); with neither, Marianne
    falls back to a short built-in prompt.
    """

    template: str | None = Field(
        default=None,
        description="Inline Jinja2 template rendered into each sheet's prompt. Use this or `template_file`.",
    )
    template_file: Path | None = Field(
        default=None,
        description="Path to a file holding the Jinja2 template, relative to the score file. Use this or `template`.",
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Fixed values available to the template by name (and to validation paths and "
            "conditions); keys must be strings."
        ),
    )
    stakes: str | None = Field(
        default=None,
        description="Text available as `{{ stakes }}`, describing what is at stake; appended to the default prompt.",
    )
    thinking_method: str | None = Field(
        default=None,
        description=(
            "Text available as `{{ thinking_method }}`; when unset, the conductor's "
            "`default_thinking_method` is used."
        ),
    )
    prompt_extensions: list[str] = Field(
        default_factory=list,
        description="Extra directives for every sheet: inline text or a path to a .md/.txt file relative to the score.",
    )

    schema_counterparts: ClassVar[Counterparts] = {
        "_at_most_one_template": "schema: `template` rules out `template_file` (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``template`` and ``template_file`` are not given together."""
        node["if"] = {"required": ["template"], "properties": {"template": {"type": "string"}}}
        node["then"] = {
            "properties": {
                "template_file": hidden(
                    type="null", errorMessage="Give either `template` or `template_file`, not both."
                )
            }
        }

    @model_validator(mode="after")
    def _at_most_one_template(self) -> Self:
        if self.template is not None and self.template_file is not None:
            raise cross_field_error(
                f"prompt sets both template and template_file ({str(self.template_file)!r}); "
                "keep only one of them",
                "template",
                "template_file",
            )
        return self
