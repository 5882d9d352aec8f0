"""``user.*`` and ``system.*`` events: what a client sends, as echoed back."""

from __future__ import annotations

from typing import ClassVar, Literal

from ._common import _Client, _Event
from ._content import (
    ContentBlock,
    Rubric,
    TextBlock,
)

__all__ = [
    "SystemMessage",
    "UserCustomToolResult",
    "UserDefineOutcome",
    "UserInterrupt",
    "UserMessage",
    "UserToolConfirmation",
    "UserToolResult",
]


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

    @property
    def call_id(self) -> str | None:
        """The id of the call this answers (``tool_use_id``)."""
        return self.tool_use_id


class UserCustomToolResult(_Client):
    """The result of a custom tool call, answering ``agent.custom_tool_use``."""

    type: Literal["user.custom_tool_result"]
    custom_tool_use_id: str
    content: list[ContentBlock] | None = None
    is_error: bool | None = None
    session_thread_id: str | None = None

    @property
    def call_id(self) -> str | None:
        """The id of the call this answers (``custom_tool_use_id``)."""
        return self.custom_tool_use_id

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
    def call_id(self) -> str | None:
        """The id of the call this answers (``tool_use_id``)."""
        return self.tool_use_id

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
