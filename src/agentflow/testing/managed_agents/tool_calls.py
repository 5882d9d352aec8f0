"""A model request's tool calls: their events, and the results the server adds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..scenario import CustomTool, McpTool, Step, Tool
from .host import Engine, Span, pace, text_blocks
from .session import EmulatedSession, PendingCall

__all__ = ["issue_tools", "tool_result_event"]

_EVALUATION: dict[str, tuple[str, dict[str, Any] | None]] = {
    "always_allow": ("allow", {"type": "always_allow"}),
    "always_ask": ("ask", {"type": "always_ask"}),
    "auto": ("allow", {"type": "auto", "evaluated_permission": {"type": "allow"}}),
    "auto_ask": (
        "ask",
        {"type": "auto", "evaluated_permission": {"type": "ask", "reason_code": "indeterminate"}},
    ),
    "auto_deny": (
        "deny",
        {"type": "auto", "evaluated_permission": {"type": "deny", "reason_code": "high_risk"}},
    ),
    "deny": ("deny", None),
}


async def issue_tools(
    engine: Engine, session: EmulatedSession, group: tuple[Step, ...], thread_id: str | None
) -> bool:
    """Emit the tool-use events of one model request (made by the subagent ``thread_id``,
    when given); True when some need the client."""
    async with Span(engine, session):
        pass
    immediate: list[PendingCall] = []
    for step in group:
        event: dict[str, Any]
        if isinstance(step, CustomTool):
            wire = dict(step.input) if isinstance(step.input, Mapping) else step.input
            event = {"type": "agent.custom_tool_use", "name": step.name, "input": wire}
            kind = "custom"
        else:
            assert isinstance(step, (Tool, McpTool))
            permission, evaluation = _EVALUATION[step.permission]
            if isinstance(step, McpTool):
                event = {"type": "agent.mcp_tool_use", "mcp_server_name": step.server}
            else:
                event = {"type": "agent.tool_use"}
            event.update(name=step.name, input=dict(step.input))
            event["evaluated_permission"] = permission
            if evaluation is not None:
                event["evaluation"] = evaluation
            if permission == "ask":
                kind = "confirm"
            elif permission == "deny":
                kind = "denied"
            elif engine.scenario.self_hosted and isinstance(step, Tool):
                kind = "tool_result"
            else:
                kind = "run"
        if thread_id is not None:
            event["session_thread_id"] = thread_id
        stored = engine.emit(session, event)
        await pace(engine)
        if kind in ("custom", "confirm", "tool_result"):
            session.pending[stored["id"]] = PendingCall(kind, stored, step)  # type: ignore[arg-type]
        else:
            call = PendingCall(
                "confirm", stored, step, verdict="allow" if kind == "run" else "server_deny"
            )
            immediate.append(call)
    for call in immediate:
        result = tool_result_event(call)
        if result is not None:
            engine.emit(session, result)
            await pace(engine)
    return bool(session.pending)


def tool_result_event(call: PendingCall) -> dict[str, Any] | None:
    """The server-side result of a resolved call, or None when the client supplied it."""
    if call.verdict is None:
        return None  # custom tool / self-hosted tool: the client's result is the answer
    step = call.step
    use = call.event
    if call.verdict == "allow":
        text = step.result if isinstance(step, (Tool, McpTool)) else "ok"
        is_error = False
    elif call.verdict == "deny":
        text = "The user denied this tool call."
        if call.deny_message:
            text += f" {call.deny_message}"
        is_error = True
    else:
        text = "This tool call was denied by the permission policy."
        is_error = True
    if use["type"] == "agent.mcp_tool_use":
        return {
            "type": "agent.mcp_tool_result",
            "mcp_tool_use_id": use["id"],
            "content": text_blocks(text),
            "is_error": is_error,
        }
    return {
        "type": "agent.tool_result",
        "tool_use_id": use["id"],
        "content": text_blocks(text),
        "is_error": is_error,
    }
