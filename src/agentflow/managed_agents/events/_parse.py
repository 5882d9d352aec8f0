"""Decoding: JSON bytes, text or dicts into typed events, with one validator built at import.

The union is discriminated on ``type`` by pydantic-core directly (a plain string tag, the
fastest path); a ``type`` outside the known set is caught and decoded as
:class:`UnknownEvent` instead, so unknown events cost one extra step and known ones none.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter, ValidationError

from ...core.events import Event
from ...core.exceptions import DecodeError
from ._models import (
    AgentCustomToolUse,
    AgentMcpToolResult,
    AgentMcpToolUse,
    AgentMessage,
    AgentThinking,
    AgentThreadContextCompacted,
    AgentThreadMessageReceived,
    AgentThreadMessageSent,
    AgentToolResult,
    AgentToolUse,
    EventDelta,
    EventStart,
    SessionDeleted,
    SessionError,
    SessionStatusIdle,
    SessionStatusRescheduled,
    SessionStatusRunning,
    SessionStatusTerminated,
    SessionThreadCreated,
    SessionThreadStatusIdle,
    SessionThreadStatusRescheduled,
    SessionThreadStatusRunning,
    SessionThreadStatusTerminated,
    SessionUpdated,
    SessionUsage,
    SpanModelRequestEnd,
    SpanModelRequestStart,
    SpanOutcomeEvaluationEnd,
    SpanOutcomeEvaluationOngoing,
    SpanOutcomeEvaluationStart,
    SystemMessage,
    UnknownEvent,
    UserCustomToolResult,
    UserDefineOutcome,
    UserInterrupt,
    UserMessage,
    UserToolConfirmation,
    UserToolResult,
    WorkflowRunCreated,
    WorkflowRunError,
    WorkflowRunPhaseEnded,
    WorkflowRunPhaseStarted,
    WorkflowRunStatusEnded,
    WorkflowRunStatusIdle,
    WorkflowRunStatusRunning,
)

__all__ = [
    "EVENT_CLASSES",
    "KNOWN_TYPES",
    "STREAM_ONLY_TYPES",
    "Event",
    "KnownEvent",
    "ManagedAgentsEvent",
    "parse_event",
]

KnownEvent = Annotated[
    UserMessage
    | UserInterrupt
    | UserToolConfirmation
    | UserCustomToolResult
    | UserToolResult
    | UserDefineOutcome
    | SystemMessage
    | AgentMessage
    | AgentThinking
    | AgentToolUse
    | AgentToolResult
    | AgentCustomToolUse
    | AgentMcpToolUse
    | AgentMcpToolResult
    | AgentThreadMessageSent
    | AgentThreadMessageReceived
    | AgentThreadContextCompacted
    | SessionStatusRunning
    | SessionStatusIdle
    | SessionStatusRescheduled
    | SessionStatusTerminated
    | SessionError
    | SessionThreadCreated
    | SessionThreadStatusRunning
    | SessionThreadStatusIdle
    | SessionThreadStatusRescheduled
    | SessionThreadStatusTerminated
    | SessionUpdated
    | SessionUsage
    | SessionDeleted
    | SpanModelRequestStart
    | SpanModelRequestEnd
    | SpanOutcomeEvaluationStart
    | SpanOutcomeEvaluationOngoing
    | SpanOutcomeEvaluationEnd
    | WorkflowRunCreated
    | WorkflowRunStatusRunning
    | WorkflowRunStatusIdle
    | WorkflowRunPhaseStarted
    | WorkflowRunPhaseEnded
    | WorkflowRunError
    | WorkflowRunStatusEnded
    | EventStart
    | EventDelta,
    Field(discriminator="type"),
]
"""Every event type of the Managed Agents stream (44), discriminated on ``type``."""

ManagedAgentsEvent = KnownEvent | UnknownEvent
"""What :func:`parse_event` returns: a known event model, or :class:`UnknownEvent`.

(:class:`~agentflow.Event` is the base class every event of every dialect shares; this union
is the precise type of a Managed Agents event.)"""

EVENT_CLASSES: dict[str, type[Any]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls
    for cls in get_args(get_args(KnownEvent)[0])
}
"""The model class for each known ``type`` string."""

KNOWN_TYPES: frozenset[str] = frozenset(EVENT_CLASSES)
"""Every ``type`` string this version decodes to its own class."""

STREAM_ONLY_TYPES: frozenset[str] = frozenset({"event_start", "event_delta"})
"""Preview types: sent on the stream to clients that ask for them, never stored in history."""

_known: TypeAdapter[Any] = TypeAdapter(KnownEvent)
# The core validator directly: TypeAdapter.validate_json adds ~0.7 µs of Python per call.
_validate_json = _known.validator.validate_json
_validate_python = _known.validator.validate_python


def parse_event(data: bytes | bytearray | str | dict[str, Any]) -> ManagedAgentsEvent:
    """Decode one event from JSON bytes, JSON text, or an already-parsed dict.

    An unknown ``type`` is not an error: it gives :class:`UnknownEvent` with every field
    kept. Raises :class:`~agentflow.DecodeError` for input that is not a JSON object, has no
    string ``type``, or is a known type with invalid fields; the message names the type,
    the field and the event id.
    """
    try:
        if isinstance(data, dict):
            return _validate_python(data)  # type: ignore[no-any-return]
        return _validate_json(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recover(data, exc)


def _recover(data: Any, exc: ValidationError) -> ManagedAgentsEvent:
    """Slow path: an unknown type (→ ``UnknownEvent``) or a real decoding error."""
    obj: Any = data
    if not isinstance(data, dict):
        try:
            obj = json.loads(data)
        except (ValueError, TypeError) as json_exc:
            raise DecodeError(
                f"Expected a JSON object, got invalid JSON: {json_exc}",
                data=_as_text(data),
            ) from None
    if not isinstance(obj, dict):
        raise DecodeError(
            f"Expected a JSON object, got {type(obj).__name__}", data=_as_text(data)
        ) from None
    event_type = obj.get("type")
    event_id = obj.get("id")
    if not isinstance(event_type, str):
        raise DecodeError(
            f"Expected a string 'type' field, got {event_type!r} (event id {event_id!r})",
            event_id=event_id if isinstance(event_id, str) else None,
            field="type",
            data=_as_text(data),
        ) from None
    if event_type not in KNOWN_TYPES:
        return UnknownEvent.model_validate(obj)
    first = exc.errors()[0]
    # loc is (type-tag, field, ...): drop the union tag pydantic puts first, and the label
    # of an open union's known members (``tagged-union[...]``, see ``_content.BY_TYPE``).
    loc = [str(p) for p in first["loc"][1:] if not str(p).startswith("tagged-union[")]
    loc = loc or ["<event>"]
    field = ".".join(loc)
    raise DecodeError(
        f"Invalid {event_type!r} event (id {event_id!r}): field {field!r}: {first['msg']}",
        event_type=event_type,
        event_id=event_id if isinstance(event_id, str) else None,
        field=field,
        data=_as_text(data),
    ) from exc


def _as_text(data: Any) -> str | bytes | None:
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    try:
        return json.dumps(data, default=str)
    except (TypeError, ValueError):
        return repr(data)
