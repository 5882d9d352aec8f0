"""What Managed Agents events mean: the Managed Agents :class:`~agentflow.Dialect`.

- A call needs an answer when it is an ``agent.custom_tool_use`` (the client runs the tool
  and replies with ``user.custom_tool_result``; it may start before the idle) or an
  ``ask``-gated ``agent.tool_use`` / ``agent.mcp_tool_use`` (the client replies with
  ``user.tool_confirmation``).
- ``user.custom_tool_result`` and ``user.tool_confirmation`` settle their call.
- A ``session.status_idle`` **or** ``session.thread_status_idle`` whose stop reason is
  ``requires_action`` is a pause naming the ids to answer; replies never carry the thread id
  back (the server routes them by id).
- Any other session idle ends the turn with its ``stop_reason.type``; a
  ``session.status_terminated`` or ``session.deleted`` ends everything.
- A ``session.error`` is as severe as its ``error.retry_status`` says (unknown or absent:
  terminal, the worst case).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.dialect import Call, Dialect, Pause, Severity, TokenCount
from ..core.verdicts import Allow
from .builders import custom_tool_result, tool_confirmation, user_message

if TYPE_CHECKING:
    from ..core.answers import ToolReply
    from ..core.events import Event
    from ..core.types import JSONObject
    from ..core.verdicts import Verdict

__all__ = ["EVENT_TYPES", "MANAGED_AGENTS", "ManagedAgentsDialect", "needs_confirmation"]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result",
        "user.tool_result", "user.define_outcome", "system.message", "agent.message",
        "agent.thinking", "agent.tool_use", "agent.tool_result", "agent.custom_tool_use",
        "agent.mcp_tool_use", "agent.mcp_tool_result", "agent.thread_message_sent",
        "agent.thread_message_received", "agent.thread_context_compacted",
        "session.status_running", "session.status_idle", "session.status_rescheduled",
        "session.status_terminated", "session.error", "session.thread_created",
        "session.thread_status_running", "session.thread_status_idle",
        "session.thread_status_rescheduled", "session.thread_status_terminated",
        "session.updated", "session.usage", "session.deleted", "span.model_request_start",
        "span.model_request_end", "span.outcome_evaluation_start",
        "span.outcome_evaluation_ongoing", "span.outcome_evaluation_end",
        "workflow_run.created", "workflow_run.status_running", "workflow_run.status_idle",
        "workflow_run.phase_started", "workflow_run.phase_ended", "workflow_run.error",
        "workflow_run.status_ended", "event_start", "event_delta",
    }
)  # fmt: skip
"""Every event type of the Managed Agents stream (44)."""

_TOOL_USES = frozenset({"agent.custom_tool_use", "agent.tool_use", "agent.mcp_tool_use"})
_GATED = frozenset({"agent.tool_use", "agent.mcp_tool_use"})
_REPLY_KEY = {
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_confirmation": "tool_use_id",
}
_IDLES = frozenset({"session.status_idle", "session.thread_status_idle"})
_TERMINAL = {"session.status_terminated": "terminated", "session.deleted": "deleted"}
_SEVERITIES = frozenset({"retrying", "exhausted", "terminal"})
_ASKED = frozenset(
    {"agent.custom_tool_use", *_GATED, *_REPLY_KEY, *_IDLES, *_TERMINAL}
    | {"session.error", "span.model_request_end"}
)  # every type a method below looks at; the others are inert


def needs_confirmation(event: Any) -> bool:
    """Whether a tool-use event waits for a ``user.tool_confirmation`` (permission ``ask``)."""
    if event.type not in _GATED:
        return False
    permission = getattr(event, "evaluated_permission", None)
    if permission is not None:
        return bool(permission == "ask")
    evaluation = getattr(event, "evaluation", None)  # older events carry only the evaluation
    kind = getattr(evaluation, "type", None)
    if kind == "auto":
        return getattr(getattr(evaluation, "evaluated_permission", None), "type", None) == "ask"
    return kind == "always_ask"


def _stop_type(event: Any) -> str | None:
    stop = getattr(event, "stop_reason", None)
    kind = getattr(stop, "type", None)
    return kind if isinstance(kind, str) else None


class ManagedAgentsDialect(Dialect):
    """The Managed Agents wire (see the module docstring)."""

    name = "managed_agents"
    known_types = EVENT_TYPES
    event_module = "agentflow.managed_agents.events"
    inert_types = EVENT_TYPES - _ASKED

    def calls(self, event: Event) -> Sequence[Call]:
        kind = event.type
        if kind == "agent.custom_tool_use" and event.id is not None:
            return (Call(event.id, "tool", event, event.tool_name, _input(event), early=True),)
        if kind in _GATED and event.id is not None and needs_confirmation(event):
            return (Call(event.id, "approval", event, event.tool_name, _input(event)),)
        return ()

    def settled(self, event: Event) -> str | None:
        key = _REPLY_KEY.get(event.type)
        if key is None:
            return None
        value = getattr(event, key, None)
        return None if value is None else str(value)

    def pause(self, event: Event) -> Pause | None:
        if event.type in _IDLES and _stop_type(event) == "requires_action":
            ids = getattr(getattr(event, "stop_reason", None), "event_ids", None) or ()
            return Pause(tuple(str(i) for i in ids))
        return None

    def turn_end(self, event: Event) -> str | None:
        if event.type == "session.status_idle":
            stop = _stop_type(event)
            return None if stop == "requires_action" else stop or "end_turn"
        return None

    def terminal(self, event: Event) -> str | None:
        return _TERMINAL.get(event.type)

    def severity(self, event: Event) -> Severity | None:
        if event.type != "session.error":
            return None
        status = getattr(getattr(event.error, "retry_status", None), "type", None)
        return status if status in _SEVERITIES else "terminal"

    def usage(self, event: Event) -> TokenCount | None:
        if event.type != "span.model_request_end":
            return None
        usage = getattr(event, "model_usage", None)
        return TokenCount(
            int(getattr(usage, "input_tokens", 0) or 0),
            int(getattr(usage, "output_tokens", 0) or 0),
        )

    def unanswered(self, event: Event) -> tuple[str, str]:
        kind = "custom" if event.type == "agent.custom_tool_use" else "other"
        if event.type in _GATED:
            kind = "confirmation"
        return kind, f"{event.type} is not waiting for a confirmation"

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        return user_message(item) if isinstance(item, str) else dict(item)

    def tool_reply(self, call: Call, reply: ToolReply) -> JSONObject:
        return custom_tool_result(call.id, reply.content, is_error=reply.is_error)

    def approval_reply(self, call: Call, verdict: Verdict) -> JSONObject:
        if isinstance(verdict, Allow):
            return tool_confirmation(call.id, "allow")
        return tool_confirmation(call.id, "deny", deny_message=verdict.message)

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        return str(reply.get("custom_tool_use_id") or reply.get("tool_use_id"))


def _input(event: Event) -> Any:
    return getattr(event, "input", None)


MANAGED_AGENTS = ManagedAgentsDialect()
"""The Managed Agents dialect (every Managed Agents event's ``.dialect``)."""
