"""The resources the Everruns API returns besides events: sessions and messages.

Both are frozen pydantic models that keep every field the server sends (``extra="allow"``);
only the fields agentflow reads are declared.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .events import Message

__all__ = ["Message", "Session"]


class Session(BaseModel):
    """A session: ``status`` is ``started``, ``active``, ``waitingfortoolresults`` or
    ``idle``; ``pending_approvals`` / ``pending_questions`` list the human gates the turn
    waits on (the channel surface shows them)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    status: str | None = None
    title: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    pending_approvals: list[dict[str, Any]] = Field(default_factory=list)
    pending_questions: list[dict[str, Any]] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
