"""Questions about the models that the structure step and the rules ask.

Which model or type sits at a data path, which keys a model allows, and
where else in a config a key name exists (for "did you mean" across sections).
"""


import types
import typing
from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the type that matters."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def field_by_key(model: type[BaseModel], key: Any) -> tuple[str, Any] | None:
    """The (field name, annotation) a YAML key selects, by name or alias."""
    for name, info in model.model_fields.items():
        if key == name or (info.alias is not None and key == info.alias):
            return name, info.annotation
    return None


def step(annotation: Any, key: Any) -> Any:
    """The annotation one data step below ``annotation``; None if unknown."""
    annotation = unwrap(annotation)
    if _is_model(annotation):
        found = field_by_key(annotation, key)
        return found[1] if found else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, set, frozenset, tuple, Sequence) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def annotation_at(root: type[BaseModel], path: Sequence[Any]) -> Any:
    """The annotation that governs the value at ``path`` (None when free-form)."""
    annotation: Any = root
    for key in path:
        if key == "[key]":
            continue
        annotation = step(annotation, key)
        if annotation is None:
            return None
    return unwrap(annotation)


def model_at(root: type[BaseModel], path: Sequence[Any]) -> type[BaseModel] | None:
    """The model whose keys are allowed at ``path``, if a model sits there."""
    found = annotation_at(root, path)
    return found if _is_model(found) else None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts, as written in YAML (aliases preferred)."""
    return [info.alias or name for name, info in model.model_fields.items()]


@cache
def key_index(root: type[BaseModel]) -> dict[str, tuple[str, ...]]:
    """Every key name under ``root`` -> the dotted sections where it is allowed."""
    index: dict[str, list[str]] = {}
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[type[BaseModel], str]] = [(root, "")]
    while queue:
        model, prefix = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            key = info.alias or name
            dotted = f"{prefix}{key}"
            index.setdefault(key, []).append(dotted)
            for inner in _models_in(info.annotation):
                marker = "[]" if _is_sequence_of(info.annotation) else ""
                queue.append((inner, f"{dotted}{marker}."))
    return {key: tuple(paths) for key, paths in index.items()}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    annotation = unwrap(annotation)
    if _is_model(annotation):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _is_sequence_of(annotation: Any) -> bool:
    return typing.get_origin(unwrap(annotation)) in (list, set, frozenset, tuple)
