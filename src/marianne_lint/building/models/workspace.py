"""Workspace and environment settings of a score: git isolation, archiving,
logging, AI review, passing output between sheets and feedback extraction.
"""


import fnmatch
import re
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from marianne_lint.building.models.base import Counterparts, EnumDescriptions, MarianneModel, cross_field_error
from marianne_lint.building.models.schema_hints import JsonDict, requires_when

DEFAULT_PRESERVE_PATTERNS: tuple[str, ...] = (
    ".iteration",
    ".marianne-*",
    ".coverage",
    "archive/**",
    ".worktrees/**",
)


class IsolationConfig(MarianneModel):
    """Running the job in its own git worktree so it does not disturb the main checkout."""

    enabled: bool = Field(
        default=False,
        description="Create a separate git worktree for the job (default false).",
    )
    mode: Literal["none", "worktree"] = Field(
        default="worktree",
        description="Isolation method: `worktree` (default) or `none`.",
    )
    worktree_base: Path | None = Field(
        default=None,
        description="Directory in which worktrees are created; defaults to `.worktrees` in the workspace.",
    )
    branch_prefix: str = Field(
        default="marianne",
        pattern=r"^[a-zA-Z][a-zA-Z0-9_-]*$",
        description=(
            "Prefix of the branch created for the job (a letter, then letters, digits, `_` or `-`; "
            "default `marianne`)."
        ),
    )
    source_branch: str | None = Field(
        default=None,
        description="Branch the worktree starts from; the current HEAD when unset.",
    )
    cleanup_on_success: bool = Field(
        default=True,
        description="Remove the worktree (keeping its branch) after a successful job (default true).",
    )
    cleanup_on_failure: bool = Field(
        default=False,
        description="Remove the worktree after a failed job (default false).",
    )
    lock_during_execution: bool = Field(
        default=True,
        description="Lock the worktree while the job runs (default true).",
    )
    fallback_on_error: bool = Field(
        default=True,
        description="Run without isolation if the worktree cannot be created (default true).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "mode": {
            "none": "No isolation: the job works in the current checkout.",
            "worktree": "A separate git worktree on its own branch (the default).",
        },
    }


class WorkspaceLifecycleConfig(MarianneModel):
    """Archiving of the previous workspace contents when a job is restarted fresh."""

    archive_on_fresh: bool = Field(
        default=False,
        description="Move existing workspace files to an archive when running with `--fresh` (default false).",
    )
    archive_dir: str = Field(
        default="archive",
        description="Subdirectory of the workspace that holds archives (default `archive`).",
    )
    archive_naming: Literal["iteration", "timestamp"] = Field(
        default="iteration",
        description="How archive folders are named: by `iteration` number (default) or `timestamp`.",
    )
    max_archives: int = Field(
        default=0,
        ge=0,
        description="Number of archives kept; 0 (the default) keeps all.",
    )
    preserve_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PRESERVE_PATTERNS),
        description="Glob patterns, relative to the workspace, of files never archived; entries may not be empty.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "archive_naming": {
            "iteration": "Number the archives 1, 2, 3, ... (the default).",
            "timestamp": "Name each archive after the time it was made.",
        },
    }

    @field_validator("preserve_patterns")
    @classmethod
    def _patterns_not_empty(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            if not pattern:
                raise cross_field_error(
                    f"workspace_lifecycle.preserve_patterns[{index}] is empty; give a glob pattern or remove the entry",
                    (index,),
                )
            try:
                re.compile(fnmatch.translate(pattern))
            except (re.error, OverflowError, RecursionError) as exc:  # a huge repeat, deep nesting
                raise cross_field_error(
                    f"workspace_lifecycle.preserve_patterns[{index}] ({pattern!r}) is not a usable glob: {exc}",
                    (index,),
                ) from exc
        return value


class LogConfig(MarianneModel):
    """Logging of the job: level, format and file rotation."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Lowest level logged: `DEBUG`, `INFO` (default), `WARNING` or `ERROR` (upper case).",
    )
    format: Literal["json", "console", "both"] = Field(
        default="console",
        description="Log output format: `console` (default), `json`, or `both` (which needs `file_path`).",
    )
    file_path: Path | None = Field(
        default=None,
        description="File the log is written to; required when `format` is `both`.",
    )
    max_file_size_mb: int = Field(
        default=50,
        gt=0,
        le=1000,
        description="Size in megabytes at which the log file is rotated (at most 1000, default 50).",
    )
    backup_count: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Number of rotated log files kept (0 to 100, default 5).",
    )
    include_timestamps: bool = Field(
        default=True,
        description="Add ISO timestamps to log entries (default true).",
    )
    include_context: bool = Field(
        default=True,
        description="Add contextual fields such as job and sheet to log entries (default true).",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "level": {
            "DEBUG": "Everything, including detailed tracing.",
            "INFO": "Normal progress messages and above (the default).",
            "WARNING": "Only warnings and errors.",
            "ERROR": "Only errors.",
        },
        "format": {
            "json": "One JSON object per log entry.",
            "console": "Human-readable lines on the console (the default).",
            "both": "Console lines plus JSON entries in `file_path` (which is then required).",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_file_for_both": "schema: `format: both` needs `file_path` (if/then).",
    }

    @classmethod
    def schema_extras(cls, node: JsonDict) -> None:
        """``format: both`` needs a file."""
        node["allOf"] = [requires_when("format", "both", {"file_path": "string"})]

    @model_validator(mode="after")
    def _file_for_both(self) -> Self:
        if self.format == "both" and self.file_path is None:
            raise cross_field_error(
                "logging.format is 'both' but no file_path is set; give a log file path or use another format",
                "format",
                "file_path",
            )
        return self


class AIReviewConfig(MarianneModel):
    """Scoring each sheet's output with an AI reviewer."""

    enabled: bool = Field(
        default=False,
        description="Have an AI reviewer score sheet output (default false).",
    )
    min_score: int = Field(
        default=60,
        ge=0,
        le=100,
        description="Score (0 to 100) below which `on_low_score` applies (default 60); must not exceed `target_score`.",
    )
    target_score: int = Field(
        default=80,
        ge=0,
        le=100,
        description="Score (0 to 100) regarded as good quality (default 80).",
    )
    on_low_score: Literal["retry", "warn", "fail"] = Field(
        default="warn",
        description="What happens below `min_score`: `warn` (default), `retry` or `fail`.",
    )
    max_retry_for_review: int = Field(
        default=2,
        ge=0,
        le=5,
        description="Retries allowed because of a low review score (0 to 5, default 2).",
    )
    review_prompt_template: str | None = Field(
        default=None,
        description="Custom prompt for the reviewer; a built-in prompt is used when unset.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "on_low_score": {
            "retry": "Run the sheet again.",
            "warn": "Log a warning and carry on (the default).",
            "fail": "Mark the sheet as failed.",
        },
    }
    schema_counterparts: ClassVar[Counterparts] = {
        "_min_not_above_target": "linter: compares two numbers of the section (JSON Schema has no relative bounds).",
    }

    @model_validator(mode="after")
    def _min_not_above_target(self) -> Self:
        if self.min_score > self.target_score:
            raise cross_field_error(
                f"ai_review.min_score ({self.min_score}) is greater than target_score ({self.target_score}); "
                "the pass mark must not exceed the target",
                "min_score",
                "target_score",
            )
        return self


class CrossSheetConfig(MarianneModel):
    """Making earlier sheets' output and files available to later prompts."""

    auto_capture_stdout: bool = Field(
        default=False,
        description="Expose earlier sheets' output to templates as `previous_outputs` (default false).",
    )
    max_output_chars: int = Field(
        default=2000,
        gt=0,
        description="Characters kept of each captured output or file (default 2000).",
    )
    capture_files: list[str] = Field(
        default_factory=list,
        description=(
            "File globs whose contents are exposed as `previous_files`; only `{{ workspace }}` and "
            "`{{ sheet_num }}` are substituted."
        ),
    )
    lookback_sheets: int = Field(
        default=3,
        ge=0,
        description="How many preceding sheets are captured (default 3; 0 means all).",
    )


class FeedbackConfig(MarianneModel):
    """Extraction of structured feedback that the agent writes into its output."""

    enabled: bool = Field(
        default=False,
        description="Look for feedback in agent output (default false).",
    )
    pattern: str = Field(
        default="(?s)FEEDBACK_START(.+?)FEEDBACK_END",
        description="Python regular expression locating the feedback; its first group is the feedback text.",
    )
    format: Literal["json", "yaml", "text"] = Field(
        default="json",
        description="How the captured feedback is parsed: `json` (default), `yaml` or `text`.",
    )

    schema_enum_descriptions: ClassVar[EnumDescriptions] = {
        "format": {
            "json": "Parse the captured feedback as JSON (the default).",
            "yaml": "Parse the captured feedback as YAML.",
            "text": "Keep the captured feedback as plain text.",
        },
    }

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except (re.error, OverflowError, RecursionError) as exc:  # a huge repeat, deep nesting
            raise cross_field_error(
                f"feedback.pattern ({value!r}) is not a valid regular expression: {exc}",
                (),
                rule="schema-regex",
            ) from exc
        return value
