"""Lines for the events of any dialect, read from their common ``kind``.

The view draws Managed Agents events from their native types (:mod:`._describe`); every
other dialect's events are drawn from ``event.kind``, ``event.call_id`` and the dialect's
own description (calls, pauses, turn ends), so a new dialect shows up in ``agentflow demo``
with no code here. Streamed text (``message.delta``) is drawn by the view itself.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.events import Event, dialect_of
from ._describe import Line
from ._tally import Tally, ToolCall, clip

__all__ = ["STREAMED_KINDS", "describe_kind", "is_native", "tally_kind"]

STREAMED_KINDS = frozenset({"message.delta", "reasoning.delta", "tool.args_delta"})
"""Kinds that are pieces of something drawn whole later (or, for text, streamed)."""

_TURN_ENDS = frozenset({"turn.completed", "turn.failed", "turn.cancelled"})
_CALL_KINDS = {"tool": "custom", "approval": "tool", "question": "question"}
_ALLOW = frozenset({"allow", "allowed", "approve", "approved", "accept", "yes"})


def is_native(event: Event) -> bool:
    """Whether the view draws ``event`` from its native type (a Managed Agents event)."""
    return getattr(dialect_of(event), "name", "managed_agents") == "managed_agents"


def _json(value: Any, width: int = 70) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, width)


def _field(obj: Any, *names: str) -> Any:
    """The first of ``names`` an event (or its ``data``) has."""
    for holder in (obj, getattr(obj, "data", None)):
        for name in names:
            value = holder.get(name) if isinstance(holder, dict) else getattr(holder, name, None)
            if value is not None:
                return value
    return None


def _allowed(event: Event) -> bool:
    verdict = _field(event, "result", "decision", "verdict")
    if isinstance(verdict, str):
        return verdict.lower() in _ALLOW
    return bool(_field(event, "approved", "allowed"))


def tally_kind(tally: Tally, event: Event) -> ToolCall | None:
    """Count what ``event`` means for the summary; returns the tool call it is about."""
    dialect = dialect_of(event)
    kind = event.kind
    tools = tally.tools
    pause = dialect.pause(event) if dialect is not None else None
    announced = [*dialect.calls(event), *(pause.calls if pause else ())] if dialect else []
    for call in announced:
        found = tools.get(call.id)
        if found is None:
            found = tools[call.id] = ToolCall(call.id, call.name or "?", _CALL_KINDS[call.kind])
        found.kind = _CALL_KINDS[call.kind]
        if call.kind == "approval":
            found.permission = "ask"
    call_id = event.call_id
    if kind == "tool.started" and call_id is not None and call_id not in tools:
        tools[call_id] = ToolCall(call_id, event.tool_name or "?", "tool")
    found = tools.get(call_id) if call_id is not None else None
    if kind == "error":
        tally.errors.append(str(getattr(event.error, "type", None) or "error"))
    elif kind in _TURN_ENDS and dialect is not None:
        tally.stop_reason = dialect.turn_end(event) or tally.stop_reason
        tally.status = "idle"
    elif kind == "turn.started":
        tally.status = "running"
    elif found is None:
        return None
    elif kind == "approval.resolved":
        found.decision = "allowed" if _allowed(event) else "denied"
        found.deny_message = _field(event, "deny_message", "reason", "message")
    elif kind in ("tool.completed", "tool.failed") and found.decision != "denied":
        found.result = "ok" if kind == "tool.completed" else "error"
        error = event.error
        found.result_text = event.text or str(getattr(error, "message", "") or error or "")
    return found


def describe_kind(event: Event, call: ToolCall | None, *, verbose: bool = False) -> Line | None:
    """The line for one event drawn by kind (``None``: nothing to draw)."""
    dialect = dialect_of(event)
    kind = event.kind
    name = call.name if call is not None else (event.tool_name or "tool")
    calls = [c for c in dialect.calls(event) if c.kind == "tool"] if dialect is not None else []
    if calls:  # a tool the app runs, now complete with its input
        return Line("tool", f"{name} {_json(calls[0].input or {})}  [run by the app]", "tool")
    if kind == "message.completed":
        return Line("agent", event.text or "(no text)", "agent")
    if kind == "reasoning.completed":
        return Line("thinking", "...", "dim")
    if kind == "tool.started":  # shown when it names its input (else when the call completes)
        if event.tool_input or verbose:
            return Line("tool", f"{name} {_json(event.tool_input or {})}", "tool")
        return None
    if kind == "tool.requested":
        pause = dialect.pause(event) if dialect is not None else None
        count = len(pause.ids or pause.calls) if pause is not None else 0
        return Line("status", f"waiting on {count} tool call(s) the app runs", "status")
    if kind == "approval.requested":
        return Line("confirm", f"{name}: waiting for approval", "status")
    if kind == "approval.resolved":
        if call is not None and call.decision == "allowed":
            return Line("confirm", f"{name}: allowed", "ok")
        reason = call.deny_message if call is not None else None
        return Line("confirm", f"{name}: denied" + (f" - {reason}" if reason else ""), "deny")
    if kind == "input.requested":
        return Line("question", event.text or "(a question)", "status")
    if kind in ("tool.completed", "tool.failed"):
        text = clip(call.result_text if call is not None else event.text, 90)
        if kind == "tool.failed":
            return Line("result", f"{name}: error: {text or 'failed'}", "error")
        return Line("result", f"{name}: {text or '(no content)'}", "ok")
    if kind in _TURN_ENDS:
        reason = dialect.turn_end(event) if dialect is not None else None
        return Line("status", f"turn ended ({reason or kind})", "status")
    if kind == "error":
        error = event.error
        severity = dialect.severity(event) if dialect is not None else None
        where = f" ({severity})" if severity else ""
        message = clip(str(getattr(error, "message", "") or error or ""), 70)
        text = f"{getattr(error, 'type', None) or 'error'}{where}: {message}".rstrip(": ")
        return Line("error", text, "error")
    if verbose and kind not in STREAMED_KINDS:
        return Line("event", event.type, "dim")
    return None
