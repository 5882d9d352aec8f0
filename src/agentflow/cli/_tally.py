"""What the live view counts while events go by: types, tool calls and their outcomes, timings.

The tally is built from the events alone (tool calls, the client's confirmations and results
echoed back by the server, errors, status changes), so it works the same for a session driven
by this process (``agentflow demo``) and for one watched from outside (``agentflow watch``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..core.events import Event

__all__ = ["Tally", "ToolCall", "clip", "content_text"]

_TOOL_USE_KINDS = {
    "agent.tool_use": "tool",
    "agent.custom_tool_use": "custom",
    "agent.mcp_tool_use": "mcp",
}


def clip(text: str, width: int = 80) -> str:
    """One line of at most ``width`` characters (newlines folded, ``...`` when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def content_text(content: Any) -> str:
    """The text blocks of a ``content`` list (models or dicts); other blocks by their type."""
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for block in content:
        raw = block if isinstance(block, dict) else getattr(block, "raw", None)
        if raw is None and hasattr(block, "model_dump"):
            raw = block.model_dump(mode="json")
        if not isinstance(raw, dict):
            continue
        if raw.get("type") == "text" and isinstance(raw.get("text"), str):
            parts.append(raw["text"])
        else:
            parts.append(f"[{raw.get('type', 'block')}]")
    return " ".join(parts)


@dataclass
class ToolCall:
    """One tool call seen on the stream and what became of it."""

    id: str
    name: str
    kind: str
    """``tool`` (built-in toolset), ``custom`` or ``mcp``."""
    permission: str | None = None
    """``allow`` / ``ask`` / ``deny`` as the server evaluated it (``None`` for custom tools)."""
    decision: str | None = None
    """``allowed`` or ``denied`` once a confirmation was seen."""
    deny_message: str | None = None
    result: str | None = None
    """``ok`` or ``error`` once a result was seen."""
    result_text: str = ""

    @property
    def outcome(self) -> str:
        """A short human summary: ``denied: <message>``, ``allowed -> ok: <text>``, ..."""
        parts: list[str] = []
        if self.decision == "denied":
            return f"denied: {self.deny_message}" if self.deny_message else "denied"
        if self.decision is not None:
            parts.append(self.decision)
        elif self.permission == "deny":
            parts.append("denied by the server")
        if self.result is not None:
            text = clip(self.result_text, 60)
            parts.append(f"{self.result}: {text}" if text else self.result)
        if not parts:
            return "awaiting confirmation" if self.permission == "ask" else "pending"
        return " -> ".join(parts)


@dataclass
class Tally:
    """Counts and timings of one view; feed it every event with :meth:`add`."""

    started: float = field(default_factory=time.monotonic)
    first_event: float | None = None
    last_event: float | None = None
    by_type: Counter[str] = field(default_factory=Counter)
    tools: dict[str, ToolCall] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    status: str | None = None
    stop_reason: str | None = None

    def restart(self) -> None:
        """Reset the clock: the time to first event is measured from here."""
        self.started = time.monotonic()

    @property
    def total(self) -> int:
        """Events seen."""
        return sum(self.by_type.values())

    @property
    def time_to_first_event(self) -> float | None:
        """Seconds from :meth:`restart` (or creation) to the first event."""
        return None if self.first_event is None else self.first_event - self.started

    def elapsed(self) -> float:
        """Seconds since :meth:`restart` (or creation)."""
        return time.monotonic() - self.started

    def add(self, event: Event) -> ToolCall | None:
        """Count ``event``; returns the tool call it concerns, if any."""
        now = time.monotonic()
        if self.first_event is None:
            self.first_event = now
        self.last_event = now
        self.by_type[event.type] += 1
        etype = event.type
        kind = _TOOL_USE_KINDS.get(etype)
        if kind is not None and event.id is not None:
            call = ToolCall(
                event.id,
                event.tool_name or "?",
                kind,
                permission=getattr(event, "evaluated_permission", None),
            )
            self.tools[event.id] = call
            return call
        if etype == "user.tool_confirmation":
            found = self.tools.get(str(getattr(event, "tool_use_id", "")))
            if found is not None:
                allowed = getattr(event, "result", None) == "allow"
                found.decision = "allowed" if allowed else "denied"
                found.deny_message = getattr(event, "deny_message", None)
            return found
        if etype in ("agent.tool_result", "user.custom_tool_result", "agent.mcp_tool_result"):
            ref = (
                getattr(event, "tool_use_id", None)
                or getattr(event, "custom_tool_use_id", None)
                or getattr(event, "mcp_tool_use_id", None)
            )
            found = self.tools.get(str(ref))
            if found is not None and found.decision != "denied":
                found.result = "error" if getattr(event, "is_error", None) else "ok"
                found.result_text = content_text(getattr(event, "content", None))
            return found
        if etype.startswith("session.status_"):
            self.status = etype.removeprefix("session.status_")
            if etype == "session.status_idle":
                self.stop_reason = _stop_type(event)
        elif etype in ("session.error", "workflow_run.error"):
            error = event.error
            if error is not None:
                self.errors.append(error.type)
        return None


def _stop_type(event: Event) -> str | None:
    stop = getattr(event, "stop_reason", None)
    kind = getattr(stop, "type", None)
    return kind if isinstance(kind, str) else None
