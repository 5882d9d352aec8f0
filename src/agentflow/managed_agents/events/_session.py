"""``session.*`` events: status, errors, threads, usage."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ._base import BaseEvent
from ._common import _Stored, _ThreadStatus, idle_kind
from ._content import (
    ErrorObject,
    StopDetails,
    StopReason,
    UsageSnapshot,
)

__all__ = [
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
]


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
