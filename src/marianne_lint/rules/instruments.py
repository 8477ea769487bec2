"""ML7xx: instruments and best practice.

Which instrument names a score may use, settings of the legacy ``backend``
block, the warnings Marianne only prints to standard error while loading a
score (nobody sees them when a conductor loads the job), settings that no
part of Marianne reads, and checks of instrument profile files.

Which names a score may use (the shipped profiles, its aliases, and profiles on disk) is
worked out in :mod:`marianne_lint.rules.support.profiles`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, ClassVar

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.reading.positions import Span
from marianne_lint.rules.base import Context, Rule, per_document
from marianne_lint.rules.support.builtin_instruments import (
    API_ONLY_BACKEND_FIELDS,
    AUTO_APPROVE_FLAGS,
    BUILTIN_PROFILES,
    CLAUDE_CLI,
    CLAUDE_CODE,
    CLI_ONLY_BACKEND_FIELDS,
    LEGACY_BACKEND_TYPES,
)
from marianne_lint.rules.support.profiles import (
    HOME_OPTION,
    KnownInstruments,
    known_instruments,
)
from marianne_lint.rules.support.sheets import sheet_facts, sheet_list, sheets_phrase


def _close(name: str, choices: list[str]) -> str | None:
    for choice in choices:
        if choice.lower() == name.lower() or choice.replace("_", "-") == name.replace("_", "-"):
            return choice
    found = difflib.get_close_matches(name, choices, n=1, cutoff=0.75)
    return found[0] if found else None


def _where_searched(known: KnownInstruments) -> str:
    return "no profile in .marianne/instruments" + ("" if not known.home_read else " or ~/.marianne/instruments")


def _unknown_suggestion(name: str, known: KnownInstruments, *, aliases: bool = True) -> str:
    if name in known.broken:
        return (
            f"fix {known.broken[name]}: Marianne skips profile files that are not valid instrument profiles "
            "(lint it with --kind instrument)"
        )
    choices = known.names(aliases=aliases)
    close = _close(name, choices)
    if close is not None:
        return f"did you mean '{close}'?"
    text = f"use one of: {', '.join(choices)}"
    if not known.home_read:
        text += f"; profiles in ~/.marianne/instruments are read only with the option {HOME_OPTION}"
    return text


def _rename_instrument(ctx: Context, span: Span, name: str, known: KnownInstruments, *,
                       aliases: bool = True) -> Fix | None:
    """Rename an instrument to the one known name it is a slip of (unsafe: a guess)."""
    if name in known.broken:
        return None
    close = _close(name, known.names(aliases=aliases))
    if close is None:
        return None
    return Fix.of(f"write '{close}'", "unsafe", ctx.edits.replace_value(span, name, close))


def _unknown_reason(name: str, known: KnownInstruments) -> str:
    if name in known.broken:
        return (
            f"the profile file {known.broken[name].name} declares it but is not a valid profile, so Marianne skips it"
        )
    if not name.strip():
        return "the name is empty"
    return f"it is not a built-in profile, not an alias under `instruments:` and {_where_searched(known)} has that name"


# --------------------------------------------------------------------------------------------------
# Which instrument runs each sheet


@dataclass(frozen=True, slots=True)
class Choice:
    """Where an instrument name is chosen in the score."""

    label: str
    path: tuple[Any, ...]
    is_key: bool = False


def instrument_choices(ctx: Context) -> list[tuple[Choice, str]]:
    """Every place a score names an instrument for sheets (V210's places), with the name."""
    model = ctx.score
    out: list[tuple[Choice, str]] = []
    if model.instrument is not None:
        out.append((Choice("instrument", ("instrument",)), model.instrument))
    for number, name in model.sheet.per_sheet_instruments.items():
        out.append((Choice(f"sheet.per_sheet_instruments.{number}", ("sheet", "per_sheet_instruments", number)), name))
    for name in model.sheet.instrument_map:
        out.append((Choice("sheet.instrument_map key", ("sheet", "instrument_map", name), True), name))
    for number, movement in model.movements.items():
        if movement.instrument is not None:
            choice = Choice(f"movements.{number}.instrument", ("movements", number, "instrument"))
            out.append((choice, movement.instrument))
    return out


def _span(ctx: Context, choice: Choice) -> Span:
    return ctx.key_span(*choice.path) if choice.is_key else ctx.value_span(*choice.path)


@dataclass(frozen=True, slots=True)
class SheetInstrument:
    written: str
    """The name as chosen (may be an alias)."""
    profile: str
    """The profile after alias resolution."""
    choice: Choice | None
    """Where it is chosen; None for the default ``backend.type``."""


@per_document
def sheet_instruments(ctx: Context) -> dict[int, SheetInstrument]:
    """The instrument each sheet runs on, resolved as Marianne does (per-sheet, map, movement, score, backend)."""
    model = ctx.score
    facts = sheet_facts(ctx)
    mapped: dict[int, str] = {}
    for mapped_name, sheets in model.sheet.instrument_map.items():
        for number in sheets:
            mapped.setdefault(number, mapped_name)
    top: tuple[str, Choice | None]
    if model.instrument is not None:
        top = (model.instrument, Choice("instrument", ("instrument",)))
    elif ctx.exists("backend", "type"):
        top = (model.backend.type, Choice("backend.type", ("backend", "type")))
    else:
        top = (model.backend.type, None)
    out: dict[int, SheetInstrument] = {}
    for number, meta in facts.metas.items():
        name: str
        choice: Choice | None
        movement = model.movements.get(meta.stage)
        if number in model.sheet.per_sheet_instruments:
            name = model.sheet.per_sheet_instruments[number]
            choice = Choice(f"sheet.per_sheet_instruments.{number}", ("sheet", "per_sheet_instruments", number))
        elif number in mapped:
            name = mapped[number]
            choice = Choice("sheet.instrument_map key", ("sheet", "instrument_map", name), True)
        elif movement is not None and movement.instrument is not None:
            name = movement.instrument
            choice = Choice(f"movements.{meta.stage}.instrument", ("movements", meta.stage, "instrument"))
        else:
            name, choice = top
        alias = model.instruments.get(name)
        out[number] = SheetInstrument(name, alias.profile if alias is not None else name, choice)
    return out




def _effective_instrument(ctx: Context) -> tuple[str, Span | None, str]:
    """``instrument`` if set, else ``backend.type``: the name, where it is written, and how."""
    model = ctx.score
    if model.instrument is not None:
        return model.instrument, ctx.value_span("instrument"), "instrument"
    if ctx.exists("backend", "type"):
        return model.backend.type, ctx.value_span("backend", "type"), "backend.type"
    return model.backend.type, None, "the default backend.type"


# --------------------------------------------------------------------------------------------------
# Instrument names


class UnknownInstrument(Rule):
    """An instrument name that Marianne cannot find.

    A score names instruments with ``instrument``, ``movements.N.instrument``,
    ``sheet.per_sheet_instruments``, the keys of ``sheet.instrument_map``,
    ``instruments.ALIAS.profile`` and (legacy) ``backend.type``. Each must be
    a profile Marianne knows: one of the 13 built-in profiles (the native
    ``claude_cli``, ``anthropic_api``, ``ollama``, ``recursive_light`` and the
    shipped ``aider``, ``claude-code``, ``cli``, ``cline-cli``, ``codex-cli``,
    ``crush``, ``gemini-cli``, ``goose``, ``opencode``), an alias defined
    under the score's ``instruments:`` (except for an alias's own
    ``profile``: aliases resolve one level only), or the ``name`` of a valid
    profile in a ``.marianne/instruments/`` folder of the score's repository.
    ``~/.marianne/instruments/`` is searched only when the option
    ``read-home-instruments`` is true. A name Marianne does not know makes the
    sheets that use it fail when they are due to run. Note that ``claude_cli``
    and ``claude-code`` are different instruments.

    Covers `mzt validate` check V210, and also checks alias profiles and
    ``backend.type``, which V210 misses.

    Failing::

        instrument: claude_code

    Passing::

        instrument: claude-code
    """

    code = "ML701"
    name = "unknown-instrument"
    fixable = "unsafe"
    fix_summary = "rename to the one known instrument it is close to"
    severity = Severity.WARNING
    summary = "an instrument name that is not a known profile or alias"
    options: ClassVar[dict[str, Any]] = {HOME_OPTION: False}

    def check(self, ctx: Context) -> Iterator[Finding]:
        known = known_instruments(ctx)
        model = ctx.score
        for choice, name in instrument_choices(ctx):
            if not known.is_known(name):
                yield self._finding(ctx, _span(ctx, choice), choice.label, name, known)
        for alias, definition in model.instruments.items():
            profile = definition.profile
            if known.is_known(profile, aliases=False):
                continue
            if profile in known.aliases:
                yield Finding(
                    self.name,
                    ctx.value_span("instruments", alias, "profile"),
                    f"instruments.{alias}.profile '{profile}' names another alias, not a profile: Marianne "
                    "resolves aliases one level only, so this alias points at an instrument it cannot find",
                    related=[(ctx.key_span("instruments", profile), f"alias '{profile}' is defined here")],
                    suggestion=f"use the profile of '{profile}' ('{known.aliases[profile]}') directly",
                )
                continue
            yield self._finding(
                ctx,
                ctx.value_span("instruments", alias, "profile"),
                f"instruments.{alias}.profile",
                profile,
                known,
                aliases=False,
            )
        backend_type = model.backend.type
        if (
            model.instrument is None
            and ctx.exists("backend", "type")
            and backend_type not in LEGACY_BACKEND_TYPES
            and not known.is_known(backend_type)
        ):
            yield self._finding(ctx, ctx.value_span("backend", "type"), "backend.type", backend_type, known)

    def _finding(
        self, ctx: Context, span: Span, label: str, name: str, known: KnownInstruments, *, aliases: bool = True
    ) -> Finding:
        return Finding(
            self.name,
            span,
            f"{label} '{name}' is not a known instrument: {_unknown_reason(name, known)}; the sheets that use "
            "it cannot run",
            suggestion=_unknown_suggestion(name, known, aliases=aliases),
            fix=_rename_instrument(ctx, span, name, known, aliases=aliases),
        )


class UnknownFallbackInstrument(Rule):
    """A fallback instrument name that Marianne cannot find.

    ``instrument_fallbacks`` (score and movement level) and
    ``sheet.per_sheet_fallbacks`` list the instruments Marianne switches to
    when a sheet's instrument is unavailable. The names are checked against
    the same known set as ``unknown-instrument`` (built-in profiles, the
    score's aliases, profiles of the repository's
    ``.marianne/instruments/``, and ``~/.marianne/instruments/`` with the
    option ``read-home-instruments``). An unknown name is a fallback that can
    never take over.

    Covers `mzt validate` check V211.

    Failing::

        instrument: claude-code
        instrument_fallbacks: [gemini]

    Passing::

        instrument: claude-code
        instrument_fallbacks: [gemini-cli]
    """

    code = "ML702"
    name = "unknown-fallback-instrument"
    fixable = "unsafe"
    fix_summary = "rename to the one known instrument it is close to"
    severity = Severity.WARNING
    summary = "a fallback instrument name that is not a known profile or alias"
    options: ClassVar[dict[str, Any]] = {HOME_OPTION: False}

    def check(self, ctx: Context) -> Iterator[Finding]:
        known = known_instruments(ctx)
        model = ctx.score
        lists: list[tuple[str, tuple[Any, ...], list[str]]] = [
            ("instrument_fallbacks", ("instrument_fallbacks",), model.instrument_fallbacks)
        ]
        for number, movement in model.movements.items():
            lists.append(
                (
                    f"movements.{number}.instrument_fallbacks",
                    ("movements", number, "instrument_fallbacks"),
                    movement.instrument_fallbacks,
                )
            )
        for number, names in model.sheet.per_sheet_fallbacks.items():
            lists.append((f"sheet.per_sheet_fallbacks.{number}", ("sheet", "per_sheet_fallbacks", number), names))
        for label, path, names in lists:
            for index, name in enumerate(names):
                if known.is_known(name):
                    continue
                yield Finding(
                    self.name,
                    ctx.value_span(*path, index),
                    f"{label}[{index}] '{name}' is not a known instrument: {_unknown_reason(name, known)}; "
                    "Marianne can never fall back to it",
                    suggestion=_unknown_suggestion(name, known),
                    fix=_rename_instrument(ctx, ctx.value_span(*path, index), name, known),
                )


class InstrumentAliasShadowsProfile(Rule):
    """A score-local alias named like a built-in profile but pointing at another profile.

    An alias under ``instruments:`` wins over the profile of the same name,
    so with ``instruments: {claude-code: {profile: gemini-cli}}`` every
    ``instrument: claude-code`` in the score runs Gemini. A reader (and the
    fallback lists) will take the name at its word. An alias that points at
    the profile of its own name (to attach settings to it) is fine.

    Failing::

        instruments:
          claude-code:
            profile: gemini-cli

    Passing::

        instruments:
          reviewer:
            profile: gemini-cli
    """

    code = "ML716"
    name = "instrument-alias-shadows-profile"
    severity = Severity.WARNING
    summary = "an instrument alias hides the built-in profile of the same name"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for alias, definition in ctx.score.instruments.items():
            if alias in BUILTIN_PROFILES and definition.profile != alias:
                yield Finding(
                    self.name,
                    ctx.key_span("instruments", alias),
                    f"alias instruments.{alias} has the name of the built-in profile '{alias}' but points at "
                    f"'{definition.profile}': every use of '{alias}' in this score runs '{definition.profile}'",
                    related=[(ctx.value_span("instruments", alias, "profile"), "the profile it stands for")],
                    suggestion="rename the alias after its role (e.g. 'reviewer'), so that the built-in name keeps "
                    "its meaning",
                )


# --------------------------------------------------------------------------------------------------
# The claude_cli backend


def _claude_cli_related(ctx: Context) -> list[tuple[Span, str]]:
    name, span, how = _effective_instrument(ctx)
    return [(span, f"{how} selects '{name}'")] if span is not None else []


class SkipPermissionsDisabled(Rule):
    """The Claude CLI instrument would stop to ask for permissions.

    With the native ``claude_cli`` instrument (``instrument: claude_cli``, or
    no instrument and ``backend.type`` left at ``claude_cli``) and
    ``backend.skip_permissions: false``, Claude asks for permission before
    using tools; in an unattended run nobody answers. ``instrument:
    claude-code`` (the YAML profile) does not read this setting and is not
    affected.

    Covers `mzt validate` check V204.

    Failing::

        backend:
          skip_permissions: false

    Passing::

        backend:
          skip_permissions: true
          allowed_tools: [Read, Write, Edit]
    """

    code = "ML703"
    name = "skip-permissions-disabled"
    fixable = "unsafe"
    fix_summary = "delete `skip_permissions: false`"
    severity = Severity.WARNING
    summary = "claude_cli with backend.skip_permissions false waits for permission prompts"

    def check(self, ctx: Context) -> Iterator[Finding]:
        name, _, how = _effective_instrument(ctx)
        if name != CLAUDE_CLI or ctx.score.backend.skip_permissions:
            return
        yield Finding(
            self.name,
            ctx.first_span(("backend", "skip_permissions"), ("backend",)),
            f"backend.skip_permissions is false and the instrument is '{CLAUDE_CLI}' ({how}): Claude will ask "
            "for permission before using tools, and nobody is there to answer during a run",
            related=_claude_cli_related(ctx),
            suggestion="remove skip_permissions: false (the default is true); limit tools with "
            "backend.allowed_tools instead",
            fix=Fix.of("remove skip_permissions: false", "unsafe", ctx.remove_key("backend", "skip_permissions")),
        )


class McpEnabled(Rule):
    """The Claude CLI instrument starts with MCP servers enabled.

    With the native ``claude_cli`` instrument and ``backend.disable_mcp:
    false``, Claude loads the MCP servers configured on the machine for every
    sheet, which slows each start and makes the run depend on that machine's
    setup. ``instrument: claude-code`` is not affected.

    Covers `mzt validate` check V209.

    Failing::

        backend:
          disable_mcp: false

    Passing::

        backend:
          disable_mcp: true
    """

    code = "ML704"
    name = "mcp-enabled"
    fixable = "unsafe"
    fix_summary = "delete `disable_mcp: false`"
    severity = Severity.INFO
    summary = "claude_cli with backend.disable_mcp false loads the machine's MCP servers"

    def check(self, ctx: Context) -> Iterator[Finding]:
        name, _, how = _effective_instrument(ctx)
        if name != CLAUDE_CLI or ctx.score.backend.disable_mcp:
            return
        yield Finding(
            self.name,
            ctx.first_span(("backend", "disable_mcp"), ("backend",)),
            f"backend.disable_mcp is false and the instrument is '{CLAUDE_CLI}' ({how}): Claude starts the "
            "MCP servers configured on the machine for every sheet, which is slower and machine-dependent",
            related=_claude_cli_related(ctx),
            suggestion="remove disable_mcp: false unless the sheets need MCP tools",
            fix=Fix.of("remove disable_mcp: false", "unsafe", ctx.remove_key("backend", "disable_mcp")),
        )


# --------------------------------------------------------------------------------------------------
# Warnings Marianne prints to stderr while loading a score


class BackendTypeNotLegacy(Rule):
    """``backend.type`` names an instrument instead of a legacy backend.

    The legacy backends are ``claude_cli``, ``anthropic_api``,
    ``recursive_light`` and ``ollama``. Marianne accepts any other name (it
    is taken as an instrument) but only prints a warning to standard error
    while loading, which nobody sees when the conductor runs the job.
    Choosing instruments is what ``instrument:`` is for; it also makes the
    per-movement and per-sheet settings read naturally.

    Failing::

        backend:
          type: gemini-cli

    Passing::

        instrument: gemini-cli
    """

    code = "ML705"
    name = "backend-type-not-legacy"
    fixable = "unsafe"
    fix_summary = "move the name to a top-level `instrument:`"
    severity = Severity.WARNING
    summary = "backend.type is an instrument name; use instrument: instead"

    def check(self, ctx: Context) -> Iterator[Finding]:
        backend_type = ctx.score.backend.type
        if backend_type in LEGACY_BACKEND_TYPES:
            return
        yield Finding(
            self.name,
            ctx.value_span("backend", "type"),
            f"backend.type '{backend_type}' is not a legacy backend ({', '.join(LEGACY_BACKEND_TYPES)}); "
            "Marianne treats it as an instrument name and only warns about it on standard error",
            suggestion=f"write `instrument: {backend_type}` and remove backend.type",
            fix=_to_instrument(ctx, backend_type),
        )


def _to_instrument(ctx: Context, backend_type: str) -> Fix | None:
    """Move ``backend.type: NAME`` to a top-level ``instrument: NAME`` (unsafe: the field changes)."""
    backend = ctx.root.locate(("backend",))
    if ctx.score.instrument is not None or ctx.exists("instrument") or backend.key is None:
        return None
    if backend.key.span.column != 1 or backend.node.values is None or not _PLAIN_NAME.fullmatch(backend_type):
        return None
    line = f"instrument: {backend_type}\n"
    message = f"write `instrument: {backend_type}` instead of backend.type"
    if len(backend.node.values) == 1:  # backend held only the type: the whole entry becomes the line
        removal = ctx.remove_key("backend")
        if removal is None:
            return None
        return Fix.of(message, "unsafe", ctx.edits.edit(removal.start, removal.end, line))
    at = ctx.edits.offset(backend.key.span.line, 1)
    return Fix.of(message, "unsafe", ctx.edits.edit(at, at, line), ctx.remove_key("backend", "type"))


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


def _field_default(model_cls: Any, name: str) -> Any:
    info = model_cls.model_fields[name]
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


class BackendFieldIgnored(Rule):
    """A ``backend`` setting that the chosen backend type does not read.

    The Claude CLI settings (``skip_permissions``, ``disable_mcp``,
    ``output_format``, ``cli_model``, ``allowed_tools``,
    ``system_prompt_file``, ``cli_extra_args``) only apply when
    ``backend.type`` is ``claude_cli``; the Anthropic API settings
    (``model``, ``api_key_env``, ``max_tokens``, ``temperature``) only when
    it is ``anthropic_api``. Marianne ignores the others, warning only on
    standard error. Only settings written with a value other than the
    default are reported.

    Failing::

        backend:
          type: anthropic_api
          cli_model: claude-opus-4-6

    Passing::

        backend:
          type: anthropic_api
          model: claude-opus-4-6
    """

    code = "ML706"
    name = "backend-field-ignored"
    severity = Severity.WARNING
    summary = "a backend setting that belongs to another backend type and is ignored"

    def check(self, ctx: Context) -> Iterator[Finding]:
        raw = ctx.raw("backend")
        if not isinstance(raw, dict):
            return
        backend = ctx.score.backend
        backend_type = backend.type
        groups = (
            (CLI_ONLY_BACKEND_FIELDS, "claude_cli", "the Claude CLI backend"),
            (API_ONLY_BACKEND_FIELDS, "anthropic_api", "the Anthropic API backend"),
        )
        for fields, owner, owner_text in groups:
            if backend_type == owner:
                continue
            for name in fields:
                if not ctx.exists("backend", name):
                    continue
                value = getattr(backend, name)
                if value == _field_default(type(backend), name):
                    continue
                shown = _show(value)
                if len(shown) > 40:
                    shown = shown[:37] + "..."
                how = f"backend.type '{backend_type}'" + ("" if ctx.exists("backend", "type") else " (the default)")
                instead = (
                    "set the model through instrument_config: {model: ...} instead"
                    if name in ("model", "cli_model")
                    else "remove it"
                )
                yield Finding(
                    self.name,
                    ctx.key_span("backend", name),
                    f"backend.{name} ({shown}) is only read by {owner_text} ({owner}); with {how} Marianne ignores it",
                    suggestion=instead,
                )


class ParallelSharedWorktree(Rule):
    """Parallel sheets with worktree isolation all work in the same worktree.

    ``isolation`` creates one git worktree for the whole job, not one per
    sheet. With ``parallel.enabled`` as well, sheets that run at the same
    time edit the same checkout and can overwrite or commit each other's
    changes. Marianne only warns about this on standard error. Not reported
    when ``max_concurrent`` is 1 or the isolation mode is ``none``.

    Failing::

        parallel: {enabled: true, max_concurrent: 3}
        isolation: {enabled: true}

    Passing::

        parallel: {enabled: false}
        isolation: {enabled: true}
    """

    code = "ML707"
    name = "parallel-shared-worktree"
    severity = Severity.WARNING
    summary = "parallel sheets share the job's single isolation worktree"

    def check(self, ctx: Context) -> Iterator[Finding]:
        model = ctx.score
        parallel, isolation = model.parallel, model.isolation
        if not (parallel.enabled and isolation.enabled) or parallel.max_concurrent < 2:
            return
        if isolation.mode == "none":
            return
        yield Finding(
            self.name,
            ctx.first_span(("isolation", "enabled"), ("isolation",)),
            f"isolation.enabled and parallel.enabled are both true: Marianne creates one git worktree for the "
            f"whole job, so up to {parallel.max_concurrent} sheets run at once in the same worktree and can "
            "overwrite each other's changes",
            related=[(ctx.first_span(("parallel", "enabled"), ("parallel",)), "parallel execution is enabled here")],
            suggestion="have concurrent sheets write to separate files, or turn parallel off for sheets that "
            "edit the same code",
        )


class ChecksumHookWithoutChecksums(Rule):
    """A ``file_checksum`` grounding hook with no checksums to compare.

    The hook compares files against ``expected_checksums`` (path to digest);
    without any it checks nothing, so the grounding step passes whatever the
    sheet produced. Marianne only warns about this on standard error.

    Failing::

        grounding:
          enabled: true
          hooks:
            - type: file_checksum
              name: config-unchanged

    Passing::

        grounding:
          enabled: true
          hooks:
            - type: file_checksum
              name: config-unchanged
              expected_checksums:
                config/app.toml: 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b
    """

    code = "ML708"
    name = "checksum-hook-without-checksums"
    severity = Severity.WARNING
    summary = "a file_checksum grounding hook has no expected_checksums"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, hook in enumerate(ctx.score.grounding.hooks):
            if hook.type != "file_checksum" or hook.expected_checksums:
                continue
            label = f"grounding.hooks[{index}]" + (f" ('{hook.name}')" if hook.name else "")
            yield Finding(
                self.name,
                ctx.first_span(("grounding", "hooks", index, "expected_checksums"), ("grounding", "hooks", index)),
                f"{label} is a file_checksum hook without expected_checksums: it has nothing to compare, so it "
                "checks nothing",
                suggestion="add expected_checksums: {path: digest} for the files to protect, or remove the hook",
            )


class PromptWithoutTemplate(Rule):
    """The prompt has neither ``template`` nor ``template_file``.

    Marianne then sends each sheet a short built-in prompt of the form
    "Processing sheet N of M (items a-b)" (plus ``stakes`` when set): the
    instrument gets no instructions about the task. Marianne only warns about
    this on standard error.

    Failing::

        prompt:
          variables: {topic: release notes}

    Passing::

        prompt:
          template: "Summarise the {{ topic }} into {{ workspace }}/summary.md"
          variables: {topic: release notes}
    """

    code = "ML709"
    name = "prompt-without-template"
    severity = Severity.WARNING
    summary = "prompt has neither template nor template_file; a generic prompt is sent"

    def check(self, ctx: Context) -> Iterator[Finding]:
        prompt = ctx.score.prompt
        if prompt.template is not None or prompt.template_file is not None:
            return
        yield Finding(
            self.name,
            ctx.key_span("prompt"),
            "prompt has neither template nor template_file: every sheet gets Marianne's generic prompt "
            "'Processing sheet N of M (items a-b)' instead of instructions for the task",
            suggestion="add prompt.template (inline Jinja2) or prompt.template_file",
        )


class DeprecatedAutoApply(Rule):
    """The deprecated flat ``learning.auto_apply_enabled`` / ``auto_apply_trust_threshold``.

    These are the old spelling of ``learning.auto_apply.enabled`` and
    ``learning.auto_apply.trust_threshold``. When an ``auto_apply`` block is
    present it wins and the flat values are overwritten, so they are silently
    lost. Without the block, ``auto_apply_enabled: true`` is migrated into
    ``auto_apply: {enabled: true, trust_threshold: ...}`` with a deprecation
    warning on standard error, and a flat threshold without
    ``auto_apply_enabled: true`` has no effect.

    Failing::

        learning:
          auto_apply_enabled: true
          auto_apply_trust_threshold: 0.9

    Passing::

        learning:
          auto_apply:
            enabled: true
            trust_threshold: 0.9
    """

    code = "ML710"
    name = "deprecated-auto-apply"
    severity = Severity.WARNING
    summary = "deprecated flat learning.auto_apply_* fields; use the learning.auto_apply block"

    def check(self, ctx: Context) -> Iterator[Finding]:
        raw = ctx.raw("learning")
        if not isinstance(raw, dict):
            return
        learning = ctx.score.learning
        wrote_enabled = ctx.exists("learning", "auto_apply_enabled")
        wrote_threshold = ctx.exists("learning", "auto_apply_trust_threshold")
        if not (wrote_enabled or wrote_threshold):
            return
        block = isinstance(ctx.raw("learning", "auto_apply"), dict)
        if block:
            assert learning.auto_apply is not None
            for name, inner in (("auto_apply_enabled", "enabled"), ("auto_apply_trust_threshold", "trust_threshold")):
                if not ctx.exists("learning", name):
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span("learning", name),
                    f"learning.{name} is deprecated and ignored here: the learning.auto_apply block is also set "
                    f"and wins (auto_apply.{inner} is {_show(getattr(learning.auto_apply, inner))})",
                    related=[(ctx.key_span("learning", "auto_apply"), "this block takes precedence")],
                    suggestion=f"remove learning.{name}; set auto_apply.{inner} instead",
                )
            return
        enabled = learning.auto_apply_enabled  # without a block, the flat value is kept as written
        threshold = learning.auto_apply_trust_threshold
        if wrote_enabled:
            if enabled:
                message = (
                    "learning.auto_apply_enabled is deprecated: Marianne turns it into "
                    f"learning.auto_apply: {{enabled: true, trust_threshold: {threshold:g}}}"
                )
                suggestion = f"write learning.auto_apply: {{enabled: true, trust_threshold: {threshold:g}}} instead"
            else:
                message = "learning.auto_apply_enabled is deprecated (auto-apply is off, the default)"
                suggestion = "remove it, or write learning.auto_apply: {enabled: false}"
            related = (
                [(ctx.key_span("learning", "auto_apply_trust_threshold"), "the deprecated threshold")]
                if wrote_threshold
                else []
            )
            yield Finding(
                self.name,
                ctx.key_span("learning", "auto_apply_enabled"),
                message,
                related=related,
                suggestion=suggestion,
            )
        if wrote_threshold and not enabled:
            yield Finding(
                self.name,
                ctx.key_span("learning", "auto_apply_trust_threshold"),
                f"learning.auto_apply_trust_threshold ({threshold:g}) is deprecated and has no effect: auto-apply "
                "is not enabled, so the threshold is never used",
                suggestion=f"write learning.auto_apply: {{enabled: true, trust_threshold: {threshold:g}}} to turn "
                "auto-apply on, or remove the threshold",
            )


def _show(value: Any) -> str:
    """A value written the way YAML would show it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


# --------------------------------------------------------------------------------------------------
# Settings no part of Marianne reads


_NO_EFFECT: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("sheet", "skip_when"),
        "nothing evaluates these expressions, so {keys} {verb} never skipped",
        "decide inside the sheet's prompt whether there is work to do, or remove the entries",
    ),
    (
        ("sheet", "skip_when_command"),
        "nothing runs these commands, so {keys} {verb} never skipped",
        "decide inside the sheet's prompt whether there is work to do, or remove the entries",
    ),
    (
        ("sheet", "prompt_extensions"),
        "nothing adds them to the prompts of {keys}",
        "put the directives in the prompt template, or inject files with sheet.cadenzas",
    ),
    (
        ("prompt", "prompt_extensions"),
        "nothing adds them to any prompt",
        "put the directives in the prompt template, or inject files with sheet.prelude",
    ),
    (
        ("sheet", "spec_tags"),
        "nothing selects spec fragments by them for {keys}",
        "remove them; spec fragments are not selected per sheet",
    ),
)

#: Per-sheet maps keyed by stage under fan-out (the others are keyed by sheet).
_STAGE_KEYED = frozenset({"skip_when", "skip_when_command"})


class SettingHasNoEffect(Rule):
    """A setting Marianne accepts but that no part of it reads.

    ``sheet.skip_when`` and ``sheet.skip_when_command`` (no sheet is ever
    skipped by them), ``sheet.prompt_extensions`` and
    ``prompt.prompt_extensions`` (never added to a prompt) and
    ``sheet.spec_tags`` (never used to pick spec fragments) pass validation
    but have no runtime consumer in Marianne, so the behaviour they describe
    does not happen. (``movements.N.voices`` has its own rule,
    ``voices-ignored``.) Only non-empty settings are reported.

    Failing::

        sheet:
          size: 1
          total_items: 3
          skip_when_command:
            3:
              command: 'test -f "{workspace}/done.flag"'

    Passing::

        sheet:
          size: 1
          total_items: 3
    """

    code = "ML711"
    name = "setting-has-no-effect"
    severity = Severity.WARNING
    summary = "a setting Marianne accepts but never uses (skip_when, prompt_extensions, spec_tags)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for path, effect, suggestion in _NO_EFFECT:
            found = ctx.at(*path)
            value = found.value
            if not value or not isinstance(value, (dict, list)):
                continue
            keys, verb = "", "are"
            if isinstance(value, dict):
                unit = "stage" if path[-1] in _STAGE_KEYED and sheet_facts(ctx).has_fan_out else "sheet"
                numbers = [k for k in value if isinstance(k, int) and not isinstance(k, bool)]
                shown = sheet_list(numbers) if len(numbers) == len(value) else ", ".join(str(k) for k in value)
                if len(value) == 1 and len(numbers) == 1:
                    keys, verb = f"{unit} {shown}", "is"
                else:
                    keys = f"{unit}s {shown}"
            count = len(value)
            noun = "entry" if count == 1 else "entries"
            yield Finding(
                self.name,
                found.key,
                f"{'.'.join(path)} ({count} {noun}) has no effect: Marianne accepts it, but "
                + effect.format(keys=keys, verb=verb),
                suggestion=suggestion,
            )


# --------------------------------------------------------------------------------------------------
# Techniques


class TechniqueMcpUnsupported(Rule):
    """An MCP technique while sheets run on an instrument that cannot be given an MCP config.

    A technique of ``kind: mcp`` provides an MCP server to the agent. Marianne
    passes MCP servers to a CLI instrument through the profile's
    ``cli.command.mcp_config_flag``; of the shipped YAML profiles only
    ``claude-code`` has one. Sheets that run on another YAML profile (shipped,
    or from the repository's ``.marianne/instruments``) cannot use the MCP
    technique. The instrument of each sheet is resolved as Marianne does
    (per-sheet, ``instrument_map``, movement, score, ``backend.type``, then
    aliases). Native instruments are not judged.

    Covers `mzt validate` check V302 (which only looks at ``backend.type`` and
    is not run by ``mzt validate``).

    Failing::

        instrument: gemini-cli
        techniques:
          github:
            kind: mcp
            phases: [work]
            config: {server: github}

    Passing::

        instrument: claude-code
        techniques:
          github:
            kind: mcp
            phases: [work]
            config: {server: github}
    """

    code = "ML712"
    name = "technique-mcp-unsupported"
    severity = Severity.WARNING
    summary = "an MCP technique while sheets run on an instrument without an MCP config flag"

    def check(self, ctx: Context) -> Iterator[Finding]:
        techniques = [name for name, tech in ctx.score.techniques.items() if tech.kind == "mcp"]
        if not techniques:
            return
        known = known_instruments(ctx)
        by_profile: dict[str, list[int]] = {}
        choice_of: dict[str, Choice | None] = {}
        for number, chosen in sheet_instruments(ctx).items():
            if chosen.profile in known.mcp_flags and not known.mcp_flags[chosen.profile]:
                by_profile.setdefault(chosen.profile, []).append(number)
                choice_of.setdefault(chosen.profile, chosen.choice)
        if not by_profile:
            return
        names = ", ".join(f"'{t}'" for t in techniques)
        for profile, sheets in by_profile.items():
            verb = "it runs" if len(sheets) == 1 else "they run"
            choice = choice_of[profile]
            related: list[tuple[Span, str]] = []
            if choice is not None:
                related.append((_span(ctx, choice), f"{choice.label} selects '{profile}'"))
            for other in techniques[1:]:
                related.append((ctx.key_span("techniques", other), f"MCP technique '{other}'"))
            yield Finding(
                self.name,
                ctx.key_span("techniques", techniques[0]),
                f"MCP technique(s) {names} cannot reach {sheets_phrase(sheets)}: {verb} on '{profile}', "
                "whose profile has no cli.command.mcp_config_flag, so Marianne has no way to pass it an MCP "
                "server",
                related=related,
                suggestion=f"run those sheets on an instrument with MCP support (e.g. '{CLAUDE_CODE}'), or drop "
                "the MCP technique",
            )


# --------------------------------------------------------------------------------------------------
# Instrument profiles


class DefaultModelNotListed(Rule):
    """An instrument profile's ``default_model`` is not among its ``models``.

    Marianne does not check this. The ``models`` list carries each model's
    context window, prices and concurrency limit; a default model missing
    from it has none of these, so cost estimates and per-model limits cannot
    apply to the sheets that use the default (often a typo in the name).
    Only checked when ``models`` is not empty.

    Failing::

        default_model: gpt-5-mini
        models:
          - {name: gpt-5, context_window: 400000, cost_per_1k_input: 0.00125, cost_per_1k_output: 0.01}

    Passing::

        default_model: gpt-5
        models:
          - {name: gpt-5, context_window: 400000, cost_per_1k_input: 0.00125, cost_per_1k_output: 0.01}
    """

    code = "ML713"
    name = "default-model-not-listed"
    severity = Severity.WARNING
    summary = "an instrument profile's default_model is not one of its models"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        model: Any = ctx.model
        names = [m.name for m in model.models]
        default = model.default_model
        if default is None or not names or default in names:
            return
        close = _close(default, names)
        yield Finding(
            self.name,
            ctx.value_span("default_model"),
            f"default_model '{default}' is not among the {len(names)} models of this profile, so its context "
            "window, prices and concurrency limit are unknown to Marianne",
            related=[(ctx.key_span("models"), "the models the profile declares")],
            suggestion=f"did you mean '{close}'?" if close else "add the model to models, or pick one of them",
        )


class PromptFlagUnused(Rule):
    """A CLI profile's ``prompt_flag`` that Marianne never puts on the command line.

    ``cli.command.prompt_via_stdin`` defaults to true: the prompt is written
    to the tool's standard input, and ``prompt_flag`` is only emitted together
    with a ``stdin_sentinel`` (as in ``-p -``). With stdin delivery, a
    prompt flag and no sentinel, the flag is never used: the tool receives
    its prompt on stdin, which some tools treat as an interactive session.

    Failing::

        cli:
          command:
            executable: mytool
            prompt_flag: "--message"
          output: {}

    Passing::

        cli:
          command:
            executable: mytool
            prompt_flag: "--message"
            prompt_via_stdin: false
          output: {}
    """

    code = "ML714"
    name = "prompt-flag-unused"
    severity = Severity.WARNING
    summary = "prompt_flag is never used: the prompt goes to stdin and there is no stdin_sentinel"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        model: Any = ctx.model
        if model.cli is None:
            return
        command = model.cli.command
        if command.prompt_flag is None or not command.prompt_via_stdin or command.stdin_sentinel is not None:
            return
        written = ctx.exists("cli", "command", "prompt_via_stdin")
        how = "prompt_via_stdin is true" if written else "prompt_via_stdin defaults to true"
        related = (
            [(ctx.key_span("cli", "command", "prompt_via_stdin"), "the prompt is sent on stdin")] if written else []
        )
        yield Finding(
            self.name,
            ctx.value_span("cli", "command", "prompt_flag"),
            f"prompt_flag '{command.prompt_flag}' is never used: {how} and there is no stdin_sentinel, so "
            "Marianne sends the prompt on standard input and leaves the flag off the command line",
            related=related,
            suggestion=f"set prompt_via_stdin: false to pass the prompt after '{command.prompt_flag}', add "
            "stdin_sentinel (e.g. '-') if the tool reads the prompt from stdin after the flag, or remove "
            "prompt_flag",
        )


class HttpInstrumentUnimplemented(Rule):
    """An instrument profile of ``kind: http``.

    HTTP instruments can be declared (with an ``http`` section) but Marianne
    v1 does not implement running them from a profile file; only the native
    HTTP instruments (``anthropic_api``, ``ollama``, ``recursive_light``)
    work. A score that selects this profile cannot run its sheets with it.

    Failing::

        name: my-api
        display_name: My API
        kind: http
        http: {base_url: "https://api.example.com", schema_family: openai}

    Passing::

        name: my-tool
        display_name: My tool
        kind: cli
        cli:
          command: {executable: my-tool}
          output: {}
    """

    code = "ML715"
    name = "http-instrument-unimplemented"
    severity = Severity.INFO
    summary = "HTTP instrument profiles are declared but not implemented in Marianne v1"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        model: Any = ctx.model
        if model.kind != "http":
            return
        yield Finding(
            self.name,
            ctx.value_span("kind"),
            f"kind 'http': Marianne v1 does not run HTTP instruments from profile files, so scores that select "
            f"'{model.name}' cannot run their sheets with it",
            suggestion="use a CLI instrument, or one of the native HTTP instruments (anthropic_api, ollama)",
        )


_CONTROL_TAG = re.compile(r"\{%-?\s*(if|for|elif|else)\b")

#: The shipped profile that hands the rendered prompt to ``bash -c`` as it is.
RAW_SHELL_PROFILE = "cli"


def shell_scripts(ctx: Context) -> tuple[list[int], list[Any]]:
    """The sheets on the raw ``cli`` instrument, and the prompt templates that are their scripts.

    A template with ``{% if %}``/``{% for %}`` blocks that sheets on other instruments share is left
    out: which branch reaches bash is decided when the prompt is rendered.
    """
    from marianne_lint.rules.support.prompt_sources import prompt_sources

    used_by = sheet_instruments(ctx)
    on_shell = sorted(n for n, used in used_by.items() if used.profile == RAW_SHELL_PROFILE)
    if not on_shell:
        return [], []
    mixed = len(on_shell) < len(used_by)
    return on_shell, [source for source in prompt_sources(ctx) if not (mixed and _CONTROL_TAG.search(source.text))]


class CliPromptNotShell(Rule):
    """Sheets on the ``cli`` instrument get a prompt that is not a shell script.

    The shipped ``cli`` profile runs ``bash -c`` with the rendered prompt, verbatim (it is a raw
    prompt: no preamble, no injected text). The prompt must therefore be shell: markdown prose,
    headings with text after them, bullets (``- item``), numbered steps or code fences break the
    sheet, with a syntax error (an apostrophe opens a quote, a code fence a command substitution)
    or "command not found". The text is parsed with a bash grammar (tree-sitter-bash) after Jinja
    tags are blanked out; it is never run. A template with ``{% if %}``/``{% for %}`` blocks shared
    with sheets on other instruments is left alone (which branch reaches bash is decided when the
    prompt is rendered).

    Source: Marianne's plugin reference (the raw cli instrument runs its prompt as a script).

    Failing::

        instrument: cli
        prompt:
          template: |
            Run the tests and don't stop on the first failure.

    Passing::

        instrument: cli
        prompt:
          template: |
            pytest -q --maxfail=0 tests/
    """

    code = "ML717"
    name = "cli-prompt-not-shell"
    severity = Severity.ERROR
    summary = "sheets on the cli instrument run the prompt with bash -c, and it is prose or markdown, not shell"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support import shell
        from marianne_lint.rules.templates import template_span

        on_shell, scripts = shell_scripts(ctx)
        for source in scripts:
            for problem in shell.problems(source.text):
                verb = "runs" if len(on_shell) == 1 else "run"
                where = f"line {problem.line} of {source.label}" if source.inline else source.where(problem.line)
                yield Finding(
                    self.name,
                    template_span(ctx, source, problem.line, problem.column, problem.width),
                    f"{sheets_phrase(on_shell)} {verb} on the 'cli' instrument, which passes the prompt to bash -c: at "
                    f"{where}, {problem.what}, so the sheet fails",
                    suggestion="write the prompt as shell commands, or run prose prompts on an AI instrument "
                    "(claude-code, codex-cli, ...)",
                )


#: Settings of the legacy ``backend:`` block that ``instrument_config`` does not pass on.
_BACKEND_ERA_KEYS = ("skip_permissions", "disable_mcp", "allowed_tools", "output_format", "cli_model",
                     "system_prompt_file", "cli_extra_args")


def instrument_config_places(ctx: Context) -> Iterator[tuple[tuple[Any, ...], str, dict[Any, Any]]]:
    """Every ``instrument_config``-like mapping of a score: (data path, label, mapping)."""
    data = ctx.data if isinstance(ctx.data, dict) else {}
    top = data.get("instrument_config")
    if isinstance(top, dict):
        yield ("instrument_config",), "instrument_config", top
    movements = data.get("movements")
    if isinstance(movements, dict):
        for number, movement in movements.items():
            if isinstance(movement, dict) and isinstance(movement.get("instrument_config"), dict):
                yield ("movements", number, "instrument_config"), f"movements.{number}.instrument_config", \
                    movement["instrument_config"]
    aliases = data.get("instruments")
    if isinstance(aliases, dict):
        for name, alias in aliases.items():
            if isinstance(alias, dict) and isinstance(alias.get("config"), dict):
                yield ("instruments", name, "config"), f"instruments.{name}.config", alias["config"]
    sheet = data.get("sheet")
    per_sheet = sheet.get("per_sheet_instrument_config") if isinstance(sheet, dict) else None
    if isinstance(per_sheet, dict):
        for number, config in per_sheet.items():
            if isinstance(config, dict):
                yield ("sheet", "per_sheet_instrument_config", number), \
                    f"sheet.per_sheet_instrument_config.{number}", config


#: What Marianne reads from a sheet's merged ``instrument_config``.
_CONFIG_KEYS = ("model", "timeout_seconds")
_CONFIG_SPELLINGS = {"timeout": "timeout_seconds", "timeout_secs": "timeout_seconds", "timeout_sec": "timeout_seconds",
                     "models": "model", "model_name": "model"}


def _names_claude_cli(ctx: Context) -> bool:
    """Whether any sheet may run on the native ``claude_cli`` (named anywhere, or the default)."""
    model = ctx.score
    names = {name for _choice, name in instrument_choices(ctx)}
    if model.instrument is None:
        names.add(model.backend.type)
    names |= {alias.profile for alias in model.instruments.values()}
    return CLAUDE_CLI in names


def _misspelt_config_key(key: Any, mapping: dict[Any, Any]) -> str | None:
    """The key Marianne reads that ``key`` is a misspelling of (None when it is not one, or both are set)."""
    if not isinstance(key, str) or key in _CONFIG_KEYS:
        return None
    meant = _CONFIG_SPELLINGS.get(key)
    if meant is None:
        close = difflib.get_close_matches(key, _CONFIG_KEYS, n=1, cutoff=0.8)
        meant = close[0] if close else None
    return meant if meant is not None and meant not in mapping else None


class InstrumentConfigIgnoredKey(Rule):
    """``instrument_config`` holds a setting of the legacy ``backend:`` block, which it does not pass on.

    ``instrument_config`` (and a movement's ``instrument_config``, an alias's ``config``, and
    ``sheet.per_sheet_instrument_config``) is merged into each sheet's settings, but when a sheet
    is dispatched Marianne reads the model from it, not the old Claude CLI backend's switches:
    ``skip_permissions``, ``disable_mcp``, ``allowed_tools``, ``output_format``, ``cli_model`` and the
    like are accepted and ignored. What they did is the instrument profile's business now (its
    auto-approve flag, its MCP-disable arguments); a model goes under ``model``. Marianne's guides
    list these keys among the settings a migration leaves behind. A misspelling of the keys it
    does read (``timeout`` for ``timeout_seconds``, ``modle`` for ``model``) is ignored the same way
    and reported too.

    Failing::

        instrument: claude-code
        instrument_config:
          skip_permissions: true
          model: claude-sonnet-4-5

    Passing::

        instrument: claude-code
        instrument_config:
          model: claude-sonnet-4-5
    """

    code = "ML718"
    name = "instrument-config-ignored-key"
    severity = Severity.WARNING
    summary = "instrument_config holds a key it ignores: a legacy backend setting, or a misspelt model/timeout"
    fixable = "unsafe"
    fix_summary = "remove the ignored key"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if _names_claude_cli(ctx):
            return  # the legacy backend itself: left to the backend rules
        for path, label, mapping in instrument_config_places(ctx):
            for key in mapping:
                if key not in _BACKEND_ERA_KEYS:
                    meant = _misspelt_config_key(key, mapping)
                    if meant is not None:
                        yield Finding(
                            self.name,
                            ctx.key_span(*path, key),
                            f"{label}.{key} is not a setting Marianne reads from instrument_config; it reads "
                            f"'{meant}', so this value has no effect",
                            suggestion=f"did you mean '{meant}'?",
                            fix=Fix.of(f"rename to {meant}", "unsafe",
                                       ctx.edits.replace_token(ctx.key_span(*path, key), str(key), meant)),
                        )
                    continue
                hint = "write the model as instrument_config.model" if key == "cli_model" else (
                    "remove it: the instrument profile decides this (its auto_approve_flag, mcp_disable_args "
                    "and extra_flags)")
                yield Finding(
                    self.name,
                    ctx.key_span(*path, key),
                    f"{label}.{key} is a setting of the legacy backend: block; instrument_config does not pass "
                    "it to the instrument, so it has no effect",
                    suggestion=hint,
                    fix=Fix.of(f"remove {label}.{key}", "unsafe", ctx.remove_key(*path, key)),
                )


def compile_error(pattern: str) -> str | None:
    """Why Python's ``re`` cannot compile ``pattern``, or None when it can."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"it does not compile: {exc}"
    except (OverflowError, RecursionError):
        return "it does not compile: a repeat count or nesting too large for Python's re"
    return None


_PATTERN_FIELDS = ("rate_limit_patterns", "auth_error_patterns", "capacity_patterns", "timeout_patterns",
                   "crash_patterns", "stale_patterns")


class ProfilePatternInvalid(Rule):
    """An instrument profile's error pattern is not a regular expression Python can compile.

    Marianne loads ``cli.errors.*_patterns`` (rate limit, auth, capacity, timeout, crash, stale) as
    text and compiles them only when it classifies a failed run: a pattern that does not compile
    passes every check at load time and then breaks error handling in the middle of a job. A
    pattern written in double quotes with ``\\b`` holds a backspace and never matches.

    Source: Marianne's instrument guide (error classification by the profile's patterns).

    Failing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            rate_limit_patterns: ["rate limit (exceeded"]

    Passing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            rate_limit_patterns: ["rate limit \\\\(exceeded"]
    """

    code = "ML719"
    name = "profile-pattern-invalid"
    severity = Severity.ERROR
    summary = "an instrument profile's error pattern does not compile (Marianne finds out during a job)"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        errors = ctx.raw("cli", "errors")
        if not isinstance(errors, dict):
            return
        for field in _PATTERN_FIELDS:
            patterns = errors.get(field)
            if not isinstance(patterns, list):
                continue
            for index, pattern in enumerate(patterns):
                if not isinstance(pattern, str):
                    continue
                problem = compile_error(pattern)
                severity = None
                if problem is None and "\b" in pattern:
                    problem = ("it holds a backspace character where '\\b' is written in double quotes, so it "
                               "never matches")
                    severity = Severity.WARNING
                if problem is None:
                    continue
                yield Finding(
                    self.name,
                    ctx.value_span("cli", "errors", field, index),
                    f"cli.errors.{field}[{index}] {pattern!r}: {problem}",
                    suggestion="escape the regex metacharacters meant literally (\\( \\[ \\.) or use single quotes",
                    severity=severity,
                )


def _fallbacks(ctx: Context, number: int, stage: int) -> list[str]:
    """A sheet's fallback chain as Marianne picks it: per sheet, else its movement's, else the score's."""
    model = ctx.score
    if number in model.sheet.per_sheet_fallbacks:
        return list(model.sheet.per_sheet_fallbacks[number])
    movement = model.movements.get(stage)
    if movement is not None and movement.instrument_fallbacks:
        return list(movement.instrument_fallbacks)
    return list(model.instrument_fallbacks)


class CliFallbackToAi(Rule):
    """A sheet on the raw ``cli`` instrument falls back to an AI instrument.

    When an instrument fails, Marianne retries the sheet on the next instrument of its fallback
    chain. A shell script meant for ``bash -c`` then goes to a model as a prompt: the model
    reads it as instructions and may do something else, or report success, and the validations
    can pass although the deterministic step never ran. Give shell sheets no AI fallback
    (``per_sheet_fallbacks: {N: []}`` or a movement's own empty chain).

    Source: the static preflight checks of Marianne's configuration reference (fallbacks of shell
    sheets).

    Failing::

        instrument: cli
        instrument_fallbacks: [claude-code]

    Passing::

        instrument: cli
    """

    code = "ML720"
    name = "cli-fallback-to-ai"
    severity = Severity.WARNING
    summary = "a sheet on the cli instrument (a shell script) falls back to an AI instrument"

    def check(self, ctx: Context) -> Iterator[Finding]:
        facts = sheet_facts(ctx)
        aliases = ctx.score.instruments
        affected: dict[str, list[int]] = {}
        for number, used in sheet_instruments(ctx).items():
            if used.profile != RAW_SHELL_PROFILE:
                continue
            for name in _fallbacks(ctx, number, facts.metas[number].stage):
                profile = aliases[name].profile if name in aliases else name
                if profile != RAW_SHELL_PROFILE:
                    affected.setdefault(name, []).append(number)
                    break
        for name, numbers in affected.items():
            yield Finding(
                self.name,
                ctx.first_span(("instrument_fallbacks",), ("sheet", "per_sheet_fallbacks"), ("movements",)),
                f"{sheets_phrase(numbers)} {'runs' if len(numbers) == 1 else 'run'} a shell script on the 'cli' "
                f"instrument and fall{'s' if len(numbers) == 1 else ''} back to '{name}': after a failure the "
                "script goes to a model as a prompt, which may not run it, while validations can still pass",
                suggestion="give shell sheets an empty fallback chain (per_sheet_fallbacks or the movement's "
                "instrument_fallbacks: [])",
            )


#: The agent-cycle phases a technique can be active in.
_PHASES = frozenset({"recon", "plan", "work", "integration", "play", "inspect", "aar", "consolidate", "reflect",
                     "resurrect", "all"})


class TechniqueNeverActive(Rule):
    """A technique's ``phases`` list is empty, so the technique is never active.

    A technique (a skill, an MCP server, a protocol) is offered to the agent only in the phases
    its ``phases`` list names; ``phases: []`` declares it and switches it off everywhere.
    Marianne's technique guide describes the filter.

    Failing::

        techniques:
          review-checklist:
            kind: protocol
            phases: []

    Passing::

        techniques:
          review-checklist:
            kind: protocol
            phases: [inspect]
    """

    code = "ML721"
    name = "technique-never-active"
    severity = Severity.WARNING
    summary = "a technique's phases list is empty, so it is never active"

    def check(self, ctx: Context) -> Iterator[Finding]:
        techniques = ctx.raw("techniques")
        if not isinstance(techniques, dict):
            return
        for name, technique in techniques.items():
            if not isinstance(technique, dict) or technique.get("phases") != []:
                continue
            yield Finding(
                self.name,
                ctx.value_span("techniques", name, "phases"),
                f"techniques.{name}.phases is empty: the technique is active in no phase, so the agent never "
                "gets it",
                suggestion="list the phases it is for, e.g. [work] or [all]",
            )


def _cli_section(ctx: Context) -> dict[Any, Any]:
    cli = ctx.raw("cli")
    return cli if isinstance(cli, dict) else {}


def _command(ctx: Context) -> dict[Any, Any]:
    command = _cli_section(ctx).get("command")
    return command if isinstance(command, dict) else {}


def _output(ctx: Context) -> dict[Any, Any]:
    output = _cli_section(ctx).get("output")
    return output if isinstance(output, dict) else {}


def _is_raw_shell(ctx: Context) -> bool:
    """A profile that runs the prompt as a program (``raw_prompt``): no model, no rate limits, no tokens."""
    return ctx.raw("raw_prompt") is True


class ProfileWithoutRateLimitDetection(Rule):
    """A CLI instrument profile gives Marianne no way to recognise a rate limit.

    Marianne tells a rate-limited run from a failed one only through the profile: its
    ``cli.errors.rate_limit_patterns`` (matched against the output) or its
    ``rate_limit_event_type`` (a JSONL event). With neither, a rate limit counts as an ordinary
    failure: the sheet burns its retries at once instead of waiting for the limit to clear.
    Marianne's instrument guide lists this under rate limits that are not detected. Profiles
    with ``raw_prompt: true`` (a shell, not a model) are left alone.

    Failing::

        cli:
          command: {executable: mytool}
          output: {}

    Passing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            rate_limit_patterns: ["(?i)rate limit", "\\\\b429\\\\b"]
    """

    code = "ML722"
    name = "profile-without-rate-limit-detection"
    severity = Severity.WARNING
    summary = "a CLI instrument profile has no rate_limit_patterns and no rate_limit_event_type"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.raw("kind") != "cli" or _is_raw_shell(ctx):
            return
        cli = _cli_section(ctx)
        if not cli:
            return
        errors = cli.get("errors")
        errors = errors if isinstance(errors, dict) else {}
        if errors.get("rate_limit_patterns") or errors.get("rate_limit_event_type"):
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "errors") if "errors" in cli else ctx.key_span("cli"),
            "the profile has no cli.errors.rate_limit_patterns and no rate_limit_event_type: Marianne cannot "
            "tell a rate limit from a failure, so a rate-limited sheet uses up its retries instead of waiting",
            suggestion="add rate_limit_patterns matching the tool's rate-limit message (e.g. '(?i)rate limit')",
        )


class ProfileCostUntracked(Rule):
    """An instrument profile leaves Marianne without the numbers to track cost.

    Costs come from the profile: the ``models`` list gives each model's price per 1,000 input
    and output tokens, and for JSON or JSONL output ``cli.output.input_tokens_path`` and
    ``output_tokens_path`` say where the tool reports the tokens it used. Without models the
    runs have no price, and without token paths the tokens are estimated from the text length;
    status and cost limits then count the wrong amount. Marianne's
    instrument authoring tutorial covers both. Only CLI profiles without ``raw_prompt: true`` are
    checked.

    Failing::

        cli:
          command: {executable: mytool}
          output: {format: json, result_path: result}

    Passing::

        models:
          - {name: small, context_window: 128000, cost_per_1k_input: 0.0005, cost_per_1k_output: 0.0015}
        cli:
          command: {executable: mytool}
          output:
            format: json
            result_path: result
            input_tokens_path: usage.input_tokens
            output_tokens_path: usage.output_tokens
    """

    code = "ML723"
    name = "profile-cost-untracked"
    severity = Severity.INFO
    summary = "an instrument profile has no models (no prices) or JSON output without token paths"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        if _is_raw_shell(ctx) or ctx.raw("kind") != "cli":
            return  # HTTP profiles are not implemented (http-instrument-unimplemented)
        models = ctx.raw("models")
        if not models:
            yield Finding(
                self.name,
                ctx.key_span("models") if ctx.exists("models") else ctx.key_span("name"),
                "the profile lists no models, so Marianne has no prices for its runs: cost tracking (mzt status, "
                "cost limits) has nothing to count for this instrument",
                suggestion="list the models with context_window and cost_per_1k_input/output",
            )
        output = _output(ctx)
        if output.get("format") not in ("json", "jsonl"):
            return
        missing = [key for key in ("input_tokens_path", "output_tokens_path") if not output.get(key)]
        if missing:
            yield Finding(
                self.name,
                ctx.key_span("cli", "output"),
                f"the profile's {output.get('format')} output has no {' or '.join(missing)}: Marianne estimates "
                "tokens from the text length instead of reading what the tool reports",
                suggestion="point input_tokens_path and output_tokens_path at the usage fields of the output",
            )


_ERREXIT = re.compile(r"\bset\s+-[a-zA-Z]*e|\bset\s+-o\s+errexit\b")


class CliScriptIgnoresFailures(Rule):
    """A shell script on the ``cli`` instrument runs several commands without ``set -e`` and nothing re-checks it.

    ``bash -c`` reports the status of the script's last command only: a build that fails in the
    middle of the script is followed by the next command, and the sheet's exit status can be 0.
    When no ``command_succeeds`` validation checks the outcome again, Marianne accepts the sheet
    on its file checks alone. Start the script with ``set -euo pipefail``, or validate the
    result with a command. Marianne's plugin notes describe a failed build accepted this way.

    Failing::

        instrument: cli
        prompt:
          template: |
            make build
            echo built > {{ workspace }}/status.txt

    Passing::

        instrument: cli
        prompt:
          template: |
            set -euo pipefail
            make build
            echo built > {{ workspace }}/status.txt
    """

    code = "ML724"
    name = "cli-script-ignores-failures"
    severity = Severity.WARNING
    summary = "a cli sheet's script runs several commands without set -e, and no command_succeeds re-checks it"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.shell import without_jinja

        if any(rule.type == "command_succeeds" for rule in ctx.score.validations):
            return
        for source in shell_scripts(ctx)[1]:
            text = without_jinja(source.text)
            commands = [line for line in text.split("\n") if line.strip() and not line.strip().startswith("#")]
            if len(commands) < 2 or _ERREXIT.search(text):
                continue
            yield Finding(
                self.name,
                ctx.key_span(*source.key),
                f"the cli script in {source.label} runs {len(commands)} command lines without set -e: a command "
                "that fails is followed by the next, bash reports only the last status, and no command_succeeds "
                "validation checks the result",
                suggestion="start the script with 'set -euo pipefail', or add a command_succeeds validation",
            )



_ASKS_FOR_MCP = re.compile(r"\bmcp__\w+|\b(?i:use|using|call|calling|via|with|through)\b[^.\n]{0,40}\bMCP\b")


class PromptExpectsMcp(Rule):
    """The prompt asks a claude-code sheet to use MCP tools, but the score gives it no MCP server.

    Marianne's shipped claude-code profile starts Claude with its MCP servers switched off
    (``mcp_disable_args``) unless the score asks for MCP: a technique of kind ``mcp`` (the
    conductor then shares its MCP pool) or the ``bridge`` with ``mcp_servers``. A prompt that tells
    the agent to use an MCP server, or names ``mcp__server__tool`` tools, then asks for tools the
    agent does not have; it improvises or fails. Source: the common pitfalls of Marianne's plugin
    reference (MCP tools on a built-in profile).

    Failing::

        instrument: claude-code
        prompt:
          template: "Use the browser MCP server to open the page and save its title."

    Passing::

        instrument: claude-code
        techniques:
          browser:
            kind: mcp
            phases: [work]
            config: {server: browser}
        prompt:
          template: "Use the browser MCP server to open the page and save its title."
    """

    code = "ML725"
    name = "prompt-expects-mcp"
    severity = Severity.WARNING
    summary = "the prompt asks a claude-code sheet for MCP tools, but no MCP technique or bridge gives it any"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.rules.support.prompt_sources import prompt_sources
        from marianne_lint.rules.templates import line_and_column, template_span

        model = ctx.score
        if any(tech.kind == "mcp" for tech in model.techniques.values()):
            return
        bridge = model.bridge
        if bridge is not None and getattr(bridge, "enabled", False) and getattr(bridge, "mcp_servers", None):
            return
        on_code = sorted(n for n, used in sheet_instruments(ctx).items() if used.profile == CLAUDE_CODE)
        if not on_code:
            return
        for source in prompt_sources(ctx):
            # the pattern's leading alternation is slow on long prompts: look for the word it needs first
            text = source.text
            match = _ASKS_FOR_MCP.search(text) if "MCP" in text or "mcp__" in text else None
            if match is None:
                continue
            line, column = line_and_column(source.text, match.start())
            yield Finding(
                self.name,
                template_span(ctx, source, line, column, match.end() - match.start()),
                f"{source.where(line)} asks for MCP tools ('{match.group(0)}'), but {sheets_phrase(on_code)} "
                f"{'runs' if len(on_code) == 1 else 'run'} on claude-code with MCP switched off: the score has "
                "no technique of kind mcp and no bridge with mcp_servers",
                suggestion="add a technique of kind mcp for the server, or rewrite the prompt without MCP tools",
            )
            return


#: Programs that act without asking: a shell, and goose (its default mode approves by itself).
_UNATTENDED_PROGRAMS = frozenset({"bash", "sh", "zsh", "python", "python3", "goose"})


def _in_instruments_folder(ctx: Context) -> bool:
    """Whether the profile file lies in a ``.marianne/instruments`` folder, where Marianne loads it."""
    folder = ctx.file_path.parent if ctx.file_path is not None else None
    return folder is not None and folder.name == "instruments" and folder.parent.name == ".marianne"


class ProfileWithoutAutoApprove(Rule):
    """A profile runs an agent program without the flag that lets it work unattended.

    Agent CLIs ask before they edit a file or run a command, and under Marianne nobody is there
    to answer: the sheet waits until stale detection or the timeout kills it, or the agent gives
    up on every tool call. Marianne's shipped profile for each such program passes its
    unattended-mode flag as ``cli.command.auto_approve_flag`` (claude
    ``--dangerously-skip-permissions``, codex ``--full-auto``, gemini, cline and crush ``--yolo``,
    aider ``--yes``); a custom profile of the same program without it (or the flag in
    ``extra_flags``) hangs. A profile of another program that declares ``tool_use`` with
    ``file_editing`` or ``shell_access`` and passes no flag at all is reported too (shells and
    goose, which approves by itself, are left alone). Source: the common pitfalls of Marianne's
    plugin reference (custom profiles without auto-approve) and the shipped profiles.

    Failing::

        name: my-claude
        display_name: My Claude
        kind: cli
        cli:
          command: {executable: claude, prompt_flag: "-p"}
          output: {}

    Passing::

        name: my-claude
        display_name: My Claude
        kind: cli
        cli:
          command: {executable: claude, prompt_flag: "-p", auto_approve_flag: "--dangerously-skip-permissions"}
          output: {}
    """

    code = "ML726"
    name = "profile-without-auto-approve"
    severity = Severity.WARNING
    summary = "a profile of an agent CLI has no auto_approve_flag: the agent waits for approvals nobody gives"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        command = _command(ctx)
        if ctx.raw("kind") != "cli" or not command:
            return
        executable = command.get("executable")
        program = executable.rsplit("/", 1)[-1] if isinstance(executable, str) else ""
        if command.get("auto_approve_flag") or _is_raw_shell(ctx):
            return
        flag = AUTO_APPROVE_FLAGS.get(program)
        extra = command.get("extra_flags")
        extra_items = extra if isinstance(extra, list) else []
        extra_flags = [item.split("=", 1)[0] for item in extra_items if isinstance(item, str)]
        if flag is not None:
            if flag in extra_flags:
                return
            yield Finding(
                self.name,
                ctx.key_span("cli", "command", "executable"),
                f"the profile runs {program} with no cli.command.auto_approve_flag: {program} asks for approval "
                "before it edits files or runs commands, nobody answers under Marianne, and the sheet stalls until it "
                "is killed",
                suggestion=f"set auto_approve_flag: \"{flag}\" (what Marianne's shipped {program} profile passes)",
            )
            return
        declared = ctx.raw("capabilities")
        capabilities = {str(c) for c in declared} if isinstance(declared, list) else set()
        acts = capabilities & {"file_editing", "shell_access"}
        if "tool_use" not in capabilities or not acts or program in _UNATTENDED_PROGRAMS or extra_flags:
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "command", "executable"),
            f"the profile declares tool_use and {' and '.join(sorted(acts))} for {program or 'its program'} but has "
            "no cli.command.auto_approve_flag: an agent that asks before it acts waits for an answer nobody gives "
            "under Marianne, and the sheet stalls until it is killed",
            suggestion="set auto_approve_flag to the program's unattended-mode flag",
        )


class ProfileShadowsBuiltin(Rule):
    """A profile in ``.marianne/instruments/`` takes the name of a profile that ships with Marianne.

    Marianne loads its shipped profiles first, then ``~/.marianne/instruments/``, then the
    project's ``.marianne/instruments/``; a later profile with the same ``name`` replaces the
    earlier one. A project profile named ``claude-code`` therefore changes what ``instrument:
    claude-code`` means for every score run from that folder, with no warning, and updates of the
    shipped profile no longer reach it. Give a custom profile its own name. Source: Marianne's
    instrument guide and the plugin's common pitfalls (a custom profile named like a built-in).

    Failing::

        # .marianne/instruments/claude-code.yaml
        name: claude-code
        display_name: Claude (tuned)
        kind: cli
        cli:
          command: {executable: claude, auto_approve_flag: "--dangerously-skip-permissions"}
          output: {}

    Passing::

        # .marianne/instruments/claude-tuned.yaml
        name: claude-tuned
        display_name: Claude (tuned)
        kind: cli
        cli:
          command: {executable: claude, auto_approve_flag: "--dangerously-skip-permissions"}
          output: {}
    """

    code = "ML727"
    name = "profile-shadows-builtin"
    severity = Severity.WARNING
    summary = "a profile in .marianne/instruments/ replaces the shipped profile of the same name"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        name = ctx.raw("name")
        if not isinstance(name, str) or name not in BUILTIN_PROFILES or not _in_instruments_folder(ctx):
            return
        yield Finding(
            self.name,
            ctx.key_span("name"),
            f"this profile is named '{name}', like the profile that ships with Marianne: loaded from "
            f"{ctx.file_path.parent if ctx.file_path else '.marianne/instruments'}, it replaces the shipped one for "
            f"every score that names '{name}'",
            suggestion=f"give it a name of its own (e.g. '{name}-custom') and name that in the scores",
        )


class LegacyBackend(Rule):
    """The score picks its instrument through the legacy ``backend:`` block.

    Without ``instrument:``, Marianne runs a score on ``backend.type``, by default the native
    ``claude_cli``: a different instrument from the shipped ``claude-code`` profile, configured
    through backend-only keys (``skip_permissions``, ``disable_mcp``, ``cli_model``) that no other
    instrument reads. Marianne's guides and its plugin reference treat ``backend:`` as the legacy
    form and write ``instrument:`` with ``instrument_config``; new features (movements, per-sheet
    instruments, fallbacks) are described for instruments. Only a score that writes
    ``backend:`` and no ``instrument:`` is reported.

    Failing::

        backend:
          type: claude_cli
          skip_permissions: true

    Passing::

        instrument: claude-code
        instrument_config:
          timeout_seconds: 1800
    """

    code = "ML728"
    name = "legacy-backend"
    severity = Severity.INFO
    summary = "the score chooses its instrument with the legacy backend: block instead of instrument:"

    def check(self, ctx: Context) -> Iterator[Finding]:
        backend = ctx.raw("backend")
        if ctx.score.instrument is not None or not isinstance(backend, dict) or not backend:
            return
        kind = backend.get("type", CLAUDE_CLI)
        yield Finding(
            self.name,
            ctx.key_span("backend"),
            f"the score has no instrument: and runs on backend.type {kind!r}, the legacy way to choose an instrument"
            + (" (the native claude_cli, not the claude-code profile)" if kind == CLAUDE_CLI else ""),
            suggestion="write instrument: (e.g. claude-code) with instrument_config instead of backend:",
        )


class ProfileSuccessCodesWithoutZero(Rule):
    """``success_exit_codes`` leaves out 0, so every normal run of the tool counts as a failure.

    ``cli.errors.success_exit_codes`` replaces the default ``[0]``; it does not add to it. A
    profile that lists ``[0, 2]`` accepts both, but ``[2]`` alone turns every run that exits 0
    into a failure: each sheet is retried until its retries run out. Source: the success exit
    codes section of Marianne's instrument-authoring tutorial.

    Failing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            success_exit_codes: [2]

    Passing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            success_exit_codes: [0, 2]
    """

    code = "ML729"
    name = "profile-success-codes-without-zero"
    severity = Severity.WARNING
    summary = "cli.errors.success_exit_codes leaves out 0: a run that exits normally counts as a failure"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        errors = _cli_section(ctx).get("errors")
        codes = errors.get("success_exit_codes") if isinstance(errors, dict) else None
        if not isinstance(codes, list) or not codes or 0 in codes:
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "errors", "success_exit_codes"),
            f"success_exit_codes is {codes}: it replaces the default [0], so a run that exits 0 is a failure and "
            "every sheet is retried until its retries run out",
            suggestion=f"list 0 as well: [0, {', '.join(map(str, codes))}]",
        )


class ProfileExecutableWithArguments(Rule):
    """``cli.command.executable`` holds a program and its arguments, run as one program name.

    Marianne starts ``executable`` directly, without a shell: ``"npx my-agent"`` looks for a
    program named ``npx my-agent`` (with the space), finds none, and every sheet fails to start.
    Put the program in ``executable`` and the rest in ``subcommand`` or ``extra_flags``. Source:
    the cli.command section of Marianne's instrument guide.

    Failing::

        cli:
          command: {executable: "npx my-agent"}
          output: {}

    Passing::

        cli:
          command: {executable: npx, subcommand: my-agent}
          output: {}
    """

    code = "ML730"
    name = "profile-executable-with-arguments"
    severity = Severity.ERROR
    summary = "cli.command.executable holds a program and its arguments; it is started as one program name"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        executable = _command(ctx).get("executable")
        if not isinstance(executable, str) or not executable.strip():
            return
        words = executable.split()
        if len(words) < 2:
            return
        from marianne_lint.reading import filesystem

        if "/" in executable and filesystem.is_file(FsPath(executable)):
            return  # a program whose path holds a space
        yield Finding(
            self.name,
            ctx.key_span("cli", "command", "executable"),
            f"executable is '{executable}': Marianne starts it without a shell, as one program of that name (with "
            "the space), which does not exist, so every sheet fails to start",
            suggestion=f"write executable: {words[0]} and put '{' '.join(words[1:])}' in subcommand or extra_flags",
        )


#: What an output-format flag's value asks the tool for, as ``cli.output.format`` names it.
_FORMAT_VALUES = {"json": "json", "jsonl": "jsonl", "stream-json": "jsonl", "ndjson": "jsonl", "text": "text"}


class ProfileOutputFormatMismatch(Rule):
    """The command asks the tool for JSON, but ``cli.output.format`` reads its output as another format.

    ``output_format_flag``/``output_format_value`` choose what the tool prints; ``cli.output.format``
    (default ``text``) is how Marianne reads it. Asking for JSON while reading text hands the whole
    JSON envelope to the next sheet as the result and loses the token counts; asking for text while
    reading JSON fails to parse every run. (``json`` against ``jsonl`` is left alone: tools print
    their JSON events one per line under either name.) Source: the cost-estimate and output
    sections of Marianne's instrument-authoring tutorial.

    Failing::

        cli:
          command: {executable: mytool, output_format_flag: "--output", output_format_value: json}
          output: {}

    Passing::

        cli:
          command: {executable: mytool, output_format_flag: "--output", output_format_value: json}
          output: {format: json, result_path: result}
    """

    code = "ML731"
    name = "profile-output-format-mismatch"
    severity = Severity.WARNING
    summary = "the command asks the tool for one output format and cli.output.format reads another"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        command = _command(ctx)
        value = command.get("output_format_value")
        if not command.get("output_format_flag") or not isinstance(value, str):
            return
        asked = _FORMAT_VALUES.get(value.strip().lower())
        read = _output(ctx).get("format", "text")
        if asked is None or not isinstance(read, str) or (asked == "text") == (read == "text"):
            return  # a tool's "json" may print one event per line: json and jsonl are both structured
        yield Finding(
            self.name,
            ctx.key_span("cli", "output", "format") if ctx.exists("cli", "output", "format") else ctx.key_span(
                "cli", "output"),
            f"the command passes {command.get('output_format_flag')} {value} (the tool prints {asked}), but "
            f"cli.output.format is {read}: Marianne misreads every run's output",
            related=[(ctx.key_span("cli", "command", "output_format_value"), "the format asked for")],
            suggestion=f"set cli.output.format: {asked}",
        )


class ProfileModelsWithoutModelFlag(Rule):
    """A profile lists several models but has no ``model_flag``, so the chosen model never reaches the tool.

    Marianne passes a score's ``instrument_config.model`` (or the profile's ``default_model``) to
    the program only through ``cli.command.model_flag``. Without it every sheet runs on the tool's
    own default model, whatever the score asks for, and cost estimates use the wrong model's
    prices. Source: the model metadata section of Marianne's instrument-authoring tutorial.

    Failing::

        models:
          - {name: fast-1, context_window: 128000, cost_per_1k_input: 0.001, cost_per_1k_output: 0.002}
          - {name: large-1, context_window: 200000, cost_per_1k_input: 0.003, cost_per_1k_output: 0.015}
        default_model: fast-1
        cli:
          command: {executable: mytool}
          output: {}

    Passing::

        models:
          - {name: fast-1, context_window: 128000, cost_per_1k_input: 0.001, cost_per_1k_output: 0.002}
          - {name: large-1, context_window: 200000, cost_per_1k_input: 0.003, cost_per_1k_output: 0.015}
        default_model: fast-1
        cli:
          command: {executable: mytool, model_flag: "--model"}
          output: {}
    """

    code = "ML732"
    name = "profile-models-without-model-flag"
    severity = Severity.WARNING
    summary = "the profile lists models but has no cli.command.model_flag: the model never reaches the tool"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        models = ctx.raw("models")
        if ctx.raw("kind") != "cli" or _is_raw_shell(ctx) or not _cli_section(ctx):
            return
        if not (isinstance(models, list) and len(models) > 1):
            return  # one model (or none): there is no choice to pass on, the tool's own default may be it
        command = _command(ctx)
        if command.get("model_flag"):
            return
        extra = command.get("extra_flags")
        if isinstance(extra, list) and any(isinstance(item, str) and "model" in item for item in extra):
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "command"),
            f"the profile lists {len(models)} models but cli.command has no model_flag: the model a score (or "
            "default_model) chooses is never passed to the tool, which runs its own default",
            suggestion="set model_flag to the tool's model option (e.g. --model)",
        )


class ProfileMcpNotDisabled(Rule):
    """A custom profile for ``claude`` does not switch MCP servers off.

    Claude Code starts every MCP server configured on the machine unless it is told not to.
    Marianne's shipped claude-code profile passes ``mcp_disable_args`` for that, and Marianne
    adds them whenever a score asks for no MCP; a custom profile of the same program without
    them starts the machine's servers in every sheet: slow starts, tools the score never
    planned, and processes left behind. Source: the common pitfalls of Marianne's plugin
    reference (MCP servers in custom profiles) and the shipped claude-code profile.

    Failing::

        name: my-claude
        display_name: My Claude
        kind: cli
        cli:
          command: {executable: claude, auto_approve_flag: "--dangerously-skip-permissions"}
          output: {}

    Passing::

        name: my-claude
        display_name: My Claude
        kind: cli
        cli:
          command:
            executable: claude
            auto_approve_flag: "--dangerously-skip-permissions"
            mcp_disable_args: ["--strict-mcp-config", "--mcp-config", '{"mcpServers":{}}']
          output: {}
    """

    code = "ML733"
    name = "profile-mcp-not-disabled"
    severity = Severity.WARNING
    summary = "a custom claude profile has no mcp_disable_args: the machine's MCP servers start in every sheet"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        command = _command(ctx)
        executable = command.get("executable")
        if not isinstance(executable, str) or executable.rsplit("/", 1)[-1] != "claude" or ctx.raw("name") in (
                CLAUDE_CODE, CLAUDE_CLI):
            return
        if command.get("mcp_disable_args"):
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "command", "executable"),
            "the profile runs claude without mcp_disable_args: Claude starts every MCP server configured on the "
            "machine in every sheet, which Marianne's shipped claude-code profile switches off",
            suggestion="copy mcp_disable_args (and mcp_config_flag) from the shipped claude-code profile",
        )


class ProfileMcpCapabilityWithoutFlag(Rule):
    """A profile declares the ``mcp`` capability but gives Marianne no way to pass an MCP config.

    Capabilities are labels: declaring ``mcp`` does not connect anything. Marianne hands a score's
    MCP servers (a technique of kind ``mcp``) to the program only through
    ``cli.command.mcp_config_flag``; without it the servers never reach the tool, and a sheet
    that relies on them runs without them (servers the tool configures itself still work: info).
    Source: the MCP pool guide of Marianne's docs (MCP config not applied).

    Failing::

        capabilities: [tool_use, mcp]
        cli:
          command: {executable: mytool}
          output: {}

    Passing::

        capabilities: [tool_use, mcp]
        cli:
          command: {executable: mytool, mcp_config_flag: "--mcp-config"}
          output: {}
    """

    code = "ML734"
    name = "profile-mcp-capability-without-flag"
    severity = Severity.INFO
    summary = "the profile declares the mcp capability but has no mcp_config_flag to pass MCP servers"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        declared = ctx.raw("capabilities")
        if not isinstance(declared, list) or "mcp" not in declared or ctx.raw("kind") != "cli":
            return
        if _command(ctx).get("mcp_config_flag") or not _cli_section(ctx):
            return
        yield Finding(
            self.name,
            ctx.key_span("capabilities"),
            "the profile declares the mcp capability, but cli.command has no mcp_config_flag: Marianne cannot pass "
            "a score's MCP servers (techniques of kind mcp) to the tool; only servers the tool configures itself "
            "are there",
            suggestion="set mcp_config_flag to the tool's MCP config option, or drop mcp from capabilities",
        )


class LearningBackendPartial(Rule):
    """The conductor's ``learning.backend`` is written in part, which replaces the whole default.

    Semantic learning analyses sheet outcomes with its own LLM backend, by default
    ``anthropic_api`` with a Sonnet model, temperature 0.3, 4,096 tokens and a 120 s timeout. A
    ``learning.backend`` mapping does not adjust that default: it replaces it with a plain
    backend whose fields are the general defaults, so ``backend: {timeout_seconds: 60}`` alone
    switches the analysis to the ``claude_cli`` backend at temperature 0.7. Write every field
    you rely on, starting with ``type``. Source: the semantic learning section of Marianne's
    configuration reference.

    Failing::

        learning:
          backend:
            timeout_seconds: 60

    Passing::

        learning:
          backend:
            type: anthropic_api
            model: claude-sonnet-4-5-20250929
            temperature: 0.3
            max_tokens: 4096
            timeout_seconds: 60
    """

    code = "ML735"
    name = "learning-backend-partial"
    severity = Severity.WARNING
    summary = "the conductor's learning.backend is written in part: it replaces the default anthropic_api backend"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        backend = ctx.raw("learning", "backend")
        if not isinstance(backend, dict) or not backend or "type" in backend:
            return
        yield Finding(
            self.name,
            ctx.key_span("learning", "backend"),
            f"learning.backend sets {', '.join(str(k) for k in list(backend)[:3])} but not type: the mapping replaces "
            "the default analysis backend (anthropic_api, temperature 0.3) with plain defaults, so learning runs on "
            "claude_cli at temperature 0.7",
            suggestion="write type: anthropic_api (and the model, temperature and max_tokens you rely on)",
        )



class ProfileResultUnparsed(Rule):
    """A profile reads JSON output but never says where the result is in it.

    With ``cli.output.format: json`` Marianne takes the sheet's result from ``result_path``; with
    ``jsonl`` it takes it from the event named by ``completion_event_type`` (``result_path`` is
    read inside that event, so it does nothing without one). Without them the
    whole JSON envelope, or the whole event stream, becomes the result: earlier sheets' outputs
    (``previous_outputs``) and Marianne's reports hold machine output instead of the agent's
    answer, and an error the tool reports is not told apart from a result. Every shipped JSON
    profile sets them. Source: the cli.output sections of Marianne's instrument guide and its
    instrument-authoring tutorial (JSON and JSONL modes).

    Failing::

        cli:
          command: {executable: mytool, output_format_flag: "--json"}
          output: {format: json}

    Passing::

        cli:
          command: {executable: mytool, output_format_flag: "--json"}
          output: {format: json, result_path: result}
    """

    code = "ML737"
    name = "profile-result-unparsed"
    severity = Severity.WARNING
    summary = "JSON output without result_path (or JSONL without completion_event_type): the raw output is the result"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        output = _output(ctx)
        fmt = output.get("format")
        if fmt == "json" and not output.get("result_path"):
            missing, what = "result_path", "the whole JSON document"
        elif fmt == "jsonl" and not output.get("completion_event_type"):  # result_path reads that event
            missing, what = "completion_event_type", "the whole event stream"
        else:
            return
        yield Finding(
            self.name,
            ctx.key_span("cli", "output", "format"),
            f"cli.output.format is {fmt} with no {missing}: {what} becomes the sheet's result, so later sheets and "
            "reports see machine output instead of the agent's answer",
            suggestion=f"set cli.output.{missing} to where the tool puts its answer",
        )


#: What a tool prints when it fails for an ordinary reason: an auth or rate-limit pattern matching
#: these would class every failure as one.
_ORDINARY_FAILURES = (
    "Error: command failed with exit code 1",
    "Traceback (most recent call last):\n  File \"main.py\", line 3\nValueError: bad input",
    "FAILED tests/test_app.py::test_parse - AssertionError",
    "fatal: not a git repository",
    "Operation timed out after 30 seconds",
    "error: build failed (1 error, 0 warnings)",
    "=== 1 failed, 41 passed in 3.2s ===",
)
#: Pattern lists whose match changes how a failure is handled, with what a false match costs.
_CLASSIFYING_PATTERNS = {
    "auth_error_patterns": "an authentication failure, which fails the sheet at once without a retry",
    "rate_limit_patterns": "a rate limit, so the sheet waits for the limit to clear instead of retrying",
}


class ProfilePatternTooBroad(Rule):
    """An auth or rate-limit pattern matches ordinary failures, so every failure is misclassified.

    Marianne checks a failed run's output against ``cli.errors.auth_error_patterns`` first: a
    match fails the sheet at once, without a retry. A pattern as broad as ``error`` or ``fail``
    matches a crash, a test failure the agent printed or a timeout message, so transient failures
    are treated as bad credentials and never retried; a rate-limit pattern that broad makes every
    failure wait as if rate-limited. Match the tool's own wording (``invalid api key``, ``401``).
    Reported when a pattern matches one of a few ordinary failure messages. Source: the auth error
    patterns section of Marianne's instrument-authoring tutorial.

    Failing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            auth_error_patterns: ["error"]

    Passing::

        cli:
          command: {executable: mytool}
          output: {}
          errors:
            auth_error_patterns: ["(?i)invalid api key", "\\\\b401\\\\b"]
    """

    code = "ML738"
    name = "profile-pattern-too-broad"
    severity = Severity.WARNING
    summary = "an auth or rate-limit pattern matches ordinary failure messages"
    kinds = ("instrument",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        errors = _cli_section(ctx).get("errors")
        if not isinstance(errors, dict):
            return
        for key, cost in _CLASSIFYING_PATTERNS.items():
            patterns = errors.get(key)
            if not isinstance(patterns, list):
                continue
            for index, pattern in enumerate(patterns):
                if not isinstance(pattern, str) or len(pattern) > 500:
                    continue
                try:
                    compiled = re.compile(pattern)
                except (re.error, OverflowError, RecursionError):
                    continue  # profile-pattern-invalid speaks
                hit = next((text for text in _ORDINARY_FAILURES if compiled.search(text)), None)
                if hit is None:
                    continue
                yield Finding(
                    self.name,
                    ctx.key_span("cli", "errors", key, index),
                    f"{key} pattern '{pattern}' matches an ordinary failure ('{hit.splitlines()[0]}'): every such "
                    f"failure is taken for {cost}",
                    suggestion="match the tool's own wording for that case (e.g. 'invalid api key', '429')",
                )
