"""The private bases of the Managed Agents event models (stored, client-sent, tool uses)."""

from __future__ import annotations

from typing import Any, Literal

from ._base import BaseEvent
from ._content import (
    ErrorObject,
)

__all__ = ["Permission", "idle_kind"]

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
    input: Any = None
    """The input as the agent sent it: normally an object. Anything else (an array, a
    string, ``null``, or no input) is kept as it came, so the call still arrives and is
    answered with an error result instead of being lost."""
    session_thread_id: str | None = None

    @property
    def tool_name(self) -> str | None:
        return self.name

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The input when it is an object (``None`` otherwise: see :attr:`input`)."""
        return self.input if isinstance(self.input, dict) else None

    @property
    def call_id(self) -> str | None:
        return self.id


class _ThreadStatus(_Stored):
    session_thread_id: str
    agent_name: str


class _WorkflowRun(_Stored):
    workflow_run_id: str
