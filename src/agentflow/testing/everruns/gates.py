"""Answering a paused turn: client tool results, tool approvals and question answers.

Each call checks the whole body before changing anything (bad input loses nothing) and
answers ``{"accepted": <count>, "status": "accepted"}``. Bodies:

- ``tool-results``: ``{"tool_results": [{"tool_call_id", "result"} | {"tool_call_id",
  "error"}]}`` (what everruns-sdk sends); 409 ``... not waiting for tool results`` unless the
  session status is ``waitingfortoolresults``. A partial batch is accepted; the turn resumes
  once every requested call has its result.
- ``tool-approvals`` (**inferred shape**): ``{"decisions": [{"tool_call_id" | "approval_id",
  "decision": "allow" | "deny" (also "approve" / "reject"), "reason"?}]}``.
- ``question-answers`` (**inferred shape**): ``{"answers": [{"question_id", "answer"}]}`` or
  ``{"answers": {"<question id or text>": "<answer>"}}``, optionally ``"question_set_id"``;
  every question of the set must be answered.
"""

from __future__ import annotations

from typing import Any

from .hub import Hub
from .state import EverrunsSession, ToolCall
from .tools import resume_if_answered
from .wire import conflict, invalid

__all__ = ["submit_answers", "submit_approvals", "submit_tool_results"]

_ALLOW = frozenset(("allow", "approve", "approved"))
_DENY = frozenset(("deny", "reject", "rejected"))


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise invalid(f"{key!r} must be a non-empty list")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid(f"{key}[{i}] must be an object")
    return items


def _accepted(hub: Hub, session: EverrunsSession, count: int) -> tuple[dict[str, Any], bool]:
    return {"accepted": count, "status": "accepted"}, resume_if_answered(hub, session)


def submit_tool_results(
    hub: Hub, session: EverrunsSession, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply client tool results; returns the response and whether the turn resumes."""
    if session.status != "waitingfortoolresults":
        raise conflict(f"session {session.id} is not waiting for tool results")
    items = _items(body, "tool_results")
    waiting = {c.id: c for c in session.pending_of("client")}
    seen: set[str] = set()
    for i, item in enumerate(items):
        call_id = item.get("tool_call_id")
        if not isinstance(call_id, str) or call_id not in waiting:
            raise invalid(
                f"tool_results[{i}].tool_call_id {call_id!r} is not a requested call; "
                f"waiting for {sorted(waiting)}"
            )
        if call_id in seen:
            raise invalid(f"tool_results[{i}] repeats tool_call_id {call_id!r}")
        error = item.get("error")
        if error is not None and not isinstance(error, str):
            raise invalid(f"tool_results[{i}].error must be a string")
        seen.add(call_id)
    for item in items:
        call = session.pending.pop(item["tool_call_id"])
        call.answered = True
        if item.get("error") is not None:
            call.success, call.status, call.error = False, "error", item["error"]
        else:
            call.result = item.get("result")
    return _accepted(hub, session, len(items))


def submit_approvals(
    hub: Hub, session: EverrunsSession, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply allow/deny decisions on held-back tool calls."""
    pending = session.pending_of("approval")
    if not pending:
        raise conflict(f"session {session.id} has no pending tool approvals")
    items = _items(body, "decisions")
    by_id: dict[str, ToolCall] = {c.id: c for c in pending}
    by_id.update({c.gate_id: c for c in pending if c.gate_id})
    chosen: list[tuple[ToolCall, bool, Any]] = []
    for i, item in enumerate(items):
        ref = item.get("tool_call_id") or item.get("approval_id") or item.get("id")
        call = by_id.get(ref) if isinstance(ref, str) else None
        if call is None or any(c is call for c, _, _ in chosen):
            raise invalid(
                f"decisions[{i}] names {ref!r}, which is not a pending approval; "
                f"pending: {sorted(c.id for c in pending)}"
            )
        decision = str(item.get("decision", "")).lower()
        if decision not in _ALLOW | _DENY:
            raise invalid(f"decisions[{i}].decision must be 'allow' or 'deny', got {decision!r}")
        chosen.append((call, decision in _ALLOW, item.get("reason")))
    for call, allowed, reason in chosen:
        del session.pending[call.id]
        call.answered = True
        step_result = getattr(call.step, "result", "ok")
        if allowed:
            call.result = step_result
        else:
            call.success, call.status = False, "error"
            call.error = "The user denied this tool call." + (f" {reason}" if reason else "")
        data: dict[str, Any] = {
            "approval_id": call.gate_id,
            "tool_call_id": call.id,
            "decision": "allow" if allowed else "deny",
        }
        if reason:
            data["reason"] = reason
        hub.emit(session, "tool.approval_resolved", data)
    return _accepted(hub, session, len(chosen))


def submit_answers(
    hub: Hub, session: EverrunsSession, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Answer the pending ``ask_user`` question set."""
    pending = session.pending_of("question")
    if not pending:
        raise conflict(f"session {session.id} has no pending questions")
    set_id = body.get("question_set_id") or body.get("id")
    call = next((c for c in pending if c.gate_id == set_id), None) if set_id else pending[0]
    if call is None:
        raise invalid(f"question_set_id {set_id!r} is not pending")
    raw = body.get("answers")
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(a, dict) for a in raw):
        pairs = [(a.get("question_id") or a.get("question"), a.get("answer")) for a in raw]
    else:
        raise invalid("'answers' must be a list of {question_id, answer} or an object")
    answers: dict[str, Any] = {}
    for key, value in pairs:
        match = [q["id"] for q in call.questions if key in (q["id"], q["question"])]
        if not match:
            raise invalid(f"answer for {key!r} matches no question of set {call.gate_id}")
        answers[match[0]] = value
    missing = [q["id"] for q in call.questions if answers.get(q["id"]) in (None, "", [])]
    if missing:
        raise invalid(f"answers are missing for question(s) {missing}")
    del session.pending[call.id]
    call.answered = True
    call.result = {"answers": answers}
    data = {"question_set_id": call.gate_id, "tool_call_id": call.id, "answers": answers}
    hub.emit(session, "question.answered", data)
    return _accepted(hub, session, len(answers))
