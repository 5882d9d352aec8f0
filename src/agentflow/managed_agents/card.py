"""The Managed Agents rows of the event reference card (``docs/events.md``)."""

from __future__ import annotations

from pydantic import BaseModel

from ..card import CardRow, rows_from_models
from .events import EVENT_CLASSES
from .events._parse import STREAM_ONLY_TYPES

__all__ = ["direction", "rows"]

EVENT_TYPE = {cls: name for name, cls in EVENT_CLASSES.items()}

ORDER = {"sent": 0, "received": 1, "received, stream only": 2}


def direction(cls: type[BaseModel]) -> str:
    """``sent`` for what a client sends (``user.*``, ``system.message``: the server echoes
    them back), ``received, stream only`` for previews, else ``received``."""
    name = EVENT_TYPE[cls]
    if name.startswith(("user.", "system.")):
        return "sent"
    if name in STREAM_ONLY_TYPES:
        return "received, stream only"
    return "received"


def rows() -> list[CardRow]:
    """Every known type: the ones a client sends first, then received, then previews."""
    classes = sorted(EVENT_CLASSES.values(), key=lambda c: (ORDER[direction(c)], EVENT_TYPE[c]))
    return rows_from_models(classes, direction=direction)
