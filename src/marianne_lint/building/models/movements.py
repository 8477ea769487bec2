"""Score-level instrument aliases (``instruments:``) and movement settings (``movements:``)."""


from typing import Any

from pydantic import Field

from marianne_lint.building.models.base import MarianneModel


class InstrumentDef(MarianneModel):
    """A score-local alias for an instrument profile, with settings applied when the alias is used."""

    profile: str = Field(
        min_length=1,
        description="Name of the registered instrument profile this alias stands for.",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Instrument settings merged in whenever this alias is used (for example `model`).",
    )


class MovementDef(MarianneModel):
    """Settings shared by every sheet of one movement (a fan-out stage)."""

    name: str | None = Field(
        default=None,
        description="Display name of the movement.",
    )
    instrument: str | None = Field(
        default=None,
        min_length=1,
        description="Instrument for all sheets of this movement, unless a per-sheet setting overrides it.",
    )
    instrument_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Instrument settings for this movement's sheets, merged over the score-level `instrument_config`.",
    )
    voices: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Intended as a shortcut for a fan-out count of this movement (at least 1); "
            "accepted but currently has no effect."
        ),
    )
    instrument_fallbacks: list[str] = Field(
        default_factory=list,
        description="Fallback instruments, in order, for this movement's sheets.",
    )
