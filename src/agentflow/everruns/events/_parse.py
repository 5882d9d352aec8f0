"""Decoding: JSON bytes, text or dicts into typed Everruns events, one validator built once.

The union is discriminated on ``type`` by pydantic-core directly; a ``type`` outside the
known set is decoded as :class:`UnknownEvent` (every field kept) on the slow path, so known
events cost one validation and nothing else.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

from pydantic import ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError

from ...core.exceptions import DecodeError
from ._base import EverrunsEvent
from ._tools import (
    QuestionAnswered,
    QuestionRequested,
    ToolApprovalRequested,
    ToolApprovalResolved,
    ToolCallRepaired,
    ToolCallRequested,
    ToolCompleted,
    ToolFailed,
    ToolOutputDelta,
    ToolProgress,
    ToolStarted,
)
from ._turns import (
    InputMessage,
    LlmGeneration,
    OutputMessageCompleted,
    OutputMessageDelta,
    OutputMessageReplaced,
    OutputMessageStarted,
    ReasonCompleted,
    ReasonStarted,
    ReasonThinkingCompleted,
    ReasonThinkingDelta,
    ReasonThinkingStarted,
    SessionActivated,
    SessionIdled,
    SessionStarted,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnSealed,
    TurnStarted,
)

__all__ = [
    "EVENT_CLASSES",
    "KNOWN_TYPES",
    "InvalidEvent",
    "KnownEvent",
    "UnknownEvent",
    "parse_event",
    "parse_stored",
]


class UnknownEvent(EverrunsEvent):
    """An event of a type this version does not know: every field is kept (``data`` as sent)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    data: Any = None


class InvalidEvent(UnknownEvent):
    """A stored event of a known type whose fields do not validate, kept as it is.

    Only the ``events`` listing yields these (history is the source of truth, and an event
    must not be lost because it is malformed); :attr:`decode_error` says what was wrong. The
    dialect ignores it (no call, no pause, no turn end) and handlers see it by its ``type``.
    """

    _decode_error: str = PrivateAttr(default="")

    @property
    def decode_error(self) -> str:
        """Why the event did not validate (type, field and id; never the data)."""
        return self._decode_error


KnownEvent = Annotated[
    InputMessage
    | OutputMessageStarted
    | OutputMessageDelta
    | OutputMessageReplaced
    | OutputMessageCompleted
    | TurnStarted
    | TurnCompleted
    | TurnFailed
    | TurnCancelled
    | TurnSealed
    | ToolStarted
    | ToolProgress
    | ToolOutputDelta
    | ToolCompleted
    | ToolFailed
    | ToolCallRequested
    | ToolCallRepaired
    | ReasonStarted
    | ReasonCompleted
    | ReasonThinkingStarted
    | ReasonThinkingDelta
    | ReasonThinkingCompleted
    | LlmGeneration
    | SessionStarted
    | SessionActivated
    | SessionIdled
    | ToolApprovalRequested
    | ToolApprovalResolved
    | QuestionRequested
    | QuestionAnswered,
    Field(discriminator="type"),
]
"""Every event type agentflow decodes to its own class, discriminated on ``type``."""

EVENT_CLASSES: dict[str, type[Any]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls
    for cls in get_args(get_args(KnownEvent)[0])
}
"""The model class of each known ``type``."""

KNOWN_TYPES: frozenset[str] = frozenset(EVENT_CLASSES)

_known: TypeAdapter[Any] = TypeAdapter(KnownEvent)
_validate_json = _known.validator.validate_json
_validate_python = _known.validator.validate_python


def parse_event(data: bytes | bytearray | str | dict[str, Any]) -> EverrunsEvent:
    """Decode one event from JSON bytes, JSON text or a dict.

    An unknown ``type`` gives :class:`UnknownEvent`. Raises :class:`~agentflow.DecodeError`
    (naming the type, the field and the event id, never the data) for input that is not a
    JSON object, lacks a string ``id`` or ``type``, or is a known type with invalid fields.
    """
    try:
        if isinstance(data, dict):
            return _validate_python(data)  # type: ignore[no-any-return]
        return _validate_json(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recover(data, exc)


def parse_stored(item: Any) -> EverrunsEvent:
    """Decode one event of the ``events`` listing; a known type with invalid fields becomes
    :class:`InvalidEvent` instead of an error (see there). Not an object, or no string
    ``id`` / ``type``, still raises :class:`~agentflow.DecodeError`."""
    try:
        return parse_event(item)
    except DecodeError as exc:
        if exc.field in ("id", "type", None) or not isinstance(item, dict):
            raise
        kept = InvalidEvent.model_validate(item)
        kept._decode_error = str(exc)
        return kept


def _recover(data: Any, exc: ValidationError) -> EverrunsEvent:
    """Slow path: an unknown type (→ :class:`UnknownEvent`) or a real decoding error."""
    obj: Any = data
    if not isinstance(data, dict):
        try:
            obj = json.loads(data)
        except (ValueError, TypeError) as json_exc:
            raise DecodeError(f"Expected a JSON object, got invalid JSON: {json_exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"Expected a JSON object, got {type(obj).__name__}") from None
    event_type, event_id = obj.get("type"), obj.get("id")
    ident = event_id if isinstance(event_id, str) else None
    for name, value in (("type", event_type), ("id", event_id)):
        if not isinstance(value, str):
            raise DecodeError(
                f"Expected a string {name!r} field, got {type(value).__name__} "
                f"(event type {event_type!r}, id {ident!r})",
                event_type=event_type if isinstance(event_type, str) else None,
                event_id=ident,
                field=name,
            ) from None
    if event_type not in KNOWN_TYPES:
        return UnknownEvent.model_validate(obj)
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"][1:]] or ["<event>"]  # drop the union tag
    field = ".".join(loc)
    raise DecodeError(
        f"Invalid {event_type!r} event (id {ident!r}): field {field!r}: {first['msg']}",
        event_type=event_type,
        event_id=ident,
        field=field,
    ) from exc
