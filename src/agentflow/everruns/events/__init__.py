"""Typed Everruns events: one frozen pydantic model per documented event type.

>>> from agentflow.everruns.events import parse_event
>>> event = parse_event(
...     b'{"id": "event_1", "type": "output.message.delta", "sequence": 4,'
...     b' "data": {"delta": "Hel", "accumulated": "Hel"}}'
... )
>>> type(event).__name__, event.kind, event.text
('OutputMessageDelta', 'message.delta', 'Hel')

Every model is an :class:`~agentflow.Event` with the native ``type``, a ``kind`` in the
common vocabulary, ``data`` typed per event type, and the conveniences (``text``,
``tool_name``, ``tool_input``, ``call_id``, ``error``, ``raw``, ``is_final_response()``).

=================================  =====================================================
type                               kind
=================================  =====================================================
``output.message.delta``           ``message.delta``
``output.message.completed``       ``message.completed``
``reason.thinking.delta``          ``reasoning.delta``
``reason.thinking.completed``      ``reasoning.completed``
``tool.started``                   ``tool.started``
``tool.completed``                 ``tool.completed``, or ``tool.failed`` when ``success``
                                   is false
``tool.failed``                    ``tool.failed``
``tool.call_requested``            ``tool.requested``
``tool.approval_requested``        ``approval.requested``
``tool.approval_resolved``         ``approval.resolved``
``question.requested``             ``input.requested``
``turn.started``                   ``turn.started``
``turn.completed``                 ``turn.completed``
``turn.failed``                    ``turn.failed`` (not ``error``: one kind per event)
``turn.sealed``                    ``turn.failed`` (closed by the platform)
``turn.cancelled``                 ``turn.cancelled``
``session.idled``                  ``usage.updated`` (the turn's end was already reported)
``connected`` / ``disconnecting``  ``stream.connected`` / ``stream.disconnecting`` (control
                                   frames, only with ``control_events=True``)
everything else                    ``None``
=================================  =====================================================

Unknown types decode to :class:`UnknownEvent`; a known type with invalid fields raises
:class:`~agentflow.DecodeError` from :func:`parse_event` (the stream logs and skips such a
frame, then reads the event from the ``events`` listing, where :func:`parse_stored` keeps
it as an :class:`InvalidEvent` if it is invalid there too).
"""

from __future__ import annotations

from ._base import ErrorInfo, EverrunsEvent, StreamConnected, StreamControl, StreamDisconnecting
from ._data import (
    ContentPart,
    EventContext,
    Message,
    QuestionItem,
    QuestionOption,
    ToolCallInfo,
    Usage,
    parts_text,
)
from ._parse import (
    EVENT_CLASSES,
    KNOWN_TYPES,
    InvalidEvent,
    KnownEvent,
    UnknownEvent,
    parse_event,
    parse_stored,
)
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
)

__all__ = [
    "EVENT_CLASSES",
    "KNOWN_TYPES",
    "ContentPart",
    "ErrorInfo",
    "EventContext",
    "EverrunsEvent",
    "InputMessage",
    "InvalidEvent",
    "KnownEvent",
    "LlmGeneration",
    "Message",
    "OutputMessageCompleted",
    "OutputMessageDelta",
    "OutputMessageReplaced",
    "OutputMessageStarted",
    "QuestionAnswered",
    "QuestionItem",
    "QuestionOption",
    "QuestionRequested",
    "ReasonCompleted",
    "ReasonStarted",
    "ReasonThinkingCompleted",
    "ReasonThinkingDelta",
    "ReasonThinkingStarted",
    "SessionActivated",
    "SessionIdled",
    "SessionStarted",
    "StreamConnected",
    "StreamControl",
    "StreamDisconnecting",
    "ToolApprovalRequested",
    "ToolApprovalResolved",
    "ToolCallInfo",
    "ToolCallRepaired",
    "ToolCallRequested",
    "ToolCompleted",
    "ToolFailed",
    "ToolOutputDelta",
    "ToolProgress",
    "ToolStarted",
    "TurnCancelled",
    "TurnCompleted",
    "TurnFailed",
    "TurnSealed",
    "UnknownEvent",
    "Usage",
    "parse_event",
    "parse_stored",
    "parts_text",
]
