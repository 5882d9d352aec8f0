"""One row per event type, generated from a dialect's pydantic event models."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

__all__ = ["CardRow", "kind_of", "rows_from_models"]

BASE_FIELDS = frozenset({"type", "id", "processed_at"})
"""Fields every stored event has: left out of the key fields."""


@dataclass(frozen=True)
class CardRow:
    """What the card says about one event type."""

    type: str
    direction: str
    """``sent`` (the client sends it; the server echoes it), ``received``, or ``received,
    stream only`` (a preview: never stored)."""
    fields: tuple[str, ...]
    """Key fields, ``?`` after the optional ones."""
    kind: str
    """The common ``kind`` (``-`` for none), or how it depends on the event's data."""
    when: str
    """When it fires: the first sentence of the model's docstring."""


def rows_from_models(
    classes: Iterable[type[BaseModel]],
    *,
    direction: Callable[[type[BaseModel]], str],
    kind: Callable[[type[BaseModel]], str] | None = None,
    skip: frozenset[str] = BASE_FIELDS,
) -> list[CardRow]:
    """Rows for event models whose ``type`` field is a ``Literal`` of their type string."""
    rows = []
    for cls in classes:
        rows.append(
            CardRow(
                type=_type_of(cls),
                direction=direction(cls),
                fields=tuple(
                    name if info.is_required() else f"{name}?"
                    for name, info in cls.model_fields.items()
                    if name not in skip
                ),
                kind=(kind or kind_of)(cls),
                when=_first_sentence(cls.__doc__),
            )
        )
    return rows


def kind_of(cls: type[Any]) -> str:
    """The ``kind`` of a model: its ``event_kind`` class attribute, or, when a class closer
    to it computes ``kind`` from the data, the first line of that property's docstring."""
    if _owner_depth(cls, "kind") < _owner_depth(cls, "event_kind"):
        prop = inspect.getattr_static(cls, "kind", None)
        doc = prop.__doc__ if isinstance(prop, property) else None
        return _first_sentence(doc) or "depends on the data"
    value = getattr(cls, "event_kind", None)
    return value if isinstance(value, str) else "-"


def _owner_depth(cls: type[Any], name: str) -> int:
    """How far up the MRO ``name`` is defined (past the end when nowhere)."""
    for depth, base in enumerate(cls.__mro__):
        if name in vars(base):
            return depth
    return len(cls.__mro__)


def _type_of(cls: type[BaseModel]) -> str:
    args = get_args(cls.model_fields["type"].annotation)
    if not args or not isinstance(args[0], str):
        raise ValueError(f"{cls.__name__}.type is not a Literal of its type string")
    return args[0]


def _first_sentence(doc: str | None) -> str:
    text = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
    end = text.find(". ")
    return (text[: end + 1] if end >= 0 else text).replace("``", "`")
