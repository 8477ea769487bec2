"""Lint many inputs: find the files, answer from the result cache, lint the rest (in worker
processes when there are many), and gather the findings in the order every front end reports.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from marianne_lint.config import Config
from marianne_lint.diagnostics import Diagnostic
from marianne_lint.pipeline import Settings, lint_source, read
from marianne_lint.reading.source import Source

if TYPE_CHECKING:
    from marianne_lint.cache import Cache

#: Folders a walk never enters.
SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".marianne-lint-cache", ".idea", ".vscode",
}


def discover(paths: Sequence[str], config: Config, force_exclude: bool = False) -> Iterator[tuple[str, bool]]:
    """(path, found by a folder walk) for every input, deterministic and without repeats.

    Paths are normalised (``./a.yaml`` is ``a.yaml``). ``exclude`` applies to the folder walk,
    and with ``force_exclude`` to files named on the command line too.
    """
    seen: set[str] = set()
    for raw in paths:
        if raw in ("-", ""):  # stdin; an empty path names no file (Path("") would be the current folder)
            yield raw, False
            continue
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path, config):
                key = os.path.normpath(found)
                if key not in seen:
                    seen.add(key)
                    yield key, True
        else:
            key = os.path.normpath(raw)
            if key not in seen and not (force_exclude and config.excluded(key)):
                seen.add(key)
                yield key, False


def _walk(folder: Path, config: Config) -> list[str]:
    out: list[str] = []

    def unreadable(error: OSError) -> None:
        # A folder the walk cannot list is reported (as an unreadable input), not silently skipped.
        if error.filename is not None:
            out.append(os.fspath(error.filename))

    for current, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not config.excluded(os.path.join(current, d)))
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                full = os.path.join(current, name)
                if not config.excluded(full):
                    out.append(full)
    return sorted(out)


def default_jobs() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(slots=True)
class Run:
    """The outcome of linting many inputs."""

    diagnostics: list[Diagnostic]
    """Every finding, sorted as reports print them."""
    files: int
    """How many Marianne files were linted."""
    lines: dict[tuple[str, int], str]
    """(path, line) -> the text of that line, for the lines findings point at."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(path, error) for each input an internal error stopped."""
    inputs: dict[str, Input] = field(default_factory=dict)
    """Reported path -> where each linted Marianne file came from (what ``--fix`` rewrites)."""


class Input(NamedTuple):
    """Where one linted file came from."""

    shown: str
    """The path findings report."""
    path: str
    """The path on disk, or ``-`` for standard input."""
    walked: bool
    disk: Path | None
    """The file Marianne would read (None for standard input without --stdin-filename)."""
    text: str | None
    """The text as read, kept for standard input only (it cannot be read twice)."""


class _Task(NamedTuple):
    position: int
    source: Source
    walked: bool
    disk: Path | None
    key: str | None


class _Outcome(NamedTuple):
    linted: bool
    """False when a folder walk found a file that is not a Marianne config."""
    diagnostics: list[Diagnostic]
    lines: dict[int, str]


#: The settings worker processes lint with (inherited when the pool forks).
_WORKER: dict[str, Any] = {}


def _lint_one(task: _Task) -> tuple[int, _Outcome | str, dict[str, Any]]:
    """Lint one file; returns (index, outcome or an internal error, file-system probes)."""
    from marianne_lint.reading import filesystem

    with filesystem.recording() as probes:
        try:
            result = lint_source(task.source, _WORKER["settings"], kind=_WORKER["kind"], walked=task.walked,
                                 file_path=task.disk)
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
            return task.position, f"{type(exc).__name__}: {exc}", {}
        finally:
            if not gc.isenabled():  # after the first file, which pays the start-up (see commands.lint)
                # What start-up built lives to the end: collections need not walk it again. (The
                # first file's own leftovers are frozen too: a few kilobytes, once.)
                gc.freeze()
                gc.enable()
    if result is None:
        return task.position, _Outcome(False, [], {}), probes
    return task.position, _Outcome(True, result.diagnostics, result.lines), probes


def _run(tasks: list[_Task], jobs: int) -> Iterator[tuple[int, _Outcome | str, dict[str, Any]]]:
    """Lint the tasks, in worker processes when there are enough of them."""
    if jobs <= 1 or len(tasks) < 2 * jobs or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_lint_one, tasks)
        return
    # Build the models once here: forked workers inherit them instead of building their own.
    from marianne_lint.building.models import root_model

    root_model("score")
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_lint_one, tasks, chunksize=max(1, min(16, len(tasks) // (jobs * 4))))


def _settings_parts(config: Config, kind: str | None) -> dict[str, Any]:
    """Everything besides a file's text and path that decides its result (for the cache key)."""
    return {
        "select": config.select, "ignore": config.ignore, "extend_select": config.extend_select,
        "per_file_ignores": config.per_file_ignores,
        "severity": {rule: level.label for rule, level in config.severity.items()},
        "exclude": config.exclude, "kinds": config.kinds, "options": config.options, "root": str(config.root),
        "kind": kind, "home": str(Path.home()), "cwd": os.getcwd(),
    }


def lint_many(
    paths: Sequence[str],
    settings: Settings,
    *,
    kind: str | None = None,
    jobs: int = 1,
    cache: Cache | None = None,
    stdin_filename: str | None = None,
    force_exclude: bool = False,
    skip_non_marianne: bool = False,
) -> Run:
    """Lint files and folders (``-`` is standard input, reported as ``stdin_filename``).

    A folder walk skips YAML files that are not Marianne files, and so do named files with
    ``skip_non_marianne``. With a ``cache``, unchanged files are answered from it.
    """
    from marianne_lint.cache import decode_diagnostics, encode_result, entry_key, settings_fingerprint

    config = settings.config
    fingerprint = settings_fingerprint(_settings_parts(config, kind)) if cache is not None else ""
    outcomes: list[_Outcome | None] = []
    origins: list[Input] = []
    tasks: list[_Task] = []
    for path, walked in discover(paths, config, force_exclude):
        walked = walked or skip_non_marianne
        if path == "-":
            source = read("-", settings, stdin_filename or "-")
            disk: Path | None = Path(stdin_filename) if stdin_filename else None
        else:
            source = read(path, settings)
            disk = Path(path)
        origins.append(Input(source.path, path, walked, disk, source.text if path == "-" else None))
        key = None
        if cache is not None and path != "-" and source.text is not None:
            key = entry_key(fingerprint, source.path, os.path.abspath(path), walked, source.text)
            entry = cache.get(key)
            if entry is not None:
                cached, cached_lines = decode_diagnostics(entry)
                outcomes.append(_Outcome(entry["kind"] is not None, cached, cached_lines))
                continue
        tasks.append(_Task(len(outcomes), source, walked, disk, key))
        outcomes.append(None)

    failures: list[tuple[str, str]] = []
    if tasks:
        _WORKER.update(settings=settings, kind=kind)
        by_index = {task.position: task for task in tasks}
        for index, outcome, probes in _run(tasks, jobs):
            task = by_index[index]
            if isinstance(outcome, str):
                failures.append((task.source.path, outcome))
                continue
            outcomes[index] = outcome
            if cache is not None and task.key is not None:
                linted = "linted" if outcome.linted else None
                cache.put(task.key, encode_result(linted, outcome.diagnostics, outcome.lines, probes))

    diagnostics: list[Diagnostic] = []
    lines: dict[tuple[str, int], str] = {}
    inputs: dict[str, Input] = {}
    files = 0
    sources = 0  # the files with findings: the findings of one file come sorted already
    for done, origin in zip(outcomes, origins, strict=True):
        if done is None or not done.linted:
            continue
        files += 1
        inputs.setdefault(origin.shown, origin)
        diagnostics.extend(done.diagnostics)
        sources += bool(done.diagnostics)
        shown_lines = done.lines
        for d in done.diagnostics:
            if d.line in shown_lines:
                lines[(d.path, d.line)] = shown_lines[d.line]
    if sources > 1:
        diagnostics.sort(key=Diagnostic.sort_key)
    return Run(diagnostics, files, lines, failures, inputs)
