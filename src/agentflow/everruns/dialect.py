"""What Everruns events mean: the Everruns :class:`~agentflow.Dialect`.

- ``tool.call_requested`` is a pause: its ``tool_calls`` are the calls the client runs (the
  App's tools, declared on the session as ``client_side``); the replies are
  ``{"tool_call_id", "result" | "error"}`` items of one ``tool-results`` post. Each call's
  event is the request focused on that call, so policies see the right tool.
- ``tool.approval_requested`` is a pause for one approval (the policies allow or deny);
  ``question.requested`` one for a question set (``@app.on_question`` answers; with no
  answer the wire gets :data:`DECLINED_ANSWER`, since it has no "declined" form).
- ``tool.completed``, ``tool.approval_resolved`` and ``question.answered`` settle their call.
- ``turn.completed`` ends the turn with ``end_turn``, ``turn.failed`` with ``error``,
  ``turn.cancelled`` with ``cancelled``, ``turn.sealed`` with ``budget_reached`` /
  ``no_progress``. ``session.idled`` ends nothing (the turn's own event did). No event ends
  the session: a deleted session answers 404.
- Usage: the turn totals of ``turn.completed`` / ``turn.cancelled`` / ``turn.sealed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.dialect import Call, Dialect, Pause, Severity, TokenCount
from ..core.verdicts import Allow
from .builders import question_answer, tool_approval, tool_result, user_message

if TYPE_CHECKING:
    from ..core.answers import ToolReply
    from ..core.events import Event
    from ..core.types import JSONObject
    from ..core.verdicts import Verdict

__all__ = ["DECLINED_ANSWER", "EVENT_TYPES", "EVERRUNS", "EverrunsDialect"]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "input.message", "output.message.started", "output.message.delta",
        "output.message.replaced", "output.message.completed", "turn.started",
        "turn.completed", "turn.failed", "turn.cancelled", "turn.sealed", "tool.started",
        "tool.progress", "tool.output.delta", "tool.completed", "tool.failed",
        "tool.call_requested", "tool.call_repaired", "reason.started", "reason.completed",
        "reason.thinking.started", "reason.thinking.delta", "reason.thinking.completed",
        "llm.generation", "session.started", "session.activated", "session.idled",
        "tool.approval_requested", "tool.approval_resolved", "question.requested",
        "question.answered",
    }
)  # fmt: skip
"""Every event type the Everruns dialect decodes to its own class (30)."""

DECLINED_ANSWER = "The user declined to answer."
"""What a question gets when no ``@app.on_question`` handler answers it."""

_PAUSES = frozenset({"tool.call_requested", "tool.approval_requested", "question.requested"})
_SETTLE_KEY = {
    "tool.completed": "tool_call_id",
    "tool.approval_resolved": "tool_call_id",
    "question.answered": "question_set_id",
}
_TURN_ENDS = {"turn.completed": "end_turn", "turn.failed": "error", "turn.cancelled": "cancelled"}
_SEALED = {"budget": "budget_reached", "no_progress": "no_progress"}
_USAGE = frozenset({"turn.completed", "turn.cancelled", "turn.sealed"})
_ASKED = frozenset({*_PAUSES, *_SETTLE_KEY, *_TURN_ENDS, *_USAGE, "turn.sealed"})
"""The event types a question below looks at (every other one answers "nothing")."""


def _data(event: Event) -> Any:
    return getattr(event, "data", None)


class EverrunsDialect(Dialect):
    """The Everruns wire (see the module docstring)."""

    name = "everruns"
    known_types = EVENT_TYPES
    inert_types = EVENT_TYPES - _ASKED

    def calls(self, event: Event) -> Sequence[Call]:
        kind = event.type
        data = _data(event)
        if kind == "tool.call_requested":
            tool_calls = getattr(data, "tool_calls", None) or ()
            focus = getattr(event, "for_call", None)
            return tuple(
                Call(c.id, "tool", focus(i) if focus else event, c.name, c.arguments)
                for i, c in enumerate(tool_calls)
            )
        if kind == "tool.approval_requested":
            call = getattr(data, "tool_call", None)
            if call is None:
                return ()
            extra = {"approval_id": getattr(data, "approval_id", None)}
            return (Call(call.id, "approval", event, call.name, call.arguments, data=extra),)
        if kind == "question.requested":
            set_id = getattr(data, "question_set_id", None)
            questions = getattr(data, "questions", None) or ()
            if set_id is None or not questions:
                return ()
            options = tuple(o.label for o in questions[0].options)
            extra = {"question_ids": tuple(q.id for q in questions)}
            return (
                Call(set_id, "question", event, "ask_user", None, text=event.text,
                     options=options, data=extra),
            )  # fmt: skip
        return ()

    def settled(self, event: Event) -> str | None:
        key = _SETTLE_KEY.get(event.type)
        value = None if key is None else getattr(_data(event), key, None)
        return value if isinstance(value, str) else None

    def pause(self, event: Event) -> Pause | None:
        if event.type not in _PAUSES:
            return None
        calls = tuple(self.calls(event))
        return Pause(tuple(c.id for c in calls), calls) if calls else None

    def turn_end(self, event: Event) -> str | None:
        kind = event.type
        if kind == "turn.sealed":
            reason = getattr(_data(event), "reason", None)
            return _SEALED.get(reason, "sealed") if isinstance(reason, str) else "sealed"
        return _TURN_ENDS.get(kind)

    def severity(self, event: Event) -> Severity | None:
        # A failed turn is over but the session lives on: a new message starts another.
        return "exhausted" if event.type in ("turn.failed", "turn.sealed") else None

    def usage(self, event: Event) -> TokenCount | None:
        if event.type not in _USAGE:
            return None
        usage = getattr(_data(event), "usage", None)
        if usage is None:
            return None
        return TokenCount(int(usage.input_tokens or 0), int(usage.output_tokens or 0))

    def unanswered(self, event: Event) -> tuple[str, str]:
        if event.type == "tool.call_requested":
            return "custom", "the call is not in this tool request"
        return "other", f"{event.type} announces no call this client can answer"

    # -- writing answers ------------------------------------------------------------------

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        if isinstance(item, str):
            return user_message(item)
        body = dict(item)
        if "message" not in body and "content" in body:
            body = {"message": {"role": "user", **body}}  # a bare message: wrap it
        return body

    def tool_reply(self, call: Call, reply: ToolReply) -> JSONObject:
        content = reply.content
        if all(b.get("type") == "text" for b in content):
            result: Any = reply.text
        else:
            result = content
        if reply.is_error:
            return tool_result(call.id, error=reply.text or "the tool failed")
        return tool_result(call.id, result)

    def approval_reply(self, call: Call, verdict: Verdict) -> JSONObject:
        approval_id = call.data.get("approval_id")
        if isinstance(verdict, Allow):
            return tool_approval(call.id, "allow", approval_id=approval_id)
        return tool_approval(call.id, "deny", approval_id=approval_id, reason=verdict.message)

    def question_reply(self, call: Call, answer: str | None) -> JSONObject:
        text = DECLINED_ANSWER if answer is None or not answer.strip() else answer
        ids = call.data.get("question_ids") or ()
        return question_answer(call.id, dict.fromkeys(ids, text))

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        if "answers" in reply:
            return str(reply.get("question_set_id"))
        return str(reply.get("tool_call_id"))


EVERRUNS = EverrunsDialect()
"""The Everruns dialect (every Everruns event's ``.dialect``)."""
