"""Decoding one frame's JSON into its typed event, with one validator built at import.

pydantic-core discriminates the union on ``type`` directly (a literal tag: the fast path);
a type outside the known set fails validation and is decoded as :class:`UnknownEvent`, so
unknown frames cost one extra step and known ones none.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter, ValidationError

from ...core.exceptions import DecodeError
from ._base import M8tesEvent
from ._content import (
    MessageDelta,
    MessageEnd,
    MessageStart,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    Source,
    TextDelta,
    TextEnd,
    TextStart,
    TodoUpdate,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolResultDelta,
    ToolResultEnd,
    ToolResultStart,
)
from ._native import (
    ClaudeMessage,
    ClaudeMessageDelta,
    ClaudeReasoning,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    ToolResult,
    ToolUse,
)
from ._run import (
    AwaitingApproval,
    Cancelled,
    Control,
    Done,
    ErrorFrame,
    Metadata,
    Notice,
    PermissionRequest,
    PermissionResolved,
    RunMetrics,
    RunNote,
    TerminalFailure,
    UnknownEvent,
)

__all__ = ["EVENT_CLASSES", "KNOWN_TYPES", "KnownFrame", "parse_frame"]

KnownFrame = Annotated[
    TextDelta
    | TextStart
    | TextEnd
    | ReasoningDelta
    | ReasoningStart
    | ReasoningEnd
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | ToolResultStart
    | ToolResultDelta
    | ToolResultEnd
    | TodoUpdate
    | MessageStart
    | MessageDelta
    | MessageEnd
    | Source
    | Metadata
    | RunMetrics
    | Done
    | Cancelled
    | ErrorFrame
    | TerminalFailure
    | Notice
    | RunNote
    | Control
    | PermissionRequest
    | AwaitingApproval
    | PermissionResolved
    | ContentBlockStart
    | ContentBlockDelta
    | ContentBlockStop
    | ClaudeMessage
    | ClaudeMessageDelta
    | ClaudeReasoning
    | ToolUse
    | ToolResult,
    Field(discriminator="type"),
]
"""Every documented m8tes frame type, discriminated on ``type``."""

EVENT_CLASSES: dict[str, type[M8tesEvent]] = {
    name: cls
    for cls in get_args(get_args(KnownFrame)[0])
    for name in get_args(cls.model_fields["type"].annotation)
}
"""The model class for each known frame ``type``."""

KNOWN_TYPES: frozenset[str] = frozenset(EVENT_CLASSES)

_adapter: TypeAdapter[Any] = TypeAdapter(KnownFrame)
# The core validator directly: TypeAdapter.validate_json adds Python work per call.
_validate_json = _adapter.validator.validate_json
_validate_python = _adapter.validator.validate_python


def parse_frame(data: bytes | bytearray | str | dict[str, Any]) -> M8tesEvent:
    """Decode one frame from its JSON (bytes or text) or an already-parsed dict.

    An unknown ``type`` gives :class:`UnknownEvent` with every field kept. Input that is not
    a JSON object with a string ``type``, or a known type with invalid fields, raises
    :class:`~agentflow.DecodeError` naming the type and the field.
    """
    try:
        if isinstance(data, dict):
            return _validate_python(data)  # type: ignore[no-any-return]
        return _validate_json(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recover(data, exc)


def _recover(data: Any, exc: ValidationError) -> M8tesEvent:
    obj: Any = data
    if not isinstance(data, dict):
        try:
            obj = json.loads(data)
        except (ValueError, TypeError) as json_exc:
            raise DecodeError(f"Expected a JSON object, got invalid JSON: {json_exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"Expected a JSON object, got {type(obj).__name__}") from None
    frame_type = obj.get("type")
    if not isinstance(frame_type, str):
        raise DecodeError(
            f"Expected a string 'type' field, got {frame_type!r}", field="type"
        ) from None
    if frame_type not in KNOWN_TYPES:
        return UnknownEvent.model_validate(obj)
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"][1:]] or ["<frame>"]
    field = ".".join(loc)
    raise DecodeError(
        f"Invalid {frame_type!r} frame: field {field!r}: {first['msg']}",
        event_type=frame_type,
        field=field,
    ) from exc
