"""One event -> one human line: ``(tag, text, style)``, shared by the plain and rich views."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..core.events import Event
from ..managed_agents.events import UnknownEvent
from ._tally import Tally, ToolCall, clip, content_text

__all__ = ["QUIET_TYPES", "Line", "describe", "summary_rows"]

QUIET_TYPES = frozenset(
    {
        "span.model_request_start",
        "span.model_request_end",
        "span.outcome_evaluation_ongoing",
        "session.usage",
        "session.thread_status_running",
        "session.thread_status_idle",
        "session.thread_status_rescheduled",
        "agent.thread_context_compacted",
        "workflow_run.status_running",
        "workflow_run.status_idle",
    }
)
"""Types shown only with ``--verbose`` (they are counted in the summary either way)."""


class Line(NamedTuple):
    """A rendered line: a short ``tag`` column, the ``text`` and a style name."""

    tag: str
    text: str
    style: str


def _json(value: Any, width: int = 70) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, width)


def _permission(event: Event) -> str:
    permission = getattr(event, "evaluated_permission", None)
    evaluation = getattr(getattr(event, "evaluation", None), "type", None)
    how = f" ({evaluation})" if isinstance(evaluation, str) else ""
    if permission == "ask":
        return f"needs confirmation{how}"
    if permission == "allow":
        return f"allowed by the server{how}"
    if permission == "deny":
        return f"denied by the server{how}"
    return "permission not evaluated"


def _tool_use(event: Event) -> Line:
    name = event.tool_name or "?"
    args = _json(event.tool_input or {})
    if event.type == "agent.custom_tool_use":
        return Line("tool", f"{name} {args}  [custom tool, run by the app]", "tool")
    if event.type == "agent.mcp_tool_use":
        server = getattr(event, "mcp_server_name", "?")
        return Line("tool", f"{server}/{name} {args}  [{_permission(event)}]", "tool")
    return Line("tool", f"{name} {args}  [{_permission(event)}]", "tool")


def _result(event: Event, call: ToolCall | None) -> Line:
    name = call.name if call is not None else "?"
    text = clip(content_text(getattr(event, "content", None)) or "(no content)", 90)
    if getattr(event, "is_error", None):
        return Line("result", f"{name}: error: {text}", "error")
    return Line("result", f"{name}: {text}", "ok")


def _idle(event: Event) -> Line:
    stop = getattr(event, "stop_reason", None)
    kind = getattr(stop, "type", None) or "?"
    if kind == "requires_action":
        ids = getattr(stop, "event_ids", None) or []
        return Line("status", f"idle: requires_action, waiting on {len(ids)} call(s)", "status")
    return Line("status", f"idle ({kind})", "status")


def _error(event: Event) -> Line:
    error = event.error
    if error is None:
        return Line("error", event.type, "error")
    retry = getattr(getattr(error, "retry_status", None), "type", None)
    how = f" ({retry})" if retry else ""
    message = f": {error.message}" if error.message else ""
    return Line("error", f"{error.type}{how}{message}", "error")


_STATUS = {
    "session.status_running": "running",
    "session.status_rescheduled": "rescheduled: the server retries",
    "session.status_terminated": "terminated",
    "session.deleted": "deleted",
}


def describe(event: Event, call: ToolCall | None = None, *, verbose: bool = False) -> Line | None:
    """The line for ``event``, or ``None`` when it is not shown (see :data:`QUIET_TYPES`).

    ``call`` is the tool call the event concerns (from :meth:`Tally.add`), used to name the
    tool on confirmations and results, which only carry the call's id.
    """
    etype = event.type
    if etype in ("agent.tool_use", "agent.custom_tool_use", "agent.mcp_tool_use"):
        return _tool_use(event)
    if etype in ("agent.tool_result", "user.custom_tool_result", "agent.mcp_tool_result"):
        return _result(event, call)
    if etype == "user.tool_result":
        return _result(event, call)
    if etype == "user.tool_confirmation":
        name = call.name if call is not None else "?"
        if getattr(event, "result", None) == "allow":
            return Line("confirm", f"{name}: allowed", "ok")
        message = getattr(event, "deny_message", None)
        return Line("confirm", f"{name}: denied" + (f" - {message}" if message else ""), "deny")
    if etype == "agent.message":
        return Line("agent", event.text or "(no text)", "agent")
    if etype == "agent.thinking":
        return Line("thinking", "...", "dim")
    if etype == "user.message":
        return Line("you", event.text or "(no text)", "user")
    if etype == "user.interrupt":
        return Line("you", "interrupt", "user")
    if etype == "user.define_outcome":
        return Line("you", f"outcome: {getattr(event, 'description', '')}", "user")
    if etype == "system.message":
        return Line("system", event.text, "dim")
    if etype == "session.status_idle":
        return _idle(event)
    if etype in _STATUS:
        return Line("status", _STATUS[etype], "status")
    if etype in ("session.error", "workflow_run.error"):
        return _error(event)
    if etype == "session.thread_created":
        return Line("thread", f"{getattr(event, 'agent_name', '?')} started", "dim")
    if etype in ("agent.thread_message_sent", "agent.thread_message_received"):
        return Line("thread", clip(event.text, 90), "dim")
    if etype == "span.outcome_evaluation_end":
        result = getattr(event, "result", "?")
        explanation = clip(str(getattr(event, "explanation", "")), 80)
        return Line("outcome", f"{result}: {explanation}", "status")
    if etype in ("event_start", "event_delta"):
        return None  # previews are drawn by the view as streaming text
    if isinstance(event, UnknownEvent):
        return Line("event", f"{etype} (a type this version does not know)", "dim")
    if verbose or etype not in QUIET_TYPES:
        return Line("event", f"{etype} {event.id or ''}".rstrip(), "dim")
    return None


def summary_rows(tally: Tally) -> list[tuple[str, str]]:
    """The summary as ``(label, text)`` rows; a label of ``""`` continues the row above."""
    rows: list[tuple[str, str]] = []
    first = tally.time_to_first_event
    first_text = f"{first:.2f} s" if first is not None else "-"
    rows.append(("events", f"{tally.total} in {tally.elapsed():.2f} s"))
    rows.append(("first event", f"after {first_text}"))
    ranked = sorted(tally.by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    for i, chunk in enumerate(_wrap([f"{etype} {count}" for etype, count in ranked])):
        rows.append(("by type" if i == 0 else "", chunk))
    calls = list(tally.tools.values())
    if not calls:
        rows.append(("tool calls", "none"))
    for i, call in enumerate(calls):
        how = call.kind if call.permission is None else f"{call.kind}, {call.permission}"
        rows.append(("tool calls" if i == 0 else "", f"{call.name} ({how}): {call.outcome}"))
    if tally.errors:
        rows.append(("errors", ", ".join(tally.errors)))
    if tally.stop_reason is not None:
        rows.append(("stopped", tally.stop_reason))
    return rows


def _wrap(items: list[str], width: int = 64) -> list[str]:
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}, {item}" if current else item
        if current and len(candidate) > width:
            lines.append(current + ",")
            current = item
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines
