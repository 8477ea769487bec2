"""Fleet files: a set of scores launched together, ordered by group dependencies."""


from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error


class FleetScoreEntry(MarianneModel):
    """One score that belongs to the fleet."""

    path: str = Field(description="Path of the score file, relative to the fleet file.")
    group: str | None = Field(
        default=None,
        description="Group the score belongs to; scores of one group are launched together.",
    )


class FleetGroupConfig(MarianneModel):
    """Ordering constraints of one group of scores."""

    depends_on: list[str] = Field(
        default_factory=list,
        description="Groups that must finish before this group is launched.",
    )


class FleetConfig(MarianneModel):
    """A fleet: several scores submitted together, group by group."""

    name: str = Field(description="Name of the fleet.")
    type: Literal["fleet"] = Field(
        default="fleet",
        description="Marks the file as a fleet; must be `fleet`.",
    )
    scores: list[FleetScoreEntry] = Field(description="Scores in the fleet (may be empty).")
    groups: dict[str, FleetGroupConfig] = Field(
        default_factory=dict,
        description="Group name to the groups it waits for.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "type": {
            "fleet": "Marks the file as a fleet.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_check_group_dependencies": (
            "linter: a graph check (every `depends_on` names a defined group, no cycles); JSON Schema "
            "cannot compare values with the keys of another map."
        ),
    }

    @model_validator(mode="after")
    def _check_group_dependencies(self) -> Self:
        for group, config in self.groups.items():
            for index, dep in enumerate(config.depends_on):
                if dep not in self.groups:
                    defined = ", ".join(sorted(self.groups))
                    raise cross_field_error(
                        f"group {group!r} depends on {dep!r}, which is not a defined group; "
                        f"defined groups: {defined}",
                        ("groups", group, "depends_on", index),
                    )

        done: set[str] = set()
        active: set[str] = set()

        def visit(group: str) -> None:
            active.add(group)
            for index, dep in enumerate(self.groups[group].depends_on):
                if dep in active:
                    if dep == group:
                        detail = f"group {group!r} depends on itself"
                    else:
                        detail = (
                            f"group {group!r} depends on {dep!r}, which directly or through "
                            f"other groups waits for {group!r}"
                        )
                    raise cross_field_error(
                        f"circular dependency involving group {dep!r}: {detail}; "
                        "remove one of the dependencies so the groups can be ordered",
                        ("groups", group, "depends_on", index),
                    )
                if dep not in done:
                    visit(dep)
            active.discard(group)
            done.add(group)

        for group in self.groups:
            if group not in done:
                visit(group)
        return self
