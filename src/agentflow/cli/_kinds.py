"""Lines for the events of any dialect, read from their common ``kind``.

The view draws Managed Agents events from their native types (:mod:`._describe`); every
other dialect's events are drawn from ``event.kind`` and the dialect's own description
(calls, pauses, turn ends), so a new dialect shows up in ``agentflow demo`` with no code here.
Streamed text (``message.delta``) is drawn by the view itself.
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


def is_native(event: Event) -> bool:
    """Whether the view draws ``event`` from its native type (a Managed Agents event)."""
    return getattr(dialect_of(event), "name", "managed_agents") == "managed_agents"


def _json(value: Any, width: int = 70) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, width)


def tally_kind(tally: Tally, event: Event) -> ToolCall | None:
    """Count what ``event`` means for the summary: tool calls, errors, how the turn ended."""
    dialect = dialect_of(event)
    kind = event.kind
    calls = list(dialect.calls(event)) if dialect is not None else []
    if calls or (kind == "tool.started" and event.call_id is not None):
        call_id = calls[0].id if calls else str(event.call_id)
        name = (calls[0].name if calls else event.tool_name) or "?"
        found = tally.tools.get(call_id)
        if found is None:
            found = tally.tools[call_id] = ToolCall(call_id, name, "client")
        return found
    if kind == "error":
        error = event.error
        tally.errors.append(str(getattr(error, "type", None) or "error"))
    elif kind in _TURN_ENDS and dialect is not None:
        tally.stop_reason = dialect.turn_end(event) or tally.stop_reason
        tally.status = "idle"
    elif kind == "turn.started":
        tally.status = "running"
    return None


def describe_kind(event: Event, *, verbose: bool = False) -> Line | None:
    """The line for one event of a dialect drawn by kind (``None``: nothing to draw)."""
    dialect = dialect_of(event)
    kind = event.kind
    calls = list(dialect.calls(event)) if dialect is not None else []
    if calls:
        call = calls[0]
        return Line("tool", f"{call.name} {_json(call.input or {})}  [run by the app]", "tool")
    if kind == "message.completed":
        return Line("agent", event.text or "(no text)", "agent")
    if kind == "reasoning.completed":
        return Line("thinking", "...", "dim")
    if kind == "tool.requested":
        pause = dialect.pause(event) if dialect is not None else None
        count = len(pause.ids or ()) if pause is not None else 0
        return Line("status", f"waiting on {count} tool call(s)", "status")
    if kind in ("tool.completed", "tool.failed"):
        state = "error" if kind == "tool.failed" else "done"
        return Line("result", f"{event.tool_name or 'tool'}: {state}", "ok")
    if kind in _TURN_ENDS:
        reason = dialect.turn_end(event) if dialect is not None else None
        return Line("status", f"turn ended ({reason or kind})", "status")
    if kind == "error":
        error = event.error
        severity = dialect.severity(event) if dialect is not None else None
        where = f" ({severity})" if severity else ""
        message = clip(str(getattr(error, "message", "") or ""), 70)
        text = f"{getattr(error, 'type', None) or 'error'}{where}: {message}".rstrip(": ")
        return Line("error", text, "error")
    if kind == "tool.started":
        return Line("tool", f"{event.tool_name} ...", "dim") if verbose else None
    if verbose and kind not in STREAMED_KINDS:
        return Line("event", event.type, "dim")
    return None
