"""Pydantic models of the four Marianne configuration kinds.

Each kind has one root model, imported only when asked for so that importing
this package stays cheap: ``score`` (``JobConfig``), ``conductor``
(``DaemonConfig``), ``instrument`` (``InstrumentProfile``) and ``fleet``
(``FleetConfig``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marianne_lint.building.models.base import MarianneModel

#: Kind name -> (module, class) of its root model.
ROOT_MODELS: dict[str, tuple[str, str]] = {
    "score": ("marianne_lint.building.models.score", "JobConfig"),
    "conductor": ("marianne_lint.building.models.conductor", "DaemonConfig"),
    "instrument": ("marianne_lint.building.models.profile", "InstrumentProfile"),
    "fleet": ("marianne_lint.building.models.fleet", "FleetConfig"),
}


def root_model(kind: str) -> type[MarianneModel]:
    """Return the root model class of ``kind``, importing its module on demand.

    Raises ``KeyError`` for an unknown kind.
    """
    module_name, class_name = ROOT_MODELS[kind]
    model: type[MarianneModel] = getattr(importlib.import_module(module_name), class_name)
    return model


__all__ = ["ROOT_MODELS", "root_model"]
