"""Events of any dialect to the relay's messages, in the common ``kind`` vocabulary.

Only what a person watching needs is sent: text, tool names and timings, verdicts, errors
and a summary per turn. Tool inputs and outputs are left out unless the relay is configured
to send a short preview of them. Everything is read through ``event.kind`` and the
conveniences every event has (``.text``, ``.tool_name``, ``.tool_input``, ``.error``), plus a
few field names tried in turn where dialects differ (the id of the call a result answers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._turns import TurnTracker

if TYPE_CHECKING:
    from ..core.events import Event
    from ..core.results import RunResult

__all__ = ["Translator", "field", "preview", "result_data"]

Out = tuple[str, dict[str, Any], "str | None"]
"""(event name, JSON data, merge key) of one message to relay."""

# Fields naming the tool call a result or a verdict answers, by dialect.
CALL_ID_FIELDS = ("tool_use_id", "custom_tool_use_id", "mcp_tool_use_id", "tool_call_id")
# Fields naming the message a delta belongs to.
MESSAGE_ID_FIELDS = ("event_id", "message_id")
# Stream control is the relay's own business, not the browser's.
SILENT_KINDS = frozenset({"stream.connected", "stream.disconnecting"})
_ALLOW = frozenset({"allow", "allowed", "approve", "approved", "accept", "yes"})
_DENY = frozenset({"deny", "denied", "reject", "rejected", "refuse", "no"})


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for a mapping, else ``obj.name``; ``None`` when absent."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    try:
        return getattr(obj, name, None)
    except Exception:  # an event's __getattr__ may refuse unknown names in its own way
        return None


def _first(obj: Any, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = field(obj, name)
        if isinstance(value, str) and value:
            return value
    return None


def preview(value: Any, limit: int) -> str:
    """A one-line, at most ``limit`` characters, rendering of ``value``."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _verdict(event: Event) -> str | None:
    for name in ("result", "decision", "verdict"):
        value = field(event, name)
        if isinstance(value, str):
            low = value.lower()
            return "allow" if low in _ALLOW else "deny" if low in _DENY else low
    approved = field(event, "approved")
    return None if not isinstance(approved, bool) else "allow" if approved else "deny"


def _error(event: Event) -> dict[str, Any]:
    error = event.error
    if error is None or isinstance(error, str):
        return {"type": None, "message": error or event.text, "retry_status": None}
    status = field(error, "retry_status")
    if status is not None and not isinstance(status, str):
        status = field(status, "type")
    message = field(error, "message")
    return {
        "type": field(error, "type"),
        "message": message if isinstance(message, str) else None,
        "retry_status": status if isinstance(status, str) else None,
    }


def _stop_reason(event: Event) -> str:
    stop = field(event, "stop_reason")
    if stop is not None and not isinstance(stop, str):
        stop = field(stop, "type")
    return stop if isinstance(stop, str) and stop else event.type


class Translator:
    """Turns one session's events into relay messages (one translator per session)."""

    def __init__(self, *, tool_input: bool, tool_output: bool, preview_chars: int) -> None:
        self.tool_input = tool_input
        self.tool_output = tool_output
        self.preview_chars = preview_chars
        self.turn = TurnTracker()

    def translate(self, event: Event) -> list[Out]:
        """The messages for ``event`` (none for stream control)."""
        kind = event.kind
        if kind in SILENT_KINDS:
            return []
        turn = self.turn
        turn.saw(kind)
        data: dict[str, Any] = {"kind": kind, "type": event.type}
        if event.id is not None:
            data["event_id"] = event.id
        data["elapsed"] = turn.elapsed()
        key: str | None = None
        if kind == "message.delta":
            message_id = _first(event, MESSAGE_ID_FIELDS)
            data.update(text=event.text, message_id=message_id)
            key = f"delta:{message_id}"
        elif kind in ("message.completed", "reasoning.delta", "reasoning.completed"):
            data.update(text=event.text, message_id=event.id)
        elif kind == "input.requested":
            data["text"] = event.text
        elif kind == "tool.started":
            data["tool"] = self._started(event)
        elif kind in ("tool.completed", "tool.failed"):
            data["tool"] = self._finished(event, failed=kind == "tool.failed")
        elif kind == "tool.args_delta":
            call_id = event.id or _first(event, CALL_ID_FIELDS)
            data["tool"] = {"id": call_id, "name": event.tool_name or turn.name_of(call_id)}
        elif kind in ("approval.requested", "approval.resolved"):
            data["approval"] = self._approval(event, resolved=kind == "approval.resolved")
        elif kind == "error":
            data["error"] = _error(event)
            turn.errors += 1
        elif kind in ("turn.completed", "turn.failed", "turn.cancelled"):
            data["stop_reason"] = _stop_reason(event)
            summary = turn.end(data["stop_reason"])
            if summary is not None:
                data["summary"] = summary
        return [(kind or "other", data, key)]

    def _started(self, event: Event) -> dict[str, Any]:
        call_id = event.id or _first(event, CALL_ID_FIELDS)
        name = event.tool_name
        tool: dict[str, Any] = {"id": call_id, "name": name}
        if field(event, "evaluated_permission") == "ask":
            tool["needs_approval"] = True  # Managed Agents: an always_ask call waits
        if self.tool_input and event.tool_input is not None:
            tool["input"] = preview(event.tool_input, self.preview_chars)
        self.turn.tool_started(call_id, name)
        return tool

    def _finished(self, event: Event, *, failed: bool) -> dict[str, Any]:
        call_id = _first(event, CALL_ID_FIELDS)
        record = self.turn.tool_finished(call_id, event.tool_name, failed=failed)
        tool: dict[str, Any] = {
            "id": record.id,
            "name": record.name,
            "duration": record.duration,
            "is_error": failed,
            "outcome": record.outcome,
        }
        if self.tool_output and event.text:
            tool["output"] = preview(event.text, self.preview_chars)
        return tool

    def _approval(self, event: Event, *, resolved: bool) -> dict[str, Any]:
        call_id = _first(event, CALL_ID_FIELDS) or (None if resolved else event.id)
        approval: dict[str, Any] = {
            "tool_id": call_id,
            "tool_name": event.tool_name or self.turn.name_of(call_id),
        }
        if resolved:
            verdict = _verdict(event)
            message = _first(event, ("deny_message", "reason", "message"))
            approval.update(verdict=verdict, message=message)
            self.turn.verdict(call_id, verdict)
        return approval


def _seconds(value: Any) -> float | None:
    return round(float(value), 4) if isinstance(value, (int, float)) else None


def result_data(result: RunResult) -> dict[str, Any]:
    """The JSON data of a ``run.result`` message (no tool input, output or error text).

    ``time_to_first_token`` is read when the result has it (newer results do).
    """
    tools = [
        {
            "id": call.id,
            "name": call.name,
            "outcome": call.outcome,
            "duration": _seconds(call.duration_s),
        }
        for call in result.tool_calls
    ]
    return {
        "kind": "run.result",
        "type": "run.result",
        "session_id": result.session_id,
        "stop_reason": result.stop_reason,
        "ok": result.ok,
        "events": result.events,
        "duration": _seconds(result.duration),
        "time_to_first_event": _seconds(result.time_to_first_event),
        "time_to_first_token": _seconds(getattr(result, "time_to_first_token", None)),
        "tools": tools,
        "unanswered": len(result.unanswered),
        "errors": len(result.errors),
    }
