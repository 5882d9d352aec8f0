"""Turning scenario steps into the events of a turn (protocol §3, "typical turn")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio

from ..scenario import (
    TOOL_STEPS,
    Burst,
    CustomTool,
    Emit,
    Error,
    McpTool,
    Question,
    Say,
    Step,
    Stop,
    Think,
    Tool,
    Usage,
    Wait,
)
from .session import EmulatedSession, PendingCall

if TYPE_CHECKING:
    from .._wire import Ids
    from ..scenario import Scenario


class Engine(Protocol):
    """What running a turn needs of the session engine (:class:`.engine.Engine` is one)."""

    scenario: Scenario
    ids: Ids

    def emit(self, session: EmulatedSession, event: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an event."""
        ...

    def emit_idle(
        self,
        session: EmulatedSession,
        stop_reason: dict[str, Any],
        stop_details: dict[str, Any] | None = None,
    ) -> None:
        """Go idle with ``stop_reason``."""
        ...

    def terminate(self, session: EmulatedSession, event: dict[str, Any] | None = None) -> None:
        """End the session."""
        ...


__all__ = ["run_steps", "tool_result_event"]

Outcome = Literal["ended", "blocked", "terminated"]

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


def _text(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


async def _pace(engine: Engine) -> None:
    delay = engine.scenario.step_delay
    if delay > 0:
        await anyio.sleep(delay)
    else:
        await anyio.lowlevel.checkpoint()


async def run_steps(engine: Engine, session: EmulatedSession) -> Outcome:
    """Run the active turn from where it stands until it ends, blocks or terminates."""
    turn = session.active
    assert turn is not None
    steps = turn.steps
    while turn.pos < len(steps):
        step = steps[turn.pos]
        if isinstance(step, TOOL_STEPS):
            end = turn.pos
            while end < len(steps) and isinstance(steps[end], TOOL_STEPS):
                end += 1
            group = steps[turn.pos : end]
            turn.pos = end
            if await _issue_tools(engine, session, group):
                engine.emit_idle(
                    session, {"type": "requires_action", "event_ids": list(session.pending)}
                )
                return "blocked"
            continue
        turn.pos += 1
        outcome = await _run_step(engine, session, step)
        if outcome is not None:
            return outcome
    _finish(engine, session, {"type": "end_turn"})
    return "ended"


def _finish(
    engine: Engine,
    session: EmulatedSession,
    stop_reason: dict[str, Any],
    stop_details: dict[str, Any] | None = None,
) -> None:
    turn = session.active
    if engine.scenario.usage:
        _usage(engine, session)
    if turn is not None and turn.origin == "user.define_outcome":
        _outcome_evaluation(engine, session)
    session.active = None
    engine.emit_idle(session, stop_reason, stop_details)


def _usage(engine: Engine, session: EmulatedSession) -> None:
    engine.emit(session, {"type": "session.usage", "usage": dict(session.usage)})


def _outcome_evaluation(engine: Engine, session: EmulatedSession) -> None:
    outcomes = [e for e in session.history if e["type"] == "user.define_outcome"]
    outcome_id = outcomes[-1]["outcome_id"] if outcomes else engine.ids.new("outc")
    start = engine.emit(
        session, {"type": "span.outcome_evaluation_start", "outcome_id": outcome_id, "iteration": 0}
    )
    engine.emit(
        session,
        {"type": "span.outcome_evaluation_ongoing", "outcome_id": outcome_id, "iteration": 0},
    )
    engine.emit(
        session,
        {
            "type": "span.outcome_evaluation_end",
            "outcome_id": outcome_id,
            "iteration": 0,
            "outcome_evaluation_start_id": start["id"],
            "result": "satisfied",
            "explanation": "The emulated outcome is always satisfied.",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
            },
        },
    )


class _Span:
    """One ``span.model_request_start`` … ``span.model_request_end`` pair."""

    def __init__(self, engine: Engine, session: EmulatedSession) -> None:
        self.engine = engine
        self.session = session
        self.output_chars = 0

    async def __aenter__(self) -> _Span:
        self.start = self.engine.emit(self.session, {"type": "span.model_request_start"})
        await _pace(self.engine)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None:
            return
        usage = {
            "input_tokens": 100,
            "output_tokens": 1 + self.output_chars // 4,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        }
        self.session.usage["input_tokens"] += usage["input_tokens"]
        self.session.usage["output_tokens"] += usage["output_tokens"]
        self.engine.emit(
            self.session,
            {
                "type": "span.model_request_end",
                "model_request_start_id": self.start["id"],
                "model_usage": usage,
                "is_error": False,
            },
        )
        await _pace(self.engine)


async def _say(engine: Engine, session: EmulatedSession, step: Say, span: _Span) -> None:
    if step.thinking:
        thinking_id = engine.ids.new("sevt")
        if step.stream:
            session.preview(
                {"type": "event_start", "event": {"type": "agent.thinking", "id": thinking_id}},
                "agent.thinking",
            )
        engine.emit(session, {"type": "agent.thinking", "id": thinking_id})
        await _pace(engine)
    message_id = engine.ids.new("sevt")
    if step.stream:
        session.preview(
            {"type": "event_start", "event": {"type": "agent.message", "id": message_id}},
            "agent.message",
        )
        for chunk in _chunks(step.text):
            await _pace(engine)
            session.preview(
                {
                    "type": "event_delta",
                    "event_id": message_id,
                    "delta": {"type": "content_delta", "index": 0, "content": _text(chunk)[0]},
                },
                "agent.message",
            )
    span.output_chars += len(step.text)
    engine.emit(session, {"type": "agent.message", "id": message_id, "content": _text(step.text)})
    await _pace(engine)


def _chunks(text: str, size: int = 3) -> list[str]:
    words = text.split(" ")
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g if i == 0 else " " + g for i, g in enumerate(groups)] or [""]


async def _run_step(engine: Engine, session: EmulatedSession, step: Step) -> Outcome | None:
    if isinstance(step, Say):
        async with _Span(engine, session) as span:
            await _say(engine, session, step, span)
    elif isinstance(step, Think):
        async with _Span(engine, session):
            engine.emit(session, {"type": "agent.thinking"})
            await _pace(engine)
    elif isinstance(step, Burst):
        async with _Span(engine, session) as span:
            for i in range(step.count):
                text = f"{step.text} {i}"
                span.output_chars += len(text)
                engine.emit(session, {"type": "agent.message", "content": _text(text)})
                if engine.scenario.step_delay > 0 or i % 64 == 63:
                    await _pace(engine)  # unpaced bursts yield every 64 events: larger writes
    elif isinstance(step, Usage):
        _usage(engine, session)
        await _pace(engine)
    elif isinstance(step, Emit):
        if step.event.get("type") == "session.status_terminated":
            engine.terminate(session, dict(step.event))
            return "terminated"
        engine.emit(session, dict(step.event))
        await _pace(engine)
    elif isinstance(step, Question):
        # Managed Agents has no question gate: the agent asks in a message and the turn goes on.
        async with _Span(engine, session) as span:
            await _say(engine, session, Say(step.text), span)
    elif isinstance(step, Wait):
        await anyio.sleep(step.seconds)
    elif isinstance(step, Stop):
        details = None
        if step.reason == "refusal":
            details = {"type": "refusal"}
            if step.category:
                details["category"] = step.category
            if step.explanation:
                details["explanation"] = step.explanation
        _finish(engine, session, {"type": step.reason}, details)
        return "ended"
    elif isinstance(step, Error):
        return await _error(engine, session, step)
    return None


async def _error(engine: Engine, session: EmulatedSession, step: Error) -> Outcome | None:
    error: dict[str, Any] = {
        "type": step.type,
        "message": step.message or f"Emulated {step.type.replace('_', ' ')}.",
        **dict(step.extra),
        "retry_status": {"type": step.retry_status},
    }
    engine.emit(session, {"type": "session.error", "error": error})
    await _pace(engine)
    if step.retry_status == "retrying":
        session.status = "rescheduling"
        engine.emit(session, {"type": "session.status_rescheduled"})
        await _pace(engine)
        session.status = "running"
        engine.emit(session, {"type": "session.status_running"})
        await _pace(engine)
        return None
    if step.retry_status == "exhausted":
        session.queued.clear()  # the turn is dead and queued input is dropped
        session.active = None
        engine.emit_idle(session, {"type": "retries_exhausted"})
        return "ended"
    engine.terminate(session)
    return "terminated"


async def _issue_tools(engine: Engine, session: EmulatedSession, group: tuple[Step, ...]) -> bool:
    """Emit the tool-use events of one model request; True when some need the client."""
    async with _Span(engine, session):
        pass
    immediate: list[PendingCall] = []
    for step in group:
        event: dict[str, Any]
        if isinstance(step, CustomTool):
            event = {"type": "agent.custom_tool_use", "name": step.name, "input": dict(step.input)}
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
        stored = engine.emit(session, event)
        await _pace(engine)
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
            await _pace(engine)
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
            "content": _text(text),
            "is_error": is_error,
        }
    return {
        "type": "agent.tool_result",
        "tool_use_id": use["id"],
        "content": _text(text),
        "is_error": is_error,
    }
