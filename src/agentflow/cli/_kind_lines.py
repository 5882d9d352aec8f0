"""Drawing the events of any dialect by their ``kind``, for views built around one wire.

The plain and rich views describe Managed Agents events by their types; this module gives
every other dialect the same lines and summary from the common vocabulary
(``message.completed``, ``tool.started``, ``approval.resolved``, ...), and keeps the view's
tally of tool calls so the summary lists them with their outcome.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.events import Event
from ._describe import Line
from ._tally import ToolCall, clip
from ._view import JsonView, View

__all__ = ["ASK_USER", "describe_kind", "show_by_kind"]

ASK_USER = "ask_user"
"""The tool an Everruns agent asks questions with (its question lines say it all)."""


def _args(value: Any) -> str:
    try:
        return clip(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")), 70)
    except (TypeError, ValueError):
        return clip(repr(value), 70)


def _track(view: View, event: Event) -> ToolCall | None:
    """Keep the view's tally of tool calls up to date; returns the call ``event`` is about."""
    tools = view.tally.tools
    kind = event.kind
    call_id = event.call_id
    if kind == "tool.started" and call_id is not None:
        name = event.tool_name or "?"
        tools[call_id] = ToolCall(call_id, name, "question" if name == ASK_USER else "tool")
        return tools[call_id]
    if kind == "tool.requested":
        for call in getattr(getattr(event, "data", None), "tool_calls", None) or ():
            if call.id in tools:
                tools[call.id].kind = "custom"
        return None
    found = tools.get(call_id) if call_id is not None else None
    if found is None:
        return None
    if kind == "approval.requested":
        found.permission = "ask"
    elif kind == "approval.resolved":
        decision = getattr(getattr(event, "data", None), "decision", None)
        found.decision = "allowed" if decision == "allow" else "denied"
        found.deny_message = getattr(getattr(event, "data", None), "reason", None)
    elif kind in ("tool.completed", "tool.failed") and found.decision != "denied":
        found.result = "ok" if kind == "tool.completed" else "error"
        error = event.error
        found.result_text = event.text or (getattr(error, "message", "") if error else "")
    return found


def describe_kind(event: Event, call: ToolCall | None, *, verbose: bool = False) -> Line | None:
    """The line for ``event`` by its kind, or ``None`` when it is not shown."""
    kind = event.kind
    name = call.name if call is not None else (event.tool_name or "?")
    if name == ASK_USER and kind in ("tool.started", "tool.completed") and not verbose:
        return None
    if event.type == "question.answered":
        answers = getattr(getattr(event, "data", None), "answers", None) or {}
        return Line("answer", clip(", ".join(map(str, answers.values())), 90), "ok")
    if kind == "message.completed":
        return Line("agent", event.text or "(no text)", "agent")
    if kind in ("message.delta", "reasoning.delta") or (kind == "usage.updated" and not verbose):
        return None
    if kind == "reasoning.completed":
        return Line("thinking", "...", "dim")
    if kind == "tool.started":
        return Line("tool", f"{name} {_args(event.tool_input or {})}", "tool")
    if kind == "tool.requested":
        return Line("status", "waiting for the app to run its tools", "status")
    if kind == "approval.requested":
        return Line("confirm", f"{name}: waiting for approval", "status")
    if kind == "approval.resolved":
        if call is not None and call.decision == "allowed":
            return Line("confirm", f"{name}: allowed", "ok")
        reason = call.deny_message if call is not None else None
        return Line("confirm", f"{name}: denied" + (f" - {reason}" if reason else ""), "deny")
    if kind == "input.requested":
        return Line("question", event.text, "status")
    if kind in ("tool.completed", "tool.failed"):
        text = clip(event.text or "", 90) or "(no content)"
        if kind == "tool.failed":
            error = event.error
            return Line("result", f"{name}: error: {getattr(error, 'message', text)}", "error")
        return Line("result", f"{name}: {text}", "ok")
    if kind in ("turn.started", "turn.completed", "turn.cancelled"):
        return Line("status", kind.replace(".", " "), "status")
    if kind == "turn.failed":
        error = event.error
        return Line("error", f"turn failed: {getattr(error, 'message', '') or event.type}", "error")
    if event.type == "input.message":
        return Line("you", event.text or "(no text)", "user")
    if verbose:
        return Line("event", f"{event.type} {event.id or ''}".rstrip(), "dim")
    return None


def show_by_kind(view: View, event: Event) -> None:
    """Draw ``event`` on ``view`` by its kind (JSON views write it as they always do)."""
    if isinstance(view, JsonView):
        view.show(event)
        return
    view.tally.add(event)
    call = _track(view, event)
    if event.kind in ("turn.completed", "turn.failed", "turn.cancelled"):
        view.tally.stop_reason = event.kind.partition(".")[2]
    line = describe_kind(event, call, verbose=view.verbose)
    if line is not None:
        view.line(line.tag, line.text, line.style)
