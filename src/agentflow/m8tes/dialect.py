"""What m8tes frames mean: the m8tes :class:`~agentflow.Dialect`.

m8tes runs every tool on the platform, so the client answers no tool calls; it answers
human gates. A ``permission_request`` frame is both the call and the pause: an approval
(answered with ``POST /runs/{id}/approve``) or, when its tool is ``AskUserQuestion``, a
question (answered with ``POST /runs/{id}/answer``). The call's id is the gate's
``request_id``; ``awaiting_approval`` pauses on the same id, ``permission_resolved``
settles it.

A turn ends with ``done`` (its ``stop_reason``), ``cancelled``, or a terminal failure frame
(``AGENT_RUNNER_DIED``, ``SANDBOX_*``, ...). No frame ends the run for good: a reply opens a
new turn on the same run. Only the run's own status, read with ``GET /runs/{id}`` once the
run has finished (a ``run.completed`` / ``run.failed`` / ``run.cancelled`` event the client
makes, since a finished run has no stream), says that nothing more will follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.dialect import Call, Dialect, Pause, Severity, TokenCount
from ..core.verdicts import Allow

if TYPE_CHECKING:
    from ..core.events import Event
    from ..core.types import JSONObject
    from ..core.verdicts import Verdict

__all__ = [
    "CONTROL_TYPES",
    "DECLINED",
    "FRAME_TYPES",
    "M8TES",
    "QUESTION_TOOL",
    "RUN_STATUS_TYPES",
    "TERMINAL_FAILURE_TYPES",
    "M8tesDialect",
    "gate_call",
    "questions_of",
]

TERMINAL_FAILURE_TYPES: frozenset[str] = frozenset(
    {
        "sdk_error", "AGENT_RUNNER_DIED", "RUNNER_LIFECYCLE_ERROR", "SANDBOX_BOOT_TIMEOUT",
        "SANDBOX_QUOTA_EXHAUSTED", "SANDBOX_UNAVAILABLE", "SNAPSHOT_VERSION_MISMATCH",
    }
)  # fmt: skip
"""Frames that end the turn in failure without being an ``error`` frame."""

CONTROL_TYPES: frozenset[str] = frozenset({"keep-alive", "ping", "replay_complete"})
"""Stream control, not part of the run: heartbeats and the re-attach marker. They are never
stored in the run's history, so they never count as a position in its replay."""

FRAME_TYPES: frozenset[str] = frozenset(
    {
        "text-start", "text-delta", "text-end", "reasoning-start", "reasoning-delta",
        "reasoning-end", "thinking-start", "thinking-delta", "thinking-end", "plan-start",
        "plan-delta", "plan-end", "tool-call-start", "tool-call-delta", "tool-call-end",
        "tool-result-start", "tool-result-delta", "tool-result-end", "todo-update",
        "message-start", "message-delta", "message-end", "source-url", "source-document",
        "metadata", "run_metrics", "error", "done", "cancelled", "sandbox-connecting",
        "sandbox-connected", "sandbox_metrics", "permission_request", "permission_resolved",
        "awaiting_approval", "permission_auto_allowed", "mcp_error", "mcp_auth_failed",
        "rate_limit", "desktop-ready", "task_notification", "error_cleared",
        "message_start", "message_delta", "message_stop", "message_complete",
        "content_block_start", "content_block_delta", "content_block_stop", "tool_use",
        "tool_result", "thinking", "reasoning", "plan_delta",
        *TERMINAL_FAILURE_TYPES, *CONTROL_TYPES,
    }
)  # fmt: skip
"""Every frame type the m8tes stream documents (the SDK's vocabulary)."""

RUN_STATUS_TYPES: frozenset[str] = frozenset(
    {"run.running", "run.awaiting_approval", "run.completed", "run.failed", "run.cancelled",
     "run.closed"}
)  # fmt: skip
"""The events agentflow makes from ``GET /runs/{id}`` (``run.<status>``)."""

QUESTION_TOOL = "AskUserQuestion"
"""The tool name of a question gate (``header == "Plan Approval"``: a plan to approve)."""

DECLINED = "(no answer: the client declined to answer this question)"
"""What a declined question is answered with, for each of its questions: ``/answer`` needs
a label per question, and a plain sentence tells the agent that nobody chose one."""

_FINISHED = {"run.completed": None, "run.closed": None, "run.failed": "error",
             "run.cancelled": "cancelled"}  # fmt: skip
_NOTICES = frozenset({"mcp_error", "mcp_auth_failed", "rate_limit"})
_ASKED = frozenset(
    {"permission_request", "permission_resolved", "awaiting_approval", "done", "cancelled",
     "error", "run_metrics", *TERMINAL_FAILURE_TYPES, *_NOTICES, *RUN_STATUS_TYPES}
)  # fmt: skip
"""The frame types a question below looks at (every other one answers "nothing")."""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def questions_of(tool_input: Any) -> list[Mapping[str, Any]]:
    """The questions of an ``AskUserQuestion`` input (``{"questions": [...]}``)."""
    found = tool_input.get("questions") if isinstance(tool_input, Mapping) else None
    return [q for q in found if isinstance(q, Mapping)] if isinstance(found, list) else []


def gate_call(event: Event) -> Call | None:
    """The call a ``permission_request`` announces (``None`` without a ``request_id``)."""
    request_id = _text(getattr(event, "request_id", None))
    if request_id is None:
        return None
    name = getattr(event, "tool_name", None)
    tool_input = getattr(event, "tool_input", None)
    data = {"request_id": request_id, "tool_use_id": getattr(event, "tool_use_id", None)}
    if name != QUESTION_TOOL:
        return Call(request_id, "approval", event, name, tool_input, data=data)
    asked = questions_of(tool_input)
    texts = [str(q.get("question", "")) for q in asked]
    options = asked[0].get("options") if asked else None
    labels = tuple(
        str(o.get("label", "")) if isinstance(o, Mapping) else str(o) for o in options or ()
    )
    return Call(
        request_id,
        "question",
        event,
        name,
        tool_input,
        text="\n".join(texts),
        options=labels,
        data={**data, "questions": texts},
    )


class M8tesDialect(Dialect):
    """The m8tes wire (see the module docstring)."""

    name = "m8tes"
    known_types = FRAME_TYPES | RUN_STATUS_TYPES
    inert_types = FRAME_TYPES - _ASKED

    def calls(self, event: Event) -> Sequence[Call]:
        if event.type == "permission_request":
            call = gate_call(event)
            return () if call is None else (call,)
        return ()

    def settled(self, event: Event) -> str | None:
        if event.type == "permission_resolved":
            return _text(getattr(event, "request_id", None))
        return None

    def pause(self, event: Event) -> Pause | None:
        kind = event.type
        if kind == "permission_request":
            call = gate_call(event)
            return None if call is None else Pause((call.id,), (call,))
        if kind == "awaiting_approval":
            request_id = _text(getattr(event, "request_id", None))
            return None if request_id is None else Pause((request_id,))
        if kind == "run.awaiting_approval":
            pending = tuple(getattr(event, "pending", ()) or ())
            calls = tuple(c for c in map(gate_call, pending) if c is not None)
            return Pause(tuple(c.id for c in calls), calls) if calls else None
        return None

    def turn_end(self, event: Event) -> str | None:
        kind = event.type
        if kind == "done":
            return _text(getattr(event, "stop_reason", None)) or "end_turn"
        if kind == "cancelled":
            return "cancelled"
        if kind in TERMINAL_FAILURE_TYPES:
            return "error"
        if kind in _FINISHED:
            return self.terminal(event)
        return None

    def terminal(self, event: Event) -> str | None:
        kind = event.type
        if kind not in _FINISHED:
            return None
        reason = _FINISHED[kind]
        if reason is None:
            run = getattr(event, "run", None)
            reason = _text(getattr(run, "stop_reason", None)) or "end_turn"
        return reason

    def severity(self, event: Event) -> Severity | None:
        kind = event.type
        if kind in _NOTICES:
            return "retrying"  # the run goes on (the platform logs it and carries on)
        if kind == "error" or kind in TERMINAL_FAILURE_TYPES or kind == "run.failed":
            # A reply may start a new turn on the run, so the session is not ending; an
            # error the platform recovers from is followed by more work frames.
            return "exhausted"
        return None

    def usage(self, event: Event) -> TokenCount | None:
        if event.type != "run_metrics":
            return None
        added = getattr(event, "added_tokens", None)
        return added if isinstance(added, TokenCount) else None

    def unanswered(self, event: Event) -> tuple[str, str]:
        if event.type in ("permission_request", "awaiting_approval"):
            return "confirmation", f"{event.type} names no gate this client can answer"
        return "other", f"{event.type} announces no gate"

    # -- writing answers ------------------------------------------------------------------

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        """A reply: ``{"message": text}`` (a mapping is sent as the reply's body)."""
        return {"message": item} if isinstance(item, str) else dict(item)

    def approval_reply(self, call: Call, verdict: Verdict) -> JSONObject:
        allowed = isinstance(verdict, Allow)
        reply: JSONObject = {
            "request_id": call.data.get("request_id", call.id),
            "decision": "allow" if allowed else "deny",
            "remember": bool(getattr(verdict, "remember", False)),
        }
        reason = getattr(verdict, "reason", None) if allowed else getattr(verdict, "message", None)
        if isinstance(reason, str) and reason:
            reply["reason"] = reason
        return reply

    def question_reply(self, call: Call, answer: str | None) -> JSONObject:
        texts = call.data.get("questions") or [call.text or ""]
        text = DECLINED if answer is None else answer
        return {"request_id": call.data.get("request_id", call.id),
                "answers": {str(q): text for q in texts}}  # fmt: skip

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        return str(reply.get("request_id"))


M8TES = M8tesDialect()
"""The m8tes dialect (every m8tes event's ``.dialect``)."""
