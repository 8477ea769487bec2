"""ML8xx: chaining scores into concerts (``on_success`` hooks that start the next job).

When every sheet of a score has passed, Marianne runs its ``on_success`` hooks in order; a
``run_job`` hook submits another score (or the same one again) to the conductor, which loads it
the way ``mzt run`` would: a relative ``job_path`` is resolved by the conductor, not next to the
score, and the chained job resumes the state it finds in its workspace unless ``fresh`` is set.
Nothing a hook names is run or opened here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from marianne_lint.diagnostics import Finding, Fix, Severity
from marianne_lint.rules.base import Context, Rule

_HOOK_PLACEHOLDERS = ("{workspace}", "{job_id}", "{sheet_count}")


def run_job_hooks(ctx: Context) -> Iterator[tuple[int, Any]]:
    """Each ``on_success`` hook that starts a score: (index, hook)."""
    for index, hook in enumerate(ctx.score.on_success):
        if hook.type == "run_job" and hook.job_path is not None:
            yield index, hook


def _names_this_score(ctx: Context, written: str) -> bool:
    """Whether ``job_path`` (as written) names the linted score itself."""
    if ctx.file_path is None or any(p in written for p in _HOOK_PLACEHOLDERS):
        return False
    own = ctx.file_path
    path = FsPath(written)
    if path.name != own.name:
        return False
    if path.is_absolute():
        try:
            return os.path.realpath(path) == os.path.realpath(own)
        except (OSError, ValueError):
            return False
    # Relative: resolved from the conductor's folder, which is not known here; the folders written
    # after any leading '..' must be the last folders of the score's own path.
    parts = [p for p in path.parts if p not in (".", "")]
    while parts and parts[0] == "..":
        parts.pop(0)
    if ".." in parts:
        return False
    own_parts = FsPath(os.path.realpath(own)).parts
    return tuple(parts) == own_parts[len(own_parts) - len(parts):]


class SelfChainWithoutFresh(Rule):
    """An ``on_success`` ``run_job`` hook starts this same score again without ``fresh: true``.

    A score that chains to itself (a loop of improvement passes, a queue worker) is submitted
    again with its own workspace. Without ``fresh: true`` the new run resumes the state the
    finished run left there: every sheet is already complete, the job ends at once, its hooks
    chain again, and the concert spins through ``concert.max_chain_depth`` jobs that do no work.
    Marianne's concert guide says a self-chaining score needs ``fresh: true``.

    Failing (in ``loop.yaml``)::

        on_success:
          - type: run_job
            job_path: loop.yaml
            detached: true
        concert:
          enabled: true

    Passing (in ``loop.yaml``)::

        on_success:
          - type: run_job
            job_path: loop.yaml
            detached: true
            fresh: true
        concert:
          enabled: true
    """

    code = "ML801"
    name = "self-chain-without-fresh"
    severity = Severity.WARNING
    summary = "a run_job hook chains the score to itself without fresh: true, so the next run does nothing"
    fixable = "unsafe"
    fix_summary = "add `fresh: true` to the hook"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, hook in run_job_hooks(ctx):
            if hook.fresh or not _names_this_score(ctx, str(hook.job_path)):
                continue
            yield Finding(
                self.name,
                ctx.key_span("on_success", index, "job_path"),
                f"on_success #{index + 1} chains to this score ('{hook.job_path}') without fresh: true: the next "
                "run resumes the finished state in the same workspace, completes at once and chains again, "
                "doing no work",
                suggestion="add fresh: true to the hook",
                fix=_add_fresh(ctx, index),
            )


def _add_fresh(ctx: Context, index: int) -> Fix | None:
    """Add ``fresh: true`` after the hook's ``job_path`` line, with its indentation (block mappings only)."""
    node = ctx.node("on_success", index)
    key = ctx.key_span("on_success", index, "job_path")
    if node is None or node.values is None or ctx.exists("on_success", index, "fresh"):
        return None
    value = ctx.value_span("on_success", index, "job_path")
    if value.end_line != key.line or "{" in ctx.line_text(key.line)[: key.column]:  # block mappings only
        return None
    edits = ctx.edits
    start = edits.line_end(key.line)  # the next line's start: the new entry goes on a line of its own
    indent = " " * (key.column - 1)
    newline = "" if edits.text[start - 1: start] == "\n" else "\n"
    return Fix.of("add fresh: true", "unsafe", edits.edit(start, start, f"{newline}{indent}fresh: true\n"))


class RelativeJobPath(Rule):
    """An ``on_success`` ``run_job`` hook names the next score with a relative path.

    The conductor loads the chained score, and resolves a relative ``job_path`` against its own
    current folder, which is where it was started (often the home folder), not the folder of
    this score. The chain then fails to find the score, or starts another file of the same name.
    Write an absolute path, or one built from ``{workspace}``.

    Source: Marianne's concert-patterns guide (job_path is resolved by the conductor).

    Failing::

        on_success:
          - type: run_job
            job_path: scores/next-step.yaml

    Passing::

        on_success:
          - type: run_job
            job_path: /srv/scores/next-step.yaml
    """

    code = "ML802"
    name = "relative-job-path"
    severity = Severity.WARNING
    summary = "a run_job hook's job_path is relative; the conductor resolves it from its own folder"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for index, hook in run_job_hooks(ctx):
            written = str(hook.job_path)
            if not written or FsPath(written).is_absolute() or written.startswith(("{workspace}", "{{", "~", "$")):
                continue
            yield Finding(
                self.name,
                ctx.value_span("on_success", index, "job_path"),
                f"on_success #{index + 1} job_path '{written}' is relative: the conductor resolves it against "
                "the folder it was started from, not this score's folder",
                suggestion="write the absolute path of the score to chain to",
            )


class ChainWithoutConcert(Rule):
    """A ``run_job`` hook chains to another score, but ``concert.enabled`` is off.

    Concert mode is off by default. Marianne's concert guide makes ``concert.enabled: true`` the
    switch that lets ``on_success`` ``run_job`` hooks chain jobs (it also enforces
    ``max_chain_depth`` and the cooldown); without it the next score is not started the way the
    score intends.

    Failing::

        on_success:
          - type: run_job
            job_path: /srv/scores/next-step.yaml

    Passing::

        on_success:
          - type: run_job
            job_path: /srv/scores/next-step.yaml
        concert:
          enabled: true
    """

    code = "ML803"
    name = "chain-without-concert"
    severity = Severity.WARNING
    summary = "an on_success run_job hook chains scores while concert.enabled is off"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.score.concert.enabled:
            return
        for index, _hook in run_job_hooks(ctx):
            where = (" (concert.enabled is false)" if ctx.exists("concert", "enabled")
                     else " (there is no concert block)")
            yield Finding(
                self.name,
                ctx.key_span("on_success", index, "type"),
                f"on_success #{index + 1} is a run_job hook, but concert mode is off{where}: Marianne chains "
                "scores through run_job hooks only in concert mode, so the next score is not started",
                suggestion="add concert: {enabled: true}",
            )
            return


class SelfChainKeepsOldOutputs(Rule):
    """A score chains to itself with ``fresh: true`` but keeps the previous run's files.

    ``fresh`` starts the next run from a clean state, but the files in the workspace stay unless
    ``workspace_lifecycle.archive_on_fresh`` is on: the last iteration's outputs are still there,
    so ``file_exists`` checks pass before the new run has written anything. Marianne's reviewer
    checklist asks for archiving on self-chaining scores.

    Failing (in ``loop.yaml``)::

        on_success:
          - type: run_job
            job_path: loop.yaml
            fresh: true
        concert:
          enabled: true

    Passing (in ``loop.yaml``)::

        workspace_lifecycle:
          archive_on_fresh: true
        on_success:
          - type: run_job
            job_path: loop.yaml
            fresh: true
        concert:
          enabled: true
    """

    code = "ML804"
    name = "self-chain-keeps-old-outputs"
    severity = Severity.INFO
    summary = "a self-chaining score runs fresh without archive_on_fresh, so last run's files remain"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if bool(getattr(ctx.score.workspace_lifecycle, "archive_on_fresh", False)):
            return
        for index, hook in run_job_hooks(ctx):
            if not hook.fresh or not _names_this_score(ctx, str(hook.job_path)):
                continue
            if hook.job_workspace is not None:
                continue  # another workspace for the next run
            yield Finding(
                self.name,
                ctx.key_span("on_success", index, "fresh"),
                f"on_success #{index + 1} runs this score again fresh, but workspace_lifecycle.archive_on_fresh is "
                "off: the last run's files stay in the workspace, and file checks pass on them before the new "
                "run writes anything",
                suggestion="set workspace_lifecycle.archive_on_fresh: true",
            )


class RelativeHookScript(Rule):
    """An ``on_success`` command runs a script by a path relative to the score, but hooks run in the workspace.

    ``run_command`` and ``run_script`` hooks run with the job's workspace as their working
    directory unless ``working_directory`` is set. ``./scripts/publish.sh`` is then looked for in
    the workspace, not next to the score where it is: the hook fails after a job that did all its
    work. Reported when the script exists beside the score and not in the workspace (a
    ``./``-path found in neither is info: a sheet may write it). Use an absolute path or set
    ``working_directory``. Source: the concert wiring section of Marianne's
    score-composition guide and the hook fields (working directory defaults to the workspace).

    Failing::

        on_success:
          - type: run_script
            command: "./scripts/publish.sh {workspace}/report.md"

    Passing::

        on_success:
          - type: run_script
            command: "./scripts/publish.sh {workspace}/report.md"
            working_directory: /srv/project
    """

    code = "ML805"
    name = "relative-hook-script"
    severity = Severity.WARNING
    summary = "an on_success command runs a script beside the score, but hooks run in the workspace"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from marianne_lint.reading import filesystem
        from marianne_lint.rules.support.workspace import base_dir, workspace

        folder = base_dir(ctx)
        if folder is None:
            return
        ws = workspace(ctx).resolved
        for index, hook in enumerate(ctx.score.on_success):
            if hook.type not in ("run_command", "run_script") or hook.working_directory is not None:
                continue
            words = (hook.command or "").split()
            program = words[0] if words else ""
            if program in ("bash", "sh", "python", "python3") and len(words) > 1:
                program = words[1]
            if not program or program.startswith(("/", "~", "$", "{")) or "/" not in program:
                continue
            beside = folder / program
            if ws is not None and filesystem.is_file(ws / program):
                continue
            if filesystem.is_file(beside):
                yield Finding(
                    self.name,
                    ctx.key_span("on_success", index, "command"),
                    f"on_success hook #{index + 1} runs '{program}', which is next to the score ({beside}); hooks "
                    "run in the workspace when working_directory is not set, so the script is not found there and "
                    "the hook fails",
                    suggestion=f"use the absolute path {beside}, or set working_directory to {folder}",
                )
            elif program.startswith(("./", "../")):
                yield Finding(
                    self.name,
                    ctx.key_span("on_success", index, "command"),
                    f"on_success hook #{index + 1} runs '{program}', which hooks look for in the workspace"
                    f"{f' ({ws / program})' if ws is not None else ''} when working_directory is not set: unless a "
                    "sheet writes it there, the hook fails",
                    suggestion="use an absolute path, or set working_directory to the folder that holds the script",
                    severity=Severity.INFO,
                )
