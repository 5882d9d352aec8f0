"""Every Messages event model, gathered (they live in :mod:`.blocks` and :mod:`.message`)."""

from __future__ import annotations

from .base import MessagesEvent
from .blocks import ContentBlockDelta, ContentBlockStart, ContentBlockStop
from .message import Error, Interrupted, MessageDelta, MessageStart, MessageStop, Ping, UnknownEvent

__all__ = [
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Error",
    "Interrupted",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "MessagesEvent",
    "Ping",
    "UnknownEvent",
]
