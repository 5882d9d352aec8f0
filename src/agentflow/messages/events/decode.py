"""Decoding Messages stream events from JSON bytes, with one validator built at import.

The union is discriminated on ``type`` by pydantic-core directly (a literal tag, the fastest
path); a ``type`` outside the known set falls to :class:`UnknownEvent` on a slow path that
known events never take.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from ...core.exceptions import DecodeError
from .models import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Error,
    Interrupted,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    UnknownEvent,
)

__all__ = ["KNOWN_TYPES", "KnownEvent", "MessagesStreamEvent", "parse_event"]

KnownEvent = Annotated[
    ContentBlockDelta
    | ContentBlockStart
    | ContentBlockStop
    | MessageStart
    | MessageDelta
    | MessageStop
    | Ping
    | Error
    | Interrupted,
    Field(discriminator="type"),
]
"""Every event type of the Messages stream, discriminated on ``type``."""

MessagesStreamEvent = (
    ContentBlockDelta
    | ContentBlockStart
    | ContentBlockStop
    | MessageStart
    | MessageDelta
    | MessageStop
    | Ping
    | Error
    | Interrupted
    | UnknownEvent
)
"""What :func:`parse_event` returns: a known event model, or :class:`UnknownEvent`."""

KNOWN_TYPES: frozenset[str] = frozenset(
    {
        "content_block_delta",
        "content_block_start",
        "content_block_stop",
        "message_start",
        "message_delta",
        "message_stop",
        "ping",
        "error",
        "interrupted",
    }
)
"""Every ``type`` decoded to its own class."""

_known: TypeAdapter[Any] = TypeAdapter(KnownEvent)
# The core validator directly: TypeAdapter.validate_json adds Python work to every call.
_validate_json = _known.validator.validate_json


def parse_event(data: bytes | str) -> MessagesStreamEvent:
    """Decode one event from the JSON of an SSE ``data:`` field.

    An unknown ``type`` is not an error: it gives :class:`UnknownEvent` with every field
    kept. Raises :class:`~agentflow.DecodeError` for data that is not a JSON object, has no
    string ``type``, or is a known type with invalid fields (the message names the field).
    """
    try:
        return _validate_json(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recover(data, exc)


def _recover(data: bytes | str, exc: ValidationError) -> MessagesStreamEvent:
    """Slow path: an unknown type (→ :class:`UnknownEvent`) or a real decoding error."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        obj = json.loads(text)
    except ValueError as json_exc:
        raise DecodeError(
            f"Expected a JSON object, got invalid JSON: {json_exc}", data=data
        ) from None
    if not isinstance(obj, dict):
        raise DecodeError(f"Expected a JSON object, got {type(obj).__name__}", data=data) from None
    event_type = obj.get("type")
    if not isinstance(event_type, str):
        raise DecodeError(
            f"Expected a string 'type' field, got {event_type!r}", field="type", data=data
        ) from None
    if event_type not in KNOWN_TYPES:
        return UnknownEvent.model_validate(obj)
    first = exc.errors()[0]
    # loc is (type-tag, field, ...): drop the union tag pydantic puts first.
    field = ".".join(str(part) for part in first["loc"][1:]) or "<event>"
    raise DecodeError(
        f"Invalid {event_type!r} event: field {field!r}: {first['msg']}",
        event_type=event_type,
        field=field,
        data=data,
    ) from exc
