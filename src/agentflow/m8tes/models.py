"""The m8tes REST resources agentflow reads: a :class:`Run` and its gates (:class:`Permission`).

Both keep every field the server sends (``extra="allow"``); the ones named here are those
the SDK documents and agentflow uses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["TERMINAL_STATUSES", "AnswerReceipt", "Permission", "PermissionMode", "Run"]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "closed"})
"""Statuses after which a run has no live stream (the SDK's set, ``closed`` included)."""


class Run(BaseModel):
    """A run (``GET /runs/{id}``): ``status`` is ``running``, ``awaiting_approval``,
    ``completed``, ``failed``, ``cancelled`` or ``closed``; ``output`` the text of a
    finished run. A reply's answer adds ``delivery`` (``resumed`` / ``queued``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: int
    status: str = "running"
    output: str | None = None
    error: str | None = None
    error_code: str | None = None
    stop_reason: str | None = None
    permission_mode: str | None = None
    teammate_id: int | None = None
    usage: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    delivery: str | None = None
    queued_message_id: int | None = None
    pending_queued_message_ids: list[int] | None = None

    @property
    def finished(self) -> bool:
        """True once the run completed, failed, was cancelled or closed."""
        return self.status in TERMINAL_STATUSES


class Permission(BaseModel):
    """A human gate of a run (``GET /runs/{id}/permissions``, ``POST /runs/{id}/approve``).

    ``status`` is ``pending`` while the gate waits, then ``allowed``, ``denied``,
    ``cancelled`` (or ``timeout``). ``tool_name == "AskUserQuestion"`` marks a question; its
    ``tool_input["questions"]`` lists them. An ``approve`` answer adds ``resumed`` and
    ``remembered``.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    request_id: str
    tool_name: str | None = None
    tool_input: dict[str, Any] | None = None
    status: str = "pending"
    tool_use_id: str | None = None
    display_name: str | None = None
    consequence: str | None = None
    can_remember: bool | None = None
    timeout_seconds: float | None = None
    resumed: bool | None = None
    remembered: bool | None = None

    @property
    def is_question(self) -> bool:
        """True for an ``AskUserQuestion`` gate."""
        return self.tool_name == "AskUserQuestion"


class AnswerReceipt(BaseModel):
    """What ``POST /runs/{id}/answer`` returns: ``status`` and whether the run resumed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str | None = None
    resumed: bool | None = None


class PermissionMode(BaseModel):
    """What ``PATCH /runs/{id}/permission-mode`` returns."""

    model_config = ConfigDict(extra="allow", frozen=True)

    permission_mode: str
