"""Which kind of Marianne config a document is.

By content first: fleet is ``type: fleet``; an instrument profile has ``kind: cli`` or
``kind: http`` next to profile keys; a conductor config has only conductor keys, no ``sheet`` or
``prompt``. When the content does not tell (a broken file), the place Marianne reads the file
from decides: ``conductor.yaml``, ``*.fleet.yaml``, a file in an ``instruments`` folder (as in
``.marianne/instruments/``). Then near misses: a mapping whose keys are mostly one kind's keys is
that kind with a few mistakes. A folder walk also needs to know when a YAML file is not a
Marianne config at all (a CI workflow, a compose file), so that it can be skipped.
"""

from __future__ import annotations

import re
from typing import Any

KINDS = ("score", "conductor", "instrument", "fleet")

_PROFILE_KEYS = {"display_name", "cli", "http", "capabilities", "models", "default_model", "default_timeout_seconds"}
_SCORE_MARKERS = {"sheet", "prompt"}
_SCORE_LINE = re.compile(r"^(?:sheet|prompt)\s*:", re.M)


def _conductor_keys() -> set[str]:
    from marianne_lint.building.models import root_model
    from marianne_lint.building.models.introspect import allowed_keys

    return set(allowed_keys(root_model("conductor"))) | {"use_baton"}


def by_location(path: str | None) -> str | None:
    """The kind Marianne reads a file of this name and folder as, if the place says so."""
    if not path or path == "-":
        return None
    parts = re.split(r"[\\/]", path)
    name = parts[-1].lower()
    if name in ("conductor.yaml", "conductor.yml"):
        return "conductor"
    if name.endswith((".fleet.yaml", ".fleet.yml")):
        return "fleet"
    if len(parts) >= 2 and parts[-2] == "instruments" and name.endswith((".yaml", ".yml")):
        return "instrument"
    return None


#: A mapping is a near miss of a kind when at least this share of its keys (and two keys) are
#: that kind's own keys.
NEAR_MISS_SHARE = 0.6
#: Keys too common in YAML files of every sort to count towards a near miss.
_GENERIC_KEYS = frozenset({"name", "description", "kind", "type", "version"})


def _near_miss(keys: set[str]) -> str | None:
    from marianne_lint.building.models import root_model
    from marianne_lint.building.models.introspect import allowed_keys

    specific = keys - _GENERIC_KEYS  # name, kind, type... say nothing of the kind
    if len(specific) < 2:
        return None
    best: tuple[float, str] | None = None
    for kind in ("score", "conductor", "instrument"):
        own = set(allowed_keys(root_model(kind))) - _GENERIC_KEYS
        share = len(specific & own) / len(specific)
        if len(specific & own) >= 2 and share >= NEAR_MISS_SHARE and (best is None or share > best[0]):
            best = (share, kind)
    return best[1] if best is not None else None


def detect(data: Any, path: str | None = None) -> str | None:
    """The kind of a loaded document, or None when it is not a Marianne config."""
    found = _by_content(data)
    if found is not None:
        return found
    if isinstance(data, dict) and data:
        placed = by_location(path)
        if placed is not None:
            return placed
        return _near_miss({key for key in data if isinstance(key, str)})
    return None


def _by_content(data: Any) -> str | None:
    if not isinstance(data, dict) or not data:
        return None
    if data.get("type") == "fleet":
        return "fleet"
    keys = {key for key in data if isinstance(key, str)}
    if keys & _SCORE_MARKERS:
        return "score"
    kind = data.get("kind")
    if isinstance(kind, str) and kind.strip().lower() in ("cli", "http") and keys & _PROFILE_KEYS:
        return "instrument"
    if len(keys) == len(data) and keys <= _conductor_keys():
        return "conductor"
    return None


def detect_text(text: str, path: str | None = None) -> str | None:
    """Guess the kind of a file that could not be parsed (its place, a score, or nothing)."""
    if _SCORE_LINE.search(text):
        return "score"
    return by_location(path)
