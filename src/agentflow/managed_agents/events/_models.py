"""One frozen model per Managed Agents event type (44 in all).

Class name = the type in PascalCase without the dot: ``agent.custom_tool_use`` →
:class:`AgentCustomToolUse`. Field names and shapes follow the wire exactly. The models live
in one module per domain; this module gathers them.
"""

from __future__ import annotations

from ._agent import (
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
)
from ._previews import (
    EventDelta,
    EventStart,
    UnknownEvent,
)
from ._session import (
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
)
from ._spans import (
    SpanModelRequestEnd,
    SpanModelRequestStart,
    SpanOutcomeEvaluationEnd,
    SpanOutcomeEvaluationOngoing,
    SpanOutcomeEvaluationStart,
    WorkflowRunCreated,
    WorkflowRunError,
    WorkflowRunPhaseEnded,
    WorkflowRunPhaseStarted,
    WorkflowRunStatusEnded,
    WorkflowRunStatusIdle,
    WorkflowRunStatusRunning,
)
from ._user import (
    SystemMessage,
    UserCustomToolResult,
    UserDefineOutcome,
    UserInterrupt,
    UserMessage,
    UserToolConfirmation,
    UserToolResult,
)

__all__ = [
    "AgentCustomToolUse",
    "AgentMcpToolResult",
    "AgentMcpToolUse",
    "AgentMessage",
    "AgentThinking",
    "AgentThreadContextCompacted",
    "AgentThreadMessageReceived",
    "AgentThreadMessageSent",
    "AgentToolResult",
    "AgentToolUse",
    "EventDelta",
    "EventStart",
    "SessionDeleted",
    "SessionError",
    "SessionStatusIdle",
    "SessionStatusRescheduled",
    "SessionStatusRunning",
    "SessionStatusTerminated",
    "SessionThreadCreated",
    "SessionThreadStatusIdle",
    "SessionThreadStatusRescheduled",
    "SessionThreadStatusRunning",
    "SessionThreadStatusTerminated",
    "SessionUpdated",
    "SessionUsage",
    "SpanModelRequestEnd",
    "SpanModelRequestStart",
    "SpanOutcomeEvaluationEnd",
    "SpanOutcomeEvaluationOngoing",
    "SpanOutcomeEvaluationStart",
    "SystemMessage",
    "UnknownEvent",
    "UserCustomToolResult",
    "UserDefineOutcome",
    "UserInterrupt",
    "UserMessage",
    "UserToolConfirmation",
    "UserToolResult",
    "WorkflowRunCreated",
    "WorkflowRunError",
    "WorkflowRunPhaseEnded",
    "WorkflowRunPhaseStarted",
    "WorkflowRunStatusEnded",
    "WorkflowRunStatusIdle",
    "WorkflowRunStatusRunning",
]
