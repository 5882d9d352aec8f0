"""Typed Messages API stream events: one frozen pydantic model per event type.

>>> from agentflow.messages.events import parse_event
>>> event = parse_event(b'{"type":"content_block_delta","index":0,'
...                     b'"delta":{"type":"text_delta","text":"Hi"}}')
>>> type(event).__name__, event.kind, event.text
('ContentBlockDelta', 'message.delta', 'Hi')

Unknown event types decode to :class:`UnknownEvent` and unknown delta types to
:class:`UnknownDelta` (all fields kept); a known type with invalid fields raises
:class:`~agentflow.DecodeError`. Every model is an :class:`~agentflow.Event` with ``.kind``.
"""

from __future__ import annotations

from .content import (
    CitationsDelta,
    ContentBlock,
    Delta,
    ErrorInfo,
    InputJsonDelta,
    MessageInfo,
    SignatureDelta,
    StopInfo,
    TextDelta,
    ThinkingDelta,
    UnknownDelta,
    Usage,
)
from .decode import KNOWN_TYPES, KnownEvent, MessagesStreamEvent, parse_event
from .models import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Error,
    Interrupted,
    MessageDelta,
    MessagesEvent,
    MessageStart,
    MessageStop,
    Ping,
    UnknownEvent,
)

__all__ = [
    "KNOWN_TYPES",
    "CitationsDelta",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Delta",
    "Error",
    "ErrorInfo",
    "InputJsonDelta",
    "Interrupted",
    "KnownEvent",
    "MessageDelta",
    "MessageInfo",
    "MessageStart",
    "MessageStop",
    "MessagesEvent",
    "MessagesStreamEvent",
    "Ping",
    "SignatureDelta",
    "StopInfo",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "parse_event",
]
