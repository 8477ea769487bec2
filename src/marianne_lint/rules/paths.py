"""ML6xx: files and folders a config refers to.

Paths are resolved the way Marianne resolves them when the job runs:

* ``workspace`` written in the score: relative to the score's folder (the
  score file's real path), made absolute; ``~`` and ``$VAR`` are kept as
  literal folder names; a null value becomes the text ``None``. Absent: the
  default ``./workspace`` is resolved against the conductor's current folder,
  which a linter cannot know.
* ``prompt.template_file``, ``backend.system_prompt_file``,
  ``backend.working_directory`` and skill techniques' ``config.path``:
  relative to the score's folder (as ``mzt validate`` checks them).
* prelude and cadenza ``file``/``directory``: relative to the workspace.
* validation ``path``/``working_directory``: relative to the conductor's
  current folder.
* a fleet's ``scores[].path``: relative to the fleet file's folder.

Only file metadata is read (exists, is a file, is a folder); nothing a config
names is opened, run or followed further. Without a file on disk (standard
input) every check that looks at the filesystem is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from marianne_lint.diagnostics import Finding, Severity
from marianne_lint.reading import filesystem
from marianne_lint.reading.positions import PNode, Span
from marianne_lint.rules.base import Context, Rule
from marianne_lint.rules.support import format_fields
from marianne_lint.rules.support.sheets import VALIDATION_BUILTINS, Injection, injections
from marianne_lint.rules.support.workspace import against, base_dir, workspace
from marianne_lint.rules.validations import _CONTENT_TYPES, path_keys

_ENV_VAR = re.compile(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_JINJA = ("{{", "{%", "{#")
_VALIDATION_BUILTINS = frozenset(VALIDATION_BUILTINS)


# -- filesystem helpers (metadata only) -------------------------------------------------------


_exists = filesystem.exists


def _problem(path: FsPath, *, folder: bool, file: str = "file") -> str:
    """Why ``path`` is not the folder (or file) a setting needs: it is missing, or what it is instead
    (a device or a named pipe exists: saying it does not would send the user looking for it)."""
    found = filesystem.kind(path)
    if found is None:
        return "does not exist"
    if folder:
        return "is a file, not a folder" if found == "a regular file" else f"is {found}, not a folder"
    return f"is a folder, not a {file}" if found == "a folder" else f"is {found}, not a regular {file}"
_is_file = filesystem.is_file
_is_dir = filesystem.is_dir
_resolve = filesystem.resolve  # ``Path.resolve()`` as Marianne calls it


def _literal_notes(text: str, *, filled: bool = False) -> str:
    """Why a path may not mean what it seems: things Marianne does not expand.

    ``filled``: the key's placeholders are filled by Marianne, so braces need no note.
    """
    notes = []
    if text.startswith("~"):
        notes.append("'~' is not expanded to a home folder")
    if _ENV_VAR.search(text):
        notes.append("environment variables such as '$HOME' are not expanded")
    if "{" in text and not filled:
        notes.append("placeholders are not filled in this key")
    return f" ({'; '.join(notes)})" if notes else ""


class WorkspaceParentMissing(Rule):
    """The folder that should contain the workspace does not exist (Marianne's V002).

    Marianne resolves a relative ``workspace`` against the folder of the
    score file (an absolute one is used as written) and creates the workspace
    inside its parent folder. When that parent folder is missing, the job
    cannot create its workspace. Covers ``mzt validate`` check V002, which
    reports it as an error; here it is a warning because the answer depends
    on the machine the linter runs on (a workspace on another person's
    machine, or a shared folder not mounted here). Nothing is checked when the
    score has no ``workspace`` key (the default is relative to the
    conductor's current folder) or is read from standard input.

    Failing::

        workspace: /srv/projects/missing-folder/workspace

    Passing::

        workspace: ../workspaces/report-run
    """

    code = "ML601"
    name = "workspace-parent-missing"
    severity = Severity.WARNING
    summary = "the parent folder of the workspace does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        found = workspace(ctx)
        if found.written is None or found.resolved is None:
            return
        parent = found.resolved.parent
        if _is_dir(parent):
            return
        if _exists(parent):
            problem = "is a file, not a folder, so the workspace cannot be created in it"
        else:
            problem = (
                "does not exist on this machine; mzt validate rejects the score for this (V002), and the "
                "path only works on a machine where that folder exists"
            )
        shown = ""
        if str(found.resolved) != found.written:
            shown = f" (resolved against the score's folder: {found.resolved})"
        yield Finding(
            self.name,
            ctx.key_span("workspace"),
            f"workspace '{found.written}'{shown}: its parent folder {parent} {problem}{_literal_notes(found.written)}",
            suggestion=f"create {parent} (mkdir -p) or point workspace at a folder that exists, "
            "preferably relative to the score",
        )


class NullWorkspace(Rule):
    """``workspace`` is present but empty, so it names a surprising folder.

    Marianne turns the value into text before resolving it against the score's
    folder: ``workspace:`` with no value (null) becomes a folder literally
    named ``None`` next to the score, and ``workspace: ""`` becomes the score's
    own folder, so the job writes its state and outputs among the score files.

    Failing::

        workspace:

    Passing::

        workspace: ./workspace
    """

    code = "ML602"
    name = "null-workspace"
    severity = Severity.WARNING
    summary = "workspace is null or empty (a folder named 'None', or the score's own folder)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        raw = ctx.raw("workspace")
        if not isinstance(ctx.data, dict) or "workspace" not in ctx.data:
            return
        if raw is None:
            message = (
                "workspace has no value (null); Marianne turns it into the text 'None' and uses a folder "
                "literally named 'None' next to the score"
            )
        elif isinstance(raw, str) and not raw.strip():
            message = (
                f"workspace is {raw!r}; Marianne resolves it to the score's own folder, so the job writes "
                "its state and outputs among the score files"
            )
        else:
            return
        yield Finding(
            self.name,
            ctx.key_span("workspace"),
            message,
            suggestion="give a folder name such as ./workspace, or remove the key",
        )


#: Folders no job should use as its workspace: Marianne writes its state there, and workspace
#: cleanup or ``--fresh`` archiving moves what is there away.
_SYSTEM_FOLDERS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run",
    "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/Users", "/System", "/Library", "/Applications",
})


#: What marks a folder as a project's own (a repository, a package), read as metadata only.
_PROJECT_MARKERS = (".git", "pyproject.toml", "package.json", "Cargo.toml", "go.mod")


def _project_marker(folder: FsPath) -> str | None:
    if str(folder) in _SYSTEM_FOLDERS or folder == FsPath.home() or not _is_dir(folder):
        return None
    for marker in _PROJECT_MARKERS:
        if _exists(folder / marker):
            return marker
    return None


def _holds_score(ctx: Context, folder: FsPath) -> bool:
    """Whether ``folder`` is the score's folder or one of its parents (not the root, the home or a system folder)."""
    own = base_dir(ctx)
    if own is None or str(folder) in _SYSTEM_FOLDERS or folder == FsPath.home():
        return False
    written = FsPath(os.path.normpath(folder))  # compared as written: no file-system call
    return written == own or written in own.parents


class UnsafeWorkspace(Rule):
    """The workspace is the file system's root, a system folder, the home folder or the score's own folder.

    Marianne keeps the job's state and outputs in the workspace, and its workspace lifecycle
    (``workspace_lifecycle.archive_on_fresh``, used by ``--fresh`` runs) moves the files it finds
    there into an archive. A workspace of ``/``, ``/etc``, ``/tmp`` or the home folder spreads a
    job's files through folders other programs own; ``workspace: .`` (or ``./``) is the score's own
    project folder, which archiving then moves away from under the score, and so is ``..`` or any
    folder above the score, or a folder that holds a project (``.git``, ``pyproject.toml``,
    ``package.json``, ``Cargo.toml``, ``go.mod``). Marianne's guides warn
    against both; its models accept them.

    Failing::

        workspace: .
        workspace_lifecycle:
          archive_on_fresh: true

    Passing::

        workspace: ./workspace
    """

    code = "ML615"
    name = "unsafe-workspace"
    severity = Severity.WARNING
    summary = "the workspace is /, a system or home folder, or the score's own folder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        found = workspace(ctx)
        written = found.written
        if written is None or not written.strip():
            return  # absent or empty: default-workspace and null-workspace say what happens
        archiving = bool(getattr(ctx.score.workspace_lifecycle, "archive_on_fresh", False))
        archive_note = (
            "; workspace_lifecycle.archive_on_fresh is on, so a --fresh run moves its files into an archive"
            if archiving else "; workspace cleanup and --fresh archiving would move what is there"
        )
        stripped = written.strip().rstrip("/") or "/"
        absolute = FsPath(written).is_absolute()
        folder = FsPath(os.path.normpath(written)) if absolute else found.resolved
        if stripped in (".", "") or (not absolute and os.path.normpath(written) == "."):
            message = (
                f"workspace is {written!r}, the score's own folder: Marianne writes the job's state and "
                f"outputs among the score's files{archive_note.replace('its files', 'the project files')}"
            )
        elif folder is not None and _holds_score(ctx, folder):
            message = (
                f"workspace {written!r} ({folder}) is a folder that holds the score itself: Marianne writes the "
                f"job's state among the project's files{archive_note.replace('its files', 'the project files')}"
            )
        elif folder is not None and (marker := _project_marker(folder)) is not None:
            message = (
                f"workspace {written!r} ({folder}) is a project's folder (it holds {marker}): Marianne writes the "
                f"job's state among the project's files{archive_note.replace('its files', 'the project files')}"
            )
        elif folder is not None and (str(folder) in _SYSTEM_FOLDERS or folder == FsPath.home()):
            what = "the home folder" if folder == FsPath.home() else (
                "the root of the file system" if str(folder) == "/" else "a system folder")
            message = f"workspace {written!r} is {what} ({folder}){archive_note}"
        else:
            return
        yield Finding(self.name, ctx.key_span("workspace"), message,
                      suggestion="give the job a folder of its own, such as ./workspace")


def unexpanded(written: str, variable_note: str = "") -> list[str]:
    """What Marianne keeps literally in a path it does not expand: a leading ``~``, ``$VAR``s."""
    found = []
    if written.startswith("~"):
        found.append(f"'{written.split('/', 1)[0]}' is a folder name, not the home folder")
    variables = sorted({m.group(0) for m in _ENV_VAR.finditer(written)})
    if variables:
        found.append(f"{', '.join(repr(v) for v in variables)} stays literal text{variable_note}")
    return found


class UnexpandedWorkspacePath(Rule):
    """The workspace uses ``~`` or ``$VAR``, which Marianne keeps literally.

    Marianne reads the score without expanding ``~`` or environment
    variables, so ``workspace: ~/runs/x`` is the folder ``~/runs/x`` inside
    the score's folder (a folder named ``~``), and ``$HOME/x`` a folder named
    ``$HOME``.

    Failing::

        workspace: ~/marianne/runs/report

    Passing::

        workspace: ../runs/report
    """

    code = "ML603"
    name = "unexpanded-workspace-path"
    severity = Severity.WARNING
    summary = "the workspace uses ~ or $VAR, which Marianne does not expand"

    def check(self, ctx: Context) -> Iterator[Finding]:
        written = workspace(ctx).written
        if written is None:
            return
        found = unexpanded(written, ", not an environment variable")
        if not found:
            return
        yield Finding(
            self.name,
            ctx.key_span("workspace"),
            f"workspace '{written}': Marianne does not expand it; {'; '.join(found)}, "
            "and the path is resolved against the score's folder",
            suggestion="write the real path, absolute or relative to the score",
        )


class DefaultWorkspace(Rule):
    """The score has no ``workspace`` key, so its outputs land wherever the conductor runs.

    Without the key, Marianne uses ``./workspace`` and resolves it against the
    current folder of the process that loads the score, not the score's
    folder. Two runs started from different folders then use different
    workspaces (and different job state). Writing ``workspace`` explicitly
    makes it relative to the score.

    Failing::

        name: report
        sheet: {size: 1, total_items: 1}
        prompt: {template: "Write the report"}

    Passing::

        name: report
        workspace: ./workspace
        sheet: {size: 1, total_items: 1}
        prompt: {template: "Write the report"}
    """

    code = "ML604"
    name = "default-workspace"
    severity = Severity.INFO
    summary = "no workspace key: the default ./workspace depends on the conductor's current folder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if workspace(ctx).written is not None:
            return
        yield Finding(
            self.name,
            Span(1, 1, 1, 2),
            "the score has no workspace key: Marianne then uses ./workspace relative to the folder the "
            "conductor or command runs in, not the score's folder",
            suggestion="add 'workspace: ./workspace' (resolved against the score's folder)",
        )


# -- files next to the score -------------------------------------------------------------------


def _score_relative(ctx: Context, written: str) -> FsPath | None:
    folder = base_dir(ctx)
    return None if folder is None else against(folder, written)


def _where(written: str) -> str:
    return "" if FsPath(written).is_absolute() else " (resolved against the score's folder)"


class TemplateFileMissing(Rule):
    """``prompt.template_file`` does not name an existing file (Marianne's V003).

    A relative path is looked up next to the score. Covers ``mzt validate``
    check V003 (an error there); a warning here because it depends on the
    files present on this machine.

    Failing::

        prompt:
          template_file: prompts/missing.j2

    Passing::

        prompt:
          template_file: prompts/review.j2
    """

    code = "ML605"
    name = "template-file-missing"
    severity = Severity.WARNING
    summary = "prompt.template_file does not exist or is not a file"

    def check(self, ctx: Context) -> Iterator[Finding]:
        found = ctx.at("prompt", "template_file")
        written = found.value
        if not isinstance(written, str) or not written:
            return
        path = _score_relative(ctx, written)
        if path is None or _is_file(path):
            return
        problem = _problem(path, folder=False)
        yield Finding(
            self.name,
            found.key,
            f"prompt.template_file '{written}' is {path}{_where(written)}, which {problem}; "
            f"no sheet prompt can be built from it{_literal_notes(written)}",
            suggestion="fix the path (relative paths start at the score's folder) or use prompt.template",
        )


class SystemPromptFileMissing(Rule):
    """``backend.system_prompt_file`` does not exist (Marianne's V004).

    A relative path is looked up next to the score. A folder in its place is
    reported too (``mzt validate`` lets it pass, but it cannot be read as a
    prompt). Covers ``mzt validate`` check V004 (an error there); a warning
    here because it depends on this machine.

    Failing::

        backend:
          system_prompt_file: prompts/missing-system.md

    Passing::

        backend:
          system_prompt_file: prompts/system.md
    """

    code = "ML606"
    name = "system-prompt-file-missing"
    severity = Severity.WARNING
    summary = "backend.system_prompt_file does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        found = ctx.at("backend", "system_prompt_file")
        written = found.value
        if not isinstance(written, str) or not written:
            return
        path = _score_relative(ctx, written)
        if path is None or _is_file(path):
            return
        problem = _problem(path, folder=False)
        yield Finding(
            self.name,
            found.key,
            f"backend.system_prompt_file '{written}' is {path}{_where(written)}, which {problem}; "
            f"the instrument cannot read its system prompt{_literal_notes(written)}",
            suggestion="fix the path (relative paths start at the score's folder)",
        )


class WorkingDirectoryMissing(Rule):
    """``backend.working_directory`` is missing or not a folder (Marianne's V005).

    A relative path is looked up next to the score. The instrument's process
    cannot start in a folder that does not exist. Covers ``mzt validate``
    check V005 (an error there); a warning here because it depends on this
    machine.

    Failing::

        backend:
          working_directory: ./checkout-that-is-not-here

    Passing::

        backend:
          working_directory: ./src
    """

    code = "ML607"
    name = "working-directory-missing"
    severity = Severity.WARNING
    summary = "backend.working_directory does not exist or is not a folder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        found = ctx.at("backend", "working_directory")
        written = found.value
        if not isinstance(written, str) or not written:
            return
        path = _score_relative(ctx, written)
        if path is None or _is_dir(path):
            return
        problem = _problem(path, folder=True)
        yield Finding(
            self.name,
            found.key,
            f"backend.working_directory '{written}' is {path}{_where(written)}, which {problem}; "
            f"the instrument cannot be started there{_literal_notes(written)}",
            suggestion=f"create the folder (mkdir -p {path}) or fix the path",
        )


# -- prelude and cadenzas ----------------------------------------------------------------------


def _injection_targets(ctx: Context) -> Iterator[tuple[Injection, FsPath, str]]:
    """Each literal prelude/cadenza path with the place Marianne reads it from, and how to name that place."""
    ws = workspace(ctx).resolved
    for item in injections(ctx):
        if any(marker in item.written for marker in _JINJA):
            continue
        written = FsPath(item.written)
        if written.is_absolute():
            yield item, _resolve(written), ""
        elif ws is not None and _is_dir(ws):
            target = _resolve(ws / written)
            yield item, target, f" in the workspace ({target})"
        elif ws is not None and not _exists(ws) and item.first_sheet:
            # A fresh workspace holds nothing the first sheet could read: worth saying only when the
            # author evidently meant a file beside the score.
            folder = base_dir(ctx)
            beside = _resolve(folder / written) if folder is not None else None
            if beside is not None and _exists(beside):
                target = _resolve(ws / written)
                yield item, target, f" in the workspace ({target}; the workspace does not exist before the run)"


class InjectionFileMissing(Rule):
    """A prelude or cadenza ``file``/``directory`` does not exist where Marianne looks for it.

    When a sheet's prompt is built, each injected path is rendered with
    Jinja, and a relative result is joined to the **workspace** (absolute
    paths are used as they are). A missing file or folder cannot be
    injected (the ``mzt validate`` preview skips it without a word), so the
    sheet runs without the context it was meant to get.
    ``mzt validate`` (check V108) looks next to the score instead, so it
    warns about files that are in fact found and misses those that are not.
    This rule checks absolute paths directly and relative ones in the
    workspace when the workspace folder exists on this machine; it says so
    when the file is next to the score but not in the workspace. When the
    workspace does not exist yet, a relative path of the first sheet that
    names a file next to the score is reported too (a fresh workspace
    cannot hold it).
    Paths with Jinja placeholders are skipped. A missing ``directory`` with
    ``as: context`` is reported as info (as V108 does); a cadenza file for a
    later sheet may be written by an earlier sheet, which the message
    mentions. Covers ``mzt validate`` check V108.

    Failing::

        workspace: ./ws
        sheet:
          size: 1
          total_items: 1
          prelude:
            - file: style-guide.md   # not in ./ws
              as: skill

    Passing::

        workspace: ./ws
        sheet:
          size: 1
          total_items: 1
          prelude:
            - file: "{{ workspace }}/style-guide.md"
              as: skill
    """

    code = "ML608"
    name = "injection-file-missing"
    severity = Severity.WARNING
    summary = "a prelude or cadenza file or folder is not in the workspace (or absolute path)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        folder = base_dir(ctx)
        if folder is None:
            return
        for item, target, where in _injection_targets(ctx):
            written = FsPath(item.written)
            wanted_dir = item.key == "directory"
            if _is_dir(target) if wanted_dir else _is_file(target):
                continue
            problem = _problem(target, folder=wanted_dir)
            message = f"{item.source}: {item.key} '{item.written}'{where} {problem}, so its content cannot be injected"
            suggestion = "fix the path, or create the file before the job runs"
            beside = _resolve(folder / written)
            if where and (_is_dir(beside) if wanted_dir else _is_file(beside)):
                message += (
                    f". It exists next to the score ({beside}), but Marianne looks in the workspace, "
                    "not next to the score (mzt validate checks the wrong place and finds it)"
                )
                suggestion = f"use the absolute path {beside}, or copy it into the workspace"
            elif not item.first_sheet and item.source != "prelude":
                message += ", unless an earlier sheet writes it"
            severity = Severity.INFO if wanted_dir and item.category == "context" else None
            yield Finding(
                self.name,
                ctx.key_span(*item.path),
                message + _literal_notes(item.written, filled=True) + _single_brace_note(item.written),
                suggestion=suggestion,
                severity=severity,
            )


def _single_brace_note(text: str) -> str:
    if re.search(r"\{[A-Za-z_]\w*\}", text):
        return " (prelude and cadenza paths are Jinja: '{name}' stays literal, write '{{ name }}')"
    return ""


# -- validations -------------------------------------------------------------------------------


def _leading_root(ctx: Context, template: str) -> str | None:
    """What a validation path starts with once Marianne fills its placeholders.

    Returns the leading text, or None when that cannot be told statically (an
    unknown or malformed placeholder, which fails at run time anyway).
    """
    parts = format_fields.pieces(template)
    if not parts:
        return None
    literal, field, _spec, _conversion = parts[0]
    if literal:
        return literal
    if not field:
        return None
    name = format_fields.root(field)
    if name == "workspace":
        return "/"  # the workspace is absolute when validations run
    if name in _VALIDATION_BUILTINS:
        return "0"  # a number or a name: relative
    variables = ctx.raw("prompt", "variables")
    if isinstance(variables, dict) and name in variables:
        value = str(variables[name])
        return value or None
    return None


class RelativeValidationPath(Rule):
    """A file validation's ``path`` is relative, so Marianne checks the wrong place.

    Marianne fills a validation path's ``{placeholders}`` and then resolves
    the result against the **current folder of the conductor** — not the
    workspace and not the score's folder. A relative path such as
    ``report.md`` therefore checks a file the sheet most likely did not
    write, and the validation fails (or passes on a stale file) whatever the
    sheet did. The same holds for a relative ``working_directory`` of a
    ``command_succeeds`` validation. Paths starting with ``{workspace}``, an
    absolute path, or a variable holding an absolute path are fine. Paths
    with Jinja braces are left to ``jinja-in-validation-path``.

    Failing::

        validations:
          - type: file_exists
            path: output/report.md

    Passing::

        validations:
          - type: file_exists
            path: "{workspace}/output/report.md"
    """

    code = "ML609"
    name = "relative-validation-path"
    severity = Severity.WARNING
    summary = "a validation path is relative and resolves against the conductor's current folder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, rule in enumerate(ctx.score.validations):
            for key in path_keys(rule):
                value = getattr(rule, key)
                if not isinstance(value, str) or not value.strip() or "{{" in value:
                    continue
                lead = _leading_root(ctx, value)
                if lead is None or lead.startswith("/"):
                    continue
                shown = value[2:] if value.startswith("./") else value
                yield Finding(
                    self.name,
                    ctx.key_span("validations", index, key),
                    f"validation #{index + 1} ({rule.type}) {key} '{value}' is relative: Marianne resolves it "
                    "against the folder the conductor runs in, not the workspace"
                    f"{_literal_notes(value, filled=True)}",
                    suggestion=f"write '{{workspace}}/{shown}'",
                )


def _absent_absolute(written: str) -> bool:
    """A literal absolute path (no placeholders) that does not exist on this machine."""
    return "{" not in written and FsPath(written).is_absolute() and not _exists(FsPath(written))


class ValidationFileMissing(Rule):
    """A content validation reads a fixed absolute path that does not exist (Marianne's V107).

    A ``content_contains`` or ``content_regex`` validation whose path has no
    placeholder and is absolute reads a file outside the workspace; when that
    file does not exist now, the validation fails unless a sheet creates it.
    Info only: the sheet may well create it. Covers ``mzt validate`` check
    V107 (which, unlike this rule, also depends on how the score path was
    typed on its command line).

    Failing::

        validations:
          - type: content_contains
            path: /srv/shared/missing-status.txt
            pattern: READY

    Passing::

        validations:
          - type: content_contains
            path: "{workspace}/status.txt"
            pattern: READY
    """

    code = "ML610"
    name = "validation-file-missing"
    severity = Severity.INFO
    summary = "a content validation reads a fixed absolute path that does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.file_path is None:
            return
        for index, rule in enumerate(ctx.score.validations):
            value = rule.path
            if rule.type not in _CONTENT_TYPES or not isinstance(value, str) or not _absent_absolute(value):
                continue
            yield Finding(
                self.name,
                ctx.key_span("validations", index, "path"),
                f"validation #{index + 1} ({rule.type}) reads '{value}', which does not exist on this machine; "
                "the validation fails unless a sheet creates it",
                suggestion="check the path, or write it under {workspace} if the sheet creates it",
            )


# -- versioned scores --------------------------------------------------------------------------

_VERSIONED = re.compile(r"-v(\d+)\.yaml$")
_HISTORY_MARKERS = ("VERSION PROGRESSION:", "EVOLUTION FROM", "evolved from", "LEARNINGS", "→", "->")


def _version_pattern(previous: int) -> re.Pattern[str]:
    # '-v2' (not '-v20'), 'v2/' and 'v2.0' as words of their own.
    return re.compile(rf"-v{previous}(?!\d)|(?<![\w.])v{previous}(?:/|\.0(?!\d))")


def _scalars(node: PNode, seen: set[int]) -> Iterator[PNode]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.text is not None and node.values is None and node.items is None:
        yield node
    for child in (node.values or {}).values():
        yield from _scalars(child, seen)
    for child in node.items or []:
        yield from _scalars(child, seen)


def _match_span(node: PNode, text: str, line_index: int, start: int, end: int) -> Span:
    """Where a match inside a scalar's value is in the file (the scalar's start when unsure)."""
    span = node.span
    if node.style == "|":
        line = span.line + 1 + line_index
        return Span(line, 1, line + 1, 1)
    if span.line == span.end_line and line_index == 0:
        offset = 0 if node.style is None else 1
        if span.end_column - span.column == len(text) + 2 * offset:
            return Span(span.line, span.column + offset + start, span.line, span.column + offset + end)
    return span


class VersionedScoreReference(Rule):
    """A versioned score (``name-vN.yaml``) still mentions the previous version (Marianne's V009).

    When a score is copied to make its next version, leftovers such as the
    old ``name``, the old workspace or a path into the old version's folder
    make the new version overwrite or read the previous one's state and
    outputs. Only files whose name ends in ``-v<N>.yaml`` with N above 1 are
    checked, for ``-v<N-1>``, ``v<N-1>/`` and ``v<N-1>.0`` in the ``name``,
    the ``workspace`` (as written) and every other value. Values that
    describe the history (containing an arrow, "VERSION PROGRESSION:",
    "EVOLUTION FROM", "evolved from" or "LEARNINGS") are left alone, and so
    are comments, which cannot make the score use the old files. Unlike
    ``mzt validate``, ``-v2`` does not match ``-v20``. Covers ``mzt validate``
    check V009.

    Failing (in ``report-v3.yaml``)::

        name: report-v2
        workspace: ../workspaces/report-v2

    Passing (in ``report-v3.yaml``)::

        name: report-v3
        workspace: ../workspaces/report-v3
    """

    code = "ML611"
    name = "versioned-score-reference"
    severity = Severity.WARNING
    summary = "a versioned score still mentions the previous version's name or folders"

    def check(self, ctx: Context) -> Iterator[Finding]:
        file_name = ctx.file_path.name if ctx.file_path is not None else FsPath(ctx.path).name
        match = _VERSIONED.search(file_name)
        if match is None or int(match.group(1)) <= 1:
            return
        version = int(match.group(1))
        previous = version - 1
        pattern = _version_pattern(previous)
        special: dict[int, str] = {}
        for special_key in ("name", "workspace"):
            special_node = ctx.node(special_key)
            if special_node is not None:
                special[id(special_node)] = special_key
        for node in _scalars(ctx.root, set()):
            text = node.text or ""
            key = special.get(id(node))
            if key is not None:
                found = pattern.search(text)
                if found:
                    consequence = (
                        "the new version is reported under the old name"
                        if key == "name"
                        else "the new version reuses the old version's workspace and job state"
                    )
                    yield Finding(
                        self.name,
                        ctx.value_span(key),
                        f"{key} '{text}' mentions '{found.group(0)}', but this file is version {version} "
                        f"({file_name}); {consequence}",
                        suggestion=f"update it to version {version}",
                    )
                continue
            reported: set[int] = set()
            for index, line in enumerate(text.split("\n")):
                if any(marker in line for marker in _HISTORY_MARKERS):
                    continue
                found = pattern.search(line)
                if found is None:
                    continue
                span = _match_span(node, text, index, found.start(), found.end())
                if span.line in reported:
                    continue
                reported.add(span.line)
                yield Finding(
                    self.name,
                    span,
                    f"'{found.group(0)}' in '{_clip(line.strip())}' refers to version {previous}, but this file "
                    f"is version {version} ({file_name}); a leftover makes the new version read or write the "
                    "previous version's files",
                    suggestion=f"update the reference to version {version}, or suppress this line if it is meant",
                )


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# -- techniques --------------------------------------------------------------------------------


class TechniqueSkillMissing(Rule):
    """A skill technique's ``config.path`` does not exist (Marianne's V301).

    A relative path is looked up next to the score. ``mzt validate`` defines
    this check (V301) but does not run it. Paths with placeholders are
    skipped.

    Failing::

        techniques:
          review:
            kind: skill
            phases: [work]
            config: {path: skills/missing-review.md}

    Passing::

        techniques:
          review:
            kind: skill
            phases: [work]
            config: {path: skills/review.md}
    """

    code = "ML612"
    name = "technique-skill-missing"
    severity = Severity.WARNING
    summary = "a skill technique's config.path does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for name, technique in ctx.score.techniques.items():
            written = technique.config.get("path") if isinstance(technique.config, dict) else None
            if technique.kind != "skill" or not isinstance(written, str) or not written or "{" in written:
                continue
            path = _score_relative(ctx, written)
            if path is None or _exists(path):
                continue
            yield Finding(
                self.name,
                ctx.first_span(("techniques", name, "config", "path"), ("techniques", name)),
                f"technique '{name}' (skill) has config.path '{written}', which is {path}{_where(written)} "
                f"and does not exist{_literal_notes(written)}",
                suggestion="fix the path (relative paths start at the score's folder)",
            )


# -- fleets ------------------------------------------------------------------------------------


class FleetScoreMissing(Rule):
    """A fleet member's ``path`` does not name a score file.

    Paths are relative to the fleet file's folder. A missing score cannot be
    submitted with the rest of the fleet.

    Failing::

        name: nightly
        type: fleet
        scores:
          - path: scores/missing.yaml

    Passing::

        name: nightly
        type: fleet
        scores:
          - path: scores/build.yaml
    """

    code = "ML613"
    name = "fleet-score-missing"
    severity = Severity.WARNING
    summary = "a fleet's score path does not exist (relative to the fleet file)"
    kinds = ("fleet",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        folder = base_dir(ctx)
        if folder is None:
            return
        for index, entry in enumerate(getattr(ctx.model, "scores", [])):
            written = entry.path
            if not written or written.startswith("~") or _ENV_VAR.search(written):
                continue
            path = against(folder, written)
            if _is_file(path):
                continue
            problem = _problem(path, folder=False, file="score file")
            where = "" if FsPath(written).is_absolute() else " (relative to the fleet file)"
            yield Finding(
                self.name,
                ctx.key_span("scores", index, "path"),
                f"score #{index + 1} path '{written}' is {path}{where}, which {problem}",
                suggestion="fix the path; relative paths start at the fleet file's folder",
            )


class FleetUnknownGroup(Rule):
    """A fleet score names a ``group`` that is not defined under ``groups``.

    Marianne submits the ungrouped scores first, then the groups defined
    under ``groups`` in dependency order. A score whose group is not one of
    them is never submitted — this includes every grouped score when
    ``groups`` is empty or absent. Marianne's own checks do not catch this.

    Failing::

        name: nightly
        type: fleet
        scores:
          - {path: build.yaml, group: build}
          - {path: deploy.yaml, group: deplyo}
        groups:
          build: {}
          deploy: {depends_on: [build]}

    Passing::

        name: nightly
        type: fleet
        scores:
          - {path: build.yaml, group: build}
          - {path: deploy.yaml, group: deploy}
        groups:
          build: {}
          deploy: {depends_on: [build]}
    """

    code = "ML614"
    name = "fleet-unknown-group"
    severity = Severity.ERROR
    summary = "a fleet score's group is not defined under groups, so it is never submitted"
    kinds = ("fleet",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.config import did_you_mean

        groups = list(getattr(ctx.model, "groups", {}))
        for index, entry in enumerate(getattr(ctx.model, "scores", [])):
            if entry.group is None or entry.group in groups:
                continue
            if groups:
                defined = f"defined groups: {', '.join(sorted(groups))}{did_you_mean(entry.group, groups)}"
            else:
                defined = "the fleet defines no groups"
            yield Finding(
                self.name,
                ctx.key_span("scores", index, "group"),
                f"score #{index + 1} ('{entry.path}') is in group '{entry.group}', which is not defined under "
                f"groups ({defined}); Marianne never submits it",
                suggestion=f"define the group (groups: {{{entry.group}: {{}}}}) or fix its name",
            )


# -- the conductor's own files -------------------------------------------------------------------

#: Conductor settings that name a file and are used as written (no ``~`` or ``$VAR`` expansion).
_CONDUCTOR_PATHS: tuple[tuple[str, ...], ...] = (("log_file",), ("pid_file",), ("socket", "path"))


class UnexpandedConductorPath(Rule):
    """A conductor path uses ``~`` or ``$VAR``, which the conductor keeps literally.

    The conductor opens ``log_file``, ``pid_file`` and ``socket.path`` as written: ``~/logs/x.log``
    is a folder named ``~`` inside whatever folder the conductor was started from, and
    ``$HOME/run/x.pid`` a folder named ``$HOME``. The log then lands somewhere unexpected, or
    the conductor cannot create the file and fails to start. (``state_db_path`` and key file
    paths are expanded; these are not.) Marianne's daemon guide uses absolute paths for them.

    Failing (in ``conductor.yaml``)::

        log_file: ~/.marianne/conductor.log

    Passing (in ``conductor.yaml``)::

        log_file: /var/log/marianne/conductor.log
    """

    code = "ML616"
    name = "unexpanded-conductor-path"
    severity = Severity.WARNING
    summary = "a conductor path (log_file, pid_file, socket.path) uses ~ or $VAR, which is not expanded"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for path in _CONDUCTOR_PATHS:
            written = ctx.raw(*path)
            if not isinstance(written, str):
                continue
            found = unexpanded(written)
            if not found:
                continue
            yield Finding(
                self.name,
                ctx.value_span(*path),
                f"{'.'.join(path)} '{written}': the conductor does not expand it; {'; '.join(found)}, and the "
                "path is relative to the folder the conductor is started from",
                suggestion="write the absolute path",
            )


class FleetJobIdCollision(Rule):
    """Two scores of a fleet have the same file name, so they get the same job id.

    The conductor names a submitted job after its score file's name without the extension:
    ``frontend/review.yaml`` and ``backend/review.yaml`` are both job ``review``, and the second
    collides with the first when the fleet is submitted. Marianne's validation notes list this gap.

    Failing::

        name: nightly
        type: fleet
        scores:
          - path: frontend/review.yaml
          - path: backend/review.yaml

    Passing::

        name: nightly
        type: fleet
        scores:
          - path: frontend/review-frontend.yaml
          - path: backend/review-backend.yaml
    """

    code = "ML617"
    name = "fleet-job-id-collision"
    severity = Severity.WARNING
    summary = "two fleet scores have the same file name, so they get the same job id"
    kinds = ("fleet",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        first: dict[str, int] = {}
        scores: list[Any] = list(getattr(ctx.model, "scores", []))
        for index, entry in enumerate(scores):
            written = entry.path
            if not written:
                continue
            stem = FsPath(written).stem
            if stem not in first:
                first[stem] = index
                continue
            other = first[stem]
            yield Finding(
                self.name,
                ctx.value_span("scores", index, "path"),
                f"score #{index + 1} '{written}' and score #{other + 1} '{scores[other].path}' are both "
                f"job '{stem}': the conductor names jobs after the score's file name",
                related=[(ctx.value_span("scores", other, "path"), "the first score with that name")],
                suggestion="rename one of the score files",
            )


class ChainedScoreMissing(Rule):
    """An ``on_success`` ``run_job`` hook names an absolute score path that does not exist.

    When the score has finished, the conductor loads the score the hook names; a file that is
    not there fails the chain after all the work is done. Only absolute paths without
    placeholders are checked (a relative one is resolved from the conductor's folder, see
    ``relative-job-path``).

    Source: the concert checks of Marianne's score-reviewer checklist.

    Failing::

        on_success:
          - type: run_job
            job_path: /srv/scores/missing-next-step.yaml

    Passing::

        on_success:
          - type: run_job
            job_path: /tmp
    """

    code = "ML618"
    name = "chained-score-missing"
    severity = Severity.WARNING
    summary = "a run_job hook's job_path is an absolute path that does not exist"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.file_path is None:
            return
        from marianne_lint.rules.chaining import run_job_hooks

        for index, hook in run_job_hooks(ctx):
            text = str(hook.job_path)
            if not _absent_absolute(text):
                continue
            yield Finding(
                self.name,
                ctx.value_span("on_success", index, "job_path"),
                f"on_success #{index + 1} job_path '{text}' does not exist on this machine, so the chain fails "
                "once the score has finished",
                suggestion="fix the path of the score to chain to",
            )


class ConductorConfigName(Rule):
    """A conductor config is saved as ``daemon.yaml``, which the conductor does not load.

    The conductor reads ``~/.marianne/conductor.yaml`` (or the file given with ``--config``);
    only the ``mzt config`` commands read ``~/.marianne/daemon.yaml``. Settings saved under that
    name are shown by ``mzt config`` but never used by the running conductor. Marianne's own notes
    warn about the two names.

    Failing (in ``daemon.yaml``)::

        max_concurrent_jobs: 4

    Passing (in ``conductor.yaml``)::

        max_concurrent_jobs: 4
    """

    code = "ML619"
    name = "conductor-config-name"
    severity = Severity.INFO
    summary = "a conductor config named daemon.yaml, which the conductor never loads"
    kinds = ("conductor",)

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.file_path is None or ctx.file_path.name not in ("daemon.yaml", "daemon.yml"):
            return
        yield Finding(
            self.name,
            Span(1, 1, 1, 2),
            f"{ctx.file_path.name}: the conductor loads ~/.marianne/conductor.yaml (or the file given with "
            "--config), not daemon.yaml, which only mzt config reads; these settings do not reach the conductor",
            suggestion="name the file conductor.yaml, or start the conductor with --config pointing at it",
        )


def _has_own_files(folder: FsPath, limit: int = 10_000) -> bool:
    """Whether ``folder`` holds a regular file directly (its subfolders are not looked at)."""
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= limit:
                    return True
                if entry.is_file(follow_symlinks=True):
                    return True
    except OSError:
        return True  # unreadable: nothing to say
    return False


class InjectionHasNoContent(Rule):
    """A prelude or cadenza names a file that is empty, or a folder with no files of its own.

    Marianne injects a file's text, or every file directly inside a folder: it does not read
    subfolders. An empty file, or a folder whose files are all in subfolders, injects nothing,
    and the sheet runs without the context it was given. Only paths without templates that
    exist on this machine are looked at (``injection-file-missing`` covers the others).

    Source: Marianne's plugin reference (directory cadenzas are not recursive; empty injection
    files).

    Failing::

        workspace: ./ws
        sheet:
          size: 1
          total_items: 1
          prelude:
            - directory: notes
              as: context

    Passing::

        workspace: ./ws
        sheet:
          size: 1
          total_items: 1
          prelude:
            - directory: docs
              as: context
    """

    code = "ML620"
    name = "injection-has-no-content"
    severity = Severity.WARNING
    summary = "a prelude or cadenza file is empty, or its folder has no files of its own (subfolders are not read)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if base_dir(ctx) is None:
            return
        for item, target, where in _injection_targets(ctx):
            if item.key == "directory":
                if not _is_dir(target) or _has_own_files(target):
                    continue
                problem = "holds no files of its own (Marianne does not read subfolders), so nothing is injected"
            else:
                if not _is_file(target) or filesystem.size(target) != 0:
                    continue
                problem = "is empty, so nothing is injected"
            yield Finding(
                self.name,
                ctx.key_span(*item.path),
                f"{item.source}: {item.key} '{item.written}'{where} {problem}",
                suggestion="point it at the files themselves, or fill the file before the job runs",
            )
