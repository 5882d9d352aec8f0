"""Frames of the run's life: metadata, metrics, the end of a turn, errors, gates, notices."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ..dialect import QUESTION_TOOL, questions_of
from ._base import ErrorText, M8tesEvent

__all__ = [
    "AwaitingApproval",
    "Cancelled",
    "Control",
    "Done",
    "ErrorFrame",
    "Metadata",
    "Notice",
    "PermissionRequest",
    "PermissionResolved",
    "RunMetrics",
    "RunNote",
    "TerminalFailure",
    "UnknownEvent",
]


class Metadata(M8tesEvent):
    """A turn starts: ``payload`` holds ``run_id`` (the SDK reads the top level without it)."""

    type: Literal["metadata"]
    event_kind: ClassVar[str | None] = "turn.started"
    payload: dict[str, Any] | None = None

    @property
    def run_id(self) -> int | None:
        """The run's id, from ``payload.run_id`` (or a top-level ``run_id``)."""
        source = self.payload if self.payload is not None else (self.__pydantic_extra__ or {})
        value = source.get("run_id")
        return value if isinstance(value, int) else None


class RunMetrics(M8tesEvent):
    """Running totals of the run: time, tokens, cost; the turn's stop reason at its end.

    The token counts are totals for the run so far: the stream attaches how many tokens
    this frame adds to what it had already seen (:attr:`added_tokens`).
    """

    type: Literal["run_metrics"]
    event_kind: ClassVar[str | None] = "usage.updated"
    execution_time_ms: int | None = None
    input_tokens_used: int | None = None
    output_tokens_used: int | None = None
    claude_token_cost_usd: float | None = None
    stop_reason: str | None = None
    completion_state: str | None = None
    unresolved_tool_use_ids: list[str] | None = None

    @property
    def added_tokens(self) -> Any:
        """The :class:`~agentflow.core.dialect.TokenCount` this frame adds (or ``None``)."""
        return self.note("added_tokens")


class Done(M8tesEvent):
    """The turn is over: ``stop_reason`` (``end_turn``, ``max_tokens``, ``error``, ...)."""

    type: Literal["done"]
    event_kind: ClassVar[str | None] = "turn.completed"
    final: ClassVar[bool] = True
    stop_reason: str | None = None
    completion_state: str | None = None
    unresolved_tool_use_ids: list[str] | None = None


class Cancelled(M8tesEvent):
    """The run was cancelled (terminal, like ``done``)."""

    type: Literal["cancelled"]
    event_kind: ClassVar[str | None] = "turn.cancelled"
    final: ClassVar[bool] = True


class ErrorFrame(M8tesEvent):
    """A run-level error: ``.error`` is the message, ``error_code`` the machine code.

    Not the end of the turn by itself: the platform may recover (more work frames follow)
    or end the turn (``done``, or the run fails).
    """

    type: Literal["error"]
    event_kind: ClassVar[str | None] = "error"
    message: Any = Field(None, alias="error")
    error_code: str | None = None

    @property
    def error(self) -> ErrorText | None:
        """The error's message (the frame's ``error`` key), with ``error_code`` as ``.type``."""
        if self.message is None:
            return None
        return ErrorText(str(self.message), self.error_code)

    @property
    def text(self) -> str:
        return self.message if isinstance(self.message, str) else ""


class TerminalFailure(M8tesEvent):
    """The run died: a runner, sandbox or snapshot failure (not an ``error`` frame)."""

    type: Literal[
        "sdk_error",
        "AGENT_RUNNER_DIED",
        "RUNNER_LIFECYCLE_ERROR",
        "SANDBOX_BOOT_TIMEOUT",
        "SANDBOX_QUOTA_EXHAUSTED",
        "SANDBOX_UNAVAILABLE",
        "SNAPSHOT_VERSION_MISMATCH",
    ]
    event_kind: ClassVar[str | None] = "turn.failed"
    final: ClassVar[bool] = True

    @property
    def error(self) -> ErrorText:
        extra = self.__pydantic_extra__ or {}
        detail = extra.get("error") or extra.get("message")
        return ErrorText(f"{self.type}: {detail}" if detail else self.type, self.type)


class Notice(M8tesEvent):
    """A problem the run survives: an MCP server failed, a rate limit was hit."""

    type: Literal["mcp_error", "mcp_auth_failed", "rate_limit"]
    event_kind: ClassVar[str | None] = "error"

    @property
    def error(self) -> ErrorText:
        extra = self.__pydantic_extra__ or {}
        detail = extra.get("error") or extra.get("message")
        return ErrorText(str(detail) if detail else self.type, self.type)


class RunNote(M8tesEvent):
    """Platform progress and bookkeeping: sandboxes, a desktop, subagent notices, an
    earlier error retracted (``error_cleared``), a gate the platform allowed itself."""

    type: Literal[
        "sandbox-connecting",
        "sandbox-connected",
        "sandbox_metrics",
        "desktop-ready",
        "task_notification",
        "error_cleared",
        "permission_auto_allowed",
    ]


class Control(M8tesEvent):
    """Stream control (``keep-alive``, ``ping``, ``replay_complete``): not part of the run."""

    type: Literal["keep-alive", "ping", "replay_complete"]


class _Gate(M8tesEvent):
    request_id: str | None = None
    tool_use_id: str | None = None
    name: str | None = Field(None, alias="tool_name")

    @property
    def call_id(self) -> str | None:
        """The gate's ``request_id`` (what ``approve`` / ``answer`` refer to)."""
        return self.request_id

    @property
    def tool_name(self) -> str | None:
        return self.name


class PermissionRequest(_Gate):
    """A human gate: a tool waits for allow / deny, or (``AskUserQuestion``) a question.

    Also made from ``GET /runs/{id}/permissions`` for a gate that is still open.
    """

    type: Literal["permission_request"]
    input: Any = Field(None, alias="tool_input")

    @property
    def kind(self) -> str | None:
        return "input.requested" if self.name == QUESTION_TOOL else "approval.requested"

    @property
    def tool_input(self) -> dict[str, Any] | None:
        return self.input if isinstance(self.input, dict) else None

    @property
    def questions(self) -> list[str]:
        """The question texts of a question gate (empty for a tool approval)."""
        if self.name != QUESTION_TOOL:
            return []
        return [str(q.get("question", "")) for q in questions_of(self.input)]

    @property
    def text(self) -> str:
        return "\n".join(self.questions)


class AwaitingApproval(_Gate):
    """The run is parked on the gate ``request_id`` (the server then closes the stream)."""

    type: Literal["awaiting_approval"]


class PermissionResolved(_Gate):
    """A gate was answered (``resolved_status``: ``allowed``, ``denied``, ...)."""

    type: Literal["permission_resolved"]
    event_kind: ClassVar[str | None] = "approval.resolved"
    resolved_status: str | None = None


class UnknownEvent(M8tesEvent):
    """A frame type this version does not know: every field is kept."""

    type: str
