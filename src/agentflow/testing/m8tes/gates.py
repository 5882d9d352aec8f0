"""Human gates on a run: opening one, and the ``approve`` / ``answer`` / permission-mode calls.

A gate emits ``permission_request`` and ``awaiting_approval``, sets the run's status to
``awaiting_approval`` and closes its open streams (the platform ends streams while a run is
parked; the SDK lets a stream end quietly there). Settling it emits ``permission_resolved``
from the turn, which then runs the tool (or reports the denial) and goes on.
"""

from __future__ import annotations

from typing import Any, Literal

from .errors import conflict, invalid, not_found
from .run import EmulatedRun, Gate, Host

__all__ = ["PERMISSION_MODES", "answer", "approve", "open_gate", "set_permission_mode"]

PERMISSION_MODES = frozenset(("autonomous", "approval", "plan"))


def open_gate(
    engine: Host,
    run: EmulatedRun,
    kind: Literal["approval", "question"],
    tool_name: str,
    tool_input: dict[str, Any],
    tool_use_id: str,
) -> Gate:
    """Park ``run`` on a new gate and end its open streams."""
    gate = Gate(
        request_id=engine.ids.new("perm"),
        kind=kind,
        tool_name=tool_name,
        tool_input=tool_input,
        tool_use_id=tool_use_id,
        created_at=engine.clock.stamp(),
    )
    run.gates[gate.request_id] = gate
    ids = {"request_id": gate.request_id, "tool_use_id": tool_use_id, "tool_name": tool_name}
    engine.emit(run, {"type": "permission_request", **ids, "tool_input": tool_input})
    engine.emit(run, {"type": "awaiting_approval", **ids})
    run.status = "awaiting_approval"
    run.updated_at = gate.created_at
    run.close_streams()
    engine.notify()
    return gate


def _settle(engine: Host, run: EmulatedRun, gate: Gate, status: str) -> None:
    gate.status = status
    gate.resolved_at = engine.clock.stamp()
    if run.open_gate() is None:
        run.status = "running"
    run.updated_at = gate.resolved_at
    gate.answered.set()
    engine.notify()


def approve(engine: Host, run: EmulatedRun, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /runs/{id}/approve`` {request_id, decision, remember, reason}."""
    request_id = body.get("request_id")
    decision = body.get("decision")
    remember = body.get("remember", False)
    reason = body.get("reason")
    if not isinstance(request_id, str) or not request_id:
        raise invalid("request_id is required")
    if decision not in ("allow", "deny"):
        raise invalid(f"decision must be 'allow' or 'deny', got {decision!r}")
    if not isinstance(remember, bool):
        raise invalid(f"remember must be a boolean, got {remember!r}")
    if reason is not None and not isinstance(reason, str):
        raise invalid("reason must be a string")
    gate = run.gates.get(request_id)
    if gate is None:
        raise not_found(f"no permission request {request_id!r} on run {run.id}", "gate_not_found")
    if gate.kind == "question":
        raise invalid("this request is a question: answer it with POST /runs/{id}/answer")
    wanted = "allowed" if decision == "allow" else "denied"
    if gate.status == "cancelled":
        raise not_found(f"permission request {request_id!r} was cancelled", "gate_cancelled")
    if gate.status != "pending":
        if gate.status != wanted:
            raise not_found(
                f"permission request {request_id!r} was already {gate.status}",
                "gate_resolved_otherwise",
            )
        if wanted == "allowed" and remember:  # a repeat may upgrade remember, never downgrade
            gate.remembered = True
            engine.remembered.add(gate.tool_name)
        return {**gate.render(), "resumed": False}
    if run.terminal:
        raise conflict(f"run {run.id} is {run.status}; no decision applies", "run_not_active")
    gate.reason = reason
    gate.remembered = wanted == "allowed" and remember
    if gate.remembered:
        engine.remembered.add(gate.tool_name)
    _settle(engine, run, gate, wanted)
    return {**gate.render(), "resumed": True}


def answer(engine: Host, run: EmulatedRun, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /runs/{id}/answer`` {answers: {question: label}, request_id?}."""
    answers = body.get("answers")
    request_id = body.get("request_id")
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        raise invalid("answers must be an object mapping question text to the chosen label")
    if request_id is not None and not isinstance(request_id, str):
        raise invalid("request_id must be a string")
    if run.status != "awaiting_approval":
        raise conflict(f"run {run.id} is {run.status}, not awaiting_approval", "run_not_active")
    questions = [g for g in run.gates.values() if g.kind == "question"]
    if request_id is not None:
        gate = next((g for g in questions if g.request_id == request_id), None)
    else:
        gate = next((g for g in questions if g.status == "pending"), None)
    if gate is None:
        raise not_found(f"no open question on run {run.id}", "gate_not_found")
    if gate.status != "pending":
        raise conflict(f"question {gate.request_id!r} is already {gate.status}", "already_answered")
    gate.answers = dict(answers)
    gate.tool_input = {**gate.tool_input, "answers": dict(answers)}
    _settle(engine, run, gate, "allowed")
    return {"status": "ok", "resumed": True}


def set_permission_mode(engine: Host, run: EmulatedRun, body: dict[str, Any]) -> dict[str, Any]:
    """``PATCH /runs/{id}/permission-mode``: switching to ``autonomous`` allows every open
    tool approval (questions still wait for ``answer``)."""
    mode = body.get("permission_mode")
    if mode not in PERMISSION_MODES:
        raise invalid(f"permission_mode must be one of {sorted(PERMISSION_MODES)}, got {mode!r}")
    if run.terminal:
        raise conflict(f"run {run.id} is {run.status}", "run_not_active")
    run.permission_mode = mode
    if mode == "autonomous":
        for gate in list(run.gates.values()):
            if gate.kind == "approval" and gate.status == "pending":
                gate.remembered = False
                _settle(engine, run, gate, "allowed")
    engine.notify()
    return {"permission_mode": mode}
