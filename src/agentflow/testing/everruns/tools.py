"""Tool steps as Everruns events: server-run tools, client-side tools, approvals, questions.

Consecutive tool steps make one model iteration. Every call gets ``tool.started``
(``tool_call`` {``id``, ``name``, ``arguments``}); then, as the platform orders a mixed batch:

1. server-run calls (``Tool`` / ``McpTool`` allowed by their permission) complete at once with
   ``tool.completed`` (``success``; ``deny`` / ``auto_deny`` give ``success: false``);
2. ``always_ask`` / ``auto_ask`` calls wait on ``tool-approvals``, each announced by
   ``tool.approval_requested`` (**inferred name**: the platform's approval event is not
   documented; the wait is visible as ``pending_approvals`` on the session);
3. ``CustomTool`` calls are requested from the client with one ``tool.call_requested``
   (``tool_calls`` list) and the session status becomes ``waitingfortoolresults``.

When every waiting call is answered, each gets its ``tool.completed`` (in call order) and the
turn goes on. A ``Question`` is an ``ask_user`` call: ``tool.started``, then
``question.requested`` (**inferred name**) and ``pending_questions`` on the session until
``question-answers`` arrive (``question.answered``, then its ``tool.completed``).
"""

from __future__ import annotations

from typing import Any

import anyio

from ..scenario import CustomTool, McpTool, Question, Step, Tool
from .hub import Hub
from .state import CallKind, EverrunsSession, ToolCall, completed_data

__all__ = ["ASK_USER", "ask_question", "issue_tools", "resume_if_answered"]

ASK_USER = "ask_user"
_ASK = frozenset(("always_ask", "auto_ask"))
_DENY = frozenset(("deny", "auto_deny"))


def _started(hub: Hub, session: EverrunsSession, call_id: str, name: str, args: Any) -> None:
    tool_call = {"id": call_id, "name": name, "arguments": args}
    hub.emit(session, "tool.started", {"tool_call": tool_call, "display_name": name})


async def issue_tools(hub: Hub, session: EverrunsSession, group: tuple[Step, ...]) -> bool:
    """Emit one iteration's tool calls; True when some wait on the client or a human."""
    turn = session.active
    assert turn is not None
    turn.iterations += 1
    turn.tool_call_count += len(group)
    now = hub.clock.stamp()
    made: list[tuple[CustomTool | Tool | McpTool, ToolCall]] = []
    for step in group:
        assert isinstance(step, (CustomTool, Tool, McpTool))
        call_id = hub.ids.new("call")
        args = dict(step.input)
        _started(hub, session, call_id, step.name, args)
        kind: CallKind = "client" if isinstance(step, CustomTool) else "approval"
        made.append((step, ToolCall(call_id, step.name, args, kind, step, now)))
        await anyio.lowlevel.checkpoint()
    waiting: list[ToolCall] = []
    for step, call in made:  # server-run calls first, as the platform orders a mixed batch
        if isinstance(step, CustomTool) or step.permission in _ASK:
            waiting.append(call)
            continue
        if step.permission in _DENY:
            call.success, call.status = False, "error"
            call.error = "This tool call was denied by the permission policy."
        else:
            call.result = step.result
        hub.emit(session, "tool.completed", completed_data(call))
    approvals = [c for c in waiting if c.kind == "approval"]
    clients = [c for c in waiting if c.kind == "client"]
    turn.waiting = waiting
    for call in waiting:
        session.pending[call.id] = call
    for call in approvals:
        call.gate_id = hub.ids.new("approval")
        tool_call = {"id": call.id, "name": call.name, "arguments": call.arguments}
        data: dict[str, Any] = {"approval_id": call.gate_id, "tool_call": tool_call}
        data["reason"] = "always_ask"
        hub.emit(session, "tool.approval_requested", data)
    if clients:
        # The status changes before the event goes out, so a fast client never sees a 409.
        hub.touch(session, "waitingfortoolresults")
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in clients]
        names = ", ".join(c.name for c in clients)
        requested = {"tool_calls": calls, "headline": f"Waiting for client tools: {names}"}
        hub.emit(session, "tool.call_requested", requested)
    return bool(waiting)


def ask_question(hub: Hub, session: EverrunsSession, step: Question) -> None:
    """Ask ``step`` as an ``ask_user`` call and wait on ``question-answers``."""
    turn = session.active
    assert turn is not None
    turn.iterations += 1
    turn.tool_call_count += 1
    question: dict[str, Any] = {
        "id": hub.ids.new("question"),
        "question": step.text,
        "options": [{"label": option} for option in step.options],
        "multi_select": False,
    }
    if step.header is not None:
        question["header"] = step.header
    call_id = hub.ids.new("call")
    args: dict[str, Any] = {"questions": [question]}
    _started(hub, session, call_id, ASK_USER, args)
    call = ToolCall(call_id, ASK_USER, args, "question", step, hub.clock.stamp())
    call.gate_id = hub.ids.new("qset")
    call.questions = [question]
    turn.waiting = [call]
    session.pending[call.id] = call
    data: dict[str, Any] = {"question_set_id": call.gate_id, "tool_call_id": call.id}
    data["questions"] = [question]
    hub.emit(session, "question.requested", data)
    # No await after the wait is registered: the driver must stop before an answer can land.


def resume_if_answered(hub: Hub, session: EverrunsSession) -> bool:
    """When nothing is pending any more, complete the waiting calls; True if the turn resumes."""
    turn = session.active
    if turn is None or session.pending or not turn.waiting:
        return False
    for call in turn.waiting:
        hub.emit(session, "tool.completed", completed_data(call))
    turn.waiting = []
    hub.touch(session, "active")
    return True
