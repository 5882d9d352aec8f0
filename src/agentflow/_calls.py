"""One requires_action call: is it waiting for a confirmation, and the records it leaves.

Helpers of the requires_action router (:mod:`agentflow._router`), kept apart so the router
reads as the flow it is: observe, resolve each id, post one batch.
"""

from __future__ import annotations

from typing import Any

from ._results import CallKind, ToolCallRecord
from .events import custom_tool_result

__all__ = [
    "REPLY_KEY",
    "TOOL_USES",
    "interrupted_record",
    "needs_confirmation",
    "recovered_record",
    "reply_target",
    "unanswered_record",
]

#: Events that ask for a call.
TOOL_USES = frozenset({"agent.custom_tool_use", "agent.tool_use", "agent.mcp_tool_use"})
#: Reply event type -> the field naming the call it answers.
REPLY_KEY = {
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_confirmation": "tool_use_id",
}


def needs_confirmation(event: Any) -> bool:
    """Whether a tool-use event waits for a ``user.tool_confirmation`` (permission ``ask``)."""
    if event.type not in ("agent.tool_use", "agent.mcp_tool_use"):
        return False
    permission = getattr(event, "evaluated_permission", None)
    if permission is not None:
        return bool(permission == "ask")
    evaluation = getattr(event, "evaluation", None)  # older events carry only the evaluation
    kind = getattr(evaluation, "type", None)
    if kind == "auto":
        return getattr(getattr(evaluation, "evaluated_permission", None), "type", None) == "ask"
    return kind == "always_ask"


def reply_target(reply: dict[str, Any]) -> str:
    """The id of the call a reply event answers."""
    return str(reply.get("custom_tool_use_id") or reply.get("tool_use_id"))


def _kind(event: Any) -> CallKind:
    if event is None:
        return "other"
    if event.type == "agent.custom_tool_use":
        return "custom"
    return "confirmation" if event.type in TOOL_USES else "other"


def _input(event: Any) -> dict[str, Any]:
    return dict(getattr(event, "tool_input", None) or {})


def unanswered_record(call_id: str, event: Any, why: str) -> ToolCallRecord:
    """A call left for its owner (``event`` may be None when it was not found)."""
    name = getattr(event, "tool_name", None)
    return ToolCallRecord(id=call_id, name=name, input=_input(event), kind=_kind(event), error=why)


def recovered_record(call_id: str, event: Any, reply: dict[str, Any]) -> ToolCallRecord:
    """A reply stored by an earlier run, posted as it is."""
    kind: CallKind = "custom" if reply.get("type") == "user.custom_tool_result" else "confirmation"
    return ToolCallRecord(
        id=call_id,
        name=getattr(event, "tool_name", None),
        input=_input(event),
        kind=kind,
        outcome="recovered",
        is_error=bool(reply.get("is_error", False)),
        reply=reply,
    )


def interrupted_record(call_id: str, event: Any) -> ToolCallRecord:
    """A call an earlier run started but did not finish: an error reply, never a second run."""
    text = (
        f"tool {event.tool_name!r} was started by an earlier run that stopped before it "
        "finished; it was not run again"
    )
    return ToolCallRecord(
        id=call_id,
        name=event.tool_name,
        input=_input(event),
        kind="custom",
        outcome="interrupted",
        is_error=True,
        reply=custom_tool_result(call_id, text, is_error=True),
        error=text,
    )
