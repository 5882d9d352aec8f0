"""One frozen model per Managed Agents event type (44 in all).

Class name = the type in PascalCase without the dot: ``agent.custom_tool_use`` →
:class:`AgentCustomToolUse`. Field names and shapes follow the wire exactly.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ._base import BaseEvent
from ._content import (
    ContentBlock,
    DeltaContent,
    ErrorObject,
    Evaluation,
    ModelUsage,
    PreviewRef,
    Rubric,
    StopDetails,
    StopReason,
    TextBlock,
    UsageSnapshot,
    WorkflowRunPhase,
    WorkflowRunResult,
)

Permission = Literal["allow", "ask", "deny"]

_FAILED_STOPS = frozenset({"retries_exhausted", "budget_reached"})


def idle_kind(stop_type: str) -> str:
    """The kind of a session idle with this stop reason type."""
    if stop_type == "requires_action":
        return "tool.requested"
    return "turn.failed" if stop_type in _FAILED_STOPS else "turn.completed"


class _Event(BaseEvent):
    """Events that carry no ``error`` object."""

    @property
    def error(self) -> ErrorObject | None:
        """The error object of ``session.error`` / ``workflow_run.error``; ``None`` here."""
        return None


class _Stored(_Event):
    """Server-emitted events: stored in history with an id and a processing time."""

    id: str
    processed_at: str


class _Client(_Event):
    """Client-sent events as echoed back: ``processed_at`` is ``None`` while queued."""

    id: str


class _ToolUse(_Stored):
    name: str
    input: dict[str, Any]
    session_thread_id: str | None = None

    @property
    def tool_name(self) -> str | None:
        return self.name

    @property
    def tool_input(self) -> dict[str, Any] | None:
        return self.input


class _ThreadStatus(_Stored):
    session_thread_id: str
    agent_name: str


class _WorkflowRun(_Stored):
    workflow_run_id: str


# ------------------------------------------------------------------ user.* / system.*


class UserMessage(_Client):
    """A user turn (``user.message``)."""

    type: Literal["user.message"]
    content: list[ContentBlock]


class UserInterrupt(_Client):
    """Pause every non-archived thread, or only ``session_thread_id``."""

    type: Literal["user.interrupt"]
    event_kind: ClassVar[str | None] = "turn.cancelled"
    session_thread_id: str | None = None


class UserToolConfirmation(_Client):
    """The answer to an ``ask``-gated tool call: ``result`` is ``allow`` or ``deny``."""

    type: Literal["user.tool_confirmation"]
    event_kind: ClassVar[str | None] = "approval.resolved"
    tool_use_id: str
    result: Literal["allow", "deny"]
    deny_message: str | None = None
    session_thread_id: str | None = None


class UserCustomToolResult(_Client):
    """The result of a custom tool call, answering ``agent.custom_tool_use``."""

    type: Literal["user.custom_tool_result"]
    custom_tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None
    session_thread_id: str | None = None

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class UserToolResult(_Client):
    """The result of a client-run toolset call (self-hosted environments only)."""

    type: Literal["user.tool_result"]
    tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None
    session_thread_id: str | None = None

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class UserDefineOutcome(_Event):
    """A graded goal for the session, with its rubric."""

    type: Literal["user.define_outcome"]
    id: str
    description: str
    rubric: Rubric
    outcome_id: str
    max_iterations: int | None = None


class SystemMessage(_Client):
    """A ``role: system`` turn accompanying the user input it follows."""

    type: Literal["system.message"]
    content: list[TextBlock]


# ------------------------------------------------------------------ agent.*


class AgentMessage(_Stored):
    """Assistant output; ``.text`` joins its text blocks."""

    type: Literal["agent.message"]
    event_kind: ClassVar[str | None] = "message.completed"
    content: list[ContentBlock]


class AgentThinking(_Stored):
    """The agent is thinking (a progress signal; no text)."""

    type: Literal["agent.thinking"]
    event_kind: ClassVar[str | None] = "reasoning.completed"


class AgentToolUse(_ToolUse):
    """A call to a built-in toolset tool (``bash``, ``read``, ``web_search``, …).

    ``evaluated_permission == "ask"`` means the call waits for a ``user.tool_confirmation``.
    """

    type: Literal["agent.tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"
    evaluated_permission: Permission | None = None
    evaluation: Evaluation | None = None


class AgentToolResult(_Stored):
    """The result of a server-run (or synthetic, when denied) tool call."""

    type: Literal["agent.tool_result"]
    tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class AgentCustomToolUse(_ToolUse):
    """A call to one of the client's custom tools; answer with ``user.custom_tool_result``."""

    type: Literal["agent.custom_tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"


class AgentMcpToolUse(_ToolUse):
    """A call to an MCP server's tool; runs on the server, the client may only confirm it."""

    type: Literal["agent.mcp_tool_use"]
    event_kind: ClassVar[str | None] = "tool.started"
    mcp_server_name: str
    evaluated_permission: Permission | None = None
    evaluation: Evaluation | None = None


class AgentMcpToolResult(_Stored):
    """The result of an MCP tool call."""

    type: Literal["agent.mcp_tool_result"]
    mcp_tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None

    @property
    def kind(self) -> str | None:
        """``tool.failed`` for an error result, else ``tool.completed``."""
        return "tool.failed" if self.is_error else "tool.completed"


class AgentThreadMessageSent(_Stored):
    """A message one thread sent to another (on the sender's stream)."""

    type: Literal["agent.thread_message_sent"]
    to_session_thread_id: str
    to_agent_name: str | None = None
    content: list[ContentBlock]


class AgentThreadMessageReceived(_Stored):
    """A message a thread received (on the target thread's stream)."""

    type: Literal["agent.thread_message_received"]
    from_session_thread_id: str
    from_agent_name: str | None = None
    content: list[ContentBlock]


class AgentThreadContextCompacted(_Stored):
    """The thread's context was summarised."""

    type: Literal["agent.thread_context_compacted"]


# ------------------------------------------------------------------ session.*


class SessionStatusRunning(_Stored):
    """The session is working."""

    type: Literal["session.status_running"]
    event_kind: ClassVar[str | None] = "turn.started"


class SessionStatusIdle(_Stored):
    """The session waits for input; ``stop_reason`` says why."""

    type: Literal["session.status_idle"]
    stop_reason: StopReason
    stop_details: StopDetails | None = None

    @property
    def kind(self) -> str | None:
        """``tool.requested`` while waiting on calls; else how the turn ended."""
        return idle_kind(self.stop_reason.type)

    @property
    def requires_action(self) -> bool:
        """True when the session waits for replies to ``stop_reason.event_ids``."""
        return self.stop_reason.type == "requires_action"

    def is_final_response(self) -> bool:
        return self.stop_reason.type != "requires_action"


class SessionStatusRescheduled(_Stored):
    """A transient error; the server retries (status ``rescheduling``)."""

    type: Literal["session.status_rescheduled"]


class SessionStatusTerminated(_Stored):
    """The session ended; it takes no more input."""

    type: Literal["session.status_terminated"]
    event_kind: ClassVar[str | None] = "turn.failed"

    def is_final_response(self) -> bool:
        return True


class SessionError(BaseEvent):
    """Something went wrong; ``error.retry_status.type`` says what the server does next."""

    type: Literal["session.error"]
    event_kind: ClassVar[str | None] = "error"
    id: str
    processed_at: str
    error: ErrorObject


class SessionThreadCreated(_Stored):
    """A child thread was created (on the parent's stream)."""

    type: Literal["session.thread_created"]
    session_thread_id: str
    agent_name: str
    workflow_run_id: str | None = None


class SessionThreadStatusRunning(_ThreadStatus):
    """A thread is working."""

    type: Literal["session.thread_status_running"]


class SessionThreadStatusIdle(_ThreadStatus):
    """A thread waits for input; ``stop_reason`` says why."""

    type: Literal["session.thread_status_idle"]
    stop_reason: StopReason
    stop_details: StopDetails | None = None

    @property
    def kind(self) -> str | None:
        """``tool.requested`` while the thread waits on calls; else ``None``."""
        return "tool.requested" if self.stop_reason.type == "requires_action" else None


class SessionThreadStatusRescheduled(_ThreadStatus):
    """A thread hit a transient error and is retrying."""

    type: Literal["session.thread_status_rescheduled"]


class SessionThreadStatusTerminated(_ThreadStatus):
    """A thread ended; it takes no more input."""

    type: Literal["session.thread_status_terminated"]


class SessionUpdated(_Stored):
    """Session settings changed (only the changed fields are present)."""

    type: Literal["session.updated"]
    agent: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    title: str | None = None


class SessionUsage(_Stored):
    """Cumulative usage totals, reported periodically (``session.usage``)."""

    type: Literal["session.usage"]
    event_kind: ClassVar[str | None] = "usage.updated"
    usage: UsageSnapshot
    budget: dict[str, Any] | None = None


class SessionDeleted(_Stored):
    """The session was deleted; every stream ends and nothing follows."""

    type: Literal["session.deleted"]

    def is_final_response(self) -> bool:
        return True


# ------------------------------------------------------------------ span.*


class SpanModelRequestStart(_Stored):
    """A model request started."""

    type: Literal["span.model_request_start"]


class SpanModelRequestEnd(_Stored):
    """A model request ended, with its token usage."""

    type: Literal["span.model_request_end"]
    event_kind: ClassVar[str | None] = "usage.updated"
    model_request_start_id: str
    model_usage: ModelUsage
    is_error: bool | None = None


class SpanOutcomeEvaluationStart(_Stored):
    """An outcome evaluation cycle started (``iteration`` is 0-based)."""

    type: Literal["span.outcome_evaluation_start"]
    outcome_id: str
    iteration: int


class SpanOutcomeEvaluationOngoing(_Stored):
    """An outcome evaluation is still running (a heartbeat)."""

    type: Literal["span.outcome_evaluation_ongoing"]
    outcome_id: str
    iteration: int


class SpanOutcomeEvaluationEnd(_Stored):
    """An outcome evaluation cycle ended with a ``result`` verdict."""

    type: Literal["span.outcome_evaluation_end"]
    outcome_id: str
    iteration: int
    outcome_evaluation_start_id: str
    result: str
    explanation: str
    usage: ModelUsage


# ------------------------------------------------------------------ workflow_run.*


class WorkflowRunCreated(_WorkflowRun):
    """A workflow run was created (its first event)."""

    type: Literal["workflow_run.created"]
    name: str
    description: str | None = None
    phases: list[WorkflowRunPhase]


class WorkflowRunStatusRunning(_WorkflowRun):
    """A workflow run is working."""

    type: Literal["workflow_run.status_running"]


class WorkflowRunStatusIdle(_WorkflowRun):
    """A workflow run is idle."""

    type: Literal["workflow_run.status_idle"]


class WorkflowRunPhaseStarted(_WorkflowRun):
    """A phase of a workflow run started."""

    type: Literal["workflow_run.phase_started"]
    workflow_run_phase_id: str


class WorkflowRunPhaseEnded(_WorkflowRun):
    """A phase of a workflow run ended."""

    type: Literal["workflow_run.phase_ended"]
    workflow_run_phase_id: str
    phase_started_id: str


class WorkflowRunError(BaseEvent):
    """A workflow run failed (``workflow_run_id`` is absent if no run was created)."""

    type: Literal["workflow_run.error"]
    event_kind: ClassVar[str | None] = "error"
    id: str
    processed_at: str
    error: ErrorObject
    workflow_run_id: str | None = None


class WorkflowRunStatusEnded(_WorkflowRun):
    """A workflow run ended (always its last event); ``completed`` does not mean success."""

    type: Literal["workflow_run.status_ended"]
    result: WorkflowRunResult


# ------------------------------------------------------------------ previews (stream only)


class EventStart(_Event):
    """Opens a preview of an ``agent.message`` / ``agent.thinking`` (stream only, no id)."""

    type: Literal["event_start"]
    event: PreviewRef


class EventDelta(_Event):
    """A piece of preview text for ``event_id`` (stream only, best effort, no id)."""

    type: Literal["event_delta"]
    event_kind: ClassVar[str | None] = "message.delta"
    event_id: str
    delta: DeltaContent

    @property
    def text(self) -> str:
        """The preview text this delta adds."""
        return self.delta.content.text


class UnknownEvent(BaseEvent):
    """An event whose ``type`` this version does not know. Every field is kept.

    Unknown types are not errors: ``"*"`` handlers still receive them, and the fields are
    reachable as attributes (``event.some_field``) or through :attr:`raw`.
    """

    type: str

    @property
    def error(self) -> Any:
        """The ``error`` field if the event has one, else ``None``."""
        return (self.__pydantic_extra__ or {}).get("error")


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
