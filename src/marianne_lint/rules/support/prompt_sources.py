"""The prompt templates of a score: the inline template and the contents of ``template_file``.

Read (never rendered) and parsed once per document; the template rules and the validation rules
that compare what the prompt asks for with what is checked share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath

from marianne_lint.rules.base import Context, per_document
from marianne_lint.rules.support import template_parse
from marianne_lint.rules.support.template_parse import Parsed


@dataclass(frozen=True, slots=True)
class PromptSource:
    """The prompt template of a score: inline, or the contents of ``template_file``."""

    key: tuple[str, str]
    """Data path of the key that holds it."""
    label: str
    text: str
    inline: bool
    parsed: Parsed
    lines: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """The template's lines (split once: a rule may place 20,000 findings in one template)."""
    last: int = field(init=False, repr=False, compare=False)
    """The number of the last line that is not blank (1 when all are)."""

    def __post_init__(self) -> None:
        lines = tuple(self.text.split("\n"))
        last = len(lines)
        while last > 1 and not lines[last - 1].strip():
            last -= 1
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "last", last)

    def where(self, line: int) -> str:
        """How a message names a line of this template."""
        return self.label if self.inline else f"line {line} of {self.label}"


@per_document
def prompt_sources(ctx: Context) -> list[PromptSource]:
    """The score's prompt templates (at most one), each read and parsed once per document."""
    out: list[PromptSource] = []
    prompt = ctx.score.prompt
    if prompt.template:
        out.append(
            PromptSource(
                ("prompt", "template"), "prompt.template", prompt.template, True, template_parse.parse(prompt.template)
            )
        )
    written = ctx.raw("prompt", "template_file")
    if isinstance(written, str) and written:
        text = _read_template_file(ctx, written)
        if text is not None:
            out.append(
                PromptSource(
                    ("prompt", "template_file"), f"template file '{written}'", text, False, template_parse.parse(text)
                )
            )
    return out


def template_file_unread(ctx: Context) -> bool:
    """Whether ``prompt.template_file`` names a file that could not be read here (missing, no file
    on disk to resolve it against, too large): the prompt is then only partly known."""
    written = ctx.raw("prompt", "template_file")
    return bool(written) and not any(not source.inline for source in prompt_sources(ctx))


def _read_template_file(ctx: Context, written: str) -> str | None:
    """The template file's text, or None when it cannot be found or read (a paths rule says so)."""
    path = FsPath(written)
    if not path.is_absolute():
        if ctx.file_path is None:
            return None
        path = ctx.file_path.parent / path
    from marianne_lint.reading import filesystem
    from marianne_lint.reading.bounded import TooLarge

    limit = int(ctx.option("max-file-size", 5 * 1024 * 1024))
    if not filesystem.is_file(path):
        return None
    try:
        return filesystem.read_bytes(path, limit).decode("utf-8")
    except (OSError, ValueError, TooLarge):
        return None


