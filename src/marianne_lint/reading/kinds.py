"""Which kind of Marianne config a document is.

Fleet: ``type: fleet``. Instrument profile: ``kind: cli`` or ``kind: http``
next to profile keys. Conductor config: only conductor keys, no ``sheet`` or
``prompt``. Anything else is a score. A folder walk also needs to know when a
YAML file is not a Marianne config at all, so that it can be skipped.
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


def detect(data: Any) -> str | None:
    """The kind of a loaded document, or None when it is not a Marianne config."""
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


def detect_text(text: str) -> str | None:
    """Guess the kind of a file that could not be parsed (a score, or nothing)."""
    return "score" if _SCORE_LINE.search(text) else None
