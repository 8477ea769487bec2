"""The ``prompt:`` section of a score: the template each sheet's prompt is rendered from."""


from pathlib import Path
from typing import Any, Self

from pydantic import Field, model_validator

from marianne_lint.models.base import MarianneModel, cross_field_error


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
