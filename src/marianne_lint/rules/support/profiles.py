"""Instrument profiles on disk: which ``.marianne/instruments`` folders a score sees, what their
profile files declare, and the instrument names known to a score.

Known names are the profiles that ship with Marianne
(:mod:`marianne_lint.rules.support.builtin_instruments`), the score's own aliases under
``instruments:``, and the profiles in ``.marianne/instruments/`` folders of the score's
repository (the score's folder and its parents, up to the folder that holds ``.git``);
``~/.marianne/instruments/`` only with the option ``read-home-instruments``. Profile files are
read with the linter's own loader and never executed; what was read is kept per folder for the
process, guarded by the files' signatures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from marianne_lint.reading import filesystem
from marianne_lint.rules.base import Context, per_document
from marianne_lint.rules.support.builtin_instruments import BUILTIN_PROFILES

#: Profile files larger than this are not read (Marianne's are a few KiB).
MAX_PROFILE_BYTES = 1024 * 1024
HOME_OPTION = "read-home-instruments"


# --------------------------------------------------------------------------------------------------
# Discovering instrument profiles on disk


@dataclass(slots=True)
class LocalProfile:
    """What one profile file in a ``.marianne/instruments`` folder declares.

    The file is validated as an instrument profile only when a score names it
    (validation needs the profile models, which most runs never import).
    """

    name: str
    path: FsPath
    data: dict[str, Any]
    checked: list[tuple[bool, str | None, str | None]] = field(default_factory=list)

    def _check(self) -> tuple[bool, str | None, str | None]:
        if not self.checked:
            from pydantic import ValidationError

            from marianne_lint.building.models.profile import InstrumentProfile

            try:
                profile = InstrumentProfile.model_validate(self.data)
            except ValidationError:
                self.checked.append((False, None, None))
            else:
                flag = profile.cli.command.mcp_config_flag if profile.cli is not None else None
                self.checked.append((True, profile.kind, flag))
        return self.checked[0]

    @property
    def valid(self) -> bool:
        """False when Marianne would skip the file (it does not validate as a profile)."""
        return self._check()[0]

    @property
    def kind(self) -> str | None:
        return self._check()[1]

    @property
    def mcp_config_flag(self) -> str | None:
        return self._check()[2]


_FOLDER_PROFILES: dict[str, tuple[tuple[LocalProfile, ...], dict[str, filesystem.Signature]]] = {}
_REPO_DIRS: dict[str, tuple[tuple[FsPath, ...], dict[str, filesystem.Signature]]] = {}


def clear_cache() -> None:
    """Forget every folder read so far (for tests)."""
    _FOLDER_PROFILES.clear()
    _REPO_DIRS.clear()


def _read_profile(path: FsPath) -> LocalProfile | None:
    from marianne_lint.reading.bounded import TooLarge
    from marianne_lint.reading.loader import load
    from marianne_lint.reading.source import decode

    try:
        source = decode(str(path), filesystem.read_bytes(path, MAX_PROFILE_BYTES))
    except (OSError, ValueError, TooLarge):
        return None
    if source.text is None:
        return None
    loaded = load(source.text)
    data = loaded.data
    if not loaded.ok or not isinstance(data, dict):
        return None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        return None
    return LocalProfile(name, path, data)


def profiles_in(folder: FsPath) -> tuple[LocalProfile, ...]:
    """The profiles of one instruments folder (``*.yaml``/``*.yml``, not recursive, by file name).

    Cached per folder for the life of the process.
    """
    key = str(folder)
    cached = _FOLDER_PROFILES.get(key)
    if cached is not None:
        filesystem.remember(cached[1])
        return cached[0]
    found: list[LocalProfile] = []
    with filesystem.recording() as probes:
        files = [p for p in filesystem.list_dir(folder) if p.suffix in (".yaml", ".yml") and filesystem.is_file(p)]
        for path in files:
            profile = _read_profile(path)
            if profile is not None:
                found.append(profile)
    result = tuple(found)
    _FOLDER_PROFILES[key] = (result, probes)
    return result


def repository_instrument_dirs(start: FsPath) -> tuple[FsPath, ...]:
    """``.marianne/instruments`` folders from ``start`` up to the repository root, outermost first.

    The walk stops at the first folder that contains ``.git`` (included) or at
    the filesystem root.
    """
    start = start.absolute()
    key = str(start)
    cached = _REPO_DIRS.get(key)
    if cached is not None:
        filesystem.remember(cached[1])
        return cached[0]
    found: list[FsPath] = []
    folder = start
    with filesystem.recording() as probes:
        while True:
            candidate = folder / ".marianne" / "instruments"
            if filesystem.is_dir(candidate):
                found.append(candidate)
            if filesystem.exists(folder / ".git") or folder.parent == folder:
                break
            folder = folder.parent
    result = tuple(reversed(found))
    _REPO_DIRS[key] = (result, probes)
    return result


def home_instrument_dir() -> FsPath:
    return FsPath.home() / ".marianne" / "instruments"


@dataclass(slots=True)
class KnownInstruments:
    """Every instrument name a score may use, and where each comes from."""

    profiles: dict[str, str] = field(default_factory=dict)
    """Profile name -> where it is defined (for messages)."""
    mcp_flags: dict[str, str | None] = field(default_factory=dict)
    """CLI profiles defined in YAML (shipped or local) -> their ``mcp_config_flag``."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Score alias -> the profile it names."""
    broken: dict[str, FsPath] = field(default_factory=dict)
    """Names declared by profile files that Marianne would skip as invalid."""
    home_read: bool = False

    def is_known(self, name: str, *, aliases: bool = True) -> bool:
        return name in self.profiles or (aliases and name in self.aliases)

    def names(self, *, aliases: bool = True) -> list[str]:
        names = set(self.profiles)
        if aliases:
            names |= set(self.aliases)
        return sorted(names)


#: The shipped profiles: name -> where it is defined, and the MCP flag of the YAML CLI ones.
_BUILTIN_NAMES: dict[str, str] = {
    builtin.name: "built in" if builtin.origin == "yaml" else "built in (native)"
    for builtin in BUILTIN_PROFILES.values()
}
_BUILTIN_MCP_FLAGS: dict[str, str | None] = {
    builtin.name: builtin.mcp_config_flag
    for builtin in BUILTIN_PROFILES.values()
    if builtin.origin == "yaml" and builtin.kind == "cli"
}


@per_document
def known_instruments(ctx: Context) -> KnownInstruments:
    """The known names for this score (cached per document)."""
    known = KnownInstruments(dict(_BUILTIN_NAMES), dict(_BUILTIN_MCP_FLAGS))
    folders: list[FsPath] = []
    if bool(ctx.option(HOME_OPTION, False)):
        known.home_read = True
        home = home_instrument_dir()
        if filesystem.is_dir(home):
            folders.append(home)
    start = ctx.file_path.absolute().parent if ctx.file_path is not None else FsPath.cwd()
    folders.extend(repository_instrument_dirs(start))
    model: Any = ctx.model
    named = _named_instruments(model)
    every = any(technique.kind == "mcp" for technique in model.techniques.values())
    for folder in folders:  # later folders (nearer the score) win, as later files win in Marianne
        for profile in profiles_in(folder):
            if not every and profile.name not in named:
                # The score does not name it: it only shows up in suggestions; no need to validate it.
                known.profiles.setdefault(profile.name, str(profile.path))
                continue
            if not profile.valid:
                if profile.name not in known.profiles:
                    known.broken[profile.name] = profile.path
                continue
            known.broken.pop(profile.name, None)
            known.profiles[profile.name] = str(profile.path)
            if profile.kind == "cli":
                known.mcp_flags[profile.name] = profile.mcp_config_flag
            else:
                known.mcp_flags.pop(profile.name, None)
    known.aliases = {alias: definition.profile for alias, definition in model.instruments.items()}
    return known


def _named_instruments(model: Any) -> set[str]:
    """Every instrument or profile name a score writes anywhere."""
    names: set[str] = {model.backend.type, *model.instrument_fallbacks}
    if model.instrument:
        names.add(model.instrument)
    names.update(definition.profile for definition in model.instruments.values())
    for movement in model.movements.values():
        if movement.instrument:
            names.add(movement.instrument)
        names.update(movement.instrument_fallbacks)
    sheet = model.sheet
    names.update(sheet.per_sheet_instruments.values())
    names.update(sheet.instrument_map)
    for chain in sheet.per_sheet_fallbacks.values():
        names.update(chain)
    return names
