"""Typed m8tes frames: one frozen model per frame type (or family), and :func:`parse_frame`.

Every event keeps the wire's ``type`` and has ``kind`` (the common vocabulary), ``id``
(``"<run_id>:<position>"``, given by the stream), ``raw`` (the frame as sent) and the
conveniences ``text``, ``tool_name``, ``tool_input``, ``call_id``, ``error``.
"""

from __future__ import annotations

from ._base import ErrorText, M8tesEvent, attach
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
from ._parse import EVENT_CLASSES, KNOWN_TYPES, parse_frame
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
from ._status import RunStatus

__all__ = [
    "EVENT_CLASSES",
    "KNOWN_TYPES",
    "AwaitingApproval",
    "Cancelled",
    "ClaudeMessage",
    "ClaudeMessageDelta",
    "ClaudeReasoning",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Control",
    "Done",
    "ErrorFrame",
    "ErrorText",
    "M8tesEvent",
    "MessageDelta",
    "MessageEnd",
    "MessageStart",
    "Metadata",
    "Notice",
    "PermissionRequest",
    "PermissionResolved",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningStart",
    "RunMetrics",
    "RunNote",
    "RunStatus",
    "Source",
    "TerminalFailure",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "TodoUpdate",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolResult",
    "ToolResultDelta",
    "ToolResultEnd",
    "ToolResultStart",
    "ToolUse",
    "UnknownEvent",
    "attach",
    "parse_frame",
]
